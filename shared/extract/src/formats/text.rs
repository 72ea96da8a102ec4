//! Plain text, Markdown and YAML; and the text decoding every text format shares.

use crate::markdown::{fence, normalise};
use crate::{ExtractError, Extracted, Format, Metadata};

/// Decodes text in any common encoding: BOMs first, then UTF-8, then a statistical guess
/// (Windows-1252 and friends). Returns the text and the encoding's name.
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
