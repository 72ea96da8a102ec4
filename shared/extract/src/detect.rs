//! Finding the real type of a file from its bytes; the declared MIME type and name are only hints.

use std::io::Cursor;

use crate::{Detected, Format};

/// Identifies `bytes` by magic numbers and container contents. `declared_mime` and `file_name`
/// only break ties between text formats, and are reported in `mismatch` when they disagree.
pub fn detect(bytes: &[u8], declared_mime: Option<&str>, file_name: Option<&str>) -> Detected {
    let declared = declared_mime
        .and_then(format_from_mime)
        .or_else(|| file_name.and_then(format_from_name));
    let format = sniff(bytes, declared);
    let mismatch = declared.filter(|d| disagrees(*d, format)).map(|d| {
        let what = declared_mime
            .filter(|m| format_from_mime(m).is_some())
            .map(str::to_owned)
            .or_else(|| file_name.map(|n| format!("name {n}")))
            .unwrap_or_else(|| d.label().to_owned());
        format!("declared {what} but content is {}", format.label())
    });
    Detected {
        format,
        mismatch,
        declared,
    }
}

fn disagrees(declared: Format, actual: Format) -> bool {
    if declared == actual {
        return false;
    }
    // Text formats are told apart by name as much as content; a .txt holding CSV is no surprise.
    if declared.is_textual() && actual.is_textual() {
        return false;
    }
    let same_family = |a: &[Format]| a.contains(&declared) && a.contains(&actual);
    !(same_family(&[Format::Xlsx, Format::Xlsm, Format::Xlsb])
        || same_family(&[Format::Mp4, Format::M4a, Format::Mov]))
}

fn sniff(bytes: &[u8], declared: Option<Format>) -> Format {
    if let Some(format) = sniff_magic(bytes) {
        return format;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        // An archive too damaged to list keeps its declared office type, so the error can say
        // "damaged DOCX" rather than "not a DOCX".
        return sniff_zip(bytes)
            .unwrap_or_else(|| declared.filter(|d| is_zip_based(*d)).unwrap_or(Format::Zip));
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return sniff_cfb(bytes);
    }
    if is_mp3(bytes) {
        return Format::Mp3;
    }
    sniff_text(bytes, declared)
}

fn sniff_magic(b: &[u8]) -> Option<Format> {
    let head = &b[..b.len().min(1024)];
    let format = if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Format::Png
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Format::Jpeg
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Format::Gif
    } else if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP") {
        Format::Webp
    } else if b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE") {
        Format::Wav
    } else if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        Format::Tiff
    } else if b.get(4..8) == Some(b"ftyp") {
        sniff_ftyp(b)
    } else if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Format::Webm
    } else if b.starts_with(b"{\\rtf") {
        Format::Rtf
    } else if find(head, b"%PDF-").is_some() {
        // Some producers put junk before the header; readers accept it within the first 1 KB.
        Format::Pdf
    } else {
        return None;
    };
    Some(format)
}

fn sniff_ftyp(b: &[u8]) -> Format {
    // ISO-BMFF carries both photos (HEIF) and movies; the major brand tells them apart.
    match b.get(8..12) {
        Some(b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1") => Format::Heic,
        Some(b"avif" | b"avis") => Format::Avif,
        Some(b"M4A ") | Some(b"M4B ") => Format::M4a,
        Some(b"qt  ") => Format::Mov,
        _ => Format::Mp4,
    }
}

fn is_mp3(b: &[u8]) -> bool {
    b.starts_with(b"ID3")
        || (b.len() > 4 && b[0] == 0xFF && (b[1] & 0xE6) == 0xE2 && (b[2] & 0xF0) != 0xF0)
}

fn is_zip_based(format: Format) -> bool {
    use Format::*;
    matches!(
        format,
        Docx | Xlsx | Xlsm | Xlsb | Pptx | Odt | Ods | Odp | Epub
    )
}

/// The office or e-book format a ZIP holds, or `None` when the archive cannot be listed.
fn sniff_zip(bytes: &[u8]) -> Option<Format> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if let Some(format) = zip_mimetype(&mut archive) {
        return Some(format);
    }
    // Office matches part names without regard to case or slash direction (`xl\workbook.xml`).
    let has = |name: &str| {
        archive.index_for_name(name).is_some()
            || archive
                .file_names()
                .any(|n| crate::archive::same_part(n, name))
    };
    let format = if has("word/document.xml") {
        Format::Docx
    } else if has("xl/workbook.xml") {
        if has("xl/vbaProject.bin") {
            Format::Xlsm
        } else {
            Format::Xlsx
        }
    } else if has("xl/workbook.bin") {
        Format::Xlsb
    } else if has("ppt/presentation.xml") {
        Format::Pptx
    } else if has("META-INF/container.xml") {
        Format::Epub
    } else {
        Format::Zip
    };
    Some(format)
}

/// ODF and EPUB name their type in a small stored `mimetype` entry.
fn zip_mimetype(archive: &mut zip::ZipArchive<Cursor<&[u8]>>) -> Option<Format> {
    use std::io::Read;
    let entry = archive.by_name("mimetype").ok()?;
    let mut mime = String::new();
    entry.take(200).read_to_string(&mut mime).ok()?;
    match mime.trim() {
        "application/vnd.oasis.opendocument.text" => Some(Format::Odt),
        "application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Ods),
        "application/vnd.oasis.opendocument.presentation" => Some(Format::Odp),
        "application/epub+zip" => Some(Format::Epub),
        _ => None,
    }
}

/// OLE2 compound files name their streams in UTF-16 directory entries; the stream names tell
/// Word, Excel and PowerPoint apart without a full CFB parser.
fn sniff_cfb(bytes: &[u8]) -> Format {
    let utf16 = |s: &str| {
        s.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>()
    };
    // A message may carry Word or Excel attachments inside it, so it is checked first.
    if find(bytes, &utf16("__substg1.0_")).is_some() {
        Format::Msg
    } else if find(bytes, &utf16("WordDocument")).is_some() {
        Format::Doc
    } else if find(bytes, &utf16("Workbook")).is_some() || find(bytes, &utf16("Book")).is_some() {
        Format::Xls
    } else if find(bytes, &utf16("PowerPoint Document")).is_some() {
        Format::Ppt
    } else {
        Format::Binary
    }
}

fn sniff_text(bytes: &[u8], declared: Option<Format>) -> Format {
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    if !crate::formats::text::looks_like_text(sample) {
        return Format::Binary;
    }
    let text = crate::formats::text::decode(sample).0;
    let trimmed = text.trim_start();
    if let Some(format) = sniff_text_content(trimmed) {
        // Content that is unmistakable wins, except that Markdown may hold HTML and a .txt may
        // hold JSON-looking text; for those the declared type decides.
        return match (format, declared) {
            (Format::Html, Some(Format::Markdown)) => Format::Markdown,
            (f, Some(d)) if d.is_textual() && d != Format::Text && d != f && is_soft(f) => d,
            (f, _) => f,
        };
    }
    match declared {
        Some(d) if d.is_textual() => d,
        _ => Format::Text,
    }
}

/// Text formats recognised from content with only moderate confidence.
fn is_soft(format: Format) -> bool {
    matches!(
        format,
        Format::Json | Format::ZoomChat | Format::Srt | Format::Eml
    )
}

fn sniff_text_content(text: &str) -> Option<Format> {
    let lower: String = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("webvtt") {
        return Some(Format::Vtt);
    }
    if lower.starts_with("{\\rtf") {
        return Some(Format::Rtf);
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return Some(Format::Html);
    }
    if lower.starts_with("<?xml") {
        return Some(if lower.contains("<html") {
            Format::Html
        } else {
            Format::Xml
        });
    }
    if lower.starts_with('<') && !lower.starts_with("<!--") {
        let html_tags = ["<body", "<div", "<p>", "<p ", "<h1", "<table", "<head"];
        return Some(if html_tags.iter().any(|t| lower.contains(t)) {
            Format::Html
        } else {
            Format::Xml
        });
    }
    if (lower.starts_with('{') || lower.starts_with('[')) && looks_like_json(text) {
        return Some(Format::Json);
    }
    if looks_like_srt(text) {
        return Some(Format::Srt);
    }
    if crate::formats::transcript::looks_like_zoom_chat(text) {
        return Some(Format::ZoomChat);
    }
    if looks_like_email(&lower) {
        return Some(Format::Eml);
    }
    None
}

fn looks_like_json(text: &str) -> bool {
    let t = text.trim_end();
    (t.starts_with('{') && t.ends_with('}')) || (t.starts_with('[') && t.ends_with(']'))
}

fn looks_like_srt(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let second = lines.next().unwrap_or("");
    !first.is_empty() && first.chars().all(|c| c.is_ascii_digit()) && second.contains("-->")
}

fn looks_like_email(lower: &str) -> bool {
    let head: Vec<&str> = lower.lines().take_while(|l| !l.trim().is_empty()).collect();
    let has = |h: &str| head.iter().any(|l| l.starts_with(h));
    (has("from:") || has("received:") || has("return-path:"))
        && (has("subject:") || has("message-id:") || has("mime-version:"))
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(haystack, needle)
}

/// The format a MIME type names, if we know it.
pub fn format_from_mime(mime: &str) -> Option<Format> {
    let essence = mime
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match essence.as_str() {
        "text/plain" => Format::Text,
        "text/markdown" | "text/x-markdown" => Format::Markdown,
        "text/csv" => Format::Csv,
        "text/tab-separated-values" => Format::Tsv,
        "application/json" => Format::Json,
        "application/xml" | "text/xml" => Format::Xml,
        "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => Format::Yaml,
        "text/html" | "application/xhtml+xml" => Format::Html,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Format::Docx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Format::Xlsx,
        "application/vnd.ms-excel.sheet.macroenabled.12" => Format::Xlsm,
        "application/vnd.ms-excel.sheet.binary.macroenabled.12" => Format::Xlsb,
        "application/vnd.ms-excel" => Format::Xls,
        "application/vnd.oasis.opendocument.spreadsheet" => Format::Ods,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => Format::Pptx,
        "application/vnd.oasis.opendocument.text" => Format::Odt,
        "application/vnd.oasis.opendocument.presentation" => Format::Odp,
        "application/epub+zip" => Format::Epub,
        "application/pdf" => Format::Pdf,
        "application/rtf" | "text/rtf" => Format::Rtf,
        "message/rfc822" => Format::Eml,
        "text/vtt" => Format::Vtt,
        "application/x-subrip" => Format::Srt,
        "image/png" => Format::Png,
        "image/jpeg" => Format::Jpeg,
        "image/gif" => Format::Gif,
        "image/webp" => Format::Webp,
        "image/tiff" => Format::Tiff,
        "image/heic" | "image/heif" => Format::Heic,
        "image/avif" => Format::Avif,
        "audio/mpeg" => Format::Mp3,
        "audio/wav" | "audio/x-wav" | "audio/wave" => Format::Wav,
        "audio/mp4" | "audio/x-m4a" => Format::M4a,
        "video/mp4" => Format::Mp4,
        "video/quicktime" => Format::Mov,
        "video/webm" | "audio/webm" => Format::Webm,
        "application/msword" => Format::Doc,
        "application/vnd.ms-powerpoint" => Format::Ppt,
        "application/vnd.ms-outlook" => Format::Msg,
        "application/zip" => Format::Zip,
        _ => return None,
    };
    Some(format)
}

/// The format a file name's extension names, if we know it.
pub fn format_from_name(name: &str) -> Option<Format> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    let format = match ext.as_str() {
        "txt" | "text" | "log" => Format::Text,
        "md" | "markdown" => Format::Markdown,
        "csv" => Format::Csv,
        "tsv" | "tab" => Format::Tsv,
        "json" => Format::Json,
        "xml" => Format::Xml,
        "yaml" | "yml" => Format::Yaml,
        "html" | "htm" | "xhtml" => Format::Html,
        "docx" => Format::Docx,
        "xlsx" => Format::Xlsx,
        "xlsm" => Format::Xlsm,
        "xlsb" => Format::Xlsb,
        "xls" => Format::Xls,
        "ods" => Format::Ods,
        "pptx" => Format::Pptx,
        "odt" => Format::Odt,
        "odp" => Format::Odp,
        "epub" => Format::Epub,
        "pdf" => Format::Pdf,
        "rtf" => Format::Rtf,
        "eml" => Format::Eml,
        "vtt" => Format::Vtt,
        "srt" => Format::Srt,
        "png" => Format::Png,
        "jpg" | "jpeg" => Format::Jpeg,
        "gif" => Format::Gif,
        "webp" => Format::Webp,
        "tif" | "tiff" => Format::Tiff,
        "heic" | "heif" => Format::Heic,
        "avif" => Format::Avif,
        "mp3" => Format::Mp3,
        "wav" => Format::Wav,
        "m4a" => Format::M4a,
        "mp4" | "m4v" => Format::Mp4,
        "mov" => Format::Mov,
        "webm" => Format::Webm,
        "doc" => Format::Doc,
        "ppt" => Format::Ppt,
        "msg" => Format::Msg,
        "zip" => Format::Zip,
        _ => return None,
    };
    Some(format)
}
