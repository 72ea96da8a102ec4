#!/usr/bin/env node
// Same extraction stack as node_extract.js (pdf-parse 1.1.1 / mammoth + turndown / jsdom +
// readability + turndown), but also saves each file's text, for realworld.py's text agreement.
// Usage: node node_text.js OUTDIR FILE...
// Writes OUTDIR/<basename of FILE>.txt for each file that succeeds and prints one TSV line per file
// to stdout as soon as it is done: file, input bytes, milliseconds, output chars, "ok"|"error: ...".
'use strict';

const fs = require('fs');
const path = require('path');
const pdfParse = require('pdf-parse/lib/pdf-parse.js');
const mammoth = require('mammoth');
const TurndownService = require('turndown');
const { JSDOM, VirtualConsole } = require('jsdom');
const { Readability } = require('@mozilla/readability');

const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
const quietConsole = new VirtualConsole();

async function extract(file, buf) {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.pdf') return (await pdfParse(buf)).text;
  if (ext === '.docx') {
    const { value } = await mammoth.convertToHtml({ buffer: buf });
    return turndown.turndown(value);
  }
  if (ext === '.html' || ext === '.htm') {
    const dom = new JSDOM(buf.toString('utf8'), { url: 'https://intranet.example.com/' + path.basename(file), virtualConsole: quietConsole });
    const article = new Readability(dom.window.document).parse();
    dom.window.close();
    if (!article || !article.content) throw new Error('readability found no article');
    return turndown.turndown(article.content);
  }
  throw new Error('no extractor in the first design for ' + ext);
}

async function main() {
  const [outDir, ...files] = process.argv.slice(2);
  fs.mkdirSync(outDir, { recursive: true });
  // pdf.js logs warnings with console.log; keep stdout for the TSV lines.
  console.log = (...a) => process.stderr.write(a.join(' ') + '\n');
  for (const file of files) {
    const buf = fs.readFileSync(file);
    const t0 = process.hrtime.bigint();
    let status = 'ok';
    let chars = 0;
    try {
      const text = await extract(file, buf);
      chars = text.length;
      fs.writeFileSync(path.join(outDir, path.basename(file) + '.txt'), text);
    } catch (e) {
      status = 'error: ' + String(e && e.message || e).replace(/\s+/g, ' ').slice(0, 200);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(`${file}\t${buf.length}\t${ms.toFixed(1)}\t${chars}\t${status}\n`);
  }
}

main();
