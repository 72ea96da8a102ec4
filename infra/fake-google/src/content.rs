//! File bodies: seeded sample files, Google-native exports, and the checksums Drive reports.

use rand::Rng;

use crate::errors::ApiError;
use crate::formats;
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

/// The `i`-th seeded file: a mix of binary formats and Google-native documents, each a valid
/// file of its type (see `formats`), so a demo fails only where a fault was asked for.
pub(crate) fn seed_file(i: usize, rng: &mut impl Rng) -> NewFile {
    let name = title(rng, i);
    match rng.random_range(0..9) {
        0 => NewFile::new(
            format!("{name}.pdf"),
            "application/pdf",
            formats::pdf(&paragraphs(rng)),
        ),
        1 => NewFile::new(format!("{name}.txt"), "text/plain", paragraphs(rng)),
        2 => NewFile::new(format!("{name}.csv"), "text/csv", csv(rng)),
        3 => NewFile::new(
            format!("{name}.docx"),
            mime::DOCX,
            formats::docx(&paragraphs(rng)),
        ),
        4 => {
            let png = formats::png(&name, rng.random());
            NewFile::new(format!("{name}.png"), "image/png", png)
        }
        5 => NewFile::new(format!("{name}.jpg"), "image/jpeg", formats::jpeg(&name)),
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
        (mime::GOOGLE_DOC, mime::DOCX) => formats::docx(&text),
        (mime::GOOGLE_DOC, "application/rtf") => {
            format!("{{\\rtf1\\ansi {}}}", text.replace('\n', "\\par\n")).into_bytes()
        }
        (mime::GOOGLE_SHEET, "text/csv") => text.into_owned().into_bytes(),
        (mime::GOOGLE_SHEET, "text/tab-separated-values") => text.replace(',', "\t").into_bytes(),
        (mime::GOOGLE_SHEET, mime::XLSX) => formats::xlsx(&text),
        (mime::GOOGLE_SLIDES, "text/plain") => text.into_owned().into_bytes(),
        (mime::GOOGLE_SLIDES, mime::PPTX) => formats::pptx(&text),
        (mime::GOOGLE_DOC | mime::GOOGLE_SHEET | mime::GOOGLE_SLIDES, "application/pdf") => {
            formats::pdf(&text)
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

fn html(title: &str, text: &str) -> String {
    let body: String = formats::blocks(text)
        .map(|p| format!("<p>{}</p>", escape_xml(p)))
        .collect();
    format!(
        "<html><head><meta content=\"text/html; charset=UTF-8\" http-equiv=\"content-type\"><title>{}</title></head><body>{body}</body></html>",
        escape_xml(title)
    )
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

    /// Every seeded kind, and every export the Drive connector asks for, goes through the
    /// product's extractor: each must read as its type with some text.
    #[test]
    fn every_seeded_file_and_export_extracts_with_text() {
        use rand::SeedableRng;
        use recorder_extract::{Hints, Limits, extract};
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let mut kinds = std::collections::BTreeSet::new();
        let mut failures = Vec::new();
        for i in 0..60 {
            let new = seed_file(i, &mut rng);
            let file = FileRecord {
                id: crate::state::FileId(format!("f{i}")),
                name: new.name,
                mime_type: new.mime_type,
                parents: Vec::new(),
                content: new.content.into(),
                created_time: chrono::Utc::now(),
                modified_time: chrono::Utc::now(),
                trashed: false,
                drive_id: None,
                version: 1,
                created_seq: i as u64,
                md5: String::new(),
            };
            let (bytes, mime) = match file.mime_type.as_str() {
                mime::GOOGLE_DOC => (export(&file, "text/markdown").unwrap(), "text/markdown"),
                mime::GOOGLE_SHEET => (export(&file, mime::XLSX).unwrap(), mime::XLSX),
                mime::GOOGLE_SLIDES => (export(&file, mime::PPTX).unwrap(), mime::PPTX),
                other => (file.content.to_vec(), other),
            };
            kinds.insert(file.mime_type.clone());
            let hints = Hints {
                declared_mime: Some(mime.to_string()),
                file_name: Some(file.name.clone()),
            };
            match extract(&bytes, &hints, &Limits::default()) {
                Ok(out) if !out.markdown.trim().is_empty() => {}
                Ok(_) => failures.push(format!("{} ({mime}): no text", file.name)),
                Err(e) => failures.push(format!("{} ({mime}): {e}", file.name)),
            }
        }
        assert_eq!(kinds.len(), 9, "every kind is seeded: {kinds:?}");
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
