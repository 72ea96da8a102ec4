//! Small but valid files of each type the fake serves, built here so a reader can see every byte's
//! purpose: a PDF with real pages, text streams and a correct xref table; baseline JPEG and PNG
//! images (8 × 8 grey); DOCX, XLSX and PPTX packages with the parts Office and our extractor read.
//! No fixture files: the bytes follow the specs (ISO 32000-1, ITU T.81, PNG, ECMA-376).

/// A PDF with the text on Helvetica pages (50 lines a page), one content stream per page.
pub(crate) fn pdf(text: &str) -> Vec<u8> {
    let lines = wrap(text, 90);
    let pages: Vec<&[String]> = if lines.is_empty() {
        vec![&[]]
    } else {
        lines.chunks(50).collect()
    };
    // 1 catalog, 2 page tree, 3 font, then a page and its content stream per page.
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 4 + 2 * i))
        .collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    for (i, page) in pages.iter().enumerate() {
        let mut stream = String::from("BT\n/F1 11 Tf\n14 TL\n72 750 Td\n");
        for line in page.iter() {
            stream.push_str(&format!("({}) Tj T*\n", pdf_string(line)));
        }
        stream.push_str("ET\n");
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{stream}endstream",
            stream.len()
        ));
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    // Each xref entry is exactly 20 bytes, its end of line included.
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Lines of at most `width` characters; a blank line between paragraphs.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in blocks(text) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.len() + 1 + word.len() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

/// A PDF literal string's content: WinAnsi covers ASCII, so anything else becomes `?`.
fn pdf_string(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// A baseline JPEG of an 8 × 8 mid-grey square, `comment` in a COM segment (so two files differ).
/// One component, one DC and one AC Huffman code (both "0"), so the single block is the two bits
/// "DC difference 0, end of block", padded with ones.
pub(crate) fn jpeg(comment: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    segment(&mut out, 0xFE, comment.as_bytes());
    let mut dqt = vec![0x00];
    dqt.extend([1u8; 64]);
    segment(&mut out, 0xDB, &dqt);
    // 8-bit samples, 8 × 8, one component (id 1, no subsampling, quantisation table 0).
    segment(&mut out, 0xC0, &[8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    for class in [0x00, 0x10] {
        let mut dht = vec![class, 1];
        dht.extend([0u8; 15]);
        dht.push(0x00);
        segment(&mut out, 0xC4, &dht);
    }
    segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    out.extend([0x3F, 0xFF, 0xD9]);
    out
}

fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    out.extend([0xFF, marker]);
    out.extend(((body.len() + 2) as u16).to_be_bytes());
    out.extend(body);
}

/// An 8 × 8 greyscale PNG of one shade, `title` in a tEXt chunk.
pub(crate) fn png(title: &str, shade: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 8, 0, 0, 0, 8, 8, 0, 0, 0, 0]);
    let mut text = b"Title\0".to_vec();
    text.extend(title.bytes().filter(u8::is_ascii));
    chunk(&mut out, b"tEXt", &text);
    let mut raw = Vec::new();
    for _ in 0..8 {
        raw.push(0); // filter: none
        raw.extend([shade; 8]);
    }
    // zlib: deflate with one stored block, then the Adler-32 of the raw bytes.
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend((raw.len() as u16).to_le_bytes());
    zlib.extend((!(raw.len() as u16)).to_le_bytes());
    zlib.extend(&raw);
    zlib.extend(adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(crate) fn blocks(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n").map(str::trim).filter(|b| !b.is_empty())
}

const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>";
const REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OFFICE_REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn content_types(overrides: &[(String, &str)]) -> Vec<u8> {
    let parts: String = overrides
        .iter()
        .map(|(part, ty)| format!("<Override PartName=\"/{part}\" ContentType=\"{ty}\"/>"))
        .collect();
    format!("{XML_HEAD}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>{parts}</Types>").into_bytes()
}

/// A relationships part: (id, type under officeDocument/2006/relationships/, target).
fn rels(entries: &[(String, &str, String)]) -> Vec<u8> {
    let list: String = entries
        .iter()
        .map(|(id, ty, target)| {
            format!("<Relationship Id=\"{id}\" Type=\"{OFFICE_REL}/{ty}\" Target=\"{target}\"/>")
        })
        .collect();
    format!("{XML_HEAD}<Relationships xmlns=\"{REL_NS}\">{list}</Relationships>").into_bytes()
}

fn office_document(target: &str) -> Vec<u8> {
    rels(&[("rId1".into(), "officeDocument", target.into())])
}

/// A .docx: one paragraph per text block.
pub(crate) fn docx(text: &str) -> Vec<u8> {
    let body: String = blocks(text)
        .map(|p| {
            format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                escape_xml(p)
            )
        })
        .collect();
    let document = format!(
        "{XML_HEAD}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    zip_stored(&[
        (
            "[Content_Types].xml".into(),
            content_types(&[(
                "word/document.xml".into(),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            )]),
        ),
        ("_rels/.rels".into(), office_document("word/document.xml")),
        ("word/document.xml".into(), document.into_bytes()),
    ])
}

/// A .xlsx with one sheet of inline strings, a row per CSV line.
pub(crate) fn xlsx(csv: &str) -> Vec<u8> {
    let rows: String = csv
        .lines()
        .map(|line| {
            let cells: String = line
                .split(',')
                .map(|c| format!("<c t=\"inlineStr\"><is><t>{}</t></is></c>", escape_xml(c)))
                .collect();
            format!("<row>{cells}</row>")
        })
        .collect();
    let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let sheet =
        format!("{XML_HEAD}<worksheet xmlns=\"{ns}\"><sheetData>{rows}</sheetData></worksheet>");
    let workbook = format!(
        "{XML_HEAD}<workbook xmlns=\"{ns}\" xmlns:r=\"{OFFICE_REL}\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    zip_stored(&[
        (
            "[Content_Types].xml".into(),
            content_types(&[
                (
                    "xl/workbook.xml".into(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                ),
                (
                    "xl/worksheets/sheet1.xml".into(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
                ),
            ]),
        ),
        ("_rels/.rels".into(), office_document("xl/workbook.xml")),
        ("xl/workbook.xml".into(), workbook.into_bytes()),
        (
            "xl/_rels/workbook.xml.rels".into(),
            rels(&[("rId1".into(), "worksheet", "worksheets/sheet1.xml".into())]),
        ),
        ("xl/worksheets/sheet1.xml".into(), sheet.into_bytes()),
    ])
}

/// A .pptx: the presentation part listing one slide per text block (at least one slide), each
/// slide a text box.
pub(crate) fn pptx(text: &str) -> Vec<u8> {
    let mut texts: Vec<&str> = blocks(text).collect();
    if texts.is_empty() {
        texts.push("");
    }
    let p = "http://schemas.openxmlformats.org/presentationml/2006/main";
    let a = "http://schemas.openxmlformats.org/drawingml/2006/main";
    let ids: String = (1..=texts.len())
        .map(|n| format!("<p:sldId id=\"{}\" r:id=\"rId{n}\"/>", 255 + n))
        .collect();
    let presentation = format!(
        "{XML_HEAD}<p:presentation xmlns:p=\"{p}\" xmlns:r=\"{OFFICE_REL}\"><p:sldIdLst>{ids}</p:sldIdLst><p:sldSz cx=\"9144000\" cy=\"6858000\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/></p:presentation>"
    );
    let slide_rels: Vec<(String, &str, String)> = (1..=texts.len())
        .map(|n| (format!("rId{n}"), "slide", format!("slides/slide{n}.xml")))
        .collect();
    let mut types = vec![(
        "ppt/presentation.xml".to_string(),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    )];
    let mut entries = Vec::new();
    for (i, block) in texts.iter().enumerate() {
        let part = format!("ppt/slides/slide{}.xml", i + 1);
        types.push((
            part.clone(),
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
        ));
        let slide = format!(
            "{XML_HEAD}<p:sld xmlns:p=\"{p}\" xmlns:a=\"{a}\"><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"Text\"/><p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>",
            escape_xml(block)
        );
        entries.push((part, slide.into_bytes()));
    }
    let mut all = vec![
        ("[Content_Types].xml".to_string(), content_types(&types)),
        (
            "_rels/.rels".into(),
            office_document("ppt/presentation.xml"),
        ),
        ("ppt/presentation.xml".into(), presentation.into_bytes()),
        ("ppt/_rels/presentation.xml.rels".into(), rels(&slide_rels)),
    ];
    all.extend(entries);
    zip_stored(&all)
}

/// A zip archive with every entry stored (no compression): small code, valid for any unzip.
fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        // Local file header: version 2.0, no flags, method 0 (stored), DOS time/date zero.
        out.extend(0x0403_4b50u32.to_le_bytes());
        out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend(crc.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend(size.to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend(crc.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend(size.to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        central.extend([0u8; 12]); // extra len, comment len, disk, internal attrs, external attrs
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    let count = entries.len() as u16;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn a_pdf_xref_points_at_every_object() {
        let bytes = pdf("one (two) three\n\nfour");
        let tail = String::from_utf8_lossy(&bytes[bytes.len() - 40..]).into_owned();
        let start: usize = tail
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(bytes[start..].starts_with(b"xref\n"));
        let table = String::from_utf8_lossy(&bytes[start..]).into_owned();
        for (n, line) in table.lines().skip(3).take(5).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let object = format!("{} 0 obj", n + 1);
            assert!(bytes[offset..].starts_with(object.as_bytes()), "{line}");
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("(one \\(two\\) three) Tj"));
    }
}
