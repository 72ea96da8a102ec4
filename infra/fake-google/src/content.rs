//! File bodies: seeded sample files, Google-native exports, and the checksums Drive reports.

use rand::Rng;

use crate::errors::ApiError;
use crate::mime;
use crate::state::{FileRecord, NewFile};

const WORDS: &[&str] = &[
    "meeting",
    "notes",
    "budget",
    "roadmap",
    "customer",
    "interview",
    "launch",
    "review",
    "quarterly",
    "design",
    "research",
    "summary",
    "action",
    "items",
    "decision",
    "owner",
    "deadline",
    "risk",
    "metrics",
    "growth",
    "hiring",
    "plan",
    "retro",
    "sprint",
    "feedback",
    "pricing",
    "contract",
    "support",
    "onboarding",
    "demo",
];

fn words(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn title(rng: &mut impl Rng, i: usize) -> String {
    let w = words(rng, 2);
    let mut chars = w.chars();
    let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
    format!("{first}{} {i:04}", chars.as_str())
}

fn paragraphs(rng: &mut impl Rng) -> String {
    let n = rng.random_range(1..5);
    (0..n)
        .map(|_| {
            let len = rng.random_range(8..30);
            format!("{}.", words(rng, len))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn csv(rng: &mut impl Rng) -> String {
    let mut out = String::from("name,owner,amount\n");
    for _ in 0..rng.random_range(2..12) {
        out.push_str(&format!(
            "{},{},{}\n",
            words(rng, 1),
            words(rng, 1),
            rng.random_range(1..10_000)
        ));
    }
    out
}

fn random_bytes(rng: &mut impl Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.random()).collect()
}

/// The `i`-th seeded file: a mix of binary formats and Google-native documents.
pub(crate) fn seed_file(i: usize, rng: &mut impl Rng) -> NewFile {
    let name = title(rng, i);
    match rng.random_range(0..9) {
        0 => NewFile::new(
            format!("{name}.pdf"),
            "application/pdf",
            pdf(&paragraphs(rng)),
        ),
        1 => NewFile::new(format!("{name}.txt"), "text/plain", paragraphs(rng)),
        2 => NewFile::new(format!("{name}.csv"), "text/csv", csv(rng)),
        3 => NewFile::new(format!("{name}.docx"), mime::DOCX, docx(&paragraphs(rng))),
        4 => {
            let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
            png.extend(random_bytes(rng, 256));
            NewFile::new(format!("{name}.png"), "image/png", png)
        }
        5 => {
            let mut jpeg = b"\xff\xd8\xff\xe0".to_vec();
            jpeg.extend(random_bytes(rng, 256));
            jpeg.extend(b"\xff\xd9");
            NewFile::new(format!("{name}.jpg"), "image/jpeg", jpeg)
        }
        6 => NewFile::new(name, mime::GOOGLE_DOC, paragraphs(rng)),
        7 => NewFile::new(name, mime::GOOGLE_SHEET, csv(rng)),
        _ => NewFile::new(name, mime::GOOGLE_SLIDES, paragraphs(rng)),
    }
}

/// What Drive's export would produce for a Google-native file, or Drive's refusal.
pub(crate) fn export(file: &FileRecord, target: &str) -> Result<Vec<u8>, ApiError> {
    let text = String::from_utf8_lossy(&file.content);
    let out = match (file.mime_type.as_str(), target) {
        (mime::GOOGLE_DOC, "text/plain" | "text/markdown") => text.into_owned().into_bytes(),
        (mime::GOOGLE_DOC, "text/html") => html(&file.name, &text).into_bytes(),
        (mime::GOOGLE_DOC, mime::DOCX) => docx(&text),
        (mime::GOOGLE_DOC, "application/rtf") => {
            format!("{{\\rtf1\\ansi {}}}", text.replace('\n', "\\par\n")).into_bytes()
        }
        (mime::GOOGLE_SHEET, "text/csv") => text.into_owned().into_bytes(),
        (mime::GOOGLE_SHEET, "text/tab-separated-values") => text.replace(',', "\t").into_bytes(),
        (mime::GOOGLE_SHEET, mime::XLSX) => xlsx(&text),
        (mime::GOOGLE_SLIDES, "text/plain") => text.into_owned().into_bytes(),
        (mime::GOOGLE_SLIDES, mime::PPTX) => pptx(&text),
        (mime::GOOGLE_DOC | mime::GOOGLE_SHEET | mime::GOOGLE_SLIDES, "application/pdf") => {
            pdf(&text)
        }
        (mime::GOOGLE_DOC | mime::GOOGLE_SHEET | mime::GOOGLE_SLIDES, _) => {
            return Err(ApiError::conversion_not_supported());
        }
        _ => return Err(ApiError::not_exportable()),
    };
    Ok(out)
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn blocks(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n").map(str::trim).filter(|b| !b.is_empty())
}

fn html(title: &str, text: &str) -> String {
    let body: String = blocks(text)
        .map(|p| format!("<p>{}</p>", escape_xml(p)))
        .collect();
    format!(
        "<html><head><meta content=\"text/html; charset=UTF-8\" http-equiv=\"content-type\"><title>{}</title></head><body>{body}</body></html>",
        escape_xml(title)
    )
}

/// Not a renderable PDF, but it starts and ends like one and carries the text.
fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% fake-google\n{text}\n%%EOF\n").into_bytes()
}

const CONTENT_TYPES_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>";

fn rels(target: &str) -> Vec<u8> {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"{target}\"/></Relationships>").into_bytes()
}

/// A minimal but well-formed .docx (a stored zip with the three parts Word needs).
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
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let types = format!(
        "{CONTENT_TYPES_HEAD}<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>"
    );
    zip_stored(&[
        ("[Content_Types].xml", types.into_bytes()),
        ("_rels/.rels", rels("word/document.xml")),
        ("word/document.xml", document.into_bytes()),
    ])
}

/// A small .xlsx with one sheet of inline strings.
fn xlsx(csv: &str) -> Vec<u8> {
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
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><worksheet xmlns=\"{ns}\"><sheetData>{rows}</sheetData></worksheet>"
    );
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><workbook xmlns=\"{ns}\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let workbook_rels = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>";
    let types = format!(
        "{CONTENT_TYPES_HEAD}<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
    );
    zip_stored(&[
        ("[Content_Types].xml", types.into_bytes()),
        ("_rels/.rels", rels("xl/workbook.xml")),
        ("xl/workbook.xml", workbook.into_bytes()),
        (
            "xl/_rels/workbook.xml.rels",
            workbook_rels.as_bytes().to_vec(),
        ),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ])
}

/// A zip holding one slide part per text block; enough for text extraction, not for PowerPoint.
fn pptx(text: &str) -> Vec<u8> {
    let mut entries = vec![
        (
            "[Content_Types].xml".to_string(),
            format!("{CONTENT_TYPES_HEAD}</Types>").into_bytes(),
        ),
        ("_rels/.rels".to_string(), rels("ppt/presentation.xml")),
    ];
    for (i, block) in blocks(text).enumerate() {
        let slide = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><p:sld xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>",
            escape_xml(block)
        );
        entries.push((format!("ppt/slides/slide{}.xml", i + 1), slide.into_bytes()));
    }
    let refs: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    zip_stored(&refs)
}

/// A zip archive with every entry stored (no compression): small code, valid for any unzip.
fn zip_stored(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
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

/// MD5 (RFC 1321), because Drive reports `md5Checksum` and the workspace has no md5 crate.
pub(crate) fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend(bit_len.to_le_bytes());
    let (mut a0, mut b0, mut c0, mut d0) = (
        0x6745_2301u32,
        0xefcd_ab89u32,
        0x98ba_dcfeu32,
        0x1032_5476u32,
    );
    for chunk in msg.chunks(64) {
        let m: Vec<u32> = chunk
            .chunks(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let (mut a, mut b, mut c, mut d) = (a0, b0, c0, d0);
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        a0 = a0.wrapping_add(a);
        b0 = b0.wrapping_add(b);
        c0 = c0.wrapping_add(c);
        d0 = d0.wrapping_add(d);
    }
    [a0, b0, c0, d0]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_the_rfc_test_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_docx_export_is_a_zip_with_the_text_inside() {
        let bytes = docx("hello & goodbye");
        assert!(bytes.starts_with(b"PK\x03\x04"));
        assert!(String::from_utf8_lossy(&bytes).contains("hello &amp; goodbye"));
        assert!(bytes.windows(4).any(|w| w == b"PK\x05\x06"));
    }
}
