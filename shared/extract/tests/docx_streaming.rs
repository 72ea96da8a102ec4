//! DOCX bodies are read one top-level block at a time: what spans blocks (list numbering, list
//! grouping, footnotes) and what a whole-tree parse used to catch (XML errors and the depth cap
//! anywhere in document.xml, truncation) must behave as before. Expected outputs were taken from
//! the whole-tree reader.

mod common;

use common::zip_of;
use recorder_extract::{ExtractError, Extracted, Hints, Limits, extract};

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

/// numId 3 is used by the document but defined before the abstractNum it names.
fn numbering() -> String {
    format!(
        r#"<w:numbering {W}>
        <w:num w:numId="3"><w:abstractNumId w:val="0"/></w:num>
        <w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
        <w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="lowerLetter"/></w:lvl></w:abstractNum>
        <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
        <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>"#
    )
}

fn styles() -> String {
    format!(
        r#"<w:styles {W}><w:style w:styleId="H1x"><w:name w:val="heading 1"/></w:style></w:styles>"#
    )
}

fn docx_with(document: &str, numbering: &str, styles: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("word/document.xml", document.as_bytes()),
        ("word/numbering.xml", numbering.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
    ];
    entries.extend(extra.iter().map(|(name, body)| (*name, body.as_bytes())));
    zip_of(&entries)
}

fn document(body: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><w:document {W}><w:body>{body}<w:sectPr/></w:body></w:document>"#
    )
}

fn run(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    extract(bytes, &Hints::named("s.docx"), &Limits::default())
}

fn p(text: &str) -> String {
    format!(r#"<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
}

fn li(num_id: u32, level: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
    )
}

fn text_box(inner: &str) -> String {
    format!(
        "<w:p><w:r><w:t>anchor</w:t></w:r><w:r><mc:AlternateContent><mc:Choice><w:drawing><w:txbxContent>{inner}</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>{inner}</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
}

#[test]
fn lists_keep_counting_and_grouping_across_blocks_wrappers_and_text_boxes() {
    let body = [
        li(1, 0, "one"),
        li(1, 0, "two"),
        "<w:p/>".to_owned(),
        li(1, 1, "sub"),
        li(1, 0, "three"),
        p("para"),
        li(1, 0, "four"),
        format!(
            "<w:sdt><w:sdtPr/><w:sdtContent>{}{}</w:sdtContent></w:sdt>",
            li(2, 0, "in sdt"),
            li(2, 1, "deeper")
        ),
        li(2, 0, "after sdt"),
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc></w:tr></w:tbl>".to_owned(),
        li(1, 0, "five"),
        text_box(&format!("{}{}", li(1, 0, "boxed"), p("box para"))),
        li(1, 0, "six"),
        format!("<w:ins>{}</w:ins>", li(3, 0, "ins")),
        format!("<w:customXml>{}{}</w:customXml>", p("cx"), li(3, 0, "cx li")),
        r#"<w:p><w:pPr><w:pStyle w:val="H1x"/></w:pPr><w:r><w:t>Head</w:t></w:r></w:p>"#
            .to_owned(),
        li(3, 0, "x"),
        p("   "),
        "<w:tbl/>".to_owned(),
        li(1, 0, "seven"),
        "<w:tbl/>".to_owned(),
        li(1, 0, "eight"),
        r#"<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr></w:p>"#.to_owned(),
        li(1, 0, "nine"),
    ]
    .concat();
    // Whitespace, an entity and CDATA directly in the body are not content.
    let body = body.replace("</w:p>", "</w:p>\n  text &amp; <![CDATA[cdata]]> &#65;");
    let bytes = docx_with(&document(&body), &numbering(), &styles(), &[]);
    let out = run(&bytes).expect("extracts");
    assert_eq!(
        out.markdown,
        "1. one\n2. two\n    - sub\n3. three\n\npara\n\n4. four\n- in sdt\n    1. deeper\n- after sdt\n\n| a | b |\n| --- | --- |\n\n5. five\n\nanchor\n\n6. boxed\n\nbox para\n\n7. six\n1. ins\n\ncx\n\n2. cx li\n\n# Head\n\n3. x\n\n8. seven\n\n9. eight\n10. nine"
    );
}

#[test]
fn footnotes_continue_the_body_numbering() {
    let reference = |kind: &str| {
        format!(r#"<w:p><w:r><w:t>ref</w:t></w:r><w:r><w:{kind}Reference w:id="1"/></w:r></w:p>"#)
    };
    let body = [
        li(1, 0, "body list"),
        reference("footnote"),
        reference("endnote"),
        li(1, 0, "more"),
    ]
    .concat();
    let footnotes = format!(
        r#"<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p/></w:footnote><w:footnote w:id="1">{}{}<w:tbl><w:tr><w:tc>{}</w:tc></w:tr></w:tbl></w:footnote><w:footnote w:id="2">{}</w:footnote><w:footnote w:id="3">{}</w:footnote></w:footnotes>"#,
        li(1, 0, "fn list"),
        p("fn text [^2]"),
        p("c"),
        p("second"),
        p("   ")
    );
    let endnotes = format!(
        r#"<w:endnotes {W}><w:endnote w:id="1">{}</w:endnote></w:endnotes>"#,
        p("end note")
    );
    let bytes = docx_with(
        &document(&body),
        &numbering(),
        &styles(),
        &[
            ("word/footnotes.xml", &footnotes),
            ("word/endnotes.xml", &endnotes),
        ],
    );
    assert_eq!(
        run(&bytes).expect("extracts").markdown,
        "1. body list\n\nref[^1]\n\nref[^e1]\n\n2. more\n\n[^1]: 3. fn list fn text [^2] | c | | --- |\n\n[^2]: second\n\n[^e1]: end note"
    );
}

#[test]
fn an_xml_error_after_the_body_fails_the_document_and_is_reported_before_other_parts() {
    let document = format!("{}<<<", document(&p("x")));
    let at = document.find("<<<").expect("marker");
    let bytes = docx_with(&document, &numbering(), "<w:styles><<<", &[]);
    let err = run(&bytes).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("damaged DOCX file: XML error at byte {at}:")),
        "{err}"
    );
}

#[test]
fn the_depth_cap_applies_inside_a_later_block_and_after_the_body() {
    let deep = |n: usize| format!("{}<w:t>deep</w:t>{}", "<w:x>".repeat(n), "</w:x>".repeat(n));
    // document, body, p, r: four levels above the nesting, and the cap is 256.
    let ok = format!("{}<w:p><w:r>{}</w:r></w:p>{}", p("a"), deep(251), p("b"));
    let bytes = docx_with(&document(&ok), &numbering(), &styles(), &[]);
    assert_eq!(run(&bytes).expect("within the cap").markdown, "a\n\nb");
    let too_deep = format!("{}<w:p><w:r>{}</w:r></w:p>{}", p("a"), deep(252), p("b"));
    let bytes = docx_with(&document(&too_deep), &numbering(), &styles(), &[]);
    assert!(matches!(
        run(&bytes),
        Err(ExtractError::TooDeep { limit: 256 })
    ));
    let after = format!("{}{}", document(&p("x")), deep(300));
    let bytes = docx_with(&after, &numbering(), &styles(), &[]);
    assert!(matches!(
        run(&bytes),
        Err(ExtractError::TooDeep { limit: 256 })
    ));
}

#[test]
fn a_truncated_document_keeps_the_block_left_open() {
    let document = format!(
        "<w:document {W}><w:body>{}<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}",
        li(1, 0, "a"),
        p("cell"),
        p("cell2")
    );
    let bytes = docx_with(&document, &numbering(), &styles(), &[]);
    assert_eq!(
        run(&bytes).expect("what was read").markdown,
        "1. a\n\n| cell | cell2 |\n| --- | --- |"
    );
}

#[test]
fn only_the_first_body_counts_and_an_empty_one_is_empty() {
    let nested = format!(
        "<w:document {W}><w:x><w:body>{}</w:body></w:x><w:body>{}</w:body></w:document>",
        p("nested"),
        p("second")
    );
    let bytes = docx_with(&nested, &numbering(), &styles(), &[]);
    assert_eq!(run(&bytes).expect("extracts").markdown, "nested");
    let empty = format!("<w:document {W}><w:body/></w:document>");
    let bytes = docx_with(&empty, &numbering(), &styles(), &[]);
    assert_eq!(run(&bytes).expect("extracts").markdown, "");
    let none = format!("<w:document {W}><w:p/></w:document>");
    let bytes = docx_with(&none, &numbering(), &styles(), &[]);
    assert_eq!(
        run(&bytes).unwrap_err().to_string(),
        "damaged DOCX file: document.xml has no body"
    );
}

#[test]
fn numbering_is_read_only_from_a_numbering_document_element() {
    let body = document(&format!("{}{}", li(1, 0, "a"), li(2, 1, "b")));
    let nested = format!("<w:wrap {W}>{}</w:wrap>", numbering());
    let bytes = docx_with(&body, &nested, &styles(), &[]);
    assert_eq!(run(&bytes).expect("extracts").markdown, "- a\n    - b");
    let second_root = format!("<w:other {W}/>{}", numbering());
    let bytes = docx_with(&body, &second_root, &styles(), &[]);
    assert_eq!(run(&bytes).expect("extracts").markdown, "1. a\n    1. b");
}
