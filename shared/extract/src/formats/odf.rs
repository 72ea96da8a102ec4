//! OpenDocument text (ODT) and presentations (ODP) from `content.xml` and `meta.xml`; ODT page
//! headers and footers from `styles.xml`.

use std::collections::HashMap;

use crate::archive::SafeZip;
use crate::formats::ooxml::{read_xml, require_xml};
use crate::formats::{Furniture, PageFurniture};
use crate::markdown::{collapse_ws, emphasise, join_blocks, link, table};
use crate::xmltree::{Element, Node};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

const LIST_INDENT: &str = "    ";

/// A master page's headers and footers: for every page, left pages, and the first page.
const HEADERS: &[&str] = &["header", "header-left", "header-first"];
const FOOTERS: &[&str] = &["footer", "footer-left", "footer-first"];

pub(crate) fn extract(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let label = format.label();
    let mut zip = SafeZip::open(bytes, limits, label)?;
    refuse_encrypted(&mut zip, label)?;
    let content = require_xml(&mut zip, "content.xml", limits, label)?;
    let styles = read_xml(&mut zip, "styles.xml", limits, label)?;
    let odf = Odf::new(&content, styles.as_ref());
    let body = content
        .find("body")
        .ok_or_else(|| ExtractError::corrupt(label, "content.xml has no body"))?;
    let mut metadata = read_meta(&mut zip, limits, label)?;
    let markdown = if format == Format::Odp {
        let pages = pages(body);
        metadata.slide_count = Some(pages.len() as u32);
        join_blocks(
            pages
                .iter()
                .enumerate()
                .map(|(i, page)| odf.slide(i + 1, page)),
        )
    } else {
        let mut blocks = Vec::new();
        odf.blocks(body, &mut blocks);
        let furniture = styles
            .as_ref()
            .map(|styles| odf.page_furniture(styles))
            .unwrap_or_default();
        furniture.around(join_blocks(blocks))
    };
    Ok(Extracted::new(format, markdown, metadata))
}

struct Odf {
    /// Text style name → (bold, italic).
    emphasis: HashMap<String, (bool, bool)>,
    /// List style name → ordered per level (index 0 = level 1).
    list_styles: HashMap<String, Vec<bool>>,
}

impl Odf {
    fn new(content: &Element, styles: Option<&Element>) -> Self {
        let mut odf = Self {
            emphasis: HashMap::new(),
            list_styles: HashMap::new(),
        };
        for root in std::iter::once(content).chain(styles) {
            let mut style_elements = Vec::new();
            root.find_all("style", &mut style_elements);
            for s in style_elements {
                let Some(name) = s.attr("style:name") else {
                    continue;
                };
                let props = s.child("text-properties");
                let bold = props
                    .and_then(|p| p.attr("fo:font-weight"))
                    .is_some_and(|w| w == "bold" || w.parse::<u32>().is_ok_and(|n| n >= 600));
                let italic = props
                    .and_then(|p| p.attr("fo:font-style"))
                    .is_some_and(|s| s == "italic" || s == "oblique");
                odf.emphasis.insert(name.to_owned(), (bold, italic));
            }
            let mut list_elements = Vec::new();
            root.find_all("list-style", &mut list_elements);
            for l in list_elements {
                let Some(name) = l.attr("style:name") else {
                    continue;
                };
                let mut levels: Vec<(usize, bool)> = l
                    .elements()
                    .filter_map(|lvl| {
                        let n = lvl.attr("text:level")?.parse().ok()?;
                        Some((n, lvl.is("list-level-style-number")))
                    })
                    .collect();
                levels.sort();
                odf.list_styles.insert(
                    name.to_owned(),
                    levels.into_iter().map(|(_, o)| o).collect(),
                );
            }
        }
        odf
    }

    fn blocks(&self, parent: &Element, out: &mut Vec<String>) {
        let mut previous_was_list = false;
        for child in parent.elements() {
            let is_list = child.is("list");
            match child.local() {
                "h" => {
                    let level = child
                        .attr("text:outline-level")
                        .and_then(|l| l.parse::<usize>().ok())
                        .unwrap_or(1)
                        .clamp(1, 6);
                    let text = collapse_ws(&self.inline(child, false)).trim().to_owned();
                    if !text.is_empty() {
                        out.push(format!("{} {text}", "#".repeat(level)));
                    }
                }
                "p" => out.push(self.paragraph(child)),
                "list" => {
                    let mut lines = Vec::new();
                    self.list(child, child.attr("text:style-name"), 0, &mut lines);
                    // Writers split one visual list into sibling `text:list`s (continued
                    // numbering); keep them one Markdown list.
                    match out.last_mut() {
                        Some(last) if previous_was_list && !lines.is_empty() => {
                            last.push('\n');
                            last.push_str(&lines.join("\n"));
                        }
                        _ => out.push(lines.join("\n")),
                    }
                }
                "table" => out.push(self.table(child)),
                // Declarations and page furniture carry no document text.
                "sequence-decls" | "variable-decls" | "user-field-decls" | "tracked-changes"
                | "forms" => {}
                _ => self.blocks(child, out),
            }
            previous_was_list = is_list;
        }
    }

    fn paragraph(&self, p: &Element) -> String {
        self.inline(p, true)
            .split('\n')
            .map(|l| collapse_ws(l).trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn list(&self, list: &Element, style: Option<&str>, level: usize, lines: &mut Vec<String>) {
        let style = list.attr("text:style-name").or(style);
        let ordered = style
            .and_then(|s| self.list_styles.get(s))
            .and_then(|l| l.get(level))
            .copied()
            .unwrap_or(false);
        let mut number = 0;
        for item in list
            .elements()
            .filter(|e| e.is("list-item") || e.is("list-header"))
        {
            number += 1;
            let mut text = Vec::new();
            let mut nested = Vec::new();
            for child in item.elements() {
                match child.local() {
                    "list" => self.list(child, style, level + 1, &mut nested),
                    _ => text.push(collapse_ws(&self.inline(child, false)).trim().to_owned()),
                }
            }
            let text = text
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            if !text.is_empty() {
                let marker = if ordered {
                    format!("{number}.")
                } else {
                    "-".to_owned()
                };
                lines.push(format!(
                    "{}{marker} {text}",
                    LIST_INDENT.repeat(level.min(8))
                ));
            }
            lines.append(&mut nested);
        }
    }

    fn table(&self, t: &Element) -> String {
        let mut rows = Vec::new();
        t.find_all("table-row", &mut rows);
        let rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                r.elements()
                    .filter(|c| c.is("table-cell") || c.is("covered-table-cell"))
                    .flat_map(|c| {
                        let text = self.cell(c);
                        // A repeated cell stands for several identical columns; cap to keep sane.
                        let repeat = c
                            .attr("table:number-columns-repeated")
                            .and_then(|n| n.parse::<usize>().ok())
                            .unwrap_or(1);
                        std::iter::repeat_n(text, if repeat > 64 { 1 } else { repeat })
                    })
                    .collect()
            })
            .collect();
        table(&rows)
    }

    fn cell(&self, cell: &Element) -> String {
        let mut blocks = Vec::new();
        self.blocks(cell, &mut blocks);
        blocks.join(" ")
    }

    /// Inline Markdown of a paragraph's content: spans, links, spaces, breaks.
    fn inline(&self, parent: &Element, emphasis: bool) -> String {
        let mut out = String::new();
        for node in &parent.children {
            match node {
                Node::Text(t) => out.push_str(&collapse_ws(t)),
                Node::Element(e) => match e.local() {
                    "span" => {
                        let inner = self.inline(e, emphasis);
                        let (bold, italic) = e
                            .attr("text:style-name")
                            .and_then(|s| self.emphasis.get(s))
                            .copied()
                            .unwrap_or_default();
                        let mut piece = inner;
                        if emphasis && bold {
                            piece = emphasise(&piece, "**");
                        }
                        if emphasis && italic {
                            piece = emphasise(&piece, "*");
                        }
                        out.push_str(&piece);
                    }
                    "a" => out.push_str(&link(
                        &self.inline(e, emphasis),
                        e.attr("xlink:href").unwrap_or(""),
                    )),
                    "s" => {
                        let count = e
                            .attr("text:c")
                            .and_then(|c| c.parse::<usize>().ok())
                            .unwrap_or(1);
                        out.push_str(&" ".repeat(count.min(16)));
                    }
                    "tab" => out.push(' '),
                    "line-break" => out.push('\n'),
                    "note" | "annotation" | "bookmark" | "bookmark-start" | "bookmark-end" => {}
                    _ => out.push_str(&self.inline(e, emphasis)),
                },
            }
        }
        out
    }

    fn slide(&self, number: usize, page: &Element) -> String {
        let mut frames = Vec::new();
        collect_frames(page, &mut frames);
        let title = frames
            .iter()
            .find(|f| f.attr("presentation:class") == Some("title"))
            .map(|f| collapse_ws(&f.text()).trim().to_owned())
            .filter(|t| !t.is_empty());
        let mut blocks = vec![match &title {
            Some(t) => format!("## Slide {number}: {t}"),
            None => format!("## Slide {number}"),
        }];
        for frame in frames
            .iter()
            .filter(|f| f.attr("presentation:class") != Some("title"))
        {
            if frame.attr("presentation:class") == Some("outline") {
                blocks.push(self.outline(frame));
            } else {
                self.blocks(frame, &mut blocks);
            }
        }
        if let Some(notes) = page.child("notes") {
            let mut note_frames = Vec::new();
            collect_frames(notes, &mut note_frames);
            let mut note_blocks = Vec::new();
            for frame in note_frames
                .iter()
                .filter(|f| f.attr("presentation:class") == Some("notes"))
            {
                self.blocks(frame, &mut note_blocks);
            }
            let text = join_blocks(note_blocks);
            if !text.is_empty() {
                blocks.push("### Notes".to_owned());
                blocks.push(text);
            }
        }
        join_blocks(blocks)
    }
}

impl Odf {
    /// Header and footer texts of the master pages.
    fn page_furniture(&self, styles: &Element) -> PageFurniture {
        let mut furniture = PageFurniture::default();
        let parts = styles
            .find("master-styles")
            .into_iter()
            .flat_map(|m| m.elements().filter(|p| p.is("master-page")))
            .flat_map(|page| page.elements())
            // `style:display="false"` switches a header off, whatever it holds.
            .filter(|part| part.attr("style:display") != Some("false"));
        for part in parts {
            let which = if HEADERS.contains(&part.local()) {
                Furniture::Header
            } else if FOOTERS.contains(&part.local()) {
                Furniture::Footer
            } else {
                continue;
            };
            let mut blocks = Vec::new();
            self.blocks(part, &mut blocks);
            furniture.add(which, &join_blocks(blocks));
        }
        furniture
    }

    /// An outline placeholder is a bullet list even when its paragraphs are not in a `text:list`.
    fn outline(&self, frame: &Element) -> String {
        let mut lines = Vec::new();
        let mut boxes = Vec::new();
        frame.find_all("text-box", &mut boxes);
        for text_box in boxes {
            for child in text_box.elements() {
                match child.local() {
                    "list" => self.list(child, child.attr("text:style-name"), 0, &mut lines),
                    "p" | "h" => {
                        let text = self.paragraph(child).replace('\n', " ");
                        if !text.is_empty() {
                            lines.push(format!("- {text}"));
                        }
                    }
                    _ => {}
                }
            }
        }
        lines.join("\n")
    }
}

fn pages(body: &Element) -> Vec<&Element> {
    let mut pages = Vec::new();
    body.find_all("page", &mut pages);
    pages
}

/// Frames on a page, not counting those inside the speaker notes.
fn collect_frames<'a>(parent: &'a Element, out: &mut Vec<&'a Element>) {
    for child in parent.elements() {
        match child.local() {
            "frame" | "custom-shape" => out.push(child),
            "notes" => {}
            _ => collect_frames(child, out),
        }
    }
}

/// A password-protected ODF file lists `<manifest:encryption-data>` for each encrypted part in
/// its manifest; the parts themselves are ciphertext, which would read as damaged XML.
pub(crate) fn refuse_encrypted(
    zip: &mut SafeZip<'_>,
    label: &'static str,
) -> Result<(), ExtractError> {
    match zip.read("META-INF/manifest.xml")? {
        Some(manifest) if crate::detect::find(&manifest, b"encryption-data").is_some() => {
            Err(ExtractError::Encrypted { format: label })
        }
        _ => Ok(()),
    }
}

pub(crate) fn read_meta(
    zip: &mut SafeZip<'_>,
    limits: &Limits,
    label: &'static str,
) -> Result<Metadata, ExtractError> {
    let mut metadata = Metadata::default();
    let Some(meta) = read_xml(zip, "meta.xml", limits, label)? else {
        return Ok(metadata);
    };
    let field = |name: &str| {
        meta.find(name)
            .map(|e| e.text().trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    metadata.title = field("title");
    metadata.author = field("initial-creator").or_else(|| field("creator"));
    metadata.created = field("creation-date");
    metadata.modified = field("date");
    metadata.language = field("language");
    metadata.page_count = meta
        .find("document-statistic")
        .and_then(|s| s.attr("meta:page-count"))
        .and_then(|n| n.parse().ok());
    Ok(metadata)
}
