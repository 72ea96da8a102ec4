//! PDF constructs found in real-world files (see tests/bench/extract/realworld.py): text in
//! Form XObjects, ToUnicode CMaps next to `/Encoding`, CMaps lopdf's parser rejects,
//! ligatures, and CIDFont glyph widths. Each PDF is built here with lopdf.

mod common;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use recorder_extract::{ExtractError, Hints, Limits, extract};

/// A one-page PDF: `build` adds what the page needs and returns its content and resources.
fn pdf(build: impl FnOnce(&mut Document) -> (Vec<u8>, Dictionary)) -> Vec<u8> {
    pdf_page(|doc| {
        let (content, resources) = build(doc);
        (content, resources, Dictionary::new())
    })
}

/// As [`pdf`], with more entries for the page dictionary (`/Annots`, say).
fn pdf_page(build: impl FnOnce(&mut Document) -> (Vec<u8>, Dictionary, Dictionary)) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let (content, resources, extra) = build(&mut doc);
    let content = doc.add_object(Stream::new(dictionary! {}, content));
    let mut page = dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => content, "Resources" => resources,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    page.extend(&extra);
    let page = doc.add_object(page);
    common::save_pdf(doc, pages, vec![page.into()])
}

/// The Markdown of a page drawing `ops` with Helvetica as `/F1`.
fn helvetica_page(ops: &str) -> String {
    let ops = ops.to_owned();
    markdown(&pdf(move |doc| {
        let font = helvetica(doc);
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        (ops.into_bytes(), resources)
    }))
}

fn markdown(bytes: &[u8]) -> String {
    extract(bytes, &Hints::named("t.pdf"), &Limits::default())
        .expect("extract")
        .markdown
}

fn helvetica(doc: &mut Document) -> ObjectId {
    doc.add_object(
        dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" },
    )
}

fn form(doc: &mut Document, extra: Dictionary, content: &[u8]) -> ObjectId {
    let mut dict = dictionary! {
        "Type" => "XObject", "Subtype" => "Form",
        "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    dict.extend(&extra);
    doc.add_object(Stream::new(dict, content.to_vec()))
}

#[test]
fn text_in_form_xobjects_is_extracted_with_their_resources_and_matrix() {
    let bytes = pdf(|doc| {
        let font = helvetica(doc);
        // The innermost form draws itself too: that must not recurse.
        let inner = doc.new_object_id();
        let inner_stream = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Form",
                "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                "Resources" => dictionary! {
                    "Font" => dictionary! { "G" => font },
                    "XObject" => dictionary! { "Me" => inner },
                },
            },
            b"BT /G 12 Tf 72 500 Td (Nested form words) Tj ET /Me Do".to_vec(),
        );
        doc.objects.insert(inner, Object::Stream(inner_stream));
        // The outer form has no fonts of its own (the page's F1 is used) and moves its
        // content down by 100.
        let outer = form(
            doc,
            dictionary! {
                "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 0.into(), (-100).into()],
                "Resources" => dictionary! { "XObject" => dictionary! { "Fm2" => inner } },
            },
            b"BT /F1 12 Tf 72 700 Td (Scanned page OCR layer) Tj ET /Fm2 Do",
        );
        let resources = dictionary! {
            "Font" => dictionary! { "F1" => font },
            "XObject" => dictionary! { "Fm1" => outer },
        };
        (
            b"BT /F1 12 Tf 72 720 Td (Page heading) Tj ET q /Fm1 Do Q BT /F1 12 Tf 72 100 Td (Page footer) Tj ET"
                .to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    let at = |s: &str| {
        md.find(s)
            .unwrap_or_else(|| panic!("{s:?} missing in {md:?}"))
    };
    assert!(at("Page heading") < at("Scanned page OCR layer"));
    assert!(at("Scanned page OCR layer") < at("Nested form words"));
    assert!(at("Nested form words") < at("Page footer"));
    assert_eq!(md.matches("Nested form words").count(), 1, "{md}");
    // The form's matrix put its line 100 below where its content says (720 → 600): a
    // paragraph break, not a continuation of the heading's line.
    assert!(
        md.contains("Page heading\n\nScanned page OCR layer"),
        "{md}"
    );
}

#[test]
fn form_content_counts_against_the_decompression_budget() {
    let bytes = pdf(|doc| {
        let font = helvetica(doc);
        let words = b"BT /F1 12 Tf 72 700 Td (Drawn over and over again) Tj ET ".repeat(20);
        let fm = form(doc, dictionary! {}, &words);
        let resources = dictionary! {
            "Font" => dictionary! { "F1" => font },
            "XObject" => dictionary! { "Fm1" => fm },
        };
        (b"/Fm1 Do ".repeat(2_000), resources)
    });
    // 2,000 draws of a 1.2 KB form are 2.4 MB of content from a 16 KB page.
    let limits = Limits {
        max_decompressed_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let result = extract(&bytes, &Hints::named("t.pdf"), &limits);
    assert!(
        matches!(result, Err(ExtractError::TooLarge { .. })),
        "{result:?}"
    );
    assert!(markdown(&bytes).contains("Drawn over and over again"));
}

fn cmap_stream(doc: &mut Document, cmap: &str) -> ObjectId {
    doc.add_object(Stream::new(dictionary! {}, cmap.as_bytes().to_vec()))
}

const CMAP_HEAD: &str = "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n";
const CMAP_TAIL: &str = "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";

#[test]
fn to_unicode_wins_over_encoding_differences() {
    let bytes = pdf(|doc| {
        // Skia and Ghostscript Type3 fonts: glyph names that mean nothing, and a ToUnicode.
        let cmap = format!(
            "{CMAP_HEAD}1 begincodespacerange\n<00> <FF>\nendcodespacerange\n\
             2 beginbfchar\n<41> <0048>\n<42> <0069>\nendbfchar\n{CMAP_TAIL}"
        );
        let to_unicode = cmap_stream(doc, &cmap);
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => dictionary! {
                "Type" => "Encoding",
                "Differences" => vec![65.into(), "g84".into(), "g85".into()],
            },
            "ToUnicode" => to_unicode,
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        // C is not in the CMap: the Encoding (Standard, then Differences) gives it.
        (
            b"BT /F1 12 Tf 72 700 Td (ABC there) Tj ET".to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    assert!(md.contains("HiC there"), "{md}");
}

#[test]
fn codes_a_to_unicode_cmap_leaves_out_are_read_by_their_glyph_names() {
    let bytes = pdf(|doc| {
        // The CMap maps the space and the capitals only; code 1 is named `uni00C9`, a name
        // lopdf's own encoding reader refuses (it then drops the whole Differences array).
        let cmap = format!(
            "{CMAP_HEAD}1 begincodespacerange\n<00> <FF>\nendcodespacerange\n\
             2 beginbfrange\n<20> <20> <0020>\n<41> <5A> <0041>\nendbfrange\n{CMAP_TAIL}"
        );
        let to_unicode = cmap_stream(doc, &cmap);
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => dictionary! {
                "Type" => "Encoding", "Differences" => vec![1.into(), "uni00C9".into()],
            },
            "ToUnicode" => to_unicode,
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        (
            b"BT /F1 12 Tf 72 700 Td (CAF\x01 OK) Tj ET".to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    assert!(md.contains("CAF\u{C9} OK"), "{md}");
}

#[test]
fn ligatures_become_their_letters() {
    let bytes = pdf(|doc| {
        let cmap = format!(
            "{CMAP_HEAD}1 begincodespacerange\n<00> <FF>\nendcodespacerange\n\
             1 beginbfrange\n<20> <7E> <0020>\nendbfrange\n\
             3 beginbfchar\n<01> <FB01>\n<02> <FB00>\n<03> <FB04>\nendbfchar\n{CMAP_TAIL}"
        );
        let to_unicode = cmap_stream(doc, &cmap);
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
            "ToUnicode" => to_unicode,
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        (
            b"BT /F1 12 Tf 72 700 Td (the \x01le of the sta\x02 is \x03ed) Tj ET".to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    assert!(md.contains("the file of the staff is ffled"), "{md}");
}

#[test]
fn an_embedded_type1_programs_own_encoding_gives_tex_ligatures_dashes_and_quotes() {
    // pdfTeX's Computer Modern: no /Encoding, no ToUnicode; the Type1 program's clear text
    // assigns 12 = fi, 123 = endash, 92 = quotedblleft (OT1). The program is compressed, as
    // pdfTeX writes it, and the binary part after `eexec` is never read.
    let bytes = pdf(|doc| {
        let clear = "%!PS-AdobeFont-1.0: CMR10 003.002\n/FontName /ABCDEF+CMR10 def\n\
            /Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\n\
            dup 12 /fi put\ndup 32 /space put\ndup 34 /quotedblright put\n\
            dup 92 /quotedblleft put\n\
            dup 97 /a put\ndup 100 /d put\ndup 101 /e put\ndup 104 /h put\n\
            dup 108 /l put\ndup 110 /n put\ndup 111 /o put\ndup 115 /s put\n\
            dup 116 /t put\ndup 123 /endash put\nreadonly def\ncurrentfile eexec\n";
        let mut program = clear.as_bytes().to_vec();
        program.extend_from_slice(&[0xd9, 0xd6, 0x6f, 0x63, 0x3b, 0x84, 0x6a, 0x98]);
        let mut program = Stream::new(
            dictionary! { "Length1" => clear.len() as i64, "Length2" => 8, "Length3" => 0 },
            program,
        );
        program.compress().expect("compress");
        let program = doc.add_object(program);
        let descriptor = doc.add_object(dictionary! {
            "Type" => "FontDescriptor", "FontName" => "ABCDEF+CMR10", "Flags" => 4,
            "FontFile" => program,
        });
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "ABCDEF+CMR10",
            "FontDescriptor" => descriptor,
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        (
            b"BT /F1 12 Tf 72 700 Td (\\134\x0cne\" \x7b the end) Tj ET".to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    assert!(md.contains("\u{201C}fine\u{201D} \u{2013} the end"), "{md}");
}

#[test]
fn differences_names_outside_the_glyph_list_are_read_by_the_glyph_list_rules() {
    let bytes = pdf(|doc| {
        // `uni00E9` and `f_f` are valid names lopdf refuses; `g7` means nothing and keeps the
        // base encoding's letter.
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
            "Encoding" => dictionary! {
                "Type" => "Encoding", "BaseEncoding" => "WinAnsiEncoding",
                "Differences" => vec![1.into(), "uni00E9".into(), "f_f".into(), 75.into(), "g7".into()],
            },
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        (
            b"BT /F1 12 Tf 72 700 Td (caf\x01 sta\x02 OK) Tj ET".to_vec(),
            resources,
        )
    });
    let md = markdown(&bytes);
    assert!(md.contains("café staff OK"), "{md}");
}

/// A Type0 font with an Identity-H encoding, the given ToUnicode CMap and CIDFont `/W`.
fn type0(doc: &mut Document, cmap: &str, widths: Vec<Object>) -> ObjectId {
    let to_unicode = cmap_stream(doc, cmap);
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "Test",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"), "Supplement" => 0,
        },
        "DW" => 1000, "W" => widths,
    });
    doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "Test",
        "Encoding" => "Identity-H", "DescendantFonts" => vec![cid_font.into()],
        "ToUnicode" => to_unicode,
    })
}

#[test]
fn a_cmap_lopdf_rejects_is_still_read() {
    // PDFium: `CIDSystemInfo` without its slash; TeX: a multi-line header; PDFsharp: `begin`
    // on its own line.
    let cmap = "/CIDInit /ProcSet findresource\nbegin 12 dict\nbegin begincmap\n\
CIDSystemInfo\n<< /Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n\
/CMapName\n/Adobe-Identity-UCS\ndef\n/CMapType 2 def\n\
1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
2 beginbfrange\n<0001> <0003> <0041>\n<0004> <0005> [<0052> <0065>]\nendbfrange\n\
1 beginbfchar <0006> <0070> endbfchar\n\
endcmap CMapName currentdict /CMap defineresource pop end end";
    let bytes = pdf(|doc| {
        let font = type0(doc, cmap, vec![]);
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        let text = b"BT /F1 12 Tf 72 700 Td <000100020003> Tj 40 0 Td <000400050006> Tj ET";
        (text.to_vec(), resources)
    });
    let md = markdown(&bytes);
    assert!(md.contains("ABC Rep"), "{md}");
}

#[test]
fn cid_font_widths_keep_words_together() {
    let cmap = format!(
        "{CMAP_HEAD}1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
         1 beginbfrange\n<0001> <001A> <0061>\nendbfrange\n{CMAP_TAIL}"
    );
    let bytes = pdf(|doc| {
        // Glyph widths: a 0.25 em, the other letters 0.9 em (more than the 0.5 em guess).
        let font = type0(
            doc,
            &cmap,
            vec![
                1.into(),
                vec![250.into()].into(),
                2.into(),
                26.into(),
                900.into(),
            ],
        );
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        // "team" set as "te" then "am" placed where the first run's glyphs end: 0.9 + 0.9 em
        // is 18 pt at 10 pt. Then a word space later, "te" again.
        let text =
            b"BT /F1 10 Tf 72 700 Td <00140005> Tj 18 0 Td <0001000D> Tj 15 0 Td <00140005> Tj ET";
        (text.to_vec(), resources)
    });
    let md = markdown(&bytes);
    assert!(md.contains("team te"), "{md}");
}

/// Letter-spaced text (`Tc`) placed run by run, as Distiller and Canva write it: the producer
/// puts each run where the spaced advance of the previous one ends, so the runs must join.
/// Word spacing (`Tw`) and the horizontal scale (`Tz`) widen the advance the same way.
#[test]
fn character_and_word_spacing_and_scale_keep_runs_together() {
    // Helvetica without /Widths is measured at 0.5 em a glyph: "Te" at 10 pt is 10 units wide,
    // plus 2 glyphs x 2 units of Tc = 14.
    let tc = helvetica_page("BT /F1 10 Tf 2 Tc 72 700 Td (Te) Tj 14 0 Td (am) Tj ET");
    assert!(tc.contains("Team"), "{tc}");
    // "a b" is 15 units, plus 4 of Tw for its one space = 19.
    let tw = helvetica_page("BT /F1 10 Tf 4 Tw 72 700 Td (a b) Tj 19 0 Td (c) Tj ET");
    assert!(tw.contains("a bc"), "{tw}");
    // At 200 % scale "Te" is 20 units wide.
    let tz = helvetica_page("BT /F1 10 Tf 200 Tz 72 700 Td (Te) Tj 20 0 Td (am) Tj ET");
    assert!(tz.contains("Team"), "{tz}");
}

/// Text running up the page (a landscape table or title, `0 1 -1 0 cm`) or down it is laid out
/// along its own baseline: its runs join into lines instead of one "line" per run.
#[test]
fn rotated_text_reads_along_its_baseline() {
    // Each run is placed where the previous one ends: "The lsc" is 7 glyphs x 5 units = 35.
    let up = helvetica_page(
        "q 0 1 -1 0 300 100 cm BT /F1 10 Tf 0 0 Td (The lsc) Tj 35 0 Td (ape package) Tj \
         0 -14 Td (second line) Tj ET Q",
    );
    assert!(up.contains("The lscape package\nsecond line"), "{up}");
    let down = helvetica_page(
        "q 0 -1 1 0 100 700 cm BT /F1 10 Tf 0 0 Td (The lsc) Tj 35 0 Td (ape package) Tj ET Q",
    );
    assert!(down.contains("The lscape package"), "{down}");
}

#[test]
fn upside_down_and_slanted_text_reads_along_its_baseline() {
    // Helvetica's average width here is 0.5 em: "The lsc" ends 35 units along the baseline.
    let upside_down = helvetica_page(
        "q -1 0 0 -1 500 700 cm BT /F1 10 Tf 0 0 Td (The lsc) Tj 35 0 Td (ape package) Tj \
         0 -14 Td (second line) Tj ET Q",
    );
    assert!(
        upside_down.contains("The lscape package\nsecond line"),
        "{upside_down}"
    );
    // 30 degrees: cos 0.866, sin 0.5.
    let slanted = helvetica_page(
        "q 0.866 0.5 -0.5 0.866 100 300 cm BT /F1 10 Tf 0 0 Td (The lsc) Tj 35 0 Td (ape package) Tj \
         ET Q BT /F1 10 Tf 100 100 Td (Upright) Tj ET",
    );
    assert!(slanted.contains("The lscape package"), "{slanted}");
    assert!(slanted.contains("Upright"), "{slanted}");
}

/// The Markdown of a page drawing `ops` with Helvetica as `/F1`, with a link to `uri` over
/// `rect` (user space).
fn helvetica_page_with_link(ops: &str, rect: [i64; 4], uri: &str) -> String {
    let ops = ops.to_owned();
    markdown(&pdf_page(move |doc| {
        let font = helvetica(doc);
        let link = doc.add_object(dictionary! {
            "Type" => "Annot", "Subtype" => "Link",
            "Rect" => rect.iter().map(|&v| v.into()).collect::<Vec<Object>>(),
            "A" => dictionary! { "S" => "URI", "URI" => Object::string_literal(uri) },
        });
        let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        let extra = dictionary! { "Annots" => vec![link.into()] };
        (ops.into_bytes(), resources, extra)
    }))
}

#[test]
fn a_kerned_tj_array_reads_as_words_and_a_link_covers_only_its_strings() {
    // LibreOffice and TeX kern nearly every pair of glyphs: a `TJ` of one- and two-glyph
    // strings. Small kerns keep letters in one word, a large one is a space, and a link over
    // some of the strings covers those strings only, even where no gap sets them apart.
    // Helvetica without `Widths` is read at half an em per glyph, so "do" and "cs" fall
    // within x 118–143.
    let markdown = helvetica_page_with_link(
        "BT /F1 12 Tf 72 700 Td [(Se) 20 (e the ) 10 (do) 10 (cs) 10 ( now) -400 (then)] TJ ET",
        [118, 695, 143, 712],
        "https://example.com/docs",
    );
    assert!(
        markdown.contains("See the [docs](https://example.com/docs) now then"),
        "{markdown}"
    );
}

#[test]
fn a_link_over_rotated_text_is_found_where_the_text_is_drawn() {
    for (matrix, rect) in [
        // Turned 90° at (300, 100): "docs" runs up the page from y 122.8 to 146.8, left of
        // x 300.
        ("0 1 -1 0 300 100", [290, 120, 305, 150]),
        // Upside down at (500, 700): "docs" runs leftwards from x 477.2 to 453.2, below y 700.
        ("-1 0 0 -1 500 700", [455, 690, 475, 700]),
    ] {
        let markdown = helvetica_page_with_link(
            &format!("q {matrix} cm BT /F1 12 Tf 0 0 Td [(see) -400 (docs) -400 (here)] TJ ET Q"),
            rect,
            "https://example.com/docs",
        );
        assert!(
            markdown.contains("see [docs](https://example.com/docs) here"),
            "{matrix}: {markdown}"
        );
    }
}

#[test]
fn a_heading_that_wraps_onto_a_second_line_stays_one_heading() {
    // LibreOffice sets a long heading on two lines at its size, a line apart; headings apart by
    // a paragraph gap stay apart.
    let markdown = helvetica_page(
        "BT /F1 20 Tf 72 700 Td (Quarterly results for) Tj 0 -24 Td (the northern region) Tj ET \
         BT /F1 11 Tf 72 640 Td (Body line one is here and long enough to count.) Tj \
         0 -13 Td (Body line two follows it.) Tj 0 -13 Td (Body line three ends it.) Tj ET \
         BT /F1 20 Tf 72 560 Td (Outlook) Tj ET BT /F1 20 Tf 72 500 Td (Appendix) Tj ET",
    );
    assert!(
        markdown.contains("# Quarterly results for the northern region\n\nBody line one"),
        "{markdown}"
    );
    assert!(markdown.contains("# Outlook\n\n# Appendix"), "{markdown}");
}

/// A page only lopdf's own reader reads (operands nested deeper than ours read), after 300 pages
/// already rendered: the document is loaded again whole and goes on from that page, so every
/// page comes once, in order, whether the Markdown is collected or written out as it is read.
#[test]
fn a_late_page_only_lopdfs_reader_reads_comes_once_when_the_markdown_is_written_out() {
    let mut doc = Document::with_version("1.5");
    let pages = doc.new_object_id();
    let font = helvetica(&mut doc);
    let mut kids = Vec::new();
    for n in 1..=301 {
        let mut ops = format!("BT /F1 12 Tf 72 700 Td (Page {n} text) Tj ET");
        if n == 301 {
            ops.push_str(&format!(" {}{} d0", "[".repeat(40), "]".repeat(40)));
        }
        let content = doc.add_object(Stream::new(dictionary! {}, ops.into_bytes()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(page.into());
    }
    let bytes = common::save_pdf(doc, pages, kids);
    let mut written = Vec::new();
    let extracted = recorder_extract::extract_to(
        &bytes,
        &Hints::named("t.pdf"),
        &Limits::default(),
        &mut written,
    )
    .expect("writes")
    .expect("extracts");
    assert!(extracted.markdown.is_empty());
    let written = String::from_utf8(written).expect("UTF-8");
    assert_eq!(written, markdown(&bytes));
    for n in 1..=301 {
        assert_eq!(
            written.matches(&format!("<!-- page {n} -->\n")).count(),
            1,
            "page {n}"
        );
        assert_eq!(
            written.matches(&format!("Page {n} text")).count(),
            1,
            "page {n}"
        );
    }
    assert!(written.starts_with("<!-- page 1 -->") && written.ends_with("Page 301 text"));
}
