#!/usr/bin/env node
// The first design's extraction stack, as the baseline for run.sh:
//   PDF  -> pdf-parse 1.1.1 (its bundled pdf.js) -> text
//   DOCX -> mammoth.convertToHtml -> turndown -> Markdown
//   HTML -> jsdom + @mozilla/readability -> turndown -> Markdown
// Usage: node node_extract.js [--text-dir DIR] FILE...   (files processed one after another)
// Prints one TSV line per file to stdout as soon as it is done: file, input bytes, milliseconds,
// output chars, "ok"|"error: ...". With --text-dir, also writes DIR/<basename>.txt for each file
// read (realworld.py compares those with ours). Exits 1 if any file failed.
'use strict';

const fs = require('fs');
const path = require('path');
// The package's index.js runs a self-test when required without a parent; use the library directly.
const pdfParse = require('pdf-parse/lib/pdf-parse.js');
const mammoth = require('mammoth');
const TurndownService = require('turndown');
const { JSDOM, VirtualConsole } = require('jsdom');
const { Readability } = require('@mozilla/readability');

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
const quietConsole = new VirtualConsole(); // jsdom CSS-parse warnings are not output

async function extract(file, buf) {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.pdf') {
    const data = await pdfParse(buf);
    return data.text;
  }
  if (ext === '.docx') {
    const { value } = await mammoth.convertToHtml({ buffer: buf });
    return turndown.turndown(value);
  }
  if (ext === '.html' || ext === '.htm') {
    // Scripts are not run (jsdom's default), as in the first design.
    const dom = new JSDOM(buf.toString('utf8'), { url: 'https://intranet.example.com/' + path.basename(file), virtualConsole: quietConsole });
    const article = new Readability(dom.window.document).parse();
    dom.window.close();
    if (!article || !article.content) throw new Error('readability found no article');
    return turndown.turndown(article.content);
  }
  throw new Error('no extractor in the first design for ' + ext);
}

async function main() {
  let files = process.argv.slice(2);
  let textDir = null;
  if (files[0] === '--text-dir') {
    textDir = files[1];
    files = files.slice(2);
    fs.mkdirSync(textDir, { recursive: true });
  }
  // pdf.js logs warnings with console.log; keep stdout for the TSV lines.
  console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
  let failed = 0;
  for (const file of files) {
    const buf = fs.readFileSync(file);
    const t0 = process.hrtime.bigint();
    let status = 'ok';
    let chars = 0;
    try {
      const text = await extract(file, buf);
      chars = text.length;
      if (textDir) fs.writeFileSync(path.join(textDir, path.basename(file) + '.txt'), text);
    } catch (e) {
      status = 'error: ' + String(e && e.message || e).replace(/\s+/g, ' ').slice(0, 200);
      failed++;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(`${file}\t${buf.length}\t${ms.toFixed(1)}\t${chars}\t${status}\n`);
  }
  process.exitCode = failed ? 1 : 0;
}

main();
