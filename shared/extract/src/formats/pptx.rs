//! PPTX: per slide `## Slide N: Title`, body text as bullets, tables, and `### Notes`.

use std::collections::HashMap;

use crate::archive::SafeZip;
use crate::formats::ooxml::{core_properties, read_rels, read_xml, require_xml};
use crate::markdown::{emphasise, join_blocks, link, table};
use crate::xmltree::Element;
use crate::{ExtractError, Extracted, Format, Limits};

const FORMAT: &str = "PPTX";

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = SafeZip::open(bytes, limits, FORMAT)?;
    let slides = slide_paths(&mut zip, limits)?;
    let mut blocks = Vec::new();
    for (i, path) in slides.iter().enumerate() {
        let Some(slide) = read_xml(&mut zip, path, limits, FORMAT)? else {
            continue;
        };
        let rels = read_rels(&mut zip, path, limits, FORMAT)?;
        let notes = notes_for(&mut zip, &rels, limits)?;
        blocks.push(render_slide(i + 1, &slide, notes.as_ref(), &rels));
    }
    let mut metadata = core_properties(&mut zip, limits, FORMAT)?;
    metadata.slide_count = Some(slides.len() as u32);
    Ok(Extracted::new(Format::Pptx, join_blocks(blocks), metadata))
}

/// Slide parts in presentation order (`sldIdLst`), not archive order.
fn slide_paths(zip: &mut SafeZip<'_>, limits: &Limits) -> Result<Vec<String>, ExtractError> {
    let presentation = require_xml(zip, "ppt/presentation.xml", limits, FORMAT)?;
    let rels = read_rels(zip, "ppt/presentation.xml", limits, FORMAT)?;
    let mut ids = Vec::new();
    if let Some(list) = presentation.find("sldIdLst") {
        list.find_all("sldId", &mut ids);
    }
    let ordered: Vec<String> = ids
        .iter()
        .filter_map(|s| s.attr("r:id"))
        .filter_map(|id| rels.get(id).cloned())
        .collect();
    if !ordered.is_empty() {
        return Ok(ordered);
    }
    // No usable list: fall back to slideN.xml by number.
    let mut names: Vec<(u32, String)> = zip
        .names()
        .into_iter()
        .filter_map(|n| {
            let num = n
                .strip_prefix("ppt/slides/slide")?
                .strip_suffix(".xml")?
                .parse()
                .ok()?;
            Some((num, n))
        })
        .collect();
    names.sort();
    Ok(names.into_iter().map(|(_, n)| n).collect())
}

fn notes_for(
    zip: &mut SafeZip<'_>,
    rels: &HashMap<String, String>,
    limits: &Limits,
) -> Result<Option<Element>, ExtractError> {
    let Some(notes_path) = rels.values().find(|t| t.contains("notesSlides/")).cloned() else {
        return Ok(None);
    };
    read_xml(zip, &notes_path, limits, FORMAT)
}

fn render_slide(
    number: usize,
    slide: &Element,
    notes: Option<&Element>,
    links: &HashMap<String, String>,
) -> String {
    let mut shapes = Vec::new();
    collect_shapes(slide, &mut shapes);
    let title = shapes
        .iter()
        .find(|s| is_title(s))
        .map(|s| paragraphs(s).join(" "))
        .filter(|t| !t.is_empty());
    let mut blocks = vec![match &title {
        Some(t) => format!("## Slide {number}: {t}"),
        None => format!("## Slide {number}"),
    }];
    for shape in shapes.iter().filter(|s| !is_title(s)) {
        if shape.is("graphicFrame") {
            if let Some(tbl) = shape.find("tbl") {
                blocks.push(render_table(tbl));
            }
            continue;
        }
        let bullets = bullet_lines(shape, links);
        if !bullets.is_empty() {
            blocks.push(bullets.join("\n"));
        }
    }
    if let Some(notes) = notes.map(notes_text).filter(|n| !n.is_empty()) {
        blocks.push("### Notes".to_owned());
        blocks.push(notes);
    }
    join_blocks(blocks)
}

/// Shapes and table frames in drawing order, looking inside groups.
fn collect_shapes<'a>(parent: &'a Element, out: &mut Vec<&'a Element>) {
    for child in parent.elements() {
        match child.local() {
            "sp" | "graphicFrame" => out.push(child),
            _ => collect_shapes(child, out),
        }
    }
}

fn placeholder_type(shape: &Element) -> Option<&str> {
    shape
        .find("nvPr")
        .and_then(|nv| nv.child("ph"))
        .map(|ph| ph.attr("type").unwrap_or("body"))
}

fn is_title(shape: &Element) -> bool {
    matches!(placeholder_type(shape), Some("title" | "ctrTitle"))
}

/// Text of each `a:p` below `shape`, trimmed, empty ones dropped.
fn paragraphs(shape: &Element) -> Vec<String> {
    let mut ps = Vec::new();
    shape.find_all("p", &mut ps);
    ps.iter()
        .map(|p| paragraph_text(p))
        .filter(|t| !t.is_empty())
        .collect()
}

fn paragraph_text(p: &Element) -> String {
    let mut text = String::new();
    for piece in p.elements() {
        match piece.local() {
            "r" | "fld" => text.push_str(&piece.child("t").map(Element::text).unwrap_or_default()),
            "br" => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A paragraph's runs with bold, italic and hyperlinks (`a:hlinkClick` → the slide's rels).
fn rich_text(p: &Element, links: &HashMap<String, String>) -> String {
    // (text, bold, italic, link) per run; neighbours with the same style are merged.
    let mut runs: Vec<(String, bool, bool, Option<&str>)> = Vec::new();
    for piece in p.elements() {
        let (text, props) = match piece.local() {
            "r" | "fld" => (
                piece.child("t").map(Element::text).unwrap_or_default(),
                piece.child("rPr"),
            ),
            "br" => (" ".to_owned(), None),
            _ => continue,
        };
        let flag = |name: &str| {
            props
                .and_then(|r| r.attr(name))
                .is_some_and(|v| v == "1" || v == "true")
        };
        let target = props
            .and_then(|r| r.child("hlinkClick"))
            .and_then(|h| h.attr("r:id"))
            .and_then(|id| links.get(id))
            .map(String::as_str);
        let style = (flag("b"), flag("i"), target);
        match runs.last_mut() {
            Some(last) if (last.1, last.2, last.3) == style => last.0.push_str(&text),
            _ => runs.push((text, style.0, style.1, style.2)),
        }
    }
    let mut out = String::new();
    for (text, bold, italic, target) in runs {
        let mut piece = text;
        if bold {
            piece = emphasise(&piece, "**");
        }
        if italic {
            piece = emphasise(&piece, "*");
        }
        if let Some(target) = target {
            piece = link(&piece, target);
        }
        out.push_str(&piece);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn bullet_lines(shape: &Element, links: &HashMap<String, String>) -> Vec<String> {
    let mut ps = Vec::new();
    shape.find_all("p", &mut ps);
    ps.iter()
        .filter_map(|p| {
            let text = rich_text(p, links);
            if text.is_empty() {
                return None;
            }
            let level = p
                .child("pPr")
                .and_then(|pr| pr.attr("lvl"))
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(0);
            Some(format!("{}- {text}", "    ".repeat(level.min(8))))
        })
        .collect()
}

fn render_table(tbl: &Element) -> String {
    let rows: Vec<Vec<String>> = tbl
        .elements()
        .filter(|e| e.is("tr"))
        .map(|tr| {
            tr.elements()
                .filter(|e| e.is("tc"))
                .map(|tc| paragraphs(tc).join(" "))
                .collect()
        })
        .collect();
    table(&rows)
}

/// Speaker notes: the body placeholder only, not the slide number or the slide thumbnail.
fn notes_text(notes: &Element) -> String {
    let mut shapes = Vec::new();
    collect_shapes(notes, &mut shapes);
    shapes
        .iter()
        .filter(|s| matches!(placeholder_type(s), Some("body")))
        .flat_map(|s| paragraphs(s))
        .collect::<Vec<_>>()
        .join("\n\n")
}
