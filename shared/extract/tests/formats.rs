//! One test (or a few) per supported format, over fixtures built in tests/common.

mod common;

use common::*;
use recorder_extract::{ExtractError, Extracted, Format, Hints, Limits, detect, extract};

fn run(bytes: &[u8], name: &str) -> Extracted {
    extract(bytes, &Hints::named(name), &Limits::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn utf8_text_passes_through_with_normalised_line_ends() {
    let out = run(b"Hello\r\nworld  \r\n\r\n\r\n\r\nBye", "a.txt");
    assert_eq!(out.format, Format::Text);
    assert_eq!(out.markdown, "Hello\nworld\n\nBye");
}

#[test]
fn a_utf8_bom_is_dropped() {
    let out = run(b"\xEF\xBB\xBFcaf\xC3\xA9", "a.txt");
    assert_eq!(out.markdown, "café");
    assert_eq!(out.metadata.extra["encoding"], "UTF-8");
}

/// `text` in UTF-16 after its byte-order mark, big- or little-endian.
fn utf16_with_bom(text: &str, big_endian: bool) -> Vec<u8> {
    std::iter::once(0xFEFF)
        .chain(text.encode_utf16())
        .flat_map(|unit| {
            if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn utf16_with_either_bom_is_decoded() {
    let le = utf16_with_bom("naïve ☕", false);
    let be = utf16_with_bom("naïve ☕", true);
    assert_eq!(run(&le, "le.txt").markdown, "naïve ☕");
    assert_eq!(run(&be, "be.txt").markdown, "naïve ☕");
    assert_eq!(run(&le, "le.txt").metadata.extra["encoding"], "UTF-16LE");
}

#[test]
fn windows_1252_text_is_detected_and_decoded() {
    // "Café crème – naïve" in Windows-1252: é=E9, è=E8, en dash=96, ï=EF.
    let bytes = b"Le caf\xE9 cr\xE8me \x96 na\xEFve, d\xE9j\xE0 vu. Une r\xE9union tr\xE8s s\xE9rieuse \xE0 l'h\xF4tel.";
    let out = run(bytes, "legacy.txt");
    assert!(
        out.markdown.contains("café crème – naïve"),
        "{}",
        out.markdown
    );
    assert_eq!(out.metadata.extra["encoding"], "windows-1252");
}

#[test]
fn markdown_is_kept_and_front_matter_gives_the_title() {
    let out = run(
        b"---\ntitle: \"Design\"\nauthor: Ada\n---\n# Heading\n\n\n\nBody",
        "d.md",
    );
    assert_eq!(out.format, Format::Markdown);
    assert_eq!(out.markdown, "# Heading\n\nBody");
    assert_eq!(out.metadata.title.as_deref(), Some("Design"));
    assert_eq!(out.metadata.author.as_deref(), Some("Ada"));
}

#[test]
fn csv_becomes_a_table_with_pipes_escaped_and_quotes_honoured() {
    let out = run(
        b"name,note\r\nAda,\"likes a|b, and \"\"quotes\"\"\"\r\nGrace,\"two\nlines\"\r\n",
        "t.csv",
    );
    assert_eq!(out.format, Format::Csv);
    assert_eq!(
        out.markdown,
        "| name | note |\n| --- | --- |\n| Ada | likes a\\|b, and \"quotes\" |\n| Grace | two lines |"
    );
}

#[test]
fn semicolon_csv_and_tsv_are_split_on_their_delimiter() {
    assert_eq!(
        run(b"a;b\n1;2\n", "t.csv").markdown,
        "| a | b |\n| --- | --- |\n| 1 | 2 |"
    );
    let tsv = run(b"a\tb\n1\t2\n", "t.tsv");
    assert_eq!(tsv.format, Format::Tsv);
    assert_eq!(tsv.markdown, "| a | b |\n| --- | --- |\n| 1 | 2 |");
}

#[test]
fn json_is_pretty_printed_in_order_inside_a_fence() {
    let out = run(br#"{"b":1,"a":[1,2,{"c":"x,y"}],"e":{}}"#, "x.json");
    assert_eq!(out.format, Format::Json);
    assert_eq!(
        out.markdown,
        "```json\n{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2,\n    {\n      \"c\": \"x,y\"\n    }\n  ],\n  \"e\": {}\n}\n```"
    );
}

#[test]
fn invalid_json_is_reported_as_damaged() {
    let err = extract(b"{\"a\": }", &Hints::named("x.json"), &Limits::default()).unwrap_err();
    assert!(
        matches!(err, ExtractError::Corrupt { format: "JSON", .. }),
        "{err}"
    );
    let cause = std::error::Error::source(&err).expect("the parser's error is kept as the source");
    assert!(cause.to_string().contains("expected value"), "{cause}");
}

#[test]
fn xml_is_shown_as_source_and_its_root_recorded() {
    let out = run(
        b"<?xml version=\"1.0\"?><note><to>Tove</to><body>Hi &amp; bye</body></note>",
        "n.xml",
    );
    assert_eq!(out.format, Format::Xml);
    assert!(out.markdown.starts_with("```xml\n<?xml"));
    assert_eq!(out.metadata.extra["root_element"], "note");
}

#[test]
fn yaml_is_fenced_and_never_expanded() {
    let out = run(b"a: &x [1, 2]\nb: *x\n", "c.yaml");
    assert_eq!(out.format, Format::Yaml);
    assert_eq!(out.markdown, "```yaml\na: &x [1, 2]\nb: *x\n```");
}

#[test]
fn html_keeps_structure_and_drops_page_furniture() {
    let out = run(SAMPLE_HTML.as_bytes(), "g.html");
    assert_eq!(out.format, Format::Html);
    assert_eq!(out.markdown, SAMPLE_HTML_MD);
    assert_eq!(out.metadata.title.as_deref(), Some("Guide"));
}

#[test]
fn docx_keeps_headings_lists_links_tables_and_emphasis() {
    let out = run(&sample_docx(), "plan.docx");
    assert_eq!(out.format, Format::Docx);
    assert_eq!(out.markdown, SAMPLE_DOCX_MD);
    assert_eq!(out.metadata.title.as_deref(), Some("Quarterly Plan"));
    assert_eq!(out.metadata.author.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        out.metadata.created.as_deref(),
        Some("2024-01-02T03:04:05Z")
    );
    assert_eq!(
        out.metadata.modified.as_deref(),
        Some("2024-02-03T04:05:06Z")
    );
}

#[test]
fn xlsx_sheets_become_sections_with_tables() {
    let out = run(&sample_xlsx(), "budget.xlsx");
    assert_eq!(out.format, Format::Xlsx);
    assert_eq!(out.markdown, SAMPLE_XLSX_MD);
    assert_eq!(out.metadata.sheet_count, Some(2));
}

#[test]
fn ods_sheets_become_sections_with_tables() {
    let out = run(&sample_ods(), "sales.ods");
    assert_eq!(out.format, Format::Ods);
    assert_eq!(out.markdown, SAMPLE_ODS_MD);
    assert_eq!(out.metadata.sheet_count, Some(1));
}

#[test]
fn pptx_slides_follow_presentation_order_with_notes() {
    let out = run(&sample_pptx(), "deck.pptx");
    assert_eq!(out.format, Format::Pptx);
    assert_eq!(out.markdown, SAMPLE_PPTX_MD);
    assert_eq!(out.metadata.slide_count, Some(2));
}

#[test]
fn odt_keeps_headings_lists_links_and_tables() {
    let out = run(&sample_odt(), "notes.odt");
    assert_eq!(out.format, Format::Odt);
    assert_eq!(out.markdown, SAMPLE_ODT_MD);
    assert_eq!(out.metadata.title.as_deref(), Some("Team Notes"));
    assert_eq!(out.metadata.author.as_deref(), Some("Grace Hopper"));
    assert_eq!(out.metadata.page_count, Some(2));
}

#[test]
fn odt_page_headers_come_once_before_the_body_and_footers_once_after() {
    let body = r#"<office:text><text:h text:outline-level="1">Handbook</text:h><text:p>Welcome.</text:p></office:text>"#;
    let master_pages = r#"<style:master-page style:name="Standard">
<style:header><text:p>Acme <text:span>Ltd</text:span></text:p></style:header>
<style:header-left style:display="false"><text:p>Switched off</text:p></style:header-left>
<style:footer><style:region-left><text:p>Internal use only</text:p></style:region-left></style:footer>
</style:master-page>
<style:master-page style:name="Landscape">
<style:header><text:p>Acme Ltd</text:p></style:header>
<style:footer-first><text:p>Draft</text:p></style:footer-first>
<style:footer-left><text:p><text:page-number>4</text:page-number></text:p></style:footer-left>
</style:master-page>"#;
    let out = run(&odt_with_master_pages(body, master_pages), "h.odt");
    assert_eq!(
        out.markdown,
        "Acme Ltd\n\n# Handbook\n\nWelcome.\n\nInternal use only\n\nDraft"
    );
}

#[test]
fn docx_page_headers_come_once_before_the_body_and_footers_once_after() {
    // Two sections: the first ends in a paragraph's properties, the last in the body's. Both
    // use the same default header; the first page of the first has its own footer, and even
    // pages of the last show a page number, which is left out.
    let first_section = r#"<w:p><w:pPr><w:sectPr>
<w:headerReference w:type="default" r:id="rIdheader1"/>
<w:footerReference w:type="first" r:id="rIdfooter2"/>
<w:footerReference w:type="default" r:id="rIdfooter1"/>
</w:sectPr></w:pPr><w:r><w:t>Welcome.</w:t></w:r></w:p>"#;
    let body = format!(
        "{}{first_section}{}",
        w_p(Some("berschrift1"), &w_r("Handbook")),
        w_p(None, &w_r("Appendix."))
    );
    let last_section = r#"<w:sectPr><w:headerReference w:type="default" r:id="rIdheader1"/>
<w:headerReference w:type="even" r:id="rIdheader2"/><w:footerReference w:type="default" r:id="rIdfooter1"/>
<w:footerReference w:type="even" r:id="rIdfooter3"/></w:sectPr>"#;
    let header = w_p(None, &format!("{}{}", w_r("Acme "), w_r("Ltd")));
    let empty_header = w_p(None, "");
    let footer = w_p(None, &w_r("Internal use only"));
    let first_footer = format!("{}{}", w_p(None, &w_r("Draft")), w_p(None, ""));
    let page_number = w_p(None, &w_r("7"));
    let bytes = docx_with_parts(
        &body,
        last_section,
        &[
            ("header1.xml", &header),
            ("header2.xml", &empty_header),
            ("footer1.xml", &footer),
            ("footer2.xml", &first_footer),
            ("footer3.xml", &page_number),
        ],
    );
    let out = run(&bytes, "h.docx");
    assert_eq!(
        out.markdown,
        "Acme Ltd\n\n# Handbook\n\nWelcome.\n\nAppendix.\n\nDraft\n\nInternal use only"
    );
}

#[test]
fn rtf_page_headers_come_once_before_the_body_and_footers_once_after() {
    // Word writes a section's headers and footers before its text; a page number is a field.
    let rtf = br"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}
{\header \pard\plain Acme \b Ltd\b0\par}
{\headerf \pard\plain Acme Ltd\par}
{\footer \pard\plain Internal use only\par}
{\footerl \pard\plain {\field{\*\fldinst PAGE}{\fldrslt 3}}\par}
\pard Welcome to the handbook.\par
\sect
{\header \pard\plain Acme Ltd\par}
{\footerf \pard\plain Page {\field{\*\fldinst PAGE}{\fldrslt 1}} of the draft\par}
\pard Appendix.\par}";
    let out = run(rtf, "h.rtf");
    assert_eq!(
        out.markdown,
        "Acme Ltd\n\nWelcome to the handbook.\n\nAppendix.\n\nInternal use only\n\nPage 1 of the draft"
    );
}

#[test]
fn odp_slides_have_titles_bullets_and_notes() {
    let out = run(&sample_odp(), "kick.odp");
    assert_eq!(out.format, Format::Odp);
    assert_eq!(out.markdown, SAMPLE_ODP_MD);
    assert_eq!(out.metadata.slide_count, Some(2));
}

#[test]
fn pdf_text_comes_out_per_page_with_markers_and_metadata() {
    let out = run(
        &pdf_with_pages(&["Hello first page", "Second page here"]),
        "r.pdf",
    );
    assert_eq!(out.format, Format::Pdf);
    assert_eq!(out.metadata.page_count, Some(2));
    assert_eq!(out.metadata.title.as_deref(), Some("Test Report"));
    assert_eq!(out.metadata.author.as_deref(), Some("Tess Ter"));
    let first = out.markdown.find("<!-- page 1 -->").expect("page 1 marker");
    let second = out.markdown.find("<!-- page 2 -->").expect("page 2 marker");
    let hello = out.markdown.find("Hello first page").expect("page 1 text");
    let later = out.markdown.find("Second page here").expect("page 2 text");
    assert!(
        first < hello && hello < second && second < later,
        "{}",
        out.markdown
    );
}

#[test]
fn rtf_control_words_are_stripped_and_paragraphs_kept() {
    let rtf = br"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}{\colortbl;\red0\green0\blue0;}{\info{\title Memo}{\author Ada}}{\*\generator Foo;}\f0\fs24 Hello {\b bold} caf\'e9\par Second \u8364? line\par}";
    let out = run(rtf, "m.rtf");
    assert_eq!(out.format, Format::Rtf);
    assert_eq!(out.markdown, "Hello bold café\n\nSecond € line");
    assert_eq!(out.metadata.title.as_deref(), Some("Memo"));
    assert_eq!(out.metadata.author.as_deref(), Some("Ada"));
}

#[test]
fn epub_chapters_follow_the_spine() {
    let out = run(&sample_epub(), "book.epub");
    assert_eq!(out.format, Format::Epub);
    assert_eq!(out.markdown, SAMPLE_EPUB_MD);
    assert_eq!(out.metadata.title.as_deref(), Some("Field Guide"));
    assert_eq!(out.metadata.language.as_deref(), Some("en"));
}

#[test]
fn eml_has_headers_plain_body_and_attachment_list() {
    let out = run(SAMPLE_EML.as_bytes(), "m.eml");
    assert_eq!(out.format, Format::Eml);
    assert!(
        out.markdown.contains("| Subject | Plan for Q3 |"),
        "{}",
        out.markdown
    );
    assert!(
        out.markdown.contains("Hi Grace,\n\nthe plan is attached."),
        "{}",
        out.markdown
    );
    assert!(
        out.markdown.contains("| plan.pdf | 54 B |"),
        "{}",
        out.markdown
    );
    assert_eq!(out.metadata.title.as_deref(), Some("Plan for Q3"));
    assert_eq!(
        out.metadata.created.as_deref(),
        Some("2024-10-01T10:00:00Z")
    );
}

#[test]
fn eml_with_only_html_is_converted() {
    let mail = "From: a@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<h1>News</h1><ul><li>One</li></ul>";
    let out = run(mail.as_bytes(), "n.eml");
    assert!(out.markdown.contains("# News\n\n- One"), "{}", out.markdown);
}

#[test]
fn webvtt_voices_become_speakers_with_times() {
    let vtt = "WEBVTT\n\nNOTE a comment\n\n1\n00:00:01.000 --> 00:00:04.500\n<v Alice>Hello <i>there</i></v>\n\n00:01:02.000 --> 00:01:05.000\nBob: Hi Alice\n";
    let out = run(vtt.as_bytes(), "call.vtt");
    assert_eq!(out.format, Format::Vtt);
    assert_eq!(out.segments.len(), 2);
    assert_eq!(out.segments[0].speaker.as_deref(), Some("Alice"));
    assert_eq!(
        (out.segments[0].start_ms, out.segments[0].end_ms),
        (1000, 4500)
    );
    assert_eq!(out.segments[1].speaker.as_deref(), Some("Bob"));
    assert_eq!(
        out.markdown,
        "**Alice** [00:00:01]: Hello there\n\n**Bob** [00:01:02]: Hi Alice"
    );
    assert_eq!(out.metadata.duration_secs, Some(65.0));
}

#[test]
fn srt_cues_are_read_with_comma_milliseconds() {
    let srt = "1\r\n00:00:01,250 --> 00:00:02,000\r\nCarol: First line\r\nsecond line\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nNo speaker\r\n";
    let out = run(srt.as_bytes(), "s.srt");
    assert_eq!(out.format, Format::Srt);
    assert_eq!(out.segments[0].speaker.as_deref(), Some("Carol"));
    assert_eq!(out.segments[0].text, "First line second line");
    assert_eq!(out.segments[0].start_ms, 1250);
    assert_eq!(out.segments[1].speaker, None);
}

#[test]
fn zoom_chat_in_both_layouts_is_read() {
    let old = "00:01:02 From  Alice Smith to  Everyone:\n\tHello all\n00:02:00 From  Bob  to  Alice Smith(Direct Message):\n\tPrivate note\n";
    let out = run(old.as_bytes(), "chat.txt");
    assert_eq!(out.format, Format::ZoomChat);
    assert_eq!(out.segments[0].speaker.as_deref(), Some("Alice Smith"));
    assert_eq!(out.segments[0].text, "Hello all");
    assert_eq!(out.segments[0].start_ms, 62_000);
    assert_eq!(out.segments[1].speaker.as_deref(), Some("Bob"));
    let tabbed = "00:00:05\tDana:\tQuick question\n00:00:09\tEli:\tSure\n";
    let out = run(tabbed.as_bytes(), "meeting_saved_chat.txt");
    assert_eq!(out.format, Format::ZoomChat);
    assert_eq!(
        out.markdown,
        "**Dana** [00:00:05]: Quick question\n\n**Eli** [00:00:09]: Sure"
    );
}

#[test]
fn png_dimensions_are_reported() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&640u32.to_be_bytes());
    png.extend_from_slice(&480u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let out = run(&png, "p.png");
    assert_eq!(out.format, Format::Png);
    assert_eq!(
        (out.metadata.width, out.metadata.height),
        (Some(640), Some(480))
    );
    assert_eq!(out.markdown, "Image (PNG, 640 × 480 px).");
}

#[test]
fn jpeg_exif_date_and_camera_are_read() {
    let jpeg = jpeg_with_exif();
    let out = run(&jpeg, "photo.jpg");
    assert_eq!(out.format, Format::Jpeg);
    assert_eq!(
        (out.metadata.width, out.metadata.height),
        (Some(32), Some(16))
    );
    assert_eq!(out.metadata.created.as_deref(), Some("2024-05-06 07:08:09"));
    assert_eq!(out.metadata.extra["camera_make"], "Acme");
    assert!(
        out.markdown.contains("camera Acme X100"),
        "{}",
        out.markdown
    );
}

/// SOI, APP1 Exif (big-endian TIFF: IFD0 Make, Model, ExifIFD → DateTimeOriginal), SOF0 32×16.
fn jpeg_with_exif() -> Vec<u8> {
    let mut tiff = b"MM\0*\0\0\0\x08".to_vec();
    // IFD0 at 8: 3 entries (12 bytes each) + next-IFD offset.
    let ifd0_len = 2 + 3 * 12 + 4;
    let make_at = 8 + ifd0_len;
    let model_at = make_at + 5;
    let exif_ifd_at = model_at + 6; // "X100\0" padded to even
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        [
            tag.to_be_bytes().to_vec(),
            kind.to_be_bytes().to_vec(),
            count.to_be_bytes().to_vec(),
            value.to_be_bytes().to_vec(),
        ]
        .concat()
    };
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend(entry(0x010F, 2, 5, make_at as u32));
    tiff.extend(entry(0x0110, 2, 5, model_at as u32));
    tiff.extend(entry(0x8769, 4, 1, exif_ifd_at as u32));
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(b"Acme\0");
    tiff.extend_from_slice(b"X100\0\0");
    let date_at = exif_ifd_at + 2 + 12 + 4;
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend(entry(0x9003, 2, 20, date_at as u32));
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(b"2024:05:06 07:08:09\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    jpeg.extend(app1);
    jpeg.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00,
    ]);
    jpeg.extend_from_slice(&[0xFF, 0xD9]);
    jpeg
}

#[test]
fn wav_duration_and_codec_come_from_the_header() {
    let out = run(&wav(3), "a.wav");
    assert_eq!(out.format, Format::Wav);
    assert_eq!(out.metadata.duration_secs, Some(3.0));
    assert_eq!(out.metadata.extra["codecs"], "PCM 16-bit");
}

#[test]
fn mp4_mov_and_m4a_durations_codecs_and_size_are_read() {
    let out = run(&mp4(b"isom", 90), "v.mp4");
    assert_eq!(out.format, Format::Mp4);
    assert_eq!(out.metadata.duration_secs, Some(90.0));
    assert_eq!(out.metadata.extra["codecs"], "avc1");
    assert_eq!(
        (out.metadata.width, out.metadata.height),
        (Some(640), Some(360))
    );
    assert_eq!(
        out.markdown,
        "Media file (MP4), duration 00:01:30, codecs avc1, 640 × 360 px."
    );
    assert_eq!(run(&mp4(b"qt  ", 5), "v.mov").format, Format::Mov);
    assert_eq!(run(&mp4(b"M4A ", 5), "a.m4a").format, Format::M4a);
}

#[test]
fn mp3_duration_is_estimated_from_cbr_frames() {
    // MPEG-1 Layer III, 128 kbps, 44.1 kHz: 417-byte frames; 10 s = 160 000 bytes.
    let mut mp3 = Vec::new();
    while mp3.len() < 160_000 {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x00];
        frame.resize(417, 0);
        mp3.extend(frame);
    }
    mp3.truncate(160_000);
    let out = run(&mp3, "s.mp3");
    assert_eq!(out.format, Format::Mp3);
    let secs = out.metadata.duration_secs.expect("duration");
    assert!((secs - 10.0).abs() < 0.1, "{secs}");
}

#[test]
fn webm_duration_and_codecs_are_read_from_ebml() {
    // EBML header, Segment(unknown size) { Info { TimecodeScale 1e6, Duration 2500.0 (f32) }, Tracks { TrackEntry { CodecID V_VP9 } } }
    let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80];
    let info_body = [
        vec![0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40],
        vec![0x44, 0x89, 0x84],
        2500f32.to_be_bytes().to_vec(),
    ]
    .concat();
    let info = [
        vec![0x15, 0x49, 0xA9, 0x66, 0x80 | info_body.len() as u8],
        info_body,
    ]
    .concat();
    let entry_body = [vec![0x86, 0x85], b"V_VP9".to_vec()].concat();
    let entry = [vec![0xAE, 0x80 | entry_body.len() as u8], entry_body].concat();
    let tracks = [
        vec![0x16, 0x54, 0xAE, 0x6B, 0x80 | entry.len() as u8],
        entry,
    ]
    .concat();
    webm.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF]);
    webm.extend(info);
    webm.extend(tracks);
    let out = run(&webm, "v.webm");
    assert_eq!(out.format, Format::Webm);
    assert_eq!(out.metadata.duration_secs, Some(2.5));
    assert_eq!(out.metadata.extra["codecs"], "V_VP9");
}

#[test]
fn legacy_doc_is_refused_with_a_clear_reason() {
    let mut doc = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    doc.resize(512, 0);
    doc.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
    let err = extract(&doc, &Hints::named("old.doc"), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported legacy format: DOC (Word 97-2003); save it as DOCX"
    );
    assert_eq!(err.code(), "unsupported");
}

#[test]
fn a_password_protected_office_file_is_reported_as_encrypted() {
    let mut file = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    file.resize(512, 0);
    file.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    let err = extract(&file, &Hints::named("secret.docx"), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "encrypted DOCX: remove the password and upload again"
    );
}

#[test]
fn detection_uses_content_and_reports_a_disagreeing_declaration() {
    let d = detect(&sample_docx(), Some("application/pdf"), Some("x.pdf"));
    assert_eq!(d.format, Format::Docx);
    assert_eq!(
        d.mismatch.as_deref(),
        Some("declared application/pdf but content is DOCX")
    );
    assert_eq!(detect(&sample_xlsx(), None, None).format, Format::Xlsx);
    assert_eq!(detect(&sample_pptx(), None, None).format, Format::Pptx);
    assert_eq!(detect(&sample_odt(), None, None).format, Format::Odt);
    assert_eq!(detect(&sample_odp(), None, None).format, Format::Odp);
    assert_eq!(detect(&sample_ods(), None, None).format, Format::Ods);
    assert_eq!(detect(&sample_epub(), None, None).format, Format::Epub);
    assert_eq!(
        detect(b"a,b\n1,2", Some("text/csv"), None).format,
        Format::Csv
    );
    assert_eq!(
        detect(b"<!doctype html><p>x", None, None).format,
        Format::Html
    );
    assert_eq!(detect(b"WEBVTT\n\n", None, None).format, Format::Vtt);
    assert_eq!(
        detect(SAMPLE_EML.as_bytes(), None, None).format,
        Format::Eml
    );
    assert_eq!(detect(b"a,b\n1,2", None, Some("data.csv")).mismatch, None);
}

#[test]
fn spreadsheet_document_properties_are_read() {
    let ods = run(&sample_ods(), "sales.ods");
    assert_eq!(ods.metadata.title.as_deref(), Some("Team Notes"));
    assert_eq!(ods.metadata.author.as_deref(), Some("Grace Hopper"));
}

#[test]
fn html_lang_is_reported() {
    let out = run(
        b"<html lang=\"de-CH\"><body><p>Gr\xc3\xbcezi</p></body></html>",
        "x.html",
    );
    assert_eq!(out.metadata.language.as_deref(), Some("de-CH"));
    assert_eq!(out.markdown, "Gr\u{fc}ezi");
}

#[test]
fn docx_text_boxes_appear_once_and_footnotes_are_kept() {
    let ns = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;
    let text_box =
        |t: &str| format!("<w:txbxContent><w:p><w:r><w:t>{t}</w:t></w:r></w:p></w:txbxContent>");
    let document = format!(
        r#"<w:document {ns}><w:body>
        <w:p><w:r><w:t>Body</w:t></w:r><w:r><w:footnoteReference w:id="2"/></w:r>
          <w:r><mc:AlternateContent><mc:Choice><w:drawing>{}</w:drawing></mc:Choice><mc:Fallback><w:pict>{}</w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>
        <w:p><w:r><w:t>After</w:t></w:r></w:p></w:body></w:document>"#,
        text_box("Boxed text"),
        text_box("Boxed text")
    );
    let footnotes = format!(
        r#"<w:footnotes {ns}><w:footnote w:type="separator" w:id="0"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="2"><w:p><w:r><w:t>A source.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let bytes = zip_of(&[
        ("word/document.xml", document.as_bytes()),
        ("word/footnotes.xml", footnotes.as_bytes()),
    ]);
    let out = run(&bytes, "boxes.docx");
    assert_eq!(
        out.markdown,
        "Body[^2]\n\nBoxed text\n\nAfter\n\n[^2]: A source."
    );
}

#[test]
fn heic_photos_are_images_not_videos() {
    // ftyp(heic) then meta { hdlr, iprp { ipco { ispe 4032×3024 } } }: the boxes imagesize reads.
    let boxed = |kind: &[u8; 4], body: &[u8]| {
        [
            ((body.len() + 8) as u32).to_be_bytes().to_vec(),
            kind.to_vec(),
            body.to_vec(),
        ]
        .concat()
    };
    let ispe = boxed(
        b"ispe",
        &[
            vec![0; 4],
            4032u32.to_be_bytes().to_vec(),
            3024u32.to_be_bytes().to_vec(),
        ]
        .concat(),
    );
    let ipco = boxed(b"ipco", &ispe);
    let iprp = boxed(b"iprp", &ipco);
    let meta = boxed(b"meta", &[vec![0; 4], iprp].concat());
    let heic = [boxed(b"ftyp", b"heic\0\0\0\0mif1heic"), meta].concat();
    let out = run(&heic, "IMG_0001.HEIC");
    assert_eq!(out.format, Format::Heic);
    assert_eq!(
        (out.metadata.width, out.metadata.height),
        (Some(4032), Some(3024))
    );
    assert_eq!(
        detect(&heic, Some("video/mp4"), None).mismatch.as_deref(),
        Some("declared video/mp4 but content is HEIC")
    );
}

#[test]
fn an_outlook_msg_is_refused_with_advice() {
    let mut msg = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    msg.resize(512, 0);
    msg.extend(
        "__substg1.0_0037001F"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    msg.extend("WordDocument".encode_utf16().flat_map(u16::to_le_bytes));
    let err = extract(&msg, &Hints::named("mail.msg"), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported format: Outlook MSG; save the e-mail as EML (File > Save As) and upload that"
    );
}

#[test]
fn pdf_columns_that_line_up_become_a_table_and_ragged_gaps_do_not() {
    let table = pdf_with_runs(&[
        (72, 700, "Region"),
        (200, 700, "Sales"),
        (72, 685, "North"),
        (200, 685, "17"),
        (72, 670, "South"),
        (200, 670, "23"),
    ]);
    let out = run(&table, "t.pdf");
    assert!(
        out.markdown
            .contains("| Region | Sales |\n| --- | --- |\n| North | 17 |\n| South | 23 |"),
        "{}",
        out.markdown
    );
    let prose = pdf_with_runs(&[
        (72, 700, "Alpha"),
        (300, 700, "beta"),
        (72, 685, "Gamma"),
        (150, 685, "delta"),
    ]);
    let out = run(&prose, "p.pdf");
    assert!(!out.markdown.contains('|'), "{}", out.markdown);
}

#[test]
fn a_pdf_without_text_says_it_needs_ocr() {
    let out = run(&pdf_with_runs(&[]), "scan.pdf");
    assert_eq!(out.metadata.extra["text_layer"], "none");
    assert!(
        out.warnings[0].contains("no text layer"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn pdf_form_values_follow_the_pages_as_a_table_of_full_field_names() {
    use lopdf::{Object, dictionary};
    let utf16 = utf16_with_bom("Zoë | Smith", true);
    let pdf = pdf_with_form(|doc| {
        let text = doc.add_object(dictionary! {
            "FT" => "Tx", "T" => Object::string_literal("Name"), "V" => Object::string_literal(utf16),
        });
        let checked = doc.add_object(dictionary! {
            "FT" => "Btn", "T" => Object::string_literal("Agree"), "V" => "Yes",
        });
        let unchecked = doc.add_object(dictionary! {
            "FT" => "Btn", "T" => Object::string_literal("Newsletter"), "V" => "Off",
        });
        let city = doc.add_object(dictionary! {
            "FT" => "Tx", "T" => Object::string_literal("city"), "V" => Object::string_literal("Paris"),
        });
        let empty =
            doc.add_object(dictionary! { "FT" => "Tx", "T" => Object::string_literal("zip") });
        let address = doc.add_object(dictionary! {
            "T" => Object::string_literal("address"), "Kids" => vec![city.into(), empty.into()],
        });
        // A radio group: the value is the group's, its kids are widgets without names.
        let widget = doc.add_object(dictionary! { "Subtype" => "Widget", "AS" => "Blue" });
        let radio = doc.add_object(dictionary! {
            "FT" => "Btn", "T" => Object::string_literal("colour"), "V" => "Blue",
            "Kids" => vec![widget.into()],
        });
        [text, checked, unchecked, address, radio]
            .into_iter()
            .map(Object::from)
            .collect()
    });
    let out = run(&pdf, "form.pdf");
    assert_eq!(
        out.markdown,
        "<!-- page 1 -->

Application

## Form fields

| Field | Value |
| --- | --- |
| Name | Zoë \\| Smith |
| Agree | Yes |
| address.city | Paris |
| colour | Blue |"
    );
}

#[test]
fn a_long_text_field_value_stored_as_a_stream_is_read() {
    use lopdf::{Object, Stream, dictionary};
    let pdf = pdf_with_form(|doc| {
        let mut value = Stream::new(dictionary! {}, b"Two lines\rof notes".to_vec());
        value.compress().expect("compress");
        let value = doc.add_object(value);
        let notes = doc.add_object(dictionary! {
            "FT" => "Tx", "T" => Object::string_literal("Notes"), "V" => value,
        });
        vec![notes.into()]
    });
    let out = run(&pdf, "form.pdf");
    assert!(
        out.markdown
            .ends_with("| Field | Value |\n| --- | --- |\n| Notes | Two lines of notes |"),
        "{}",
        out.markdown
    );
}

#[test]
fn a_pdf_form_without_values_adds_no_section() {
    use lopdf::{Object, dictionary};
    let pdf = pdf_with_form(|doc| {
        let blank = doc.add_object(dictionary! {
            "FT" => "Tx", "T" => Object::string_literal("Name"), "V" => Object::string_literal(" "),
        });
        let unchecked = doc.add_object(dictionary! {
            "FT" => "Btn", "T" => Object::string_literal("Agree"), "V" => "Off",
        });
        vec![blank.into(), unchecked.into()]
    });
    assert_eq!(
        run(&pdf, "form.pdf").markdown,
        run(&pdf_with_pages(&["Application"]), "plain.pdf").markdown
    );
}

/// Long documents take their heading sizes from an even sample of pages (300), then render page
/// by page, so memory holds one page's lines rather than the whole document's.
#[test]
fn a_long_pdf_is_rendered_page_by_page_with_sampled_heading_sizes() {
    let bodies: Vec<String> = (2..=700)
        .map(|n| format!("Body text of page {n}."))
        .collect();
    let mut pages: Vec<(i64, &str)> = vec![(24, "Annual Report")];
    pages.extend(bodies.iter().map(|b| (11, b.as_str())));
    let out = extract(
        &pdf_with_sized_pages(&pages),
        &Hints::named("long.pdf"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.metadata.page_count, Some(700));
    assert!(
        out.markdown
            .starts_with("<!-- page 1 -->\n\n# Annual Report\n\n<!-- page 2 -->"),
        "{}",
        &out.markdown[..80]
    );
    let markers: Vec<usize> = (1..=700)
        .map(|n| {
            out.markdown
                .find(&format!("<!-- page {n} -->\n"))
                .expect("every page")
        })
        .collect();
    assert!(markers.windows(2).all(|w| w[0] < w[1]), "pages in order");
    assert!(out.markdown.ends_with("Body text of page 700."));
    assert_eq!(
        out.markdown.matches("# ").count(),
        1,
        "body lines are not headings"
    );
}

#[test]
fn html_in_a_legacy_charset_is_decoded_by_its_declaration() {
    // "Café déjà vu" in Windows-1252, declared by the page itself.
    let mut page = b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"><title>Caf\xe9</title></head><body><p>Caf\xe9 d\xe9j\xe0 vu</p></body></html>".to_vec();
    let out = extract(&page, &Hints::named("page.html"), &Limits::default()).unwrap();
    assert!(out.markdown.contains("Café déjà vu"), "{}", out.markdown);
    // A server's charset wins over a guess; Shift_JIS text read as declared.
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("<p>日本語のページ</p>");
    let (text, name) = recorder_extract::decode_html(&sjis, Some("text/html; charset=Shift_JIS"));
    assert_eq!(
        (text.as_str(), name),
        ("<p>日本語のページ</p>", "Shift_JIS")
    );
    // A page that says UTF-8 and is UTF-8 stays as it is; a BOM beats a wrong declaration.
    page = "<meta charset=\"utf-8\"><p>naïve</p>".as_bytes().to_vec();
    assert_eq!(
        recorder_extract::decode_html(&page, None).0,
        "<meta charset=\"utf-8\"><p>naïve</p>"
    );
    let bom = [b"\xEF\xBB\xBF".as_slice(), "<p>ü</p>".as_bytes()].concat();
    assert_eq!(
        recorder_extract::decode_html(&bom, Some("text/html; charset=iso-8859-1")).0,
        "<p>ü</p>"
    );
}
