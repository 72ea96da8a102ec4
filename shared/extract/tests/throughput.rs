//! Throughput on large generated documents, for sizing the Lambda. Ignored by default (slow in a
//! debug build): `cargo test --release -j1 --test throughput -- --ignored --nocapture`.

mod common;

use std::time::Instant;

use common::*;
use recorder_extract::{ChunkOptions, Hints, Limits, chunk, extract};

fn measure(label: &str, name: &str, bytes: &[u8]) {
    let started = Instant::now();
    let out = extract(bytes, &Hints::named(name), &Limits::default())
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let extracted = started.elapsed();
    let chunks = chunk(&out.markdown, &ChunkOptions::default());
    let total = started.elapsed();
    let input_kb = bytes.len() as f64 / 1024.0;
    let out_mb = out.markdown.len() as f64 / (1024.0 * 1024.0);
    println!(
        "| {label} | {input_kb:.0} KB | {out_mb:.1} MB | {:.2} s | {:.1} MB/s | {} | {:.2} s |",
        extracted.as_secs_f64(),
        out_mb / extracted.as_secs_f64(),
        chunks.len(),
        total.as_secs_f64()
    );
}

#[test]
#[ignore = "run in release to measure"]
fn large_documents_extract_at_a_useful_rate() {
    println!("| input | file | Markdown | extract | Markdown rate | chunks | extract + chunk |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let paragraph = w_p(
        None,
        &format!(
            "{}{}",
            w_r("Plain text of a long report paragraph, "),
            w_r_fmt("with emphasis", true, false)
        ),
    );
    let body: String = (0..40_000)
        .map(|i| {
            if i % 50 == 0 {
                w_p(Some("Heading2"), &w_r(&format!("Section {i}")))
            } else {
                paragraph.clone()
            }
        })
        .collect();
    measure("DOCX, 40 000 paragraphs", "big.docx", &docx(&body));

    let text: Vec<String> = (0..2_000)
        .map(|i| format!("Page {i} of a long report with some words on it."))
        .collect();
    let pages: Vec<&str> = text.iter().map(String::as_str).collect();
    measure(
        "PDF, 2 000 pages (one line each)",
        "big.pdf",
        &pdf_with_pages(&pages),
    );
    let runs: Vec<(i64, i64, String)> = (0..50)
        .flat_map(|row| {
            (0..4).map(move |col| {
                (
                    72 + col * 120,
                    750 - row * 14,
                    format!("cell {row}.{col} words"),
                )
            })
        })
        .collect();
    let runs: Vec<(i64, i64, &str)> = runs.iter().map(|(x, y, t)| (*x, *y, t.as_str())).collect();
    measure(
        "PDF, one page with a 50×4 table",
        "table.pdf",
        &pdf_with_runs(&runs),
    );

    let html: String = (0..20_000).map(|i| format!("<h2>Part {i}</h2><p>Some <b>bold</b> text and a <a href=\"/x{i}\">link</a>.</p><ul><li>a</li><li>b</li></ul>")).collect();
    measure(
        "HTML, 20 000 sections",
        "big.html",
        format!("<html><body>{html}</body></html>").as_bytes(),
    );

    let csv: String = (0..200_000)
        .map(|i| format!("{i},name {i},{}.5\n", i * 3))
        .collect();
    measure("CSV, 200 000 rows", "big.csv", csv.as_bytes());
}
