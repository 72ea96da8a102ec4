//! HTML to Markdown over scraper (html5ever): headings, nested lists, tables, links, emphasis and
//! code; page furniture (script, style, nav, footer, aside) is dropped.

use ego_tree::NodeRef;
use scraper::{Html, Node};

use crate::formats::text::decode_html;
use crate::markdown::{collapse_ws, emphasise, fence, join_blocks, link, table};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

const SKIPPED: &[&str] = &[
    "script", "style", "nav", "footer", "aside", "noscript", "template", "head", "svg", "iframe",
    "object", "canvas", "button", "select",
];

const BLOCKS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
    "caption",
    "tr",
    "td",
    "th",
    "tbody",
    "thead",
    "tfoot",
];

/// List levels are indented by four spaces: enough for any marker width in CommonMark.
const LIST_INDENT: &str = "    ";

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let (text, _) = decode_html(bytes, None);
    let (markdown, title) = to_markdown(&text, limits)?;
    let metadata = Metadata {
        title,
        language: html_lang(&text),
        ..Metadata::default()
    };
    Ok(Extracted::new(Format::Html, markdown, metadata))
}

/// Converts an HTML document to Markdown, returning it with the `<title>`.
pub(crate) fn to_markdown(
    html: &str,
    limits: &Limits,
) -> Result<(String, Option<String>), ExtractError> {
    // The tree builder does work proportional to depth for each tag; refuse absurd depth first.
    if estimated_depth(html) > limits.max_nesting_depth {
        return Err(ExtractError::TooDeep {
            limit: limits.max_nesting_depth,
        });
    }
    let document = Html::parse_document(html);
    let title = find_title(*document.root_element()).filter(|t| !t.is_empty());
    let converter = Converter {
        max_depth: limits.max_nesting_depth,
    };
    let mut blocks = Vec::new();
    converter.blocks(*document.root_element(), 0, &mut blocks);
    Ok((join_blocks(blocks), title))
}

/// `<html lang="…">`, read from the start of the document without a second parse.
fn html_lang(html: &str) -> Option<String> {
    let head = &html[..floor_boundary(html, 4096)];
    let tag_start = head.to_ascii_lowercase().find("<html")?;
    let tag = &head[tag_start..tag_start + head[tag_start..].find('>')?];
    let lang_at = tag.find(" lang=")? + 6;
    let value = tag[lang_at..].trim_start_matches(['"', '\'']);
    let lang: String = value
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!lang.is_empty()).then_some(lang)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn find_title(node: NodeRef<'_, Node>) -> Option<String> {
    node.descendants()
        .find(|n| n.value().as_element().is_some_and(|e| e.name() == "title"))
        .map(|n| collapse_ws(&text_of(n)).trim().to_owned())
}

struct Converter {
    max_depth: usize,
}

impl Converter {
    /// Appends the blocks under `node`; loose inline content becomes paragraphs.
    fn blocks(&self, node: NodeRef<'_, Node>, depth: usize, out: &mut Vec<String>) {
        if depth > self.max_depth {
            return;
        }
        let mut para = String::new();
        for child in node.children() {
            match child.value() {
                Node::Text(t) => para.push_str(t),
                Node::Element(e) if SKIPPED.contains(&e.name()) => {}
                Node::Element(e) if BLOCKS.contains(&e.name()) => {
                    flush_paragraph(&mut para, out);
                    self.block(child, e.name(), depth + 1, out);
                }
                Node::Element(e) => para.push_str(&self.inline_element(child, e, depth + 1)),
                _ => {}
            }
        }
        flush_paragraph(&mut para, out);
    }

    fn block(&self, node: NodeRef<'_, Node>, name: &str, depth: usize, out: &mut Vec<String>) {
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name[1..].parse::<usize>().unwrap_or(1);
                let text = one_line(&self.inline(node, depth));
                if !text.is_empty() {
                    out.push(format!("{} {text}", "#".repeat(level)));
                }
            }
            "ul" | "ol" => {
                let mut lines = Vec::new();
                self.list(node, name == "ol", 0, depth, &mut lines);
                out.push(lines.join("\n"));
            }
            "table" => out.push(table(&self.table_rows(node, depth))),
            "pre" => out.push(fence(&code_language(node), &text_of(node))),
            "hr" => out.push("---".to_owned()),
            "blockquote" => {
                let mut inner = Vec::new();
                self.blocks(node, depth, &mut inner);
                let quoted = join_blocks(inner)
                    .lines()
                    .map(|l| format!("> {l}").trim_end().to_owned())
                    .collect::<Vec<_>>();
                out.push(quoted.join("\n"));
            }
            "dt" => out.push(emphasise(&one_line(&self.inline(node, depth)), "**")),
            _ => self.blocks(node, depth, out),
        }
    }

    fn list(
        &self,
        node: NodeRef<'_, Node>,
        ordered: bool,
        level: usize,
        depth: usize,
        lines: &mut Vec<String>,
    ) {
        if depth > self.max_depth {
            return;
        }
        let start = element_attr(node, "start")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1);
        let items = node.children().filter(|c| is_element(*c, "li"));
        for (i, item) in items.enumerate() {
            let marker = if ordered {
                format!("{}.", start + i)
            } else {
                "-".to_owned()
            };
            let mut text = String::new();
            let mut nested = Vec::new();
            for child in item.children() {
                match child.value() {
                    Node::Element(e) if e.name() == "ul" || e.name() == "ol" => {
                        self.list(child, e.name() == "ol", level + 1, depth + 1, &mut nested);
                    }
                    Node::Element(e) if SKIPPED.contains(&e.name()) => {}
                    Node::Text(t) => text.push_str(t),
                    Node::Element(e) => text.push_str(&self.inline_element(child, e, depth + 1)),
                    _ => {}
                }
            }
            lines.push(format!(
                "{}{marker} {}",
                LIST_INDENT.repeat(level),
                one_line(&text)
            ));
            lines.append(&mut nested);
        }
    }

    fn table_rows(&self, node: NodeRef<'_, Node>, depth: usize) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for child in node.children() {
            if is_element(child, "tr") {
                rows.push(self.row(child, depth));
            } else if ["thead", "tbody", "tfoot"]
                .iter()
                .any(|n| is_element(child, n))
            {
                rows.extend(
                    child
                        .children()
                        .filter(|r| is_element(*r, "tr"))
                        .map(|r| self.row(r, depth)),
                );
            }
        }
        rows
    }

    fn row(&self, tr: NodeRef<'_, Node>, depth: usize) -> Vec<String> {
        tr.children()
            .filter(|c| is_element(*c, "td") || is_element(*c, "th"))
            .map(|cell| one_line(&self.inline(cell, depth + 1)))
            .collect()
    }

    /// Inline Markdown for everything under `node`; blocks met here are flattened to text.
    fn inline(&self, node: NodeRef<'_, Node>, depth: usize) -> String {
        if depth > self.max_depth {
            return String::new();
        }
        let mut out = String::new();
        for child in node.children() {
            match child.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&self.inline_element(child, e, depth + 1)),
                _ => {}
            }
        }
        out
    }

    /// Inline Markdown for one element, its own formatting included.
    fn inline_element(
        &self,
        node: NodeRef<'_, Node>,
        e: &scraper::node::Element,
        depth: usize,
    ) -> String {
        let name = e.name();
        if SKIPPED.contains(&name) {
            return String::new();
        }
        let inner = || self.inline(node, depth);
        match name {
            "strong" | "b" => emphasise(&inner(), "**"),
            "em" | "i" => emphasise(&inner(), "*"),
            "code" | "kbd" | "samp" => format!("`{}`", collapse_ws(&inner()).trim()),
            "a" => link(&collapse_ws(&inner()), e.attr("href").unwrap_or("")),
            "br" => "\n".to_owned(),
            "img" => e
                .attr("alt")
                .map(|alt| format!(" {alt} "))
                .unwrap_or_default(),
            _ if BLOCKS.contains(&name) => format!(" {} ", inner()),
            _ => inner(),
        }
    }
}

fn flush_paragraph(para: &mut String, out: &mut Vec<String>) {
    let lines: Vec<String> = para
        .split('\n')
        .map(|l| collapse_ws(l).trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if !lines.is_empty() {
        out.push(lines.join("\n"));
    }
    para.clear();
}

fn one_line(text: &str) -> String {
    collapse_ws(text).trim().to_owned()
}

fn is_element(node: NodeRef<'_, Node>, name: &str) -> bool {
    node.value().as_element().is_some_and(|e| e.name() == name)
}

fn element_attr<'a>(node: NodeRef<'a, Node>, name: &str) -> Option<&'a str> {
    node.value().as_element().and_then(|e| e.attr(name))
}

fn text_of(node: NodeRef<'_, Node>) -> String {
    node.descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect()
}

/// `<pre><code class="language-rust">` names its language.
fn code_language(pre: NodeRef<'_, Node>) -> String {
    pre.children()
        .filter_map(|c| element_attr(c, "class"))
        .flat_map(|class| class.split_whitespace())
        .find_map(|c| {
            c.strip_prefix("language-")
                .or_else(|| c.strip_prefix("lang-"))
        })
        .unwrap_or("")
        .to_owned()
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements whose end tag may be left out; the parser closes them, so they do not nest.
const SELF_CLOSING_IN_PRACTICE: &[&str] = &[
    "p", "li", "td", "th", "tr", "dt", "dd", "option", "optgroup", "thead", "tbody", "tfoot",
    "colgroup", "rt", "rp",
];

/// A cheap upper estimate of element depth, skipping comments and script/style bodies.
fn estimated_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut i, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let rest = &html[i..];
        if rest.starts_with("!--") {
            i += rest.find("-->").map_or(rest.len(), |e| e + 3);
            continue;
        }
        let closing = rest.starts_with('/');
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty()
            || VOID.contains(&name.as_str())
            || SELF_CLOSING_IN_PRACTICE.contains(&name.as_str())
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let tag_end = rest.find('>').unwrap_or(rest.len());
        if rest[..tag_end].ends_with('/') {
            continue;
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            i += find_ignore_case(rest.as_bytes(), close.as_bytes()).unwrap_or(rest.len());
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

/// Position of `needle` (ASCII) in `haystack`, ignoring case; the cost is the distance scanned,
/// so skipping many scripts stays linear.
fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}
