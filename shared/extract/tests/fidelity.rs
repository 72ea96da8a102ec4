//! Structure preservation per format: each fixture's extracted Markdown must keep at least 95%
//! of the expected headings, list items, table cells and links, in order.
//! Run with `--nocapture` to see the table that goes into docs/benchmarks.md.

mod common;

use common::*;
use recorder_extract::{ExtractError, Format, Hints, Limits, extract, fidelity, text_recall};

const MARKDOWN: &str = "# Notes\n\n- one\n    - two\n1. three\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\nSee [site](https://example.com).";

fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>, String)> {
    vec![
        (
            "Markdown",
            "n.md",
            MARKDOWN.as_bytes().to_vec(),
            MARKDOWN.to_owned(),
        ),
        (
            "CSV",
            "t.csv",
            b"name,note\nAda,a|b\nGrace,x\n".to_vec(),
            "| name | note |\n| --- | --- |\n| Ada | a\\|b |\n| Grace | x |".to_owned(),
        ),
        (
            "HTML",
            "g.html",
            SAMPLE_HTML.as_bytes().to_vec(),
            SAMPLE_HTML_MD.to_owned(),
        ),
        ("DOCX", "p.docx", sample_docx(), SAMPLE_DOCX_MD.to_owned()),
        ("XLSX", "b.xlsx", sample_xlsx(), SAMPLE_XLSX_MD.to_owned()),
        ("ODS", "s.ods", sample_ods(), SAMPLE_ODS_MD.to_owned()),
        ("PPTX", "d.pptx", sample_pptx(), SAMPLE_PPTX_MD.to_owned()),
        ("ODT", "n.odt", sample_odt(), SAMPLE_ODT_MD.to_owned()),
        ("ODP", "k.odp", sample_odp(), SAMPLE_ODP_MD.to_owned()),
        ("EPUB", "b.epub", sample_epub(), SAMPLE_EPUB_MD.to_owned()),
        (
            "EML",
            "m.eml",
            SAMPLE_EML.as_bytes().to_vec(),
            SAMPLE_EML_MD.to_owned(),
        ),
    ]
}

#[test]
fn every_format_keeps_at_least_95_percent_of_its_structure() {
    let mut failures = Vec::new();
    println!("| format | headings | list items | table cells | links | score |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, name, bytes, expected) in corpus() {
        let out = extract(&bytes, &Hints::named(name), &Limits::default())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let f = fidelity(&expected, &out.markdown);
        let cell = |(m, e): (usize, usize)| format!("{m}/{e}");
        println!(
            "| {label} | {} | {} | {} | {} | {:.2} |",
            cell(f.headings),
            cell(f.list_items),
            cell(f.table_cells),
            cell(f.links),
            f.score()
        );
        if f.score() < 0.95 {
            failures.push(format!("{label}: {:.2}\n{}", f.score(), out.markdown));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_score_counts_missing_and_reordered_structure() {
    let expected = "# A\n\n- x\n- y\n\n| c | d |\n| --- | --- |\n| 1 | 2 |\n\n[l](u)";
    assert_eq!(fidelity(expected, expected).score(), 1.0);
    let missing_item = fidelity(
        expected,
        "# A\n\n- x\n\n| c | d |\n| --- | --- |\n| 1 | 2 |\n\n[l](u)",
    );
    assert_eq!(missing_item.list_items, (1, 2));
    let reordered = fidelity(
        expected,
        "# A\n\n- y\n- x\n\n| c | d |\n| --- | --- |\n| 1 | 2 |\n\n[l](u)",
    );
    assert_eq!(reordered.list_items, (1, 2));
    let flattened = fidelity("- a\n    - b", "- a\n- b");
    assert_eq!(flattened.list_items, (1, 2), "nesting level counts");
    let ordered_as_bullets = fidelity("1. a", "- a");
    assert_eq!(
        ordered_as_bullets.list_items,
        (0, 1),
        "ordered vs bullet counts"
    );
    let wrong_link = fidelity("[l](u)", "[l](v)");
    assert_eq!(wrong_link.links, (0, 1));
    assert_eq!(
        fidelity("# A", "## A").headings,
        (0, 1),
        "heading level counts"
    );
    assert_eq!(
        fidelity("plain", "").score(),
        1.0,
        "nothing structural expected"
    );
}

const HANDBOOK_MD: &str = "# Project Handbook

Welcome to the **handbook**. Read the [guide](https://example.com/guide) first, and *ask* questions.

## Goals

1. Ship the importer
    - DOCX and PDF
    - Spreadsheets
2. Measure quality

## Team

| Name | Role |
| --- | --- |
| Ada | Engineer |
| Grace | Reviewer |

### Contacts

- Email the [team](mailto:team@example.com)
- Chat in the general channel

Last paragraph.";

const BUDGET_MD: &str = "## budget

| Item | Cost | Owner |
| --- | --- | --- |
| Servers | 1200 | Ada |
| Pipes \\| fittings | 35.5 | Grace |
| Licences | 99 | Ada |";

/// Calc prints the sheet name as a page header and "Page 1" as a footer; the table is the body.
const BUDGET_PDF_MD: &str = "| Item | Cost | Owner |
| --- | --- | --- |
| Servers | 1200 | Ada |
| Pipes \\| fittings | 35.5 | Grace |
| Licences | 99 | Ada |";

const DECK_MD: &str = "## Slide 1: Roadmap

- Import files
- DOCX and PDF
- Search them

### Notes

Mention the pilot customer.

## Slide 2: Numbers";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Files written by LibreOffice (tests/fixtures/README.md): (label, file, expected, minimum score).
/// PDF structure is inferred from layout (type size, indentation, aligned columns, link
/// annotations), so it is the format most likely to score lower on other producers' files.
fn libreoffice_corpus() -> Vec<(&'static str, &'static str, &'static str, f64)> {
    vec![
        ("DOCX (LibreOffice)", "handbook.docx", HANDBOOK_MD, 0.95),
        ("ODT (LibreOffice)", "handbook.odt", HANDBOOK_MD, 0.95),
        ("PDF (LibreOffice)", "handbook.pdf", HANDBOOK_MD, 0.95),
        ("RTF (LibreOffice)", "handbook.rtf", HANDBOOK_MD, 0.95),
        ("XLSX (LibreOffice)", "budget.xlsx", BUDGET_MD, 0.95),
        ("ODS (LibreOffice)", "budget.ods", BUDGET_MD, 0.95),
        ("XLS (LibreOffice)", "budget.xls", BUDGET_MD, 0.95),
        (
            "PDF from Calc (LibreOffice)",
            "budget.pdf",
            BUDGET_PDF_MD,
            0.95,
        ),
        ("PPTX (LibreOffice)", "deck.pptx", DECK_MD, 0.95),
        ("ODP (LibreOffice)", "deck.odp", DECK_MD, 0.95),
    ]
}

#[test]
fn files_written_by_libreoffice_keep_their_structure_and_text() {
    let mut failures = Vec::new();
    println!("| fixture | headings | list items | table cells | links | structure | text recall |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (label, file, expected, minimum) in libreoffice_corpus() {
        let out = extract(&fixture(file), &Hints::named(file), &Limits::default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let f = fidelity(expected, &out.markdown);
        let recall = text_recall(expected, &out.markdown);
        let cell = |(m, e): (usize, usize)| format!("{m}/{e}");
        println!(
            "| {label} | {} | {} | {} | {} | {:.2} | {recall:.2} |",
            cell(f.headings),
            cell(f.list_items),
            cell(f.table_cells),
            cell(f.links),
            f.score()
        );
        if f.score() < minimum || recall < 0.95 {
            failures.push(format!(
                "{label}: structure {:.2} (min {minimum}), text {recall:.2}\n{}",
                f.score(),
                out.markdown
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn libreoffice_metadata_is_read() {
    let docx = extract(
        &fixture("handbook.docx"),
        &Hints::named("handbook.docx"),
        &Limits::default(),
    )
    .expect("docx");
    assert_eq!(docx.format, Format::Docx);
    assert_eq!(docx.metadata.title.as_deref(), Some("Project Handbook"));
    assert_eq!(docx.metadata.language.as_deref(), Some("en-US"));
    let pdf = extract(
        &fixture("handbook.pdf"),
        &Hints::named("handbook.pdf"),
        &Limits::default(),
    )
    .expect("pdf");
    assert_eq!(pdf.metadata.page_count, Some(1));
    assert_eq!(pdf.metadata.title.as_deref(), Some("Project Handbook"));
    let xls = extract(
        &fixture("budget.xls"),
        &Hints::named("budget.xls"),
        &Limits::default(),
    )
    .expect("xls");
    assert_eq!(
        (xls.format, xls.metadata.sheet_count),
        (Format::Xls, Some(1))
    );
    let pptx = extract(
        &fixture("deck.pptx"),
        &Hints::named("deck.pptx"),
        &Limits::default(),
    )
    .expect("pptx");
    assert_eq!(pptx.metadata.slide_count, Some(2));
}

#[test]
fn a_real_word_97_file_is_refused_with_advice() {
    let err = extract(
        &fixture("handbook.doc"),
        &Hints::named("handbook.doc"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::Unsupported { .. }));
    assert_eq!(
        err.to_string(),
        "unsupported legacy format: DOC (Word 97-2003); save it as DOCX"
    );
}

#[test]
fn a_libreoffice_pdf_with_an_open_password_is_refused() {
    let err = extract(
        &fixture("handbook-encrypted.pdf"),
        &Hints::named("h.pdf"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ExtractError::Encrypted { format: "PDF" }),
        "{err}"
    );
}
