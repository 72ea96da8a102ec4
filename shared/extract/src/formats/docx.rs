//! DOCX: headings from paragraph styles, lists from numbering, tables, links and emphasis.

use std::collections::HashMap;

use crate::archive::SafeZip;
use crate::formats::ooxml::{core_properties, on, read_rels, read_xml};
use crate::formats::{Furniture, PageFurniture};
use crate::markdown::{emphasise, link, table};
use crate::xmltree::{self, Element};
use crate::{ExtractError, Extracted, Format, Limits};

const FORMAT: &str = "DOCX";
const LIST_INDENT: &str = "    ";

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut zip = SafeZip::open(bytes, limits, FORMAT)?;
    let xml = zip
        .read("word/document.xml")?
        .ok_or_else(|| ExtractError::corrupt(FORMAT, "word/document.xml is missing"))?;
    // document.xml can be tens of MB and a tree of it many times that: the body is read one
    // top-level block at a time, each rendered and dropped before the next.
    let body = xmltree::children(&xml, "body", usize::MAX, limits.max_nesting_depth, FORMAT)?
        .ok_or_else(|| ExtractError::corrupt(FORMAT, "document.xml has no body"))?;
    let mut doc = match Doc::read(&mut zip, limits) {
        Ok(doc) => doc,
        // document.xml used to be parsed whole first, so its own errors are still reported first.
        Err(e) => {
            for block in body {
                block?;
            }
            return Err(e);
        }
    };
    let mut out = Blocks::default();
    for block in body {
        doc.block(&block?, &mut out);
    }
    let mut furniture = PageFurniture::default();
    doc.furniture(&mut zip, limits, Furniture::Header, &mut furniture)?;
    doc.furniture(&mut zip, limits, Furniture::Footer, &mut furniture)?;
    let mut markdown = furniture.around(out.text);
    let notes = [
        notes(
            &mut doc,
            &mut zip,
            limits,
            "word/footnotes.xml",
            "footnote",
            "",
        )?,
        notes(
            &mut doc,
            &mut zip,
            limits,
            "word/endnotes.xml",
            "endnote",
            "e",
        )?,
    ]
    .concat();
    for (label, text) in notes {
        if markdown.contains(&format!("[^{label}]")) {
            markdown.push_str(&format!("\n\n[^{label}]: {text}"));
        }
    }
    let mut metadata = core_properties(&mut zip, limits, FORMAT)?;
    metadata.page_count = app_pages(&mut zip, limits)?;
    Ok(Extracted::new(Format::Docx, markdown, metadata))
}

struct Doc {
    links: HashMap<String, String>,
    /// (numId, level) → ordered (true) or bullet (false).
    ordered: HashMap<(String, u32), bool>,
    /// styleId → heading level (0 for Title).
    heading_styles: HashMap<String, usize>,
    /// numId → running numbers per level.
    counters: HashMap<String, Vec<usize>>,
    /// Relationship ids of the sections' headers and footers, in order, each once.
    header_ids: Vec<String>,
    footer_ids: Vec<String>,
}

/// One run of text with its formatting.
struct Span {
    text: String,
    bold: bool,
    italic: bool,
    link: Option<String>,
}

impl Doc {
    /// Links, numbering and heading styles, all needed before the first block is rendered.
    fn read(zip: &mut SafeZip<'_>, limits: &Limits) -> Result<Self, ExtractError> {
        Ok(Self {
            links: read_rels(zip, "word/document.xml", limits, FORMAT)?,
            ordered: read_numbering(zip, limits)?,
            heading_styles: read_styles(zip, limits)?,
            counters: HashMap::new(),
            header_ids: Vec::new(),
            footer_ids: Vec::new(),
        })
    }

    /// A section's `headerReference`s and `footerReference`s (first page, odd and even pages).
    fn section(&mut self, sect_pr: &Element) {
        for reference in sect_pr.elements() {
            let ids = match reference.local() {
                "headerReference" => &mut self.header_ids,
                "footerReference" => &mut self.footer_ids,
                _ => continue,
            };
            if let Some(id) = reference.attr("r:id")
                && !ids.iter().any(|i| i == id)
            {
                ids.push(id.to_owned());
            }
        }
    }

    /// The headers (or footers) the sections name, into `out`.
    fn furniture(
        &mut self,
        zip: &mut SafeZip<'_>,
        limits: &Limits,
        which: Furniture,
        out: &mut PageFurniture,
    ) -> Result<(), ExtractError> {
        let ids = match which {
            Furniture::Header => std::mem::take(&mut self.header_ids),
            Furniture::Footer => std::mem::take(&mut self.footer_ids),
        };
        let mut parts: Vec<String> = Vec::new();
        for id in ids {
            let Some(part) = self.links.get(&id).cloned() else {
                continue;
            };
            if parts.contains(&part) {
                continue;
            }
            parts.push(part.clone());
            let Some(tree) = read_xml(zip, &part, limits, FORMAT)? else {
                continue;
            };
            let root = match which {
                Furniture::Header => tree.find("hdr"),
                Furniture::Footer => tree.find("ftr"),
            };
            let mut blocks = Blocks::default();
            self.block_children(root.unwrap_or(&tree), &mut blocks);
            out.add(which, &blocks.text);
        }
        Ok(())
    }

    fn block_children(&mut self, parent: &Element, out: &mut Blocks) {
        for child in parent.elements() {
            self.block(child, out);
        }
    }

    /// One paragraph or table (or a wrapper of them) into `out`; list items gather so one list
    /// stays one block.
    fn block(&mut self, child: &Element, out: &mut Blocks) {
        match child.local() {
            "p" => {
                // A section that ends at this paragraph carries its properties in it.
                if let Some(sect_pr) = child.child("pPr").and_then(|pr| pr.child("sectPr")) {
                    self.section(sect_pr);
                }
                match self.paragraph(child) {
                    Para::ListItem(line) => out.list_item(&line),
                    Para::Block(text) => out.block(&text),
                    Para::Empty => {}
                }
                // Text boxes anchored in the paragraph follow it.
                let mut boxes = Vec::new();
                text_boxes(child, &mut boxes);
                for text_box in boxes {
                    out.end_list();
                    self.block_children(text_box, out);
                }
            }
            "tbl" => out.block(&self.table(child)),
            "sectPr" => self.section(child),
            // Content controls and tracked insertions wrap ordinary paragraphs.
            "sdt" | "sdtContent" | "ins" | "customXml" => self.block_children(child, out),
            _ => {}
        }
    }

    fn paragraph(&mut self, p: &Element) -> Para {
        let props = p.child("pPr");
        let style = props
            .and_then(|pr| pr.child("pStyle"))
            .and_then(|s| s.attr("w:val"));
        let heading = style.and_then(|s| {
            self.heading_styles
                .get(s)
                .copied()
                .or_else(|| heading_from_id(s))
        });
        let mut spans = Vec::new();
        collect_spans(p, None, &self.links, &mut spans);
        if let Some(level) = heading {
            let text = plain(&spans);
            return if text.is_empty() {
                Para::Empty
            } else {
                Para::Block(format!("{} {text}", "#".repeat(level.max(1))))
            };
        }
        let text = render(&spans);
        if let Some((num_id, level)) = props.and_then(list_props) {
            return Para::ListItem(self.list_line(&num_id, level, &text));
        }
        if text.trim().is_empty() {
            Para::Empty
        } else {
            Para::Block(text)
        }
    }

    fn list_line(&mut self, num_id: &str, level: u32, text: &str) -> String {
        let depth = level.min(8) as usize;
        let ordered = self
            .ordered
            .get(&(num_id.to_owned(), level))
            .copied()
            .unwrap_or(false);
        let counters = self.counters.entry(num_id.to_owned()).or_default();
        counters.resize(depth + 1, 0);
        counters[depth] += 1;
        let marker = if ordered {
            format!("{}.", counters[depth])
        } else {
            "-".to_owned()
        };
        format!(
            "{}{marker} {}",
            LIST_INDENT.repeat(depth),
            text.replace('\n', " ").trim()
        )
    }

    fn table(&self, tbl: &Element) -> String {
        let rows: Vec<Vec<String>> = tbl
            .elements()
            .filter(|e| e.is("tr"))
            .map(|tr| {
                tr.elements()
                    .filter(|e| e.is("tc"))
                    .map(|tc| self.cell(tc))
                    .collect()
            })
            .collect();
        table(&rows)
    }

    fn cell(&self, tc: &Element) -> String {
        let mut paragraphs = Vec::new();
        tc.find_all("p", &mut paragraphs);
        paragraphs
            .into_iter()
            .map(|p| {
                let mut spans = Vec::new();
                collect_spans(p, None, &self.links, &mut spans);
                render(&spans)
            })
            .filter(|t| !t.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

enum Para {
    ListItem(String),
    Block(String),
    Empty,
}

/// Markdown blocks joined as they arrive, exactly as `join_blocks` would join them at the end,
/// so the body's text is never held twice. List items are lines of one block until a non-list
/// block (or text box) ends the list.
#[derive(Default)]
struct Blocks {
    text: String,
    in_list: bool,
}

impl Blocks {
    fn block(&mut self, block: &str) {
        self.in_list = false;
        let block = block.trim_matches('\n');
        if !block.trim().is_empty() {
            self.separate();
            self.text.push_str(block);
        }
    }

    /// List lines never hold a line break and never are blank, so they need no trimming.
    fn list_item(&mut self, line: &str) {
        if self.in_list {
            self.text.push('\n');
        } else {
            self.separate();
            self.in_list = true;
        }
        self.text.push_str(line);
    }

    fn end_list(&mut self) {
        self.in_list = false;
    }

    fn separate(&mut self) {
        if !self.text.is_empty() {
            self.text.push_str("\n\n");
        }
    }
}

fn list_props(props: &Element) -> Option<(String, u32)> {
    let num = props.child("numPr")?;
    let num_id = num.child("numId")?.attr("w:val")?.to_owned();
    // numId 0 switches numbering off for a paragraph whose style would add it.
    if num_id == "0" {
        return None;
    }
    let level = num
        .child("ilvl")
        .and_then(|l| l.attr("w:val"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Some((num_id, level))
}

/// Walks runs, links and wrappers below a paragraph into formatted spans.
fn collect_spans(
    parent: &Element,
    link_target: Option<&str>,
    links: &HashMap<String, String>,
    out: &mut Vec<Span>,
) {
    for child in parent.elements() {
        match child.local() {
            "r" => run(child, link_target, out),
            "hyperlink" => {
                let target = child
                    .attr("r:id")
                    .and_then(|id| links.get(id))
                    .map(String::as_str);
                collect_spans(child, target.or(link_target), links, out);
            }
            "ins" | "smartTag" | "sdt" | "sdtContent" | "fldSimple" | "customXml" => {
                collect_spans(child, link_target, links, out)
            }
            _ => {}
        }
    }
}

fn run(r: &Element, link_target: Option<&str>, out: &mut Vec<Span>) {
    let props = r.child("rPr");
    let bold = on(props.and_then(|p| p.child("b")));
    let italic = on(props.and_then(|p| p.child("i")));
    let mut text = String::new();
    for piece in r.elements() {
        match piece.local() {
            "t" => text.push_str(&piece.text()),
            "tab" => text.push(' '),
            "br" | "cr" => text.push('\n'),
            "noBreakHyphen" => text.push('-'),
            "footnoteReference" | "endnoteReference" => {
                let prefix = if piece.is("endnoteReference") {
                    "e"
                } else {
                    ""
                };
                if let Some(id) = piece.attr("w:id") {
                    text.push_str(&format!("[^{prefix}{id}]"));
                }
            }
            _ => {}
        }
    }
    if !text.is_empty() {
        out.push(Span {
            text,
            bold,
            italic,
            link: link_target.map(str::to_owned),
        });
    }
}

/// `w:txbxContent` below a paragraph's drawings, taking only the first branch of each
/// `mc:AlternateContent` (the others repeat the same box for older readers).
fn text_boxes<'a>(parent: &'a Element, out: &mut Vec<&'a Element>) {
    for child in parent.elements() {
        match child.local() {
            "txbxContent" => out.push(child),
            "AlternateContent" => {
                if let Some(first) = child.elements().next() {
                    text_boxes(first, out);
                }
            }
            _ => text_boxes(child, out),
        }
    }
}

/// Markdown for spans, merging neighbours with the same formatting so emphasis is not chopped.
fn render(spans: &[Span]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < spans.len() {
        let first = &spans[i];
        let mut j = i;
        let mut text = String::new();
        while j < spans.len() && same_style(first, &spans[j]) {
            text.push_str(&spans[j].text);
            j += 1;
        }
        let mut piece = text;
        if first.bold {
            piece = emphasise(&piece, "**");
        }
        if first.italic {
            piece = emphasise(&piece, "*");
        }
        if let Some(target) = &first.link {
            piece = link(&piece, target);
        }
        out.push_str(&piece);
        i = j;
    }
    out.trim().to_owned()
}

fn same_style(a: &Span, b: &Span) -> bool {
    a.bold == b.bold && a.italic == b.italic && a.link == b.link
}

fn plain(spans: &[Span]) -> String {
    let text: String = spans.iter().map(|s| s.text.as_str()).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn heading_from_id(style: &str) -> Option<usize> {
    if style.eq_ignore_ascii_case("title") {
        return Some(1);
    }
    let level = style
        .strip_prefix("Heading")
        .or_else(|| style.strip_prefix("heading"))?;
    level
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|l| (1..=6).contains(l))
}

/// Style ids are localised (`berschrift1`), but their names are not: map by name.
fn read_styles(
    zip: &mut SafeZip<'_>,
    limits: &Limits,
) -> Result<HashMap<String, usize>, ExtractError> {
    let Some(styles) = read_xml(zip, "word/styles.xml", limits, FORMAT)? else {
        return Ok(HashMap::new());
    };
    let mut all = Vec::new();
    styles.find_all("style", &mut all);
    Ok(all
        .into_iter()
        .filter_map(|s| {
            let id = s.attr("w:styleId")?;
            let name = s.child("name")?.attr("w:val")?.to_ascii_lowercase();
            let level = if name == "title" {
                1
            } else {
                name.strip_prefix("heading ")?
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=6).contains(l))?
            };
            Some((id.to_owned(), level))
        })
        .collect())
}

/// Which (numId, level) pairs are numbered rather than bulleted, from `numbering.xml`.
fn read_numbering(
    zip: &mut SafeZip<'_>,
    limits: &Limits,
) -> Result<HashMap<(String, u32), bool>, ExtractError> {
    let Some(xml) = zip.read("word/numbering.xml")? else {
        return Ok(HashMap::new());
    };
    let mut numbering = Numbering::default();
    let depth = limits.max_nesting_depth;
    // Some writers emit megabytes of definitions: read them one at a time, not as one tree.
    if let Some(definitions) = xmltree::children(&xml, "numbering", 1, depth, FORMAT)? {
        for definition in definitions {
            numbering.add(&definition?);
        }
    } else {
        // No `numbering` document element: the definitions, if any, are top-level elements.
        for definition in xmltree::parse(&xml, depth, FORMAT)?.elements() {
            numbering.add(definition);
        }
    }
    Ok(numbering.ordered())
}

/// Numbering definitions gathered in document order; a `num` may name a later `abstractNum`.
#[derive(Default)]
struct Numbering {
    /// abstractNumId → (level, ordered).
    abstract_levels: HashMap<String, Vec<(u32, bool)>>,
    /// (numId, abstractNumId).
    nums: Vec<(String, String)>,
}

impl Numbering {
    fn add(&mut self, definition: &Element) {
        if definition.is("abstractNum") {
            let Some(id) = definition.attr("w:abstractNumId") else {
                return;
            };
            let levels = definition
                .elements()
                .filter(|l| l.is("lvl"))
                .filter_map(|l| {
                    let level = l.attr("w:ilvl")?.parse().ok()?;
                    let fmt = l
                        .child("numFmt")
                        .and_then(|f| f.attr("w:val"))
                        .unwrap_or("bullet");
                    Some((level, !matches!(fmt, "bullet" | "none")))
                })
                .collect();
            self.abstract_levels.insert(id.to_owned(), levels);
        } else if definition.is("num")
            && let (Some(num_id), Some(abs_id)) = (
                definition.attr("w:numId"),
                definition
                    .child("abstractNumId")
                    .and_then(|a| a.attr("w:val")),
            )
        {
            self.nums.push((num_id.to_owned(), abs_id.to_owned()));
        }
    }

    fn ordered(self) -> HashMap<(String, u32), bool> {
        let mut ordered = HashMap::new();
        for (num_id, abs_id) in self.nums {
            for (level, is_ordered) in self.abstract_levels.get(&abs_id).into_iter().flatten() {
                ordered.insert((num_id.clone(), *level), *is_ordered);
            }
        }
        ordered
    }
}

/// Footnotes or endnotes as (label, text), the separator notes left out.
fn notes(
    doc: &mut Doc,
    zip: &mut SafeZip<'_>,
    limits: &Limits,
    part: &str,
    element: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>, ExtractError> {
    let Some(tree) = read_xml(zip, part, limits, FORMAT)? else {
        return Ok(Vec::new());
    };
    let mut all = Vec::new();
    tree.find_all(element, &mut all);
    Ok(all
        .into_iter()
        .filter(|n| n.attr("w:type").is_none_or(|t| t == "normal"))
        .filter_map(|n| {
            let id = n.attr("w:id")?;
            let mut blocks = Blocks::default();
            doc.block_children(n, &mut blocks);
            let text = blocks.text.split_whitespace().collect::<Vec<_>>().join(" ");
            (!text.is_empty()).then(|| (format!("{prefix}{id}"), text))
        })
        .collect())
}

fn app_pages(zip: &mut SafeZip<'_>, limits: &Limits) -> Result<Option<u32>, ExtractError> {
    let app = read_xml(zip, "docProps/app.xml", limits, FORMAT)?;
    Ok(app.and_then(|a| a.find("Pages").and_then(|p| p.text().trim().parse().ok())))
}
