//! Plain text, Markdown and YAML; and the text decoding every text format shares.

use crate::markdown::{fence, normalise};
use crate::{ExtractError, Extracted, Format, Metadata};

/// Decodes text in any common encoding: BOMs first, then UTF-8, then a statistical guess
/// (Windows-1252 and friends). Returns the text and the encoding's name.
/// An HTML page's text: a byte-order mark, else the charset its server declared (`Content-Type:
/// text/html; charset=…`), else its own `<meta charset>` / `http-equiv` in the first 1024 bytes,
/// else UTF-8 when valid, else a guess from the bytes.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> (String, &'static str) {
    let has_bom = bytes.starts_with(b"\xEF\xBB\xBF")
        || bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF");
    let declared = content_type
        .and_then(charset_param)
        .or_else(|| meta_charset(&bytes[..bytes.len().min(1024)]))
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
        // A page cannot really be UTF-16 when its bytes declare it in ASCII (HTML's rule).
        .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE);
    match declared {
        Some(encoding) if !has_bom => {
            let (text, _, _) = encoding.decode(bytes);
            (text.into_owned(), encoding.name())
        }
        _ => decode(bytes),
    }
}

fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']))
    })
}

/// `<meta charset="x">` or `<meta http-equiv="Content-Type" content="text/html; charset=x">`.
fn meta_charset(head: &[u8]) -> Option<&str> {
    let head = std::str::from_utf8(head)
        .unwrap_or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""));
    let lower = head.to_ascii_lowercase();
    let at = lower.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'']);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    (end > 0 && lower[..at].contains("<meta")).then(|| &rest[..end])
}

pub(crate) fn decode(bytes: &[u8]) -> (String, &'static str) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8");
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(rest);
        return (text.into_owned(), "UTF-16LE");
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        return (text.into_owned(), "UTF-16BE");
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => return (text.to_owned(), "UTF-8"),
        // Cut in the middle of a character (a sample): still UTF-8.
        Err(e) if e.error_len().is_none() => {
            return (String::from_utf8_lossy(bytes).into_owned(), "UTF-8");
        }
        Err(_) => {}
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(bytes);
    (text.into_owned(), encoding.name())
}

/// Text has no NUL bytes (unless it is UTF-16 with a BOM) and few control characters.
pub(crate) fn looks_like_text(sample: &[u8]) -> bool {
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return true;
    }
    if sample.contains(&0) {
        return false;
    }
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
        .count();
    control * 100 <= sample.len()
}

fn text_metadata(encoding: &str) -> Metadata {
    let mut metadata = Metadata::default();
    metadata
        .extra
        .insert("encoding".to_owned(), encoding.to_owned());
    metadata
}

pub(crate) fn extract_text(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode(bytes);
    Ok(Extracted::new(
        Format::Text,
        normalise(&text),
        text_metadata(encoding),
    ))
}

pub(crate) fn extract_markdown(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode(bytes);
    let (front_matter, body) = split_front_matter(&text);
    let markdown = normalise(body);
    let mut metadata = text_metadata(encoding);
    metadata.title = front_matter
        .and_then(|fm| front_matter_field(fm, "title"))
        .or_else(|| first_heading(&markdown));
    metadata.author = front_matter.and_then(|fm| front_matter_field(fm, "author"));
    Ok(Extracted::new(Format::Markdown, markdown, metadata))
}

pub(crate) fn extract_yaml(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode(bytes);
    // Shown as source, never parsed: YAML aliases can be as explosive as XML entities.
    let markdown = fence("yaml", &normalise(&text));
    Ok(Extracted::new(
        Format::Yaml,
        markdown,
        text_metadata(encoding),
    ))
}

/// `---\n…\n---` at the very top of a Markdown file.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    match rest.find("\n---") {
        Some(end) => {
            let after = &rest[end + 4..];
            (Some(&rest[..end]), after.trim_start_matches(['\r', '\n']))
        }
        None => (None, text),
    }
}

fn front_matter_field(front_matter: &str, key: &str) -> Option<String> {
    front_matter.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim().trim_matches(['"', '\'']).to_owned())
            .filter(|v| !v.is_empty())
    })
}

fn first_heading(markdown: &str) -> Option<String> {
    markdown
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_owned())
}
