#!/usr/bin/env python3
"""Measure the extractor on the real-world corpus (fetch_realworld.py) against the node baseline.

    python3 tests/bench/extract/fetch_realworld.py        # once: builds /tmp/realworld-corpus
    python3 tests/bench/extract/realworld.py --bin /tmp/extract-head --report /tmp/realworld-report.md

Steps (results under --out, default /tmp/realworld-bench):
 1. ours, one process per file (`timeout 120` + `/usr/bin/time -v`): exit status, stderr, wall
    time, peak RSS, Markdown output (ours/<format>/<file>.md);
 2. ours, one process per format over all its files (like run.sh), for files/s, MB/s, peak RSS
    (files that timed out or crashed in step 1 are left out of this run and say so);
 3. node (node_extract.js --text-dir: pdf-parse / mammoth+turndown / jsdom+readability+turndown) for PDF, DOCX
    and HTML, one process per format; a file that produces no result within --timeout seconds or
    kills the process is recorded as a node failure and the run goes on with the rest in a new
    process; texts in node/<format>/<file>.txt;
 4. text agreement for PDF and DOCX (and HTML, informational): multiset recall of node's word
    tokens (lowercased, alphanumeric runs) in ours, and the reverse; HTML comments in ours (page
    markers) are dropped first;
 5. a Markdown report (--report) with the sources, the per-format table and the problem list.
Options: --formats pdf,docx,... limits the formats; --skip-node; --reuse (report again from OUT); --jobs N per-file parallelism
(default 1: peak RSS and time per file are then not disturbed by a sibling).
"""
import argparse
import collections
import concurrent.futures as cf
import json
import os
import re
import select
import statistics
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_FORMATS = ("pdf", "docx", "html")
AGREE_FORMATS = ("pdf", "docx", "html")


def parse_time(path):
    """(wall s, peak RSS MB, cpu s) from a /usr/bin/time -v output, or None."""
    try:
        t = open(path).read()
    except OSError:
        return None
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t)
    if not m:
        return None
    parts = [float(p) for p in m.group(1).split(":")]
    wall = max(0.01, sum(p * 60 ** i for i, p in enumerate(reversed(parts))))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", t).group(1)) for k in ("User", "System"))
    return wall, rss, cpu


def run_ours_one(binary, f, outdir, timeout):
    base = os.path.basename(f)
    md, err, tm = (os.path.join(outdir, base + s) for s in (".md", ".err", ".time"))
    t0 = time.time()
    with open(md, "wb") as o, open(err, "wb") as e:
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tm, "timeout", "-s", "KILL", str(timeout), binary, f],
                           stdout=o, stderr=e)
    wall = time.time() - t0
    tv = parse_time(tm)
    errtext = open(err, errors="replace").read().strip()
    rc = p.returncode
    status = "ok"
    if rc == 137 or (tv is None and wall >= timeout) or "Command terminated by signal 9" in open(tm).read():
        status = "timeout"
    elif rc != 0:
        status = "panic" if ("panicked" in errtext or rc >= 128 or "signal" in open(tm).read()) else "error"
        if status == "error" and re.search(r"unsupported legacy format|remove the password", errtext):
            status = "unsupported" if "unsupported" in errtext else "encrypted"  # refused by design
    return dict(file=f, rc=rc, status=status, err=errtext[-400:], wall=tv[0] if tv else wall,
                rss=tv[1] if tv else None, out_bytes=os.path.getsize(md))


def run_node(files, outdir, timeout, label, out):
    """Run node_extract.js over files, saving their text, restarting after a hang/crash. Returns (results by file, wall, max rss)."""
    res = {}
    pending = list(files)
    wall = 0.0
    rss = 0.0
    run = 0
    while pending:
        run += 1
        tm = os.path.join(out, f"{label}.node.{run}.time")
        errf = open(os.path.join(out, f"{label}.node.{run}.err"), "wb")
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tm, "node", os.path.join(HERE, "node_extract.js"), "--text-dir", outdir] + pending,
                             stdout=subprocess.PIPE, stderr=errf, cwd=HERE, start_new_session=True)
        buf = b""
        done = 0
        last = time.time()
        t0 = time.time()
        killed = False
        while True:
            r, _, _ = select.select([p.stdout], [], [], 5)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    parts = line.decode(errors="replace").split("\t")
                    if len(parts) >= 5:
                        res[parts[0]] = dict(ms=float(parts[2]), chars=int(parts[3]), status=parts[4])
                        done += 1
                        last = time.time()
            elif time.time() - last > timeout:
                os.killpg(p.pid, 9)
                killed = True
                break
        p.wait()
        errf.close()
        wall += time.time() - t0
        tv = parse_time(tm)
        if tv:
            rss = max(rss, tv[1])
        pending = pending[done:]
        if pending:
            bad = pending.pop(0)
            why = f"timeout (no result in {timeout} s)" if killed else \
                f"node process died (exit {p.returncode}): " + open(os.path.join(out, f"{label}.node.{run}.err"), errors="replace").read().strip()[-200:].replace("\n", " ")
            res[bad] = dict(ms=None, chars=0, status="error: " + why)
    return res, wall, rss


TOK = re.compile(r"[^\W_]+")


def tokens(text):
    return collections.Counter(TOK.findall(text.lower()))


LINK_TARGET = re.compile(r"\]\((?:[^()\s]|\([^()]*\))*\)")


def agreement(ours_text, node_text):
    ours_text = re.sub(r"<!--.*?-->", " ", ours_text, flags=re.S)
    # Markdown link targets are not text (mammoth's footnote anchors, hrefs): drop them on both sides.
    ours_text, node_text = LINK_TARGET.sub("]", ours_text), LINK_TARGET.sub("]", node_text)
    a, b = tokens(ours_text), tokens(node_text)
    common = sum((a & b).values())
    na, nb = sum(a.values()), sum(b.values())
    return (common / nb if nb else None), (common / na if na else None), na, nb


def producer(f, binary):
    """Producer/creator application of a file, cheaply."""
    ext = f.rsplit(".", 1)[-1].lower()
    try:
        if ext in ("docx", "xlsx", "xlsm", "pptx"):
            z = zipfile.ZipFile(f)
            app = z.read("docProps/app.xml").decode(errors="replace") if "docProps/app.xml" in z.namelist() else ""
            a = re.search(r"<(?:\w+:)?Application>([^<]*)<", app)
            v = re.search(r"<(?:\w+:)?AppVersion>([^<]*)<", app)
            return ((a.group(1) if a else "") + (" " + v.group(1) if v else "")).strip() or "?"
        if ext in ("odt", "ods", "odp"):
            z = zipfile.ZipFile(f)
            m = re.search(r"<meta:generator>([^<]*)<", z.read("meta.xml").decode(errors="replace"))
            return m.group(1) if m else "?"
        if ext == "html":
            m = re.search(rb'<meta[^>]+name="generator"[^>]+content="([^"]*)"', open(f, "rb").read(200000), re.I)
            return m.group(1).decode(errors="replace") if m else ""
        if ext == "pdf":
            p = subprocess.run(["timeout", "30", binary, "--json", f], capture_output=True)
            if p.returncode == 0:
                md = json.loads(p.stdout).get("metadata", {})
                ex = md.get("extra", {}) or {}
                s = " / ".join(x for x in (ex.get("producer"), ex.get("creator")) if x)
                if s:
                    return s
            data = open(f, "rb").read()
            m = re.search(rb"/Producer\s*\(((?:[^()\\]|\\.){0,120})\)", data)
            return m.group(1).decode("latin-1") if m else "?"
    except Exception as e:  # noqa: BLE001 - best effort only
        return f"? ({type(e).__name__})"
    return ""


def fmt(x, d=1):
    return "n/a" if x is None else (f"{x:.{d}f}" if x >= 1 or d > 1 else f"{x:.2f}")


def main():
    ap = argparse.ArgumentParser(description="real-world extraction benchmark")
    ap.add_argument("--corpus", default="/tmp/realworld-corpus")
    ap.add_argument("--out", default="/tmp/realworld-bench")
    ap.add_argument("--bin", default=os.path.join(HERE, "../../../target/release/extract"))
    ap.add_argument("--report", default=None, help="Markdown report path (default OUT/report.md)")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--formats", default=None)
    ap.add_argument("--skip-node", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="only redo agreement and report from OUT/results.json")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    out = a.out
    report = a.report or os.path.join(out, "report.md")
    os.makedirs(out, exist_ok=True)
    if not os.path.isfile(os.path.join(a.corpus, "SOURCES.tsv")):
        sys.exit(f"no corpus at {a.corpus}: run fetch_realworld.py first")
    if not a.skip_node and not os.path.isdir(os.path.join(HERE, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    src = [ln.rstrip("\n").split("\t") for ln in open(os.path.join(a.corpus, "SOURCES.tsv"))][1:]
    meta = {os.path.join(a.corpus, r[0]): r for r in src}
    formats = sorted({r[0].split("/")[0] for r in src})
    if a.formats:
        formats = [f for f in formats if f in a.formats.split(",")]
    by_fmt = {g: sorted(f for f in meta if f.split("/")[-2] == g) for g in formats}

    if a.reuse:
        return report_only(a, binary, out, report, src, meta, formats, by_fmt)
    # 1. ours per file
    per = {}
    for g in formats:
        od = os.path.join(out, "ours", g)
        os.makedirs(od, exist_ok=True)
        print(f">> ours per file: {g} ({len(by_fmt[g])} files)", file=sys.stderr)
        with cf.ThreadPoolExecutor(a.jobs) as ex:
            for r in ex.map(lambda f: run_ours_one(binary, f, od, a.timeout), by_fmt[g]):
                per[r["file"]] = r
    # 2. ours grouped
    grouped = {}
    for g in formats:
        files = [f for f in by_fmt[g] if per[f]["status"] not in ("timeout", "panic")]
        tm = os.path.join(out, f"{g}.ours.time")
        print(f">> ours grouped: {g}", file=sys.stderr)
        with open(os.devnull, "wb") as dn, open(os.path.join(out, f"{g}.ours.err"), "wb") as e:
            subprocess.run(["/usr/bin/time", "-v", "-o", tm, "timeout", "-s", "KILL", str(max(600, a.timeout * 3)), binary] + files,
                           stdout=dn, stderr=e)
        grouped[g] = (files, parse_time(tm))
    # 3. node
    node, node_grp = {}, {}
    if not a.skip_node:
        for g in formats:
            if g not in NODE_FORMATS:
                continue
            print(f">> node: {g}", file=sys.stderr)
            nd = os.path.join(out, "node", g)
            os.makedirs(nd, exist_ok=True)
            res, wall, rss = run_node(by_fmt[g], nd, a.timeout, g, out)
            node.update(res)
            node_grp[g] = (wall, rss)
    json.dump(dict(per=per, node=node), open(os.path.join(out, "results.json"), "w"), indent=1)
    return report_only(a, binary, out, report, src, meta, formats, by_fmt)


def report_only(a, binary, out, report, src, meta, formats, by_fmt):
    r = json.load(open(os.path.join(out, "results.json")))
    per, node = r["per"], r["node"]
    for x in per.values():  # results written before the refused-by-design statuses existed
        if x["status"] == "error" and re.search(r"unsupported legacy format|remove the password", x["err"]):
            x["status"] = "unsupported" if "unsupported" in x["err"] else "encrypted"
    grouped, node_grp = {}, {}
    for g in formats:
        files = [f for f in by_fmt[g] if per[f]["status"] not in ("timeout", "panic")]
        grouped[g] = (files, parse_time(os.path.join(out, f"{g}.ours.time")))
        tvs = [parse_time(os.path.join(out, x)) for x in os.listdir(out) if x.startswith(f"{g}.node.") and x.endswith(".time")]
        if tvs and not a.skip_node:
            node_grp[g] = (sum(t[0] for t in tvs if t), max(t[1] for t in tvs if t))
    # 4. agreement
    agree = {}
    for f, r in per.items():
        g = f.split("/")[-2]
        if g not in AGREE_FORMATS or f not in node or node[f]["status"] != "ok" or r["status"] != "ok":
            continue
        ours_t = open(os.path.join(out, "ours", g, os.path.basename(f) + ".md"), errors="replace").read()
        node_t = open(os.path.join(out, "node", g, os.path.basename(f) + ".txt"), errors="replace").read()
        agree[f] = agreement(ours_t, node_t)
    json.dump(agree, open(os.path.join(out, "agreement.json"), "w"), indent=1)

    # 5. report
    L = []
    L.append(f"# Real-world extraction corpus: ours vs node\n")
    L.append(f"binary: `{binary}`; corpus: `{a.corpus}` ({len(meta)} files); host: {os.cpu_count()} cores, "
             f"load {open('/proc/loadavg').read().split()[0]} at the end; per-file timeout {a.timeout} s\n")
    L.append("## Sources\n\n| source | package | version | files | MB |\n| --- | --- | --- | --- | --- |")
    srcs = collections.OrderedDict()
    for r in src:
        k = (r[1], r[2], r[3])
        c = srcs.setdefault(k, [0, 0])
        c[0] += 1
        c[1] += int(r[5])
    for (s, p, v), (n, b) in srcs.items():
        L.append(f"| {s} | {p} | {v} | {n} | {b / 1e6:.1f} |")
    L.append("\n## Per format\n")
    L.append("ours/node fails: per-file runs; 'by design' = refused with a clear message (legacy DOC, password-protected files). files/s, MB/s, RSS: one process per format (wall clock incl. start-up; /usr/bin/time has 10 ms resolution, so rates for groups under ~0.1 s are rough). "
             "max RSS 1: largest per-file peak RSS. recall = share of node's word tokens found in ours (multiset), "
             "reverse = share of ours' tokens found in node's; median over files both extracted, and count < 0.9.\n")
    hdr = ["format", "files", "MB", "ours fail", "node fail", "ours files/s", "ours MB/s", "ours RSS", "ours max RSS 1",
           "node files/s", "node MB/s", "node RSS", "recall median", "reverse median", "recall<0.9"]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + " --- |" * len(hdr))
    for g in formats:
        fs = by_fmt[g]
        mb = sum(os.path.getsize(f) for f in fs) / 1e6
        of = sum(1 for f in fs if per[f]["status"] != "ok")
        ofd = sum(1 for f in fs if per[f]["status"] in ("unsupported", "encrypted"))
        gfiles, tv = grouped[g]
        gmb = sum(os.path.getsize(f) for f in gfiles) / 1e6
        row = [g, str(len(fs)), f"{mb:.1f}", str(of) + (f" ({ofd} by design)" if ofd else "")]
        if g in node_grp:
            row.append(str(sum(1 for f in fs if node.get(f, {}).get("status", "ok") != "ok")))
        else:
            row.append("n/a")
        note = "" if len(gfiles) == len(fs) else f" ({len(fs) - len(gfiles)} left out)"
        row += [fmt(len(gfiles) / tv[0]) + note, fmt(gmb / tv[0]), f"{tv[1]:.0f} MB"] if tv else ["n/a"] * 3
        row.append(f"{max((per[f]['rss'] or 0) for f in fs):.0f} MB")
        if g in node_grp:
            w, rss = node_grp[g]
            w = max(w, 0.01)
            row += [fmt(len(fs) / w), fmt(mb / w), f"{rss:.0f} MB"]
        else:
            row += ["n/a"] * 3
        ag = [agree[f] for f in fs if f in agree and agree[f][0] is not None]
        if ag:
            row += [f"{statistics.median(x[0] for x in ag):.3f}",
                    f"{statistics.median(x[1] for x in ag if x[1] is not None):.3f}" if any(x[1] is not None for x in ag) else "n/a",
                    f"{sum(1 for x in ag if x[0] < 0.9)} of {len(ag)}"]
        else:
            row += ["n/a"] * 3
        L.append("| " + " | ".join(row) + " |")
    tot = sum(len(v) for v in by_fmt.values())
    L.append(f"\ntotal: {tot} files, {sum(os.path.getsize(f) for v in by_fmt.values() for f in v) / 1e6:.0f} MB\n")

    # problems
    probs = []
    for g in formats:
        for f in by_fmt[g]:
            r = per[f]
            n = node.get(f)
            why = []
            if r["status"] != "ok":
                why.append(r["status"])
            if r["rss"] and r["rss"] > 300:
                why.append(f"RSS {r['rss']:.0f} MB")
            ag = agree.get(f)
            if r["status"] == "ok" and n and n["status"] == "ok" and ag and ag[3] > 0 and ag[2] == 0:
                why.append("empty (node has text)")
            elif ag and ag[0] is not None and ag[0] < 0.9 and g in ("pdf", "docx"):
                why.append(f"recall {ag[0]:.2f}" + (" (tiny: < 30 node tokens)" if ag[3] < 30 else ""))
            if why:
                probs.append((g, f, why))
    L.append(f"## Problems ({len(probs)})\n")
    L.append("| file | MB | producer | tags | problem | ours error | ours wall s / RSS MB | node | recall / reverse (node tokens) |")
    L.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for g, f, why in probs:
        r = per[f]
        n = node.get(f)
        ag = agree.get(f)
        m = meta[f]
        prod = producer(f, binary).replace("|", "/")
        nstat = "n/a" if not n else (n["status"] if n["status"] != "ok" else f"ok {n['chars']} chars")
        agt = f"{ag[0]:.2f} / {ag[1]:.2f} ({ag[3]})" if ag and ag[0] is not None and ag[1] is not None else (
            f"{ag[0]:.2f} / - ({ag[3]})" if ag and ag[0] is not None else "")
        err = r["err"].replace("\n", " ").replace("|", "/")[:300]
        L.append(f"| {m[0]} | {int(m[5]) / 1e6:.2f} | {prod[:80]} | {m[7]} | {', '.join(why)} | {err} | "
                 f"{r['wall']:.1f} / {(r['rss'] or 0):.0f} | {nstat.replace('|', '/')[:120]} | {agt} |")
    L.append("\n## Node failures (ours ok)\n")
    for g in formats:
        for f in by_fmt[g]:
            n = node.get(f)
            if n and n["status"] != "ok" and per[f]["status"] == "ok":
                L.append(f"- {meta[f][0]}: {n['status'][:200]}")
    open(report, "w").write("\n".join(L) + "\n")
    print(f"report: {report}", file=sys.stderr)


if __name__ == "__main__":
    main()
