//! Hostile and broken inputs: each must end in a clean error or a sane result, never a panic,
//! and quickly.

mod common;

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use common::*;
use recorder_extract::{ExtractError, Format, Hints, Limits, extract};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn small_limits() -> Limits {
    Limits {
        max_decompressed_bytes: 10 * 1024 * 1024,
        ..Limits::default()
    }
}

/// A DOCX whose document.xml inflates to `mb` MB of zeros, written in 1 MB steps so the test
/// never holds the inflated bytes.
fn zip_bomb_docx(mb: usize) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9));
    writer
        .start_file("word/document.xml", options)
        .expect("start");
    let block = vec![0u8; 1024 * 1024];
    for _ in 0..mb {
        writer.write_all(&block).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

#[test]
fn a_zip_bomb_fails_fast_with_too_large() {
    let bomb = zip_bomb_docx(600);
    assert!(bomb.len() < 5 * 1024 * 1024, "bomb is {} bytes", bomb.len());
    let started = Instant::now();
    let err = extract(&bomb, &Hints::named("bomb.docx"), &small_limits()).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
    assert_eq!(err.to_string(), "exceeds 10 MB decompressed limit");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_spreadsheet_zip_bomb_is_stopped_before_calamine_reads_it() {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1));
    writer
        .start_file("xl/workbook.xml", options)
        .expect("start");
    writer.write_all(b"<workbook/>").expect("write");
    writer
        .start_file("xl/sharedStrings.xml", options)
        .expect("start");
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..20 {
        writer.write_all(&block).expect("write");
    }
    let bytes = writer.finish().expect("finish").into_inner();
    let err = extract(&bytes, &Hints::named("b.xlsx"), &small_limits()).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
}

#[test]
fn too_many_zip_entries_are_refused() {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file("word/document.xml", SimpleFileOptions::default())
        .expect("start");
    for i in 0..200 {
        writer
            .start_file(
                format!("junk/{i}"),
                SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
            )
            .expect("start");
    }
    let bytes = writer.finish().expect("finish").into_inner();
    let limits = Limits {
        max_zip_entries: 100,
        ..Limits::default()
    };
    let err = extract(&bytes, &Hints::named("many.docx"), &limits).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooManyEntries { limit: 100 }),
        "{err}"
    );
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"#;

#[test]
fn billion_laughs_xml_is_not_expanded() {
    let out = extract(
        BILLION_LAUGHS.as_bytes(),
        &Hints::named("lol.xml"),
        &Limits::default(),
    )
    .expect("sane result");
    assert_eq!(out.format, Format::Xml);
    assert!(
        out.markdown.len() < 2 * BILLION_LAUGHS.len(),
        "output grew to {}",
        out.markdown.len()
    );
}

#[test]
fn billion_laughs_inside_a_docx_is_not_expanded() {
    let body = BILLION_LAUGHS.replace("<lolz>&lol9;</lolz>", "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>&lol9; safe</w:t></w:r></w:p></w:body></w:document>");
    let bytes = zip_of(&[("word/document.xml", body.as_bytes())]);
    let out = extract(&bytes, &Hints::named("lol.docx"), &Limits::default()).expect("sane result");
    assert_eq!(out.markdown, "safe");
}

#[test]
fn deeply_nested_json_is_refused_as_too_deep() {
    let json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = extract(
        json.as_bytes(),
        &Hints::named("deep.json"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::TooDeep { limit: 256 }), "{err}");
}

#[test]
fn deeply_nested_html_is_refused_quickly() {
    let html = format!(
        "<html><body>{}x{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let started = Instant::now();
    let err = extract(
        html.as_bytes(),
        &Hints::named("deep.html"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::TooDeep { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn deeply_nested_xml_is_refused() {
    let xml = format!(
        "<?xml version=\"1.0\"?>{}{}",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    let err = extract(
        xml.as_bytes(),
        &Hints::named("deep.xml"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::TooDeep { .. }), "{err}");
}

#[test]
fn deeply_nested_rtf_is_refused() {
    let rtf = format!("{{\\rtf1 {}x{}}}", "{".repeat(100_000), "}".repeat(100_000));
    let err = extract(
        rtf.as_bytes(),
        &Hints::named("deep.rtf"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, ExtractError::TooDeep { .. }), "{err}");
}

#[test]
fn a_50_mb_single_line_text_is_handled() {
    let text = "a".repeat(50 * 1024 * 1024);
    let started = Instant::now();
    let out = extract(
        text.as_bytes(),
        &Hints::named("long.txt"),
        &Limits::default(),
    )
    .expect("sane result");
    assert_eq!(out.markdown.len(), text.len());
    let chunks = recorder_extract::chunk(&out.markdown[..1_000_000], &Default::default());
    assert!(
        chunks.iter().all(|c| c.text.len() <= 1500),
        "a wordless line is still cut"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn truncated_office_files_and_pdfs_give_clean_errors() {
    for (name, bytes) in [
        ("t.docx", sample_docx()),
        ("t.xlsx", sample_xlsx()),
        ("t.pptx", sample_pptx()),
        ("t.pdf", pdf_with_pages(&["one", "two"])),
    ] {
        for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 10] {
            let result = extract(&bytes[..cut], &Hints::named(name), &Limits::default());
            match result {
                Err(ExtractError::Corrupt { .. }) => {}
                Ok(out) => assert!(out.markdown.len() < 10_000, "{name} cut at {cut}"),
                Err(other) => panic!("{name} cut at {cut}: unexpected {other}"),
            }
        }
    }
}

#[test]
fn a_truncated_docx_says_it_is_damaged() {
    let bytes = sample_docx();
    let err = extract(
        &bytes[..bytes.len() / 2],
        &Hints::named("t.docx"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("damaged DOCX file"), "{err}");
}

#[test]
fn an_empty_file_is_reported_as_empty() {
    let err = extract(b"", &Hints::named("x.docx"), &Limits::default()).unwrap_err();
    assert_eq!(err.to_string(), "the file is empty (0 bytes)");
}

#[test]
fn a_pdf_named_docx_is_read_as_pdf_and_the_mismatch_recorded() {
    let out = extract(
        &pdf_with_pages(&["Real PDF"]),
        &Hints::named("report.docx"),
        &Limits::default(),
    )
    .expect("pdf read");
    assert_eq!(out.format, Format::Pdf);
    assert_eq!(
        out.metadata.extra["type_mismatch"],
        "declared name report.docx but content is PDF"
    );
    assert_eq!(out.warnings.len(), 1);
}

#[test]
fn text_named_docx_is_a_type_mismatch() {
    let err = extract(
        b"just some notes",
        &Hints::named("notes.docx"),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a DOCX despite its name: the content is plain text"
    );
}

#[test]
fn random_bytes_are_unsupported_not_a_panic() {
    let noise: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let err = extract(&noise, &Hints::default(), &Limits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::Unsupported { .. }), "{err}");
}

#[test]
fn input_over_the_limit_is_refused_before_parsing() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    let err = extract(b"more than ten bytes", &Hints::named("a.txt"), &limits).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooLarge { what: "input", .. }),
        "{err}"
    );
}

#[test]
fn an_encrypted_pdf_asks_for_the_password_to_be_removed() {
    let err = extract(
        &encrypted_pdf(),
        &Hints::named("secret.pdf"),
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "encrypted PDF: remove the password and upload again"
    );
}

/// A PDF encrypted with a user password (RC4, 128-bit) by lopdf.
fn encrypted_pdf() -> Vec<u8> {
    use lopdf::encryption::{EncryptionState, EncryptionVersion, Permissions};
    use lopdf::{Document, Object};
    let plain = pdf_with_pages(&["Top secret"]);
    let mut doc = Document::load_mem(&plain).expect("load plain");
    let id = Object::String(b"0123456789abcdef".to_vec(), lopdf::StringFormat::Literal);
    doc.trailer.set("ID", Object::Array(vec![id.clone(), id]));
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "user",
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).expect("state");
    doc.encrypt(&state).expect("encrypt");
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

#[test]
fn garbage_in_every_format_slot_never_panics() {
    let junk: &[&[u8]] = &[
        b"PK\x03\x04garbage",
        b"%PDF-1.7\n1 0 obj <<>>",
        b"\x89PNG\r\n\x1a\nxx",
        b"\xFF\xD8\xFF\xE1\x00",
        b"RIFF\0\0\0\0WAVE",
        b"\0\0\0\x18ftypisom",
        b"\x1A\x45\xDF\xA3\x9F",
        b"{\\rtf1 {{{",
        b"ID3\x04\0\0\0\0\0\x10",
        b"GIF89a",
    ];
    for bytes in junk {
        let _ = extract(bytes, &Hints::default(), &Limits::default());
    }
}

/// A hand-written PDF: objects in order, a correct xref table, one page.
fn handmade_pdf(page_extra: &str, content: Option<&[u8]>) -> Vec<u8> {
    handmade_pdf_with(page_extra, content, "")
}

fn handmade_pdf_with(page_extra: &str, content: Option<&[u8]>, stream_dict: &str) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {page_extra} >>")
            .into_bytes(),
    ];
    if let Some(content) = content {
        let mut stream =
            format!("<< /Length {} {stream_dict} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn deeply_nested_pdf_objects_and_content_do_not_overflow_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let in_object = handmade_pdf(&format!("/Foo {deep}"), None);
    let _ = extract(&in_object, &Hints::named("deep.pdf"), &Limits::default());
    let in_content = handmade_pdf("/Contents 4 0 R", Some(deep.as_bytes()));
    let _ = extract(&in_content, &Hints::named("deep.pdf"), &Limits::default());
}

#[test]
fn a_form_larger_than_what_is_read_says_so() {
    use lopdf::{Object, dictionary};
    let pdf = pdf_with_form(|doc| {
        (0..10_001)
            .map(|i| {
                let field = doc.add_object(dictionary! {
                    "FT" => "Tx", "T" => Object::string_literal(format!("f{i}")),
                    "V" => Object::string_literal("x"),
                });
                Object::from(field)
            })
            .collect()
    });
    let out = extract(&pdf, &Hints::named("big-form.pdf"), &Limits::default()).unwrap();
    assert!(out.markdown.contains("| f9999 | x |"));
    assert!(!out.markdown.contains("| f10000 |"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("more than 10000 fields")),
        "{:?}",
        out.warnings
    );
}

#[test]
fn pdf_form_fields_whose_kids_loop_are_read_once() {
    use lopdf::{Object, dictionary};
    let pdf = pdf_with_form(|doc| {
        let id = doc.new_object_id();
        // Its own kid, twice: followed blindly, each level doubles the work.
        doc.objects.insert(
            id,
            Object::Dictionary(dictionary! {
                "T" => Object::string_literal("loop"), "V" => Object::string_literal("once"),
                "Kids" => vec![id.into(), id.into()],
            }),
        );
        vec![id.into(), id.into()]
    });
    let out = extract(&pdf, &Hints::named("loop.pdf"), &Limits::default()).expect("extract");
    assert!(
        out.markdown
            .ends_with("| Field | Value |\n| --- | --- |\n| loop | once |"),
        "{}",
        out.markdown
    );
}

#[test]
fn a_handwritten_pdf_with_a_text_page_is_read() {
    let content = b"BT /F1 12 Tf 72 700 Td (Hand made) Tj ET";
    let pdf = handmade_pdf("/Contents 4 0 R", Some(content));
    let out = extract(&pdf, &Hints::named("h.pdf"), &Limits::default()).expect("pdf");
    assert_eq!(out.markdown, "<!-- page 1 -->\n\nHand made");
}

#[test]
fn deeply_nested_mime_parts_do_not_crash() {
    let mut mail = String::from("From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
    for i in 0..5_000 {
        mail.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"
        ));
    }
    mail.push_str("Content-Type: text/plain\r\n\r\nbottom\r\n");
    let _ = extract(
        mail.as_bytes(),
        &Hints::named("deep.eml"),
        &Limits::default(),
    );
}

/// Flips bytes of every fixture at pseudo-random places: the result may be an error or text,
/// but extraction must return.
#[test]
fn mutated_documents_never_escape_as_panics() {
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("m.docx", sample_docx()),
        ("m.pptx", sample_pptx()),
        ("m.xlsx", sample_xlsx()),
        ("m.odt", sample_odt()),
        ("m.epub", sample_epub()),
        ("m.pdf", pdf_with_pages(&["alpha", "beta"])),
        ("m.eml", SAMPLE_EML.as_bytes().to_vec()),
        ("m.html", SAMPLE_HTML.as_bytes().to_vec()),
        ("m.mp4", mp4(b"isom", 3)),
        ("m.wav", wav(1)),
    ];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (name, original) in samples {
        for _ in 0..40 {
            let mut bytes = original.clone();
            for _ in 0..8 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let _ = extract(&bytes, &Hints::named(name), &Limits::default());
        }
    }
}

#[test]
fn a_pdf_whose_page_inflates_past_the_limit_is_too_large() {
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..100 {
        encoder.write_all(&block).expect("compress");
    }
    let bomb = encoder.finish().expect("finish");
    let pdf = handmade_pdf_with("/Contents 4 0 R", Some(&bomb), "/Filter /FlateDecode");
    let err = extract(&pdf, &Hints::named("bomb.pdf"), &small_limits()).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge { .. }), "{err}");
}

#[test]
fn many_script_tags_do_not_make_html_quadratic() {
    let html = format!(
        "<html><body>{}<p>end</p></body></html>",
        "<script>x</script>".repeat(100_000)
    );
    let started = Instant::now();
    let out = extract(html.as_bytes(), &Hints::named("s.html"), &Limits::default()).expect("html");
    assert_eq!(out.markdown, "end");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn chunking_a_20_mb_document_stays_linear() {
    let section = "## Section\n\nA paragraph of ordinary text that goes on for a while.\n\n- item one\n- item two\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n<!-- page 9 -->\n\n";
    let md = section.repeat(20 * 1024 * 1024 / section.len());
    let started = Instant::now();
    let chunks = recorder_extract::chunk(&md, &Default::default());
    assert!(chunks.len() > 10_000);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// Found by the `office_legacy` fuzz target: calamine panics on this truncated OLE2 sector chain.
/// The panic stays inside `extract` and the file is reported as damaged.
#[test]
fn a_panic_inside_a_parser_library_is_contained_as_a_damaged_file() {
    let bytes = include_bytes!("fixtures/fuzz-cfb-short-sector.xls");
    for name in ["x.xls", "x.doc", "x.bin"] {
        let result = extract(bytes, &Hints::named(name), &Limits::default());
        match result {
            Err(ExtractError::Corrupt { .. } | ExtractError::Unsupported { .. }) => {}
            other => panic!("{name}: expected a clean error, got {other:?}"),
        }
    }
}

/// Found by the `office_legacy` fuzz target: a 7 KB OLE2 file whose sector chain loops made
/// calamine's reader grow memory without bound (over 2 GB). The container is checked first now.
#[test]
fn an_ole2_file_whose_sector_chain_loops_fails_fast_in_bounded_memory() {
    let bytes = include_bytes!("fixtures/fuzz-cfb-sector-loop.xls");
    let started = std::time::Instant::now();
    let err = extract(bytes, &Hints::named("x.xls"), &Limits::default()).unwrap_err();
    assert!(matches!(err, ExtractError::Corrupt { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn a_pdf_with_more_pages_than_the_limit_is_refused_before_it_is_loaded() {
    let pdf = pdf_with_pages(&["one", "two", "three"]);
    let limits = |max_pdf_pages| Limits {
        max_pdf_pages,
        ..Limits::default()
    };
    let err = extract(&pdf, &Hints::named("long.pdf"), &limits(2)).unwrap_err();
    assert!(
        matches!(err, ExtractError::TooManyPages { pages: 3, limit: 2 }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "the PDF has 3 pages, more than the 2-page limit; split it into smaller files"
    );
    let read = extract(&pdf, &Hints::named("long.pdf"), &limits(3)).expect("at the limit");
    assert!(read.markdown.contains("three"), "{}", read.markdown);
}
