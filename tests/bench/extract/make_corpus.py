#!/usr/bin/env python3
"""Generate the mixed extraction-benchmark corpus (NOT checked in).

    python3 tests/bench/extract/make_corpus.py [OUT_DIR]      # default /tmp/extract-corpus

Writes OUT/{html,docx,pdf,pdf-large,xlsx,xlsx-large,csv}/ with generated but realistic documents:
headings, paragraphs with emphasis and links, nested bulleted/numbered lists and tables. DOCX,
PDF and XLSX are written by LibreOffice (`soffice --headless --convert-to`) from generated HTML
or CSV; the large PDFs are LibreOffice PDFs whose pages are concatenated with qpdf (LibreOffice
laying out thousands of pages itself takes far too long on a 2-core machine). Deterministic (seeded).
Set CORPUS_SCALE=small for a quick smoke corpus.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/extract-corpus")
SMALL = os.environ.get("CORPUS_SCALE") == "small"
SRC = OUT / "_src"

WORDS = """the a of to and in is for on that with as by this be are from at or it an was which
have not has data system report customer quarter revenue meeting project team review budget plan
policy process service product market analysis results growth cost risk security compliance
network storage backup recovery deployment release version update migration schedule timeline
contract agreement vendor supplier invoice payment account balance forecast target objective
strategy initiative program operation management staff training hiring office facility region
country europe america asia sales marketing engineering research development support quality
testing incident outage performance capacity latency throughput availability reliability
document archive record transcript recording interview call summary action item decision owner
deadline status progress blocker dependency requirement specification design architecture
component module interface integration platform infrastructure cloud server database cluster
""".split()
NAMES = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter".split()


def sentence(rng, lo=6, hi=22):
    ws = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    s = " ".join(ws)
    return s[0].upper() + s[1:] + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng):
    parts = []
    for _ in range(rng.randint(2, 7)):
        s = sentence(rng)
        r = rng.random()
        if r < 0.12:
            w = s.split()
            i = rng.randrange(len(w))
            w[i] = f"<strong>{w[i]}</strong>"
            s = " ".join(w)
        elif r < 0.2:
            w = s.split()
            i = rng.randrange(len(w))
            w[i] = f"<em>{w[i]}</em>"
            s = " ".join(w)
        elif r < 0.25:
            s += f' See <a href="https://intranet.example.com/{rng.choice(WORDS)}/{rng.randint(1, 9999)}">{rng.choice(WORDS)} notes</a>.'
        parts.append(s)
    return "<p>" + " ".join(parts) + "</p>"


def a_list(rng, depth=0):
    tag = rng.choice(["ul", "ol"])
    items = []
    for _ in range(rng.randint(2, 6)):
        item = sentence(rng, 3, 12)
        if depth < 2 and rng.random() < 0.25:
            item += a_list(rng, depth + 1)
        items.append(f"<li>{item}</li>")
    return f"<{tag}>" + "".join(items) + f"</{tag}>"


def a_table(rng):
    cols = rng.randint(3, 6)
    head = "".join(f"<th>{rng.choice(WORDS).title()}</th>" for _ in range(cols))
    rows = []
    for _ in range(rng.randint(3, 12)):
        cells = []
        for c in range(cols):
            if c == 0:
                cells.append(rng.choice(NAMES))
            elif rng.random() < 0.5:
                cells.append(f"{rng.uniform(0, 100000):,.2f}")
            else:
                cells.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table border=\"1\"><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def body(rng, target_bytes):
    """Document body of roughly target_bytes of HTML."""
    out = [f"<h1>{sentence(rng, 3, 7).rstrip('.?!')}</h1>"]
    size = len(out[0])
    sec = 0
    while size < target_bytes:
        sec += 1
        block = [f"<h2>{sec}. {sentence(rng, 2, 6).rstrip('.?!')}</h2>"]
        for sub in range(rng.randint(1, 4)):
            block.append(f"<h3>{sec}.{sub + 1} {sentence(rng, 2, 5).rstrip('.?!')}</h3>")
            for _ in range(rng.randint(1, 5)):
                r = rng.random()
                if r < 0.68:
                    block.append(paragraph(rng))
                elif r < 0.88:
                    block.append(a_list(rng))
                else:
                    block.append(a_table(rng))
        chunk = "\n".join(block)
        out.append(chunk)
        size += len(chunk)
    return "\n".join(out)


def web_page(rng, target_bytes, title):
    """A full web page: chrome (nav, sidebar, footer, scripts, styles) around an article."""
    nav = "".join(f'<li><a href="/{w}">{w.title()}</a></li>' for w in rng.sample(WORDS, 12))
    aside = "".join(f'<li><a href="/related/{i}">{sentence(rng, 3, 8)}</a></li>' for i in range(8))
    script = "var analytics = {" + ",".join(f'"{w}{i}": {i}' for i, w in enumerate(rng.sample(WORDS, 40))) + "};"
    style = "body{font-family:sans-serif} " + " ".join(f".c{i}{{margin:{i}px}}" for i in range(60))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="author" content="{rng.choice(NAMES)}"><style>{style}</style><script>{script}</script></head>
<body><header><div class="logo">Example Corp Intranet</div><nav><ul>{nav}</ul></nav></header>
<div class="layout"><main><article><div class="byline">By {rng.choice(NAMES)} &middot; {rng.randint(1, 28)} March 2025</div>
{body(rng, target_bytes)}
</article></main><aside><h4>Related</h4><ul>{aside}</ul></aside></div>
<footer><p>&copy; 2025 Example Corp. <a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>
<script>document.querySelectorAll('a').forEach(function(a){{a.dataset.t=1}});</script></body></html>
"""


def plain_doc(rng, target_bytes, title):
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body>{body(rng, target_bytes)}</body></html>
"""


def sizes(rng, n, lo, hi):
    """n sizes log-uniform in [lo, hi]."""
    import math
    return [int(math.exp(rng.uniform(math.log(lo), math.log(hi)))) for _ in range(n)]


def soffice(fmt, outdir, files):
    """Convert files with one soffice process per batch. LibreOffice 7.4 sometimes loops forever
    laying out a particular generated document: a batch that stalls is killed, the file it was on
    is skipped (and reported), and the rest are converted."""
    outdir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":")[0]
    out_of = lambda f: outdir / (f.stem + "." + ext)
    todo = [f for f in files if not out_of(f).exists()]
    while todo:
        batch = todo[:10]
        timeout = 60 + 30 * sum(f.stat().st_size for f in batch) / 1e6
        proc = subprocess.Popen(["soffice", "--headless", "--norestore", "--convert-to", fmt, "--outdir", str(outdir),
                                 *map(str, batch)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # soffice.bin runs under a wrapper: end the group
            proc.wait()
        missing = [f for f in batch if not out_of(f).exists()]
        if missing and len(missing) == len(batch) - sum(1 for f in batch if out_of(f).exists()):
            # Files are converted in order: the first missing one is where it stalled.
            stuck = missing[0]
            print(f"SKIPPED {stuck.name}: LibreOffice did not finish converting it to {ext} in {timeout:.0f}s", flush=True)
            with open(OUT / "SKIPPED.txt", "a") as fh:
                fh.write(f"{stuck.name} -> {ext}: LibreOffice stalled\n")
            for junk in outdir.glob(f".~lock.{stuck.stem}*"):
                junk.unlink()
            missing = missing[1:]
        todo = missing + todo[10:]


def noise_png(rng, width, height):
    """A PNG of random pixels: it compresses no better than a photo does."""
    import struct
    import zlib
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + rng.randbytes(width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def illustrated_pdf(dest, target):
    """A report with a photo-sized image in every section, the way most large PDFs in the wild
    are large: LibreOffice lays out one ~20 MB copy, qpdf concatenates distinct copies of it."""
    rng = random.Random(20261124)
    src = SRC / "illustrated"
    src.mkdir(parents=True, exist_ok=True)
    parts = []
    for i in range(24):
        (src / f"photo-{i:02d}.png").write_bytes(noise_png(rng, 1200, 800))
        parts.append(f'<h2>Site visit {i + 1}</h2>{paragraph(rng)}<p><img src="photo-{i:02d}.png" '
                     f'width="600" height="400"></p>{paragraph(rng)}{paragraph(rng)}')
    (src / "report.html").write_text(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Illustrated report</title></head><body><h1>Illustrated report</h1>{"".join(parts)}</body></html>""")
    soffice("pdf:writer_pdf_Export", src / "pdf", [src / "report.html"])
    one = src / "pdf" / "report.pdf"
    pages = []
    for c in range(max(1, round(target / one.stat().st_size))):
        cp = src / f"copy-{c}.pdf"
        shutil.copy(one, cp)
        pages += [str(cp), "1-z"]
    subprocess.run(["qpdf", "--empty", "--pages", *pages, "--", str(dest)], check=True)


def csv_text(rng, rows):
    lines = ["id,date,customer,region,product,quantity,unit_price,total,status,notes"]
    for i in range(rows):
        q = rng.randint(1, 500)
        p = round(rng.uniform(1, 2000), 2)
        note = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6)))
        if rng.random() < 0.1:
            note = f'"{note}, {rng.choice(WORDS)}"'
        lines.append(f"{i + 1},2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rng.choice(NAMES)} {rng.choice(NAMES)},"
                     f"{rng.choice(['EMEA', 'AMER', 'APAC'])},{rng.choice(WORDS).title()}-{rng.randint(100, 999)},{q},{p},"
                     f"{round(q * p, 2)},{rng.choice(['open', 'paid', 'overdue', 'void'])},{note}")
    return "\n".join(lines) + "\n"


def main():
    t0 = time.time()
    # Existing LibreOffice outputs are kept (generation is deterministic): delete OUT to rebuild.
    if SRC.exists():
        shutil.rmtree(SRC)
    for junk in list(OUT.glob("*/*.tmp")) + list(OUT.glob("*/.~lock.*")):  # left by a killed soffice
        junk.unlink()
    SRC.mkdir(parents=True)
    rng = random.Random(20251124)
    k = 0.2 if SMALL else 1.0
    n = lambda x: max(2, int(x * k))

    # HTML: full web pages, 4 KB .. 3 MB, plus two big ones.
    d = OUT / "html"
    d.mkdir(exist_ok=True)
    for i, s in enumerate(sizes(rng, n(78), 4_000, 600_000) + ([2_000_000, 8_000_000] if not SMALL else [])):
        (d / f"page-{i:03d}.html").write_text(web_page(rng, s, f"Page {i}"))

    # DOCX: LibreOffice from plain HTML, 3 KB .. 2 MB of HTML, plus two big ones.
    srcs = []
    for i, s in enumerate(sizes(rng, n(58), 3_000, 1_500_000) + ([4_000_000] if not SMALL else [])):
        p = SRC / "docx" / f"doc-{i:03d}.html"
        p.parent.mkdir(exist_ok=True)
        p.write_text(plain_doc(rng, s, f"Document {i}"))
        srcs.append(p)
    soffice('docx:MS Word 2007 XML', OUT / "docx", srcs)
    print(f"docx done {time.time() - t0:.0f}s", flush=True)

    # PDF: LibreOffice from plain HTML, 2 KB .. 1.5 MB of HTML.
    srcs = []
    for i, s in enumerate(sizes(rng, n(58), 2_000, 1_500_000)):
        p = SRC / "pdf" / f"report-{i:03d}.html"
        p.parent.mkdir(exist_ok=True)
        p.write_text(plain_doc(rng, s, f"Report {i}"))
        srcs.append(p)
    soffice("pdf:writer_pdf_Export", OUT / "pdf", srcs)
    print(f"pdf done {time.time() - t0:.0f}s", flush=True)

    # Large PDFs: a ~4 MB HTML book through LibreOffice, then qpdf concatenates distinct copies of
    # it (each copy read from its own file, so objects are copied, not shared).
    if not SMALL:
        book_src = SRC / "book.html"
        book_src.write_text(plain_doc(rng, 2_000_000, "Handbook"))
        soffice("pdf:writer_pdf_Export", SRC / "bookpdf", [book_src])
        book = SRC / "bookpdf" / "book.pdf"
        large = OUT / "pdf-large"
        large.mkdir(exist_ok=True)
        for name, target in [("handbook-25mb.pdf", 25e6), ("handbook-50mb.pdf", 50e6), ("handbook-100mb.pdf", 100e6)]:
            copies = max(1, round(target / book.stat().st_size))
            parts = []
            for c in range(copies):
                cp = SRC / f"copy-{c}.pdf"
                if not cp.exists():
                    shutil.copy(book, cp)
                parts += [str(cp), "1-z"]
            subprocess.run(["qpdf", "--empty", "--pages", *parts, "--", str(large / name)], check=True)
        # ~200 MB of text only (no images): two distinct copies of the 100 MB one.
        twice = [SRC / "h100-a.pdf", SRC / "h100-b.pdf"]
        for cp in twice:
            shutil.copy(large / "handbook-100mb.pdf", cp)
        subprocess.run(["qpdf", "--empty", "--pages", str(twice[0]), "1-z", str(twice[1]), "1-z", "--",
                        str(large / "handbook-200mb.pdf")], check=True)
        illustrated_pdf(large / "illustrated-200mb.pdf", 200e6)
        print(f"large pdf done {time.time() - t0:.0f}s", flush=True)

    # CSV: 10 .. 200k rows, and XLSX from a subset of them via LibreOffice.
    d = OUT / "csv"
    d.mkdir(exist_ok=True)
    rows = sizes(rng, n(28), 10, 200_000)
    xsrc = []
    for i, r in enumerate(rows):
        p = d / f"ledger-{i:03d}.csv"
        p.write_text(csv_text(rng, r))
        if i % 2 == 0 or SMALL:
            q = SRC / "xlsx" / f"ledger-{i:03d}.csv"
            q.parent.mkdir(exist_ok=True)
            shutil.copy(p, q)
            xsrc.append(q)
    soffice('xlsx:Calc MS Excel 2007 XML', OUT / "xlsx", xsrc)
    if not SMALL:
        # One large workbook: 400,000 rows x 10 columns (~30 MB of CSV).
        q = SRC / "xlsx-large" / "ledger-400k-rows.csv"
        q.parent.mkdir(exist_ok=True)
        q.write_text(csv_text(rng, 400_000))
        soffice('xlsx:Calc MS Excel 2007 XML', OUT / "xlsx-large", [q])
    print(f"xlsx done {time.time() - t0:.0f}s", flush=True)

    shutil.rmtree(SRC)
    total = 0
    for sub in sorted(p for p in OUT.iterdir() if p.is_dir()):
        files = list(sub.iterdir())
        b = sum(f.stat().st_size for f in files)
        total += len(files)
        print(f"{sub.name:12} {len(files):4} files {b / 1e6:9.1f} MB  max {max(f.stat().st_size for f in files) / 1e6:.1f} MB")
    print(f"{total} files in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
