//! Generic XML: validated with a streaming parser (no DTD or entity expansion), shown as a
//! ```xml block when small, or as its text content when large.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::formats::text::decode;
use crate::markdown::{collapse_ws, fence};
use crate::xmltree::resolve_ref;
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

/// Larger documents are data dumps; their words matter more than their tags.
const MAX_SOURCE_BLOCK: usize = 64 * 1024;

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let (text, _) = decode(bytes);
    let (content, root) = text_content(&text, limits.max_nesting_depth)?;
    let markdown = if text.len() <= MAX_SOURCE_BLOCK {
        fence("xml", text.trim())
    } else {
        content
    };
    let mut metadata = Metadata::default();
    if let Some(root) = root {
        metadata.extra.insert("root_element".to_owned(), root);
    }
    Ok(Extracted::new(Format::Xml, markdown, metadata))
}

/// The text of every element, one line per element with text, and the root element's name.
fn text_content(xml: &str, max_depth: usize) -> Result<(String, Option<String>), ExtractError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    let (mut depth, mut root, mut lines, mut current) = (0usize, None, Vec::new(), String::new());
    loop {
        let event = reader.read_event().map_err(|e| {
            ExtractError::corrupt_at("XML", format!("at byte {}", reader.error_position()), e)
        })?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > max_depth {
                    return Err(ExtractError::TooDeep { limit: max_depth });
                }
                if root.is_none() {
                    root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                flush(&mut current, &mut lines);
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                flush(&mut current, &mut lines);
            }
            Event::Empty(e) if root.is_none() => {
                root = Some(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            Event::Text(t) => current.push_str(&t.xml_content().unwrap_or_default()),
            Event::CData(t) => current.push_str(&t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => current.push_str(&resolve_ref(&r).unwrap_or_default()),
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut current, &mut lines);
    Ok((lines.join("\n\n"), root))
}

fn flush(current: &mut String, lines: &mut Vec<String>) {
    let text = collapse_ws(current);
    if !text.trim().is_empty() {
        lines.push(text.trim().to_owned());
    }
    current.clear();
}
