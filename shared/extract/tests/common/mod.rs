//! Fixture builders: every document the tests read is written here from XML strings or bytes,
//! so no binary fixture needs explaining.
#![allow(dead_code)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, body) in entries {
        // ODF and EPUB want `mimetype` stored, first; deflate the rest like real producers.
        let method = if *name == "mimetype" {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        };
        writer
            .start_file(
                *name,
                SimpleFileOptions::default().compression_method(method),
            )
            .expect("start entry");
        writer.write_all(body).expect("write entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

const W_NS: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;

/// A DOCX whose body is `body` (WordprocessingML paragraphs and tables).
pub fn docx(body: &str) -> Vec<u8> {
    docx_with_parts(body, "<w:sectPr/>", &[])
}

/// A DOCX whose body ends with `sect_pr`, with extra parts (`header1.xml` → `word/header1.xml`)
/// each related to the document under the id `rId` + its file stem (`rIdheader1`).
pub fn docx_with_parts(body: &str, sect_pr: &str, parts: &[(&str, &str)]) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W_NS}><w:body>{body}{sect_pr}</w:body></w:document>"#
    );
    let part_rels: String = parts
        .iter()
        .map(|(name, _)| {
            let stem = name.trim_end_matches(".xml");
            let kind = stem.trim_end_matches(|c: char| c.is_ascii_digit());
            format!(
                r#"<Relationship Id="rId{stem}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}" Target="{name}"/>"#
            )
        })
        .collect();
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/docs?a=1" TargetMode="External"/>{part_rels}</Relationships>"#
    );
    let part_paths: Vec<(String, String)> = parts
        .iter()
        .map(|(name, xml)| {
            let root = if name.starts_with("header") {
                "hdr"
            } else {
                "ftr"
            };
            (
                format!("word/{name}"),
                format!(r#"<?xml version="1.0"?><w:{root} {W_NS}>{xml}</w:{root}>"#),
            )
        })
        .collect();
    let numbering = format!(
        r#"<w:numbering {W_NS}>
        <w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
        <w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
        <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
        <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num></w:numbering>"#
    );
    let styles = format!(
        r#"<w:styles {W_NS}><w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style></w:styles>"#
    );
    let core = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Quarterly Plan</dc:title><dc:creator>Ada Lovelace</dc:creator><dcterms:created>2024-01-02T03:04:05Z</dcterms:created><dcterms:modified>2024-02-03T04:05:06Z</dcterms:modified></cp:coreProperties>"#;
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/numbering.xml", numbering.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
    ];
    entries.extend(
        part_paths
            .iter()
            .map(|(path, xml)| (path.as_str(), xml.as_bytes())),
    );
    zip_of(&entries)
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;

pub fn w_p(style: Option<&str>, runs: &str) -> String {
    let ppr = style
        .map(|s| format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#))
        .unwrap_or_default();
    format!("<w:p>{ppr}{runs}</w:p>")
}

pub fn w_r(text: &str) -> String {
    format!(r#"<w:r><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

pub fn w_r_fmt(text: &str, bold: bool, italic: bool) -> String {
    let b = if bold { "<w:b/>" } else { "" };
    let i = if italic { "<w:i/>" } else { "" };
    format!(r#"<w:r><w:rPr>{b}{i}</w:rPr><w:t xml:space="preserve">{text}</w:t></w:r>"#)
}

pub fn w_li(num_id: u32, level: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr>{}</w:p>"#,
        w_r(text)
    )
}

pub fn w_table(rows: &[&[&str]]) -> String {
    let rows: String = rows
        .iter()
        .map(|r| {
            format!(
                "<w:tr>{}</w:tr>",
                r.iter()
                    .map(|c| format!("<w:tc>{}</w:tc>", w_p(None, &w_r(c))))
                    .collect::<String>()
            )
        })
        .collect();
    format!("<w:tbl>{rows}</w:tbl>")
}

/// The DOCX used across tests: every structure the extractor claims to keep.
pub fn sample_docx() -> Vec<u8> {
    let body = [
        w_p(Some("Title"), &w_r("Quarterly Plan")),
        w_p(Some("berschrift1"), &w_r("Goals")),
        w_p(
            None,
            &format!(
                "{}{}{}{}",
                w_r("We will "),
                w_r_fmt("ship", true, false),
                w_r(" the "),
                w_r_fmt("importer", false, true)
            ),
        ),
        w_li(1, 0, "First goal"),
        w_li(1, 1, "Detail of the first goal"),
        w_li(1, 0, "Second goal"),
        w_p(Some("Heading2"), &w_r("Links &amp; tables")),
        w_p(
            None,
            &format!(
                r#"{}<w:hyperlink r:id="rId9">{}</w:hyperlink>"#,
                w_r("Read "),
                w_r("the docs")
            ),
        ),
        w_li(2, 0, "Bullet one"),
        w_li(2, 1, "Nested bullet"),
        w_table(&[
            &["Name", "Owner"],
            &["Import | export", "Ada"],
            &["Search", "Grace"],
        ]),
    ]
    .concat();
    docx(&body)
}

pub const SAMPLE_DOCX_MD: &str = "# Quarterly Plan

# Goals

We will **ship** the *importer*

1. First goal
    - Detail of the first goal
2. Second goal

## Links & tables

Read [the docs](https://example.com/docs?a=1)

- Bullet one
    - Nested bullet

| Name | Owner |
| --- | --- |
| Import \\| export | Ada |
| Search | Grace |";

/// A two-slide PPTX with a title, nested bullets, a table and speaker notes.
pub fn sample_pptx() -> Vec<u8> {
    let ns = r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let presentation = format!(
        r#"<p:presentation {ns}><p:sldIdLst><p:sldId id="257" r:id="rId3"/><p:sldId id="256" r:id="rId2"/></p:sldIdLst></p:presentation>"#
    );
    // Archive order is slide2 first on purpose: the presentation's list decides.
    let pres_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide1.xml"/></Relationships>"#;
    let title = |t: &str| {
        format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr/><p:nvPr><p:ph type="title"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:txBody></p:sp>"#
        )
    };
    let body = |ps: &[(u32, &str)]| {
        let paras: String = ps
            .iter()
            .map(|(lvl, t)| format!(r#"<a:p><a:pPr lvl="{lvl}"/><a:r><a:t>{t}</a:t></a:r></a:p>"#))
            .collect();
        format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="3" name="Body"/><p:cNvSpPr/><p:nvPr><p:ph idx="1"/></p:nvPr></p:nvSpPr><p:txBody>{paras}</p:txBody></p:sp>"#
        )
    };
    let table = r#"<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Metric</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Value</a:t></a:r></a:p></a:txBody></a:tc></a:tr><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Users</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>42</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#;
    let rich = r#"<p:sp><p:nvSpPr><p:cNvPr id="5" name="Text"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr><p:txBody><a:p><a:r><a:rPr b="1"/><a:t>Bold</a:t></a:r><a:r><a:t> and </a:t></a:r><a:r><a:rPr><a:hlinkClick r:id="rId3"/></a:rPr><a:t>a link</a:t></a:r></a:p></p:txBody></p:sp>"#;
    let slide1 = format!(
        r#"<p:sld {ns}><p:cSld><p:spTree>{}{}{rich}</p:spTree></p:cSld></p:sld>"#,
        title("Roadmap"),
        body(&[(0, "Import files"), (1, "DOCX and PDF"), (0, "Search them")])
    );
    let slide2 = format!(
        r#"<p:sld {ns}><p:cSld><p:spTree>{}{table}</p:spTree></p:cSld></p:sld>"#,
        title("Numbers")
    );
    let slide1_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com/deck" TargetMode="External"/></Relationships>"#;
    let notes = format!(
        r#"<p:notes {ns}><p:cSld><p:spTree><p:sp><p:nvSpPr><p:cNvPr id="2" name="Slide Image"/><p:cNvSpPr/><p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr></p:sp><p:sp><p:nvSpPr><p:cNvPr id="3" name="Notes"/><p:cNvSpPr/><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>Mention the pilot customer.</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:nvSpPr><p:cNvPr id="4" name="Num"/><p:cNvSpPr/><p:nvPr><p:ph type="sldNum"/></p:nvPr></p:nvSpPr><p:txBody><a:p><a:r><a:t>1</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:notes>"#
    );
    let types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/><Override PartName="/ppt/slides/slide1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/><Override PartName="/ppt/slides/slide2.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/><Override PartName="/ppt/notesSlides/notesSlide1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.notesSlide+xml"/></Types>"#;
    let root_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="ppt/presentation.xml"/></Relationships>"#;
    zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", root_rels.as_bytes()),
        ("ppt/presentation.xml", presentation.as_bytes()),
        ("ppt/_rels/presentation.xml.rels", pres_rels.as_bytes()),
        ("ppt/slides/slide2.xml", slide2.as_bytes()),
        ("ppt/slides/slide1.xml", slide1.as_bytes()),
        ("ppt/slides/_rels/slide1.xml.rels", slide1_rels.as_bytes()),
        ("ppt/notesSlides/notesSlide1.xml", notes.as_bytes()),
    ])
}

pub const SAMPLE_PPTX_MD: &str = "## Slide 1: Roadmap

- Import files
    - DOCX and PDF
- Search them

- **Bold** and [a link](https://example.com/deck)

### Notes

Mention the pilot customer.

## Slide 2: Numbers

| Metric | Value |
| --- | --- |
| Users | 42 |";

/// A minimal XLSX (inline strings, no shared strings part) with two sheets.
pub fn sample_xlsx() -> Vec<u8> {
    let workbook = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/><sheet name="People" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
    let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/></Relationships>"#;
    let sheet = |rows: &[&[&str]]| {
        let body: String = rows
            .iter()
            .enumerate()
            .map(|(r, cells)| {
                let cells: String = cells
                    .iter()
                    .enumerate()
                    .map(|(c, v)| {
                        let col = (b'A' + c as u8) as char;
                        match v.parse::<f64>() {
                            Ok(_) => format!(r#"<c r="{col}{}"><v>{v}</v></c>"#, r + 1),
                            Err(_) => format!(
                                r#"<c r="{col}{}" t="inlineStr"><is><t>{v}</t></is></c>"#,
                                r + 1
                            ),
                        }
                    })
                    .collect();
                format!(r#"<row r="{}">{cells}</row>"#, r + 1)
            })
            .collect();
        format!(
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>"#
        )
    };
    let s1 = sheet(&[
        &["Item", "Cost"],
        &["Servers", "1200"],
        &["Pipes | fittings", "35.5"],
    ]);
    let s2 = sheet(&[&["Name", "Role"], &["Ada", "Engineer"]]);
    let types = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
    let root_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    zip_of(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("_rels/.rels", root_rels.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", s1.as_bytes()),
        ("xl/worksheets/sheet2.xml", s2.as_bytes()),
    ])
}

pub const SAMPLE_XLSX_MD: &str = "## Budget

| Item | Cost |
| --- | --- |
| Servers | 1200 |
| Pipes \\| fittings | 35.5 |

## People

| Name | Role |
| --- | --- |
| Ada | Engineer |";

pub const ODF_NS: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0""#;

pub fn odf(mime: &str, content_body: &str, styles: &str) -> Vec<u8> {
    odf_with_styles_xml(mime, content_body, styles, None)
}

/// An ODT whose styles.xml holds `master_pages` (`style:master-page` elements).
pub fn odt_with_master_pages(content_body: &str, master_pages: &str) -> Vec<u8> {
    let styles_xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-styles {ODF_NS}><office:master-styles>{master_pages}</office:master-styles></office:document-styles>"#
    );
    odf_with_styles_xml(
        "application/vnd.oasis.opendocument.text",
        content_body,
        "",
        Some(&styles_xml),
    )
}

fn odf_with_styles_xml(
    mime: &str,
    content_body: &str,
    styles: &str,
    styles_xml: Option<&str>,
) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODF_NS}><office:automatic-styles>{styles}</office:automatic-styles><office:body>{content_body}</office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<office:document-meta {ODF_NS}><office:meta><dc:title>Team Notes</dc:title><meta:initial-creator>Grace Hopper</meta:initial-creator><meta:creation-date>2024-03-04T05:06:07</meta:creation-date><meta:document-statistic meta:page-count="2"/></office:meta></office:document-meta>"#
    );
    let manifest = format!(
        r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#
    );
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("mimetype", mime.as_bytes()),
        ("content.xml", content.as_bytes()),
        ("meta.xml", meta.as_bytes()),
        ("META-INF/manifest.xml", manifest.as_bytes()),
    ];
    entries.extend(styles_xml.map(|x| ("styles.xml", x.as_bytes())));
    zip_of(&entries)
}

pub fn sample_odt() -> Vec<u8> {
    let styles = r#"<style:style style:name="T1" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style><text:list-style style:name="L1"><text:list-level-style-number text:level="1"/><text:list-level-style-bullet text:level="2"/></text:list-style><text:list-style style:name="L2"><text:list-level-style-bullet text:level="1"/></text:list-style>"#;
    let body = r#"<office:text><text:sequence-decls><text:sequence-decl text:name="Figure"/></text:sequence-decls>
<text:h text:outline-level="1">Team Notes</text:h>
<text:p>Plain <text:span text:style-name="T1">bold</text:span> text with a <text:a xlink:href="https://example.org/x">link</text:a>.</text:p>
<text:h text:outline-level="2">Steps</text:h>
<text:list text:style-name="L1"><text:list-item><text:p>Collect</text:p><text:list><text:list-item><text:p>From Drive</text:p></text:list-item></text:list></text:list-item><text:list-item><text:p>Convert</text:p></text:list-item></text:list>
<table:table table:name="T"><table:table-row><table:table-cell><text:p>Who</text:p></table:table-cell><table:table-cell><text:p>When</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell><text:p>Grace</text:p></table:table-cell><table:table-cell><text:p>Monday</text:p></table:table-cell></table:table-row></table:table>
</office:text>"#;
    odf("application/vnd.oasis.opendocument.text", body, styles)
}

pub const SAMPLE_ODT_MD: &str = "# Team Notes

Plain **bold** text with a [link](https://example.org/x).

## Steps

1. Collect
    - From Drive
2. Convert

| Who | When |
| --- | --- |
| Grace | Monday |";

pub fn sample_odp() -> Vec<u8> {
    let body = r#"<office:presentation>
<draw:page draw:name="page1"><draw:frame presentation:class="title"><draw:text-box><text:p>Kickoff</text:p></draw:text-box></draw:frame><draw:frame presentation:class="outline"><draw:text-box><text:list><text:list-item><text:p>Scope</text:p></text:list-item><text:list-item><text:p>Dates</text:p></text:list-item></text:list></draw:text-box></draw:frame>
<presentation:notes><draw:page-thumbnail/><draw:frame presentation:class="notes"><draw:text-box><text:p>Keep it short.</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>
<draw:page draw:name="page2"><draw:frame presentation:class="title"><draw:text-box><text:p>Questions</text:p></draw:text-box></draw:frame></draw:page>
</office:presentation>"#;
    odf("application/vnd.oasis.opendocument.presentation", body, "")
}

pub const SAMPLE_ODP_MD: &str = "## Slide 1: Kickoff

- Scope
- Dates

### Notes

Keep it short.

## Slide 2: Questions";

pub fn sample_ods() -> Vec<u8> {
    let body = r#"<office:spreadsheet><table:table table:name="Sales"><table:table-row><table:table-cell office:value-type="string"><text:p>Region</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Total</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell office:value-type="string"><text:p>North</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="17"><text:p>17</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"#;
    odf("application/vnd.oasis.opendocument.spreadsheet", body, "")
}

pub const SAMPLE_ODS_MD: &str = "## Sales

| Region | Total |
| --- | --- |
| North | 17 |";

pub const SAMPLE_HTML: &str = r#"<!DOCTYPE html><html><head><title>Guide</title><style>p{color:red}</style><script>var x = "<div>";</script></head>
<body><nav><a href="/home">Home</a></nav>
<h1>Guide</h1>
<p>Text with <b>bold</b>, <em>italic</em> and a <a href="https://example.com/a">link</a>.</p>
<h2>Steps</h2>
<ol><li>Open<ul><li>File menu</li></ul></li><li>Save</li></ol>
<table><thead><tr><th>Key</th><th>Value</th></tr></thead><tbody><tr><td>a|b</td><td>1</td></tr></tbody></table>
<pre><code class="language-rust">fn main() {}</code></pre>
<aside>Related junk</aside><footer>Copyright</footer></body></html>"#;

pub const SAMPLE_HTML_MD: &str = "# Guide

Text with **bold**, *italic* and a [link](https://example.com/a).

## Steps

1. Open
    - File menu
2. Save

| Key | Value |
| --- | --- |
| a\\|b | 1 |

```rust
fn main() {}
```";

pub fn sample_epub() -> Vec<u8> {
    let container = r#"<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>"#;
    let opf = r#"<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Field Guide</dc:title><dc:creator>Ann Author</dc:creator><dc:language>en</dc:language></metadata><manifest><item id="c1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c2"/><itemref idref="c1"/></spine></package>"#;
    let ch1 = r#"<html xmlns="http://www.w3.org/1999/xhtml"><body><h2>Second in spine</h2><p>Later text.</p></body></html>"#;
    let ch2 = r#"<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Opening</h1><ul><li>One</li><li>Two</li></ul></body></html>"#;
    zip_of(&[
        ("mimetype", b"application/epub+zip"),
        ("META-INF/container.xml", container.as_bytes()),
        ("OEBPS/content.opf", opf.as_bytes()),
        ("OEBPS/text/chapter 1.xhtml", ch1.as_bytes()),
        ("OEBPS/text/ch2.xhtml", ch2.as_bytes()),
    ])
}

pub const SAMPLE_EPUB_MD: &str = "# Opening

- One
- Two

## Second in spine

Later text.";

pub const SAMPLE_EML: &str = "From: Ada Lovelace <ada@example.com>\r
To: Grace Hopper <grace@example.com>\r
Subject: Plan for Q3\r
Date: Tue, 1 Oct 2024 10:00:00 +0000\r
Message-ID: <1@example.com>\r
MIME-Version: 1.0\r
Content-Type: multipart/mixed; boundary=\"b1\"\r
\r
--b1\r
Content-Type: multipart/alternative; boundary=\"b2\"\r
\r
--b2\r
Content-Type: text/plain; charset=utf-8\r
\r
Hi Grace,\r
\r
the plan is attached.\r
--b2\r
Content-Type: text/html; charset=utf-8\r
\r
<p>Hi Grace,</p><p>the plan is <b>attached</b>.</p>\r
--b2--\r
--b1\r
Content-Type: application/pdf; name=\"plan.pdf\"\r
Content-Disposition: attachment; filename=\"plan.pdf\"\r
Content-Transfer-Encoding: base64\r
\r
JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\r
--b1--\r
";

pub const SAMPLE_EML_MD: &str = "| Header | Value |
| --- | --- |
| From | Ada Lovelace <ada@example.com> |
| To | Grace Hopper <grace@example.com> |
| Subject | Plan for Q3 |

## Attachments

| Name | Size |
| --- | --- |
| plan.pdf | 54 B |";

/// A PDF with one line of text per page, written with lopdf.
pub fn pdf_with_pages(pages: &[&str]) -> Vec<u8> {
    let sized: Vec<(i64, &str)> = pages.iter().map(|t| (24, *t)).collect();
    pdf_with_sized_pages(&sized)
}

/// A PDF with one line of text per page, each in its own type size.
pub fn pdf_with_sized_pages(pages: &[(i64, &str)]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for &(size, text) in pages {
        let content = Content {
            operations: vec![
                Operation::new("BT", vec![]),
                Operation::new("Tf", vec!["F1".into(), size.into()]),
                Operation::new("Td", vec![72.into(), 700.into()]),
                Operation::new("Tj", vec![Object::string_literal(text)]),
                Operation::new("ET", vec![]),
            ],
        };
        let content_id = doc.add_object(Stream::new(
            dictionary! {},
            content.encode().expect("encode content"),
        ));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(page_id.into());
    }
    let info_id = doc.add_object(dictionary! { "Title" => Object::string_literal("Test Report"), "Author" => Object::string_literal("Tess Ter") });
    doc.trailer.set("Info", info_id);
    save_pdf(doc, pages_id, kids)
}

/// Writes `doc` with `kids` as its page tree under `pages_id` (reserved with `new_object_id`).
pub fn save_pdf(
    mut doc: lopdf::Document,
    pages_id: lopdf::ObjectId,
    kids: Vec<lopdf::Object>,
) -> Vec<u8> {
    use lopdf::{Object, dictionary};
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

/// A one-page PDF ("Application") whose catalog has an `/AcroForm` with the fields `fields` adds.
pub fn pdf_with_form(fields: impl FnOnce(&mut lopdf::Document) -> Vec<lopdf::Object>) -> Vec<u8> {
    use lopdf::{Document, dictionary};
    let mut doc = Document::load_mem(&pdf_with_pages(&["Application"])).expect("load pdf");
    let fields = fields(&mut doc);
    let form = doc.add_object(dictionary! { "Fields" => fields });
    doc.catalog_mut().expect("catalog").set("AcroForm", form);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

/// A WAV of `secs` seconds of silence, 8 kHz mono 16-bit.
pub fn wav(secs: u32) -> Vec<u8> {
    let rate = 8000u32;
    let data_len = rate * 2 * secs;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    b.resize(b.len() + data_len as usize, 0);
    b
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// An ISO-BMFF skeleton: ftyp, and moov with mvhd (duration) and one video track (avc1, 640×360).
pub fn mp4(brand: &[u8; 4], secs: u32) -> Vec<u8> {
    let mut ftyp = brand.to_vec();
    ftyp.extend_from_slice(&[0, 0, 0, 0]);
    let mut mvhd = vec![0u8; 4 + 4 + 4];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&(secs * 1000).to_be_bytes());
    mvhd.resize(100, 0);
    let mut tkhd = vec![0u8; 76];
    tkhd.extend_from_slice(&(640u32 << 16).to_be_bytes());
    tkhd.extend_from_slice(&(360u32 << 16).to_be_bytes());
    let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
    stsd.extend_from_slice(&16u32.to_be_bytes());
    stsd.extend_from_slice(b"avc1");
    stsd.extend_from_slice(&[0; 8]);
    let stbl = mp4_box(b"stbl", &mp4_box(b"stsd", &stsd));
    let minf = mp4_box(b"minf", &stbl);
    let mdia = mp4_box(b"mdia", &minf);
    let trak = mp4_box(b"trak", &[mp4_box(b"tkhd", &tkhd), mdia].concat());
    let moov = mp4_box(b"moov", &[mp4_box(b"mvhd", &mvhd), trak].concat());
    [mp4_box(b"ftyp", &ftyp), moov].concat()
}

/// A one-page PDF with text runs placed at (x, y), Helvetica 12 pt, written with lopdf.
pub fn pdf_with_runs(runs: &[(i64, i64, &str)]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    );
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = Vec::new();
    for (x, y, text) in runs {
        operations.push(Operation::new("BT", vec![]));
        operations.push(Operation::new("Tf", vec!["F1".into(), 12.into()]));
        operations.push(Operation::new("Td", vec![(*x).into(), (*y).into()]));
        operations.push(Operation::new("Tj", vec![Object::string_literal(*text)]));
        operations.push(Operation::new("ET", vec![]));
    }
    let content = Content { operations };
    let content_id = doc.add_object(Stream::new(
        dictionary! {},
        content.encode().expect("encode content"),
    ));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    save_pdf(doc, pages_id, vec![page_id.into()])
}
