//! Pieces shared by the ZIP+XML office formats: reading parts as trees, relationships, and
//! Dublin Core properties.

use std::collections::HashMap;

use crate::archive::SafeZip;
use crate::xmltree::{self, Element};
use crate::{ExtractError, Limits, Metadata};

pub(crate) fn read_xml(
    zip: &mut SafeZip<'_>,
    path: &str,
    limits: &Limits,
    format: &'static str,
) -> Result<Option<Element>, ExtractError> {
    match zip.read(path)? {
        Some(bytes) => xmltree::parse(&bytes, limits.max_nesting_depth, format).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn require_xml(
    zip: &mut SafeZip<'_>,
    path: &str,
    limits: &Limits,
    format: &'static str,
) -> Result<Element, ExtractError> {
    read_xml(zip, path, limits, format)?
        .ok_or_else(|| ExtractError::corrupt(format, format!("{path} is missing")))
}

/// Relationship id → target path (resolved against the part's folder) or external URL.
pub(crate) fn read_rels(
    zip: &mut SafeZip<'_>,
    part: &str,
    limits: &Limits,
    format: &'static str,
) -> Result<HashMap<String, String>, ExtractError> {
    let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
    let rels_path = if dir.is_empty() {
        format!("_rels/{file}.rels")
    } else {
        format!("{dir}/_rels/{file}.rels")
    };
    let Some(tree) = read_xml(zip, &rels_path, limits, format)? else {
        return Ok(HashMap::new());
    };
    let mut rels = Vec::new();
    tree.find_all("Relationship", &mut rels);
    Ok(rels
        .into_iter()
        .filter_map(|r| {
            let id = r.attr("Id")?.to_owned();
            let target = r.attr("Target")?;
            let external = r.attr("TargetMode") == Some("External");
            Some((
                id,
                if external {
                    target.to_owned()
                } else {
                    resolve_path(dir, target)
                },
            ))
        })
        .collect())
}

/// Joins a relative part path (`../notesSlides/n1.xml`) onto a folder inside the archive.
pub(crate) fn resolve_path(dir: &str, target: &str) -> String {
    if let Some(absolute) = target.strip_prefix('/') {
        return absolute.to_owned();
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for piece in target.split('/') {
        match piece {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Title, author and dates from `docProps/core.xml` (Dublin Core), when present.
pub(crate) fn core_properties(
    zip: &mut SafeZip<'_>,
    limits: &Limits,
    format: &'static str,
) -> Result<Metadata, ExtractError> {
    let mut metadata = Metadata::default();
    let Some(core) = read_xml(zip, "docProps/core.xml", limits, format)? else {
        return Ok(metadata);
    };
    let field = |name: &str| {
        core.find(name)
            .map(|e| e.text().trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    metadata.title = field("title");
    metadata.author = field("creator");
    metadata.created = field("created");
    metadata.modified = field("modified");
    metadata.language = field("language");
    if let Some(by) = field("lastModifiedBy") {
        metadata.extra.insert("last_modified_by".to_owned(), by);
    }
    Ok(metadata)
}

/// OOXML booleans: an element present with no value, or a value other than false/0/off.
pub(crate) fn on(element: Option<&Element>) -> bool {
    element.is_some_and(|e| {
        !matches!(
            e.attr("w:val").or_else(|| e.attr("val")),
            Some("0" | "false" | "off" | "none")
        )
    })
}
