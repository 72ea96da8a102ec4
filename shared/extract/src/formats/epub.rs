//! EPUB: the spine's XHTML documents in reading order, each through the HTML converter.

use std::collections::HashMap;

use crate::archive::SafeZip;
use crate::formats::html::to_markdown;
use crate::formats::ooxml::{require_xml, resolve_path};
use crate::markdown::join_blocks;
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

const FORMAT: &str = "EPUB";

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = SafeZip::open(bytes, limits, FORMAT)?;
    let container = require_xml(&mut zip, "META-INF/container.xml", limits, FORMAT)?;
    let opf_path = container
        .find("rootfile")
        .and_then(|r| r.attr("full-path"))
        .ok_or_else(|| ExtractError::corrupt(FORMAT, "container.xml names no package file"))?
        .to_owned();
    let opf = require_xml(&mut zip, &opf_path, limits, FORMAT)?;
    let opf_dir = opf_path.rsplit_once('/').map_or("", |(d, _)| d);

    let manifest: HashMap<&str, &str> = opf
        .find("manifest")
        .map(|m| {
            m.elements()
                .filter_map(|i| Some((i.attr("id")?, i.attr("href")?)))
                .collect()
        })
        .unwrap_or_default();
    let spine: Vec<String> = opf
        .find("spine")
        .map(|s| {
            s.elements()
                .filter_map(|i| i.attr("idref"))
                .filter_map(|id| manifest.get(id))
                .map(|h| resolve_path(opf_dir, &percent_decode(h)))
                .collect()
        })
        .unwrap_or_default();

    let mut chapters = Vec::with_capacity(spine.len());
    for path in &spine {
        if let Some(xhtml) = zip.read_text(path)? {
            chapters.push(to_markdown(&xhtml, limits)?.0);
        }
    }
    let field = |name: &str| {
        opf.find("metadata")
            .and_then(|m| m.find(name))
            .map(|e| e.text().trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let mut metadata = Metadata {
        title: field("title"),
        author: field("creator"),
        language: field("language"),
        created: field("date"),
        ..Metadata::default()
    };
    metadata
        .extra
        .insert("chapters".to_owned(), spine.len().to_string());
    Ok(Extracted::new(
        Format::Epub,
        join_blocks(chapters),
        metadata,
    ))
}

/// Manifest hrefs are URLs; archive names are not escaped.
fn percent_decode(href: &str) -> String {
    let bytes = href.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out)
        .split('#')
        .next()
        .unwrap_or("")
        .to_owned()
}
