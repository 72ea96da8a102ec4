//! Files as real producers write them, which strict parsers refuse: each test builds the quirk
//! a real-world file had (the corpus of tests/bench/extract/fetch_realworld.py) and checks it is
//! read, or refused with a reason a person can act on.

mod common;

use common::*;
use recorder_extract::{ExtractError, Extracted, Format, Hints, Limits, detect, extract};

fn run(bytes: &[u8], name: &str) -> Extracted {
    extract(bytes, &Hints::named(name), &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fail(bytes: &[u8], name: &str) -> ExtractError {
    match extract(bytes, &Hints::named(name), &Limits::default()) {
        Ok(out) => panic!("{name} was read: {}", out.markdown),
        Err(e) => e,
    }
}

const TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="quakes" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

fn worksheet(rows: &str) -> String {
    format!(
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
    )
}

/// An XLSX of one sheet, its parts named by `name` (to spell them as odd producers do).
fn xlsx_named(sheet: &str, name: impl Fn(&str) -> String) -> Vec<u8> {
    zip_of(&[
        (&name("[Content_Types].xml"), TYPES.as_bytes()),
        (&name("_rels/.rels"), ROOT_RELS.as_bytes()),
        (&name("xl/workbook.xml"), WORKBOOK.as_bytes()),
        (
            &name("xl/_rels/workbook.xml.rels"),
            WORKBOOK_RELS.as_bytes(),
        ),
        (&name("xl/worksheets/sheet1.xml"), sheet.as_bytes()),
    ])
}

/// r-cran-readxl `datasets.xlsx`, saved by Microsoft Excel, has numbers written `<v> 41</v>`.
#[test]
fn xlsx_numbers_with_spaces_around_them_are_read() {
    let sheet = worksheet(concat!(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>depth</t></is></c><c r="B1" t="inlineStr"><is><t>note</t></is></c></row>"#,
        r#"<row r="2"><c r="A2" t="n"><v> 41</v></c><c r="B2" t="str"><v>a b</v></c></row>"#,
        r#"<row r="3"><c r="A3" t="n"><v>2.5 </v></c><c r="B3" t="inlineStr"><is><t xml:space="preserve">  kept  </t></is></c></row>"#,
    ));
    let out = run(&xlsx_named(&sheet, str::to_owned), "datasets.xlsx");
    assert_eq!(
        out.markdown,
        "## quakes\n\n| depth | note |\n| --- | --- |\n| 41 | a b |\n| 2.5 | kept |"
    );
}

/// A number that is not one at all still fails, and names the sheet.
#[test]
fn xlsx_with_a_real_non_number_in_a_number_cell_stays_damaged() {
    let sheet = worksheet(r#"<row r="1"><c r="A1" t="n"><v>4 1</v></c></row>"#);
    let err = fail(&xlsx_named(&sheet, str::to_owned), "bad.xlsx");
    assert!(
        matches!(err, ExtractError::Corrupt { .. }) && err.to_string().contains("sheet quakes"),
        "{err}"
    );
}

/// xlrd `apachepoi_49609.xlsx`: `[content_types].xml`, `xl\workbook.xml`, `xl\sharedstrings.xml`.
#[test]
fn xlsx_with_backslashes_and_lower_case_part_names_is_read() {
    let sheet = worksheet(
        r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Cycle</t></is></c><c r="B1"><v>7</v></c></row>"#,
    );
    let bytes = xlsx_named(&sheet, |n| n.replace('/', "\\").to_ascii_lowercase());
    {
        let archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
        let names: Vec<&str> = archive.file_names().collect();
        assert!(names.contains(&"xl\\workbook.xml"), "{names:?}");
    }
    assert_eq!(detect(&bytes, None, None).format, Format::Xlsx);
    let out = run(&bytes, "apachepoi_49609.xlsx");
    assert_eq!(out.format, Format::Xlsx);
    assert_eq!(out.markdown, "## quakes\n\n| Cycle | 7 |\n| --- | --- |");
}

/// odfpy `pythagoras-kspread.ods`, written by KOffice 1.6, indents its table XML.
#[test]
fn ods_with_whitespace_between_cells_is_read() {
    let body = "<office:spreadsheet>\n <table:table table:name=\"Sheet1\">\n  <table:table-column/>\n  <table:table-row>\n   <table:table-cell office:value-type=\"float\" office:value=\"3\">\n    <text:p>3</text:p>\n   </table:table-cell>\n   <table:table-cell office:value-type=\"string\">\n    <text:p>a <text:span>b</text:span></text:p>\n   </table:table-cell>\n  </table:table-row>\n  <table:table-row>\n   <table:table-cell office:value-type=\"float\" office:value=\"5\" table:formula=\"of:=[.A1]>2\">\n    <text:p>5</text:p>\n   </table:table-cell>\n   <table:table-cell/>\n  </table:table-row>\n </table:table>\n</office:spreadsheet>";
    let bytes = odf("application/vnd.oasis.opendocument.spreadsheet", body, "");
    let out = run(&bytes, "pythagoras-kspread.ods");
    assert_eq!(
        out.markdown,
        "## Sheet1\n\n| 3 | a b |\n| --- | --- |\n| 5 |  |"
    );
}

/// A ZIP whose end record lost its last byte (the comment length), as Python and LibreOffice
/// still open.
#[test]
fn an_office_zip_one_byte_short_is_read() {
    let mut bytes = sample_odt();
    bytes.pop();
    assert!(
        zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).is_err(),
        "the zip crate alone must refuse it, or this test proves nothing"
    );
    let out = run(&bytes, "notes.odt");
    assert_eq!(out.format, Format::Odt);
    assert!(out.markdown.contains("Team"), "{}", out.markdown);
    // A spreadsheet goes through calamine, which must get the completed archive too.
    let mut xlsx = sample_xlsx();
    xlsx.pop();
    assert_eq!(run(&xlsx, "budget.xlsx").markdown, SAMPLE_XLSX_MD);
}

/// ocrmypdf `tagged.odt`: a byte is missing in the middle, so the central directory and the
/// entries after the gap sit one byte before where the archive says. Python's `zipfile` reads
/// the entries it needs; so must we.
#[test]
fn an_office_zip_with_a_byte_lost_before_its_directory_is_read() {
    use std::io::Read;
    let sound = sample_odt();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&sound[..])).unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        entries.push((entry.name().to_owned(), body));
    }
    // A thumbnail right after `mimetype`, as LibreOffice writes, loses one byte.
    let thumbnail: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
    entries.insert(1, ("Thumbnails/thumbnail.png".to_owned(), thumbnail));
    let refs: Vec<(&str, &[u8])> = entries.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let mut bytes = zip_of(&refs);
    let data_start = {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
        archive
            .by_name("Thumbnails/thumbnail.png")
            .unwrap()
            .data_start()
            .unwrap()
    };
    bytes.remove(data_start as usize + 10);
    assert!(
        zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).is_err(),
        "the zip crate alone must refuse it, or this test proves nothing"
    );
    let out = run(&bytes, "tagged.odt");
    assert_eq!(out.format, Format::Odt);
    assert_eq!(out.markdown, run(&sound, "notes.odt").markdown);
    assert_eq!(out.metadata.title.as_deref(), Some("Team Notes"));
}

/// python-calamine `password.ods`: the manifest lists `<manifest:encryption-data>`.
#[test]
fn password_protected_odf_is_reported_as_encrypted() {
    for (mime, name, label) in [
        (
            "application/vnd.oasis.opendocument.spreadsheet",
            "secret.ods",
            "ODS",
        ),
        (
            "application/vnd.oasis.opendocument.text",
            "secret.odt",
            "ODT",
        ),
    ] {
        let manifest = format!(
            r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"><manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:algorithm-name="Blowfish CFB" manifest:initialisation-vector="y"/><manifest:key-derivation manifest:key-derivation-name="PBKDF2" manifest:iteration-count="1024" manifest:salt="z"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#
        );
        let bytes = zip_of(&[
            ("mimetype", mime.as_bytes()),
            ("content.xml", b"\x8f\x01&\xfe<ciphertext &#"),
            ("meta.xml", b"\x13\x99&;"),
            ("META-INF/manifest.xml", manifest.as_bytes()),
        ]);
        let err = fail(&bytes, name);
        assert!(
            matches!(err, ExtractError::Encrypted { format } if format == label),
            "{name}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!("encrypted {label}: remove the password and upload again")
        );
    }
}

/// python-calamine `base.xlsb` (an Excel binary workbook, a ZIP with `xl/workbook.bin`) is read
/// by name or by content alone; a plain archive is still reported as one.
#[test]
fn xlsb_workbooks_are_read() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/calamine-base.xlsb"
    ))
    .expect("fixture");
    for hints in [Hints::named("base.xlsb"), Hints::default()] {
        let out = extract(&bytes, &hints, &Limits::default()).expect("xlsb");
        assert_eq!(out.format, Format::Xlsb);
        assert_eq!(out.metadata.sheet_count, Some(4));
        assert!(
            out.markdown
                .starts_with("## Sheet1\n\n| String | 1 | 1.1 | true | false |"),
            "{}",
            out.markdown
        );
        let sheet3 = "## Sheet3\n\n| line1 | line1 | line1 |\n| --- | --- | --- |\n\
                      | line2 | line2 | line2 |\n| line3 | line3 | line3 |\n\n## Merged Cells";
        assert!(out.markdown.ends_with(sheet3), "{}", out.markdown);
    }
    let err = fail(&zip_of(&[("a.txt", b"hi")]), "files.zip");
    assert!(
        err.to_string().contains("ZIP files are not unpacked"),
        "{err}"
    );
}

/// xlrd `biff4_no_format_no_window2.xls`: an Excel 4.0 worksheet, a bare BIFF4 stream.
#[test]
fn excel_4_worksheets_are_named_as_unsupported_legacy_files() {
    let mut bytes = vec![0x09, 0x04, 0x06, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00];
    bytes.extend_from_slice(&[
        0x80, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0,
    ]);
    for hints in [Hints::named("old.xls"), Hints::default()] {
        let err = extract(&bytes, &hints, &Limits::default()).unwrap_err();
        assert!(matches!(err, ExtractError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains("Excel 2.x-4.0"), "{err}");
    }
    // Other binary data named .xls is still a mismatch.
    for junk in [
        &b"\x00\x01\x02\x03\xff\xfe\x00\x00binary"[..],
        &b"\x09\x04\x06\x00\x00\x00\x99\x00\xff\xfe\x00\x00"[..],
    ] {
        let err = fail(junk, "not.xls");
        assert!(matches!(err, ExtractError::TypeMismatch { .. }), "{err}");
    }
}

/// A PDF encrypted by lopdf with `user` as the user password and `/ID` set to `id`.
fn encrypted_pdf(user: &str, id: &[u8]) -> lopdf::Document {
    use lopdf::encryption::{EncryptionState, EncryptionVersion, Permissions};
    use lopdf::{Document, Object};
    let plain = pdf_with_pages(&["Top secret"]);
    let mut doc = Document::load_mem(&plain).expect("load plain");
    let id = Object::String(id.to_vec(), lopdf::StringFormat::Literal);
    doc.trailer.set("ID", Object::Array(vec![id.clone(), id]));
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: user,
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).expect("state");
    doc.encrypt(&state).expect("encrypt");
    doc
}

fn save(doc: &mut lopdf::Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// pdfminer `aes-128.pdf` and its five siblings: `trailer << /Encrypt << … >> >>`, a
/// dictionary, not a reference; lopdf loads nothing from them and we printed an empty document.
#[test]
fn a_pdf_with_its_encrypt_dictionary_in_the_trailer_is_refused_as_encrypted() {
    let mut doc = encrypted_pdf("foo", b"0123456789abcdef");
    let id = doc.trailer.get(b"Encrypt").unwrap().as_reference().unwrap();
    let dict = doc.get_dictionary(id).unwrap().clone();
    doc.objects.remove(&id);
    doc.trailer.set("Encrypt", lopdf::Object::Dictionary(dict));
    let bytes = save(&mut doc);
    assert!(
        bytes
            .windows(11)
            .any(|w| w == b"/Encrypt <<" || w == b"/Encrypt<</"),
        "the dictionary must be inline"
    );
    let err = fail(&bytes, "aes-128.pdf");
    assert!(
        matches!(err, ExtractError::Encrypted { format: "PDF" }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "encrypted PDF: remove the password and upload again"
    );
}

/// pypdf `encrypted_doc_no_id.pdf`: an empty user password, but no `/ID` in the trailer. The key
/// is derived with an empty ID, as pdf.js and pypdf do, and the text comes out.
#[test]
fn a_pdf_with_an_empty_password_and_no_id_is_read() {
    use lopdf::xref::XrefType;
    // The real file has a classic `trailer`; lopdf writes a cross-reference stream by default.
    for (xref, classic) in [
        (XrefType::CrossReferenceTable, true),
        (XrefType::CrossReferenceStream, false),
    ] {
        let mut doc = encrypted_pdf("", b"");
        doc.trailer.remove(b"ID");
        doc.reference_table.cross_reference_type = xref;
        let bytes = save(&mut doc);
        assert!(!bytes.windows(3).any(|w| w == b"/ID"));
        let has_trailer = bytes.windows(7).any(|w| w == b"trailer");
        assert_eq!(has_trailer, classic);
        let out = run(&bytes, "encrypted_doc_no_id.pdf");
        assert!(
            out.markdown.contains("Top secret"),
            "classic xref {classic}: {}",
            out.markdown
        );
        assert_eq!(
            out.metadata.extra.get("encryption").map(String::as_str),
            Some("owner password only (readable without a password)")
        );
        // With a real user password, the same file stays refused.
        let mut doc = encrypted_pdf("foo", b"");
        doc.trailer.remove(b"ID");
        doc.reference_table.cross_reference_type = xref;
        let err = fail(&save(&mut doc), "secret.pdf");
        assert!(
            matches!(err, ExtractError::Encrypted { format: "PDF" }),
            "{err}"
        );
    }
}

/// XLSX sheets are read cell by cell (not as one in-memory range) with the range's rules kept:
/// the table starts at the first column holding a value, ends at the last holding visible text,
/// and skips rows with nothing in them. Cells out of row order (legal, unusual) read the same.
#[test]
fn xlsx_sheets_read_cell_by_cell_keep_the_range_rules() {
    let s = |r: &str, v: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>"#);
    let in_order = worksheet(&format!(
        r#"<row r="2">{}{}{}</row><row r="3"/><row r="5">{}<c r="C5" t="n"><v>7</v></c></row>"#,
        s("B2", "name"),
        s("C2", "qty"),
        s("E2", ""),
        s("B5", "bolt"),
    ));
    let expected = "## quakes\n\n| name | qty |\n| --- | --- |\n| bolt | 7 |";
    assert_eq!(
        run(&xlsx_named(&in_order, str::to_owned), "a.xlsx").markdown,
        expected
    );
    let shuffled = worksheet(&format!(
        r#"<row r="5">{}<c r="C5" t="n"><v>7</v></c></row><row r="2">{}{}</row>"#,
        s("B5", "bolt"),
        s("C2", "qty"),
        s("B2", "name"),
    ));
    assert_eq!(
        run(&xlsx_named(&shuffled, str::to_owned), "b.xlsx").markdown,
        expected
    );
}
