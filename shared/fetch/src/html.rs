//! Readability-style main content: keep a web page's article, drop its navigation, ads, cookie
//! banners, comments and footers, and write what is left as Markdown with its structure (headings,
//! nested lists, tables, code, quotes, links, emphasis).
//!
//! The steps:
//! 1. bound the input (size, and nesting depth, which the HTML tree builder pays for per tag);
//! 2. read metadata from `<head>` and a few well-known markers (Open Graph, `rel=author`, …);
//! 3. mark page furniture as dropped: tags (`nav`, `footer`, `script`, …), ARIA roles, hidden
//!    elements, and class/id hints (`cookie`, `comment`, `sidebar`, …);
//! 4. choose the content: a semantic container (`itemprop=articleBody`, `<article>`,
//!    `role=main`, `<main>`) when it holds enough text, otherwise the block with the best
//!    paragraph score (text length, commas, class hints, minus link density) and its
//!    paragraph-like siblings;
//! 5. render that subtree, skipping dropped elements, with recursion and output capped.

use std::collections::{HashMap, HashSet};

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{Html, Node};
use url::Url;

type NodeRef<'a> = ego_tree::NodeRef<'a, Node>;

/// Larger documents are cut here before parsing: no article needs more.
const MAX_INPUT_BYTES: usize = 5 * 1024 * 1024;
/// The tree builder checks the stack of open elements for many start tags, so parsing costs
/// input length × depth; markup nested deeper than this is cut before parsing.
const MAX_PARSE_DEPTH: usize = 512;
/// Recursion limit when rendering; deeper subtrees are flattened to their text (read without
/// recursion) so nothing overflows the stack.
const MAX_RENDER_DEPTH: usize = 96;
const MAX_MARKDOWN_BYTES: usize = 1024 * 1024;
/// A semantic container (`<article>`, `<main>`, …) with less text than this is probably a
/// teaser or a wrapper of something else; the scoring pass decides instead.
const MIN_SEMANTIC_TEXT: usize = 200;
/// Paragraphs shorter than this do not vote for their ancestors.
const MIN_PARAGRAPH_TEXT: usize = 25;
const MAX_EXCERPT_CHARS: usize = 300;

/// A page's main content and what is known about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Article {
    pub title: Option<String>,
    pub byline: Option<String>,
    pub site_name: Option<String>,
    /// As the page gives it (usually ISO 8601); not parsed.
    pub published_time: Option<String>,
    /// The page's description, else the first real paragraph of the content.
    pub excerpt: Option<String>,
    pub language: Option<String>,
    /// Absolute when `base_url` was given or the page's own link is absolute.
    pub canonical_url: Option<String>,
    pub markdown: String,
}

/// Extracts the main content of `html`. Relative links, images and the canonical URL are
/// resolved against `base_url` (usually the fetch's final URL). Never fails: a page with no
/// recognisable content gives an `Article` with whatever metadata was found.
pub fn main_content(html: &str, base_url: Option<&str>) -> Article {
    let html = bounded(html);
    let document = Html::parse_document(html);
    let base = base_url.and_then(|b| Url::parse(b).ok());
    let root = document.tree.root();

    let page = Page::new(root);
    let meta = Metadata::read(root);
    let content = page.content_roots(root);

    let mut renderer = Renderer {
        dropped: &page.dropped,
        base: base.as_ref(),
        written: 0,
        full: false,
    };
    let mut blocks = Vec::new();
    for node in &content {
        renderer.blocks(*node, 0, &mut blocks);
    }
    let mut markdown = blocks.join("\n\n");
    truncate_at_char(&mut markdown, MAX_MARKDOWN_BYTES);

    let h1s = content
        .iter()
        .flat_map(|n| n.descendants())
        .chain(root.descendants())
        .filter(|n| element_named(*n, "h1"))
        .map(|n| clean(&text_of(n)))
        .filter(|t| !t.is_empty());
    let title = meta.title(h1s);
    let excerpt = meta
        .description
        .clone()
        .or_else(|| first_paragraph(&content, &page.dropped));
    let canonical_url = meta
        .canonical
        .as_deref()
        .and_then(|href| absolute(href, base.as_ref()));

    Article {
        title,
        byline: meta.byline,
        site_name: meta.site_name,
        published_time: meta.published_time,
        excerpt,
        language: meta.language,
        canonical_url,
        markdown,
    }
}

// ---------------------------------------------------------------------------------------------
// Input bounds

/// `html` cut to [`MAX_INPUT_BYTES`] and before the first tag that nests deeper than
/// [`MAX_PARSE_DEPTH`] (by a cheap tag scan; the parse itself is what the cut protects).
fn bounded(html: &str) -> &str {
    let html = &html[..floor_char_boundary(html, MAX_INPUT_BYTES)];
    match too_deep_at(html) {
        Some(cut) => &html[..cut],
        None => html,
    }
}

/// Elements that never hold children, or whose end tag is implied by the next sibling (`<p>`,
/// `<li>`, cells): neither makes the tree deeper in the long run.
const NON_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "rb", "rt", "rp", "!doctype",
];
/// HTML containers for which `<x/>` still opens an element (the slash is ignored). For other
/// names (`<path/>` in SVG, custom tags) the slash is taken as self-closing.
const OPENS_DESPITE_SLASH: &[&str] = &[
    "a",
    "article",
    "aside",
    "b",
    "blockquote",
    "body",
    "button",
    "center",
    "code",
    "div",
    "em",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "i",
    "label",
    "main",
    "nav",
    "ol",
    "pre",
    "section",
    "select",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "u",
    "ul",
];
/// Raw-text elements whose content is not markup.
const RAW_TEXT: &[&str] = &["script", "style", "textarea", "title", "xmp", "noscript"];

/// Byte offset of the `<` of the first tag that would nest deeper than [`MAX_PARSE_DEPTH`].
fn too_deep_at(html: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let tag_start = i + offset;
        i = tag_start + 1;
        let rest = &html[i..];
        if rest.starts_with("!--") {
            i += rest.find("-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        // Doctype, CDATA, processing instructions: nothing that nests.
        if rest.starts_with(['!', '?']) {
            continue;
        }
        let closing = rest.starts_with('/');
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(32)
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || NON_NESTING.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        // Only the tag's own end matters; a bounded look keeps `<<<<…` input linear.
        let head = &rest.as_bytes()[..rest.len().min(4096)];
        let tag_end = head.iter().position(|&b| b == b'>').unwrap_or(head.len());
        if head[..tag_end].ends_with(b"/") && !OPENS_DESPITE_SLASH.contains(&name.as_str()) {
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            // Skip the text and the end tag, so the end tag does not count as a close.
            let close = format!("</{name}");
            let close_at =
                find_ignore_case(rest.as_bytes(), close.as_bytes()).unwrap_or(rest.len());
            let after = &rest[close_at..];
            i += close_at + after.find('>').map_or(after.len(), |end| end + 1);
            continue;
        }
        depth += 1;
        if depth > MAX_PARSE_DEPTH {
            return Some(tag_start);
        }
    }
    None
}

fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn truncate_at_char(s: &mut String, max: usize) {
    let cut = floor_char_boundary(s, max);
    s.truncate(cut);
}

// ---------------------------------------------------------------------------------------------
// Metadata

#[derive(Default)]
struct Metadata {
    /// `<meta>` values by lowercased `name` / `property` / `itemprop`; first one wins.
    metas: HashMap<String, String>,
    title_tag: Option<String>,
    byline: Option<String>,
    site_name: Option<String>,
    published_time: Option<String>,
    description: Option<String>,
    language: Option<String>,
    canonical: Option<String>,
}

impl Metadata {
    fn read(root: NodeRef<'_>) -> Self {
        let mut meta = Metadata::default();
        let mut rel_author = None;
        let mut byline_class = None;
        let mut time_datetime = None;
        let mut content_language = None;
        for node in root.descendants() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            match el.name() {
                "html" if meta.language.is_none() => {
                    meta.language = el.attr("lang").map(clean).filter(|l| !l.is_empty());
                }
                "title" if meta.title_tag.is_none() => {
                    meta.title_tag = Some(clean(&text_of(node))).filter(|t| !t.is_empty());
                }
                "meta" => {
                    let content = el.attr("content").map(clean).filter(|c| !c.is_empty());
                    let key = el
                        .attr("property")
                        .or_else(|| el.attr("name"))
                        .or_else(|| el.attr("itemprop"));
                    if let (Some(key), Some(content)) = (key, content.clone()) {
                        meta.metas
                            .entry(key.trim().to_ascii_lowercase())
                            .or_insert(content);
                    }
                    if el
                        .attr("http-equiv")
                        .is_some_and(|h| h.eq_ignore_ascii_case("content-language"))
                    {
                        content_language = content_language.or(content);
                    }
                }
                "link" => {
                    let rels = el.attr("rel").unwrap_or_default().to_ascii_lowercase();
                    if meta.canonical.is_none() && rels.split_whitespace().any(|r| r == "canonical")
                    {
                        meta.canonical = el.attr("href").map(str::trim).map(str::to_owned);
                    }
                }
                _ => {}
            }
            if rel_author.is_none()
                && (el
                    .attr("rel")
                    .is_some_and(|r| r.split_whitespace().any(|r| r == "author"))
                    || el.attr("itemprop").is_some_and(|p| p == "author"))
            {
                rel_author = Some(clean(&text_of(node))).filter(|t| plausible_byline(t));
            }
            if byline_class.is_none() && tokens(el).iter().any(|t| t == "byline" || t == "author") {
                byline_class = Some(clean(&text_of(node))).filter(|t| plausible_byline(t));
            }
            if time_datetime.is_none()
                && el.name() == "time"
                && node.ancestors().any(|a| element_named(a, "article"))
            {
                time_datetime = el.attr("datetime").map(clean);
            }
        }
        let get = |keys: &[&str]| keys.iter().find_map(|k| meta.metas.get(*k).cloned());
        meta.byline = get(&["author", "article:author", "dc.creator", "byl"])
            .filter(|a| !a.starts_with("http"))
            .or(rel_author)
            .or(byline_class)
            .map(|b| strip_by(&b));
        meta.site_name = get(&["og:site_name", "application-name"]);
        meta.published_time = get(&[
            "article:published_time",
            "og:published_time",
            "datepublished",
            "date",
            "pubdate",
            "publish-date",
            "dc.date",
            "dc.date.issued",
        ])
        .or(time_datetime);
        meta.description = get(&["description", "og:description", "twitter:description"]);
        meta.language = meta.language.take().or(content_language);
        if meta.canonical.is_none() {
            meta.canonical = get(&["og:url"]);
        }
        meta
    }

    /// The headline: `og:title`, else an `<h1>` the `<title>` contains, else the `<title>` with
    /// a site-name part (`Headline | Site`) removed.
    fn title(&self, mut h1s: impl Iterator<Item = String>) -> Option<String> {
        let social = ["og:title", "twitter:title"]
            .iter()
            .find_map(|k| self.metas.get(*k).cloned());
        if social.is_some() {
            return social;
        }
        let Some(title) = &self.title_tag else {
            return h1s.next();
        };
        let lower = title.to_lowercase();
        if let Some(h1) = h1s.find(|h| lower.contains(&h.to_lowercase())) {
            return Some(h1);
        }
        for sep in [" | ", " – ", " — ", " - ", " :: ", " · ", " » "] {
            if !title.contains(sep) {
                continue;
            }
            let parts: Vec<&str> = title.split(sep).map(str::trim).collect();
            let site = self.metas.get("og:site_name").map(|s| s.to_lowercase());
            let best = parts
                .iter()
                .filter(|p| site.as_deref() != Some(p.to_lowercase().as_str()))
                .max_by_key(|p| p.split_whitespace().count())
                .copied()
                .unwrap_or(parts[0]);
            // A one-word "headline" is more likely the site name than the title.
            if best.split_whitespace().count() >= 2 {
                return Some(best.to_owned());
            }
        }
        Some(title.clone())
    }
}

fn plausible_byline(text: &str) -> bool {
    (3..=100).contains(&text.chars().count())
}

/// "By Jane Doe" → "Jane Doe".
fn strip_by(byline: &str) -> String {
    let trimmed = byline.trim();
    for prefix in ["By ", "by ", "BY "] {
        if let Some(rest) = trimmed.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
    trimmed.to_owned()
}

/// The first paragraph of the content long enough to describe it.
fn first_paragraph(content: &[NodeRef<'_>], dropped: &HashSet<NodeId>) -> Option<String> {
    content
        .iter()
        .flat_map(|n| visible_elements(*n, dropped))
        .filter(|n| element_named(*n, "p"))
        .map(|n| clean(&text_of(n)))
        .find(|t| t.chars().count() >= 40)
        .map(|t| match t.char_indices().nth(MAX_EXCERPT_CHARS) {
            Some((cut, _)) => format!("{}…", t[..cut].trim_end()),
            None => t,
        })
}

// ---------------------------------------------------------------------------------------------
// Class and id hints

/// Hints that something is content. They rescue elements with a weak negative hint
/// (`article-header`), not ones with a strong one.
const POSITIVE: &[&str] = &[
    "article", "content", "post", "entry", "main", "body", "text", "story",
];
/// Furniture that a positive hint can rescue: layout words also used inside articles.
const WEAK_NEGATIVE: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "header",
    "masthead",
    "sidebar",
    "aside",
    "related",
    "promo",
    "widget",
    "breadcrumb",
    "breadcrumbs",
    "pagination",
    "pager",
    "toolbar",
    "skip",
    "recommended",
    "trending",
];
/// Never content: dropped whatever else the element says of itself.
const STRONG_NEGATIVE: &[&str] = &[
    "comment",
    "cookie",
    "consent",
    "gdpr",
    "banner",
    "ad",
    "ads",
    "advert",
    "advertisement",
    "sponsor",
    "sponsored",
    "share",
    "sharing",
    "social",
    "subscribe",
    "subscription",
    "newsletter",
    "popup",
    "modal",
    "disqus",
    "outbrain",
    "taboola",
    "signup",
];

/// Lowercased words of an element's `id` and `class`, split at punctuation and camelCase
/// (`cookieBanner` → `cookie`, `banner`).
fn tokens(el: &Element) -> Vec<String> {
    let mut out = Vec::new();
    for value in [
        el.id().unwrap_or_default(),
        el.attr("class").unwrap_or_default(),
    ] {
        let mut current = String::new();
        let mut prev_lower = false;
        for c in value.chars() {
            if (!c.is_alphanumeric() || (c.is_uppercase() && prev_lower)) && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            if c.is_alphanumeric() {
                current.extend(c.to_lowercase());
            }
            prev_lower = c.is_lowercase();
        }
        if !current.is_empty() {
            out.push(current);
        }
    }
    out
}

/// A token matches a hint exactly, as a plural, or (for hints of six letters or more) as a
/// prefix: `comments`, `commentlist`, `advertising`, `sidebar2`. Short hints (`ad`, `nav`) only
/// match whole tokens, so `header` or `download` do not read as ads.
fn matches_hint(token: &str, hints: &[&str]) -> bool {
    hints.iter().any(|hint| {
        token == *hint
            || token.strip_suffix('s') == Some(hint)
            || (hint.len() >= 6 && token.starts_with(hint))
    })
}

#[derive(Default, Clone, Copy)]
struct Hints {
    positive: bool,
    weak_negative: bool,
    strong_negative: bool,
}

fn hints(el: &Element) -> Hints {
    let mut h = Hints::default();
    for token in tokens(el) {
        h.positive |= matches_hint(&token, POSITIVE);
        h.weak_negative |= matches_hint(&token, WEAK_NEGATIVE);
        h.strong_negative |= matches_hint(&token, STRONG_NEGATIVE);
    }
    h
}

// ---------------------------------------------------------------------------------------------
// Dropping furniture and choosing the content

/// Never content, whatever their attributes say.
const DROPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "iframe", "nav", "aside", "footer", "template", "svg", "canvas",
    "object", "embed", "button", "select", "input", "textarea", "dialog", "link", "meta", "head",
    "frame", "frameset", "audio", "video", "map",
];
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "search",
    "menu",
    "menubar",
    "toolbar",
];

struct Page {
    /// Roots of dropped subtrees (their descendants are skipped by every walk, not listed).
    dropped: HashSet<NodeId>,
}

impl Page {
    fn new(root: NodeRef<'_>) -> Self {
        let mut dropped = HashSet::new();
        let mut skipping: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) if skipping.is_none() => {
                    if let Some(el) = node.value().as_element()
                        && is_furniture(node, el)
                    {
                        dropped.insert(node.id());
                        skipping = Some(node.id());
                    }
                }
                Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
                _ => {}
            }
        }
        Page { dropped }
    }

    /// The subtrees to render, in document order.
    fn content_roots<'a>(&self, root: NodeRef<'a>) -> Vec<NodeRef<'a>> {
        let visible = visible_elements(root, &self.dropped);
        let stats = StatsCache::new(root, &self.dropped);

        // Semantic containers, most specific first; within a kind the one with the most text.
        let kinds: [&dyn Fn(&Element) -> bool; 4] = [
            &|e| {
                e.attr("itemprop")
                    .is_some_and(|p| p.split_whitespace().any(|p| p == "articleBody"))
            },
            &|e| e.name() == "article",
            &|e| e.attr("role") == Some("main"),
            &|e| e.name() == "main",
        ];
        for (kind, is_kind) in kinds.into_iter().enumerate() {
            let best = visible
                .iter()
                .filter(|n| n.value().as_element().is_some_and(is_kind))
                .map(|n| (*n, stats.get(*n).text))
                .max_by_key(|(_, text)| *text);
            if let Some((node, text)) = best
                && text >= MIN_SEMANTIC_TEXT
            {
                // articleBody leaves the headline out by definition; take it back if it is
                // close by. Other containers are taken as they are.
                return vec![if kind == 0 {
                    widened(node, &stats)
                } else {
                    node
                }];
            }
        }

        match self.best_scored(&visible, &stats) {
            Some(roots) => roots,
            None => visible
                .iter()
                .find(|n| element_named(**n, "body"))
                .map_or_else(|| vec![root], |body| vec![*body]),
        }
    }

    /// Readability's scoring: each paragraph-like block votes for its ancestors (less for the
    /// farther ones) by length and commas; candidates start from their tag and class hints and
    /// are discounted by link density. The winner is widened to wrappers that add only a little
    /// text (its headline, say), and kept with those siblings that score well or read like prose.
    fn best_scored<'a>(
        &self,
        visible: &[NodeRef<'a>],
        stats: &StatsCache,
    ) -> Option<Vec<NodeRef<'a>>> {
        let mut scores: HashMap<NodeId, f64> = HashMap::new();
        let mut order: Vec<NodeRef<'a>> = Vec::new();
        for node in visible {
            if !is_paragraph_like(*node) {
                continue;
            }
            let s = stats.get(*node);
            if s.text < MIN_PARAGRAPH_TEXT {
                continue;
            }
            let vote = 1.0 + s.commas as f64 + (s.text as f64 / 100.0).min(3.0);
            for (level, ancestor) in node.ancestors().take(5).enumerate() {
                let Some(el) = ancestor.value().as_element() else {
                    break;
                };
                let score = scores.entry(ancestor.id()).or_insert_with(|| {
                    order.push(ancestor);
                    initial_score(el)
                });
                let divider = match level {
                    0 => 1.0,
                    1 => 2.0,
                    n => n as f64 * 3.0,
                };
                *score += vote / divider;
            }
        }
        let mut best: Option<(NodeRef<'a>, f64)> = None;
        for node in &order {
            let s = stats.get(*node);
            let final_score = scores[&node.id()] * (1.0 - s.link_density());
            scores.insert(node.id(), final_score);
            if best.is_none_or(|(_, b)| final_score > b) {
                best = Some((*node, final_score));
            }
        }
        let (top, top_score) = best?;
        let top = widened(top, stats);
        let Some(parent) = top.parent().filter(|p| p.value().is_element()) else {
            return Some(vec![top]);
        };
        let threshold = (top_score * 0.2).max(10.0);
        let roots = parent
            .children()
            .filter(|sibling| {
                if sibling.id() == top.id() {
                    return true;
                }
                if !sibling.value().is_element() || self.dropped.contains(&sibling.id()) {
                    return false;
                }
                if scores.get(&sibling.id()).is_some_and(|s| *s >= threshold) {
                    return true;
                }
                if !element_named(*sibling, "p") {
                    return false;
                }
                let s = stats.get(*sibling);
                let density = s.link_density();
                (s.text > 80 && density < 0.25)
                    || (s.text > 0 && density == 0.0 && clean(&text_of(*sibling)).ends_with('.'))
            })
            .collect();
        Some(roots)
    }
}

/// `top` widened to ancestors that add little text besides it and few links, such as the
/// wrapper holding the headline and byline above the body text. Never to `<body>`.
fn widened<'a>(mut top: NodeRef<'a>, stats: &StatsCache) -> NodeRef<'a> {
    while let Some(parent) = top.parent().filter(|p| {
        p.value()
            .as_element()
            .is_some_and(|e| !matches!(e.name(), "body" | "html"))
    }) {
        let (outer, inner) = (stats.get(parent), stats.get(top));
        let extra = outer.text.saturating_sub(inner.text);
        let extra_links = outer.link_text.saturating_sub(inner.link_text);
        if extra * 4 > outer.text || extra_links * 2 > extra {
            break;
        }
        top = parent;
    }
    top
}

/// Whether an element is page furniture to leave out of the content.
fn is_furniture(node: NodeRef<'_>, el: &Element) -> bool {
    let name = el.name();
    if name == "html" || name == "body" {
        return false;
    }
    if DROPPED_TAGS.contains(&name) {
        return true;
    }
    if name == "form" {
        // Some sites (ASP.NET WebForms) wrap the whole page in one form; keep that one.
        return !node.descendants().any(|d| {
            d.value().as_element().is_some_and(|e| {
                matches!(e.name(), "article" | "main") || e.attr("role") == Some("main")
            })
        }) && node
            .descendants()
            .filter(|d| element_named(*d, "p"))
            .count()
            < 3;
    }
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    let is_main = name == "main"
        || el.attr("role") == Some("main")
        || el
            .attr("itemprop")
            .is_some_and(|p| p.contains("articleBody"));
    if is_main {
        return false;
    }
    if el
        .attr("role")
        .is_some_and(|r| DROPPED_ROLES.contains(&r.trim()))
    {
        return true;
    }
    // The page's header is furniture; an article's own header holds its headline and byline.
    if name == "header"
        && !node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(e.name(), "article" | "main") || e.attr("role") == Some("main")
            })
        })
    {
        return true;
    }
    let h = hints(el);
    if name == "article" {
        return h.strong_negative && !h.positive;
    }
    h.strong_negative || (h.weak_negative && !h.positive)
}

/// Starting score of a candidate, before paragraphs vote: Readability's tag weights plus
/// ±25 for class/id hints.
fn initial_score(el: &Element) -> f64 {
    let tag = match el.name() {
        "div" | "article" | "section" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let h = hints(el);
    let class = if h.positive { 25.0 } else { 0.0 }
        - if h.weak_negative || h.strong_negative {
            25.0
        } else {
            0.0
        };
    tag + class
}

/// Blocks that carry prose: paragraphs, preformatted text, cells, and `<div>`s used as
/// paragraphs (no block children).
fn is_paragraph_like(node: NodeRef<'_>) -> bool {
    let Some(el) = node.value().as_element() else {
        return false;
    };
    match el.name() {
        "p" | "pre" | "td" | "blockquote" => true,
        "div" | "section" => !node.children().any(|c| {
            c.value()
                .as_element()
                .is_some_and(|e| BLOCKS.contains(&e.name()))
        }),
        _ => false,
    }
}

/// Elements under `root` (itself included) outside dropped subtrees, in document order.
fn visible_elements<'a>(root: NodeRef<'a>, dropped: &HashSet<NodeId>) -> Vec<NodeRef<'a>> {
    let mut out = Vec::new();
    let mut skipping: Option<NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skipping.is_none() => {
                if dropped.contains(&node.id()) {
                    skipping = Some(node.id());
                } else if node.value().is_element() {
                    out.push(node);
                }
            }
            Edge::Close(node) if skipping == Some(node.id()) => skipping = None,
            _ => {}
        }
    }
    out
}

#[derive(Clone, Copy, Default)]
struct Stats {
    /// Characters of visible text, whitespace runs counted once.
    text: usize,
    /// Of which inside links.
    link_text: usize,
    commas: usize,
}

impl Stats {
    fn link_density(&self) -> f64 {
        if self.text == 0 {
            0.0
        } else {
            self.link_text as f64 / self.text as f64
        }
    }
}

/// Text statistics of every element's subtree (dropped parts excluded), computed bottom-up in
/// one walk: asking per candidate would cost size × depth on deeply nested input.
struct StatsCache {
    stats: HashMap<NodeId, Stats>,
}

impl StatsCache {
    fn new(root: NodeRef<'_>, dropped: &HashSet<NodeId>) -> Self {
        let mut stats = HashMap::new();
        // Open elements with their running totals.
        let mut open: Vec<(NodeId, Stats)> = Vec::new();
        let mut skipping: Option<NodeId> = None;
        let mut link_depth = 0usize;
        for edge in root.traverse() {
            match edge {
                Edge::Open(n) if skipping.is_none() => {
                    if dropped.contains(&n.id()) {
                        skipping = Some(n.id());
                    } else if n.value().is_element() {
                        link_depth += usize::from(element_named(n, "a"));
                        open.push((n.id(), Stats::default()));
                    } else if let (Some(text), Some((_, top))) =
                        (n.value().as_text(), open.last_mut())
                    {
                        let len = text
                            .split_whitespace()
                            .map(|w| w.chars().count() + 1)
                            .sum::<usize>();
                        top.text += len;
                        top.commas += text.matches([',', '，', '、']).count();
                        if link_depth > 0 {
                            top.link_text += len;
                        }
                    }
                }
                Edge::Close(n) if skipping == Some(n.id()) => skipping = None,
                Edge::Close(n) if skipping.is_none() && n.value().is_element() => {
                    link_depth -= usize::from(element_named(n, "a"));
                    if let Some((id, done)) = open.pop() {
                        if let Some((_, parent)) = open.last_mut() {
                            parent.text += done.text;
                            parent.link_text += done.link_text;
                            parent.commas += done.commas;
                        }
                        stats.insert(id, done);
                    }
                }
                _ => {}
            }
        }
        Self { stats }
    }

    fn get(&self, node: NodeRef<'_>) -> Stats {
        self.stats.get(&node.id()).copied().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown

/// Elements rendered as blocks; everything else is inline.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
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
    "nav",
    "aside",
];

/// Marks a `<br>` inside inline text until the paragraph is written.
const HARD_BREAK: char = '\u{0}';

struct Renderer<'a> {
    dropped: &'a HashSet<NodeId>,
    base: Option<&'a Url>,
    /// Bytes of Markdown written so far, to stop at [`MAX_MARKDOWN_BYTES`].
    written: usize,
    full: bool,
}

impl Renderer<'_> {
    fn push(&mut self, out: &mut Vec<String>, block: String) {
        if block.trim().is_empty() || self.full {
            return;
        }
        self.written += block.len() + 2;
        self.full = self.written >= MAX_MARKDOWN_BYTES;
        out.push(block);
    }

    /// Renders `node`'s children as blocks: runs of inline content become paragraphs.
    fn blocks(&mut self, node: NodeRef<'_>, depth: usize, out: &mut Vec<String>) {
        if depth > MAX_RENDER_DEPTH {
            let text = clean(&visible_text(node, self.dropped));
            self.push(out, text);
            return;
        }
        let mut inline = String::new();
        for child in node.children() {
            if self.full {
                return;
            }
            match child.value() {
                Node::Text(text) => inline.push_str(&escape_text(text)),
                Node::Element(el) if !self.dropped.contains(&child.id()) => {
                    if BLOCKS.contains(&el.name()) {
                        let paragraph = paragraph(&std::mem::take(&mut inline));
                        self.push(out, paragraph);
                        self.block(child, el, depth + 1, out);
                    } else {
                        self.inline(child, el, depth + 1, &mut inline);
                    }
                }
                _ => {}
            }
        }
        let paragraph = paragraph(&inline);
        self.push(out, paragraph);
    }

    fn block(&mut self, node: NodeRef<'_>, el: &Element, depth: usize, out: &mut Vec<String>) {
        match el.name() {
            name @ ("h1" | "h2" | "h3" | "h4" | "h5" | "h6") => {
                let level = usize::from(name.as_bytes()[1] - b'0');
                let text = one_line(&self.inline_children(node, depth));
                if !text.is_empty() {
                    self.push(out, format!("{} {text}", "#".repeat(level)));
                }
            }
            "p" => {
                let text = paragraph(&self.inline_children(node, depth));
                self.push(out, text);
            }
            "ul" | "ol" => {
                let list = self.list(node, el, depth);
                self.push(out, list);
            }
            "pre" => self.push(out, code_block(node)),
            "blockquote" => {
                let mut inner = Vec::new();
                self.blocks(node, depth, &mut inner);
                let quoted = inner
                    .join("\n\n")
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            ">".to_owned()
                        } else {
                            format!("> {l}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                self.push(out, quoted);
            }
            "table" => self.table(node, depth, out),
            "hr" => self.push(out, "---".to_owned()),
            "dt" => {
                let term = one_line(&self.inline_children(node, depth));
                if !term.is_empty() {
                    self.push(out, format!("**{term}**"));
                }
            }
            _ => self.blocks(node, depth, out),
        }
    }

    /// A list, items on consecutive lines; an item's further blocks and nested lists are
    /// indented four spaces, enough for any marker width CommonMark nests under.
    fn list(&mut self, node: NodeRef<'_>, el: &Element, depth: usize) -> String {
        let ordered = el.name() == "ol";
        let mut number: u64 = el
            .attr("start")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1);
        let mut items = Vec::new();
        for child in node.children() {
            if self.dropped.contains(&child.id()) {
                continue;
            }
            let Some(child_el) = child.value().as_element() else {
                continue;
            };
            let mut blocks = Vec::new();
            if child_el.name() == "li" {
                self.blocks(child, depth + 1, &mut blocks);
            } else {
                // Stray content directly in the list (a nested list outside an <li>, mostly).
                self.block(child, child_el, depth + 1, &mut blocks);
                if !blocks.is_empty() {
                    items.push(indent(&blocks.join("\n"), "    ", true));
                }
                continue;
            }
            let marker = if ordered {
                format!("{number}. ")
            } else {
                "- ".to_owned()
            };
            number += 1;
            if blocks.is_empty() {
                continue;
            }
            items.push(format!(
                "{marker}{}",
                indent(&blocks.join("\n"), "    ", false)
            ));
        }
        items.join("\n")
    }

    /// A pipe table, first row as header; layout tables (nested tables, one column) are
    /// rendered as the blocks they contain.
    fn table(&mut self, node: NodeRef<'_>, depth: usize, out: &mut Vec<String>) {
        let rows: Vec<NodeRef<'_>> = node
            .children()
            .flat_map(|c| match c.value().as_element().map(Element::name) {
                Some("thead" | "tbody" | "tfoot") => c.children().collect::<Vec<_>>(),
                _ => vec![c],
            })
            .filter(|r| element_named(*r, "tr") && !self.dropped.contains(&r.id()))
            .collect();
        let width = rows.iter().map(|r| cells(*r).len()).max().unwrap_or(0);
        let nested = node
            .descendants()
            .skip(1)
            .any(|d| element_named(d, "table"));
        if width <= 1
            || nested
            || node.value().as_element().and_then(|e| e.attr("role")) == Some("presentation")
        {
            self.blocks(node, depth, out);
            return;
        }
        let mut text = String::new();
        for (i, row) in rows.iter().enumerate() {
            let mut line = String::from("|");
            let row_cells = cells(*row);
            for col in 0..width {
                let cell = match row_cells.get(col) {
                    Some(cell) => {
                        one_line(&self.inline_children(*cell, depth + 1)).replace('|', "\\|")
                    }
                    None => String::new(),
                };
                line.push(' ');
                line.push_str(&cell);
                line.push_str(" |");
            }
            text.push_str(&line);
            text.push('\n');
            if i == 0 {
                text.push('|');
                text.push_str(&" --- |".repeat(width));
                text.push('\n');
            }
        }
        self.push(out, text.trim_end().to_owned());
    }

    fn inline_children(&mut self, node: NodeRef<'_>, depth: usize) -> String {
        let mut buf = String::new();
        if depth > MAX_RENDER_DEPTH {
            buf.push_str(&escape_text(&visible_text(node, self.dropped)));
            return buf;
        }
        for child in node.children() {
            match child.value() {
                Node::Text(text) => buf.push_str(&escape_text(text)),
                Node::Element(el) if !self.dropped.contains(&child.id()) => {
                    if BLOCKS.contains(&el.name()) {
                        // A block inside inline context (a <div> in a link): keep it apart.
                        buf.push(' ');
                        self.inline(child, el, depth + 1, &mut buf);
                        buf.push(' ');
                    } else {
                        self.inline(child, el, depth + 1, &mut buf);
                    }
                }
                _ => {}
            }
        }
        buf
    }

    fn inline(&mut self, node: NodeRef<'_>, el: &Element, depth: usize, buf: &mut String) {
        match el.name() {
            "br" => buf.push(HARD_BREAK),
            "img" => {
                let alt = one_line(el.attr("alt").unwrap_or_default());
                let src = el.attr("src").and_then(|s| absolute(s, self.base));
                if let (false, Some(src)) = (alt.is_empty(), src) {
                    buf.push_str(&format!(
                        "![{}]({})",
                        escape_label(&alt),
                        escape_target(&src)
                    ));
                }
            }
            "code" | "kbd" | "samp" | "tt" => buf.push_str(&code_span(&text_of(node))),
            "a" => {
                let label = self.inline_children(node, depth);
                let target = el.attr("href").and_then(|h| absolute(h, self.base));
                match target {
                    Some(target) if !one_line(&label).is_empty() => {
                        let (lead, core, trail) = split_spaces(&label);
                        buf.push_str(&format!(
                            "{lead}[{}]({}){trail}",
                            one_line(core),
                            escape_target(&target)
                        ));
                    }
                    _ => buf.push_str(&label),
                }
            }
            "strong" | "b" => {
                let inner = self.inline_children(node, depth);
                buf.push_str(&emphasise(&inner, "**"));
            }
            "em" | "i" | "cite" | "dfn" => {
                let inner = self.inline_children(node, depth);
                buf.push_str(&emphasise(&inner, "*"));
            }
            "del" | "s" | "strike" => {
                let inner = self.inline_children(node, depth);
                buf.push_str(&emphasise(&inner, "~~"));
            }
            _ => {
                let inner = self.inline_children(node, depth);
                buf.push_str(&inner);
            }
        }
    }
}

fn cells(row: NodeRef<'_>) -> Vec<NodeRef<'_>> {
    row.children()
        .filter(|c| element_named(*c, "td") || element_named(*c, "th"))
        .collect()
}

/// Inline text as a paragraph: whitespace collapsed, `<br>`s as CommonMark hard breaks (a
/// backslash at the line end, which survives trailing-space trimming).
fn paragraph(inline: &str) -> String {
    inline
        .split(HARD_BREAK)
        .map(clean)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\\\n")
}

fn one_line(text: &str) -> String {
    clean(&text.replace(HARD_BREAK, " "))
}

/// Indents every line after the first (or every line, with `first`) by `pad`.
fn indent(text: &str, pad: &str, first: bool) -> String {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if line.is_empty() || (i == 0 && !first) {
                line.to_owned()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fenced code block of the `<pre>`'s text, whitespace kept, with the language from a
/// `language-x` / `lang-x` class on the `<pre>` or its `<code>`.
fn code_block(node: NodeRef<'_>) -> String {
    let lang = std::iter::once(node)
        .chain(node.children().filter(|c| element_named(*c, "code")))
        .filter_map(|n| n.value().as_element()?.attr("class"))
        .flat_map(str::split_whitespace)
        .find_map(|c| {
            c.strip_prefix("language-")
                .or_else(|| c.strip_prefix("lang-"))
        })
        .unwrap_or_default()
        .to_owned();
    let text = text_of(node);
    let body = text.strip_prefix('\n').unwrap_or(&text).trim_end();
    let ticks = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{ticks}{lang}\n{body}\n{ticks}")
}

fn code_span(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let ticks = "`".repeat(longest_run(text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut current) = (0, 0);
    for c in s.chars() {
        current = if c == ch { current + 1 } else { 0 };
        best = best.max(current);
    }
    best
}

/// Wraps text in an emphasis marker, keeping surrounding spaces outside (Markdown needs the
/// marker to touch the text).
fn emphasise(text: &str, marker: &str) -> String {
    let (lead, core, trail) = split_spaces(text);
    if core.is_empty() {
        return text.to_owned();
    }
    format!("{lead}{marker}{core}{marker}{trail}")
}

fn split_spaces(text: &str) -> (&str, &str, &str) {
    let core = text.trim_matches(|c: char| c.is_whitespace() || c == HARD_BREAK);
    let lead = &text[..text.len()
        - text
            .trim_start_matches(|c: char| c.is_whitespace() || c == HARD_BREAK)
            .len()];
    let trail = &text[lead.len() + core.len()..];
    (lead, core, trail)
}

/// Escapes text so it is not read as Markdown syntax: backslashes, emphasis, code and link
/// brackets. `_` inside a word (`snake_case`) is left alone, as CommonMark does not read it.
fn escape_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '*' | '`' | '[' | ']' => true,
            '_' => {
                let before = i > 0 && chars[i - 1].is_alphanumeric();
                let after = chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
                !(before && after)
            }
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn escape_label(text: &str) -> String {
    text.replace('[', "\\[").replace(']', "\\]")
}

fn escape_target(target: &str) -> String {
    target
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
}

/// `href` made absolute against `base`; only http, https and mailto targets are kept (no
/// `javascript:`), and bare fragments are dropped.
fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = match base {
        Some(base) => base.join(href).ok()?,
        None => match Url::parse(href) {
            Ok(url) => url,
            // Relative with nothing to resolve against: keep it as the page wrote it.
            Err(url::ParseError::RelativeUrlWithoutBase) => return Some(href.to_owned()),
            Err(_) => return None,
        },
    };
    matches!(url.scheme(), "http" | "https" | "mailto").then(|| url.to_string())
}

// ---------------------------------------------------------------------------------------------
// Tree helpers

fn element_named(node: NodeRef<'_>, name: &str) -> bool {
    node.value().as_element().is_some_and(|e| e.name() == name)
}

/// All text under `node`, read without recursion.
fn text_of(node: NodeRef<'_>) -> String {
    let mut out = String::new();
    for d in node.descendants() {
        if let Some(text) = d.value().as_text() {
            out.push_str(text);
        }
    }
    out
}

/// Text under `node` outside dropped subtrees (no script bodies, no banners), read without
/// recursion: what deep subtrees are flattened to.
fn visible_text(node: NodeRef<'_>, dropped: &HashSet<NodeId>) -> String {
    let mut out = String::new();
    let mut skipping: Option<NodeId> = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) if skipping.is_none() => {
                if dropped.contains(&n.id()) {
                    skipping = Some(n.id());
                } else if let Some(text) = n.value().as_text() {
                    out.push_str(text);
                    out.push(' ');
                }
            }
            Edge::Close(n) if skipping == Some(n.id()) => skipping = None,
            _ => {}
        }
    }
    out
}

/// Whitespace runs collapsed to one space, ends trimmed.
fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_tokens_split_at_punctuation_and_camel_case() {
        let html =
            Html::parse_fragment(r#"<div id="mainNav" class="cookie-Banner post_body"></div>"#);
        let div = html
            .tree
            .root()
            .descendants()
            .find(|n| element_named(*n, "div"))
            .unwrap();
        let el = div.value().as_element().unwrap();
        assert_eq!(
            tokens(el),
            ["main", "nav", "cookie", "banner", "post", "body"]
        );
    }

    #[test]
    fn short_hints_match_whole_words_only() {
        assert!(matches_hint("ad", STRONG_NEGATIVE));
        assert!(matches_hint("ads", STRONG_NEGATIVE));
        assert!(matches_hint("advertising", STRONG_NEGATIVE));
        assert!(matches_hint("comments", STRONG_NEGATIVE));
        assert!(!matches_hint("header", STRONG_NEGATIVE));
        assert!(!matches_hint("download", STRONG_NEGATIVE));
        assert!(!matches_hint("shadow", STRONG_NEGATIVE));
    }

    #[test]
    fn deep_nesting_is_cut_before_parsing() {
        let hostile = "<div>".repeat(100_000);
        let cut = bounded(&hostile);
        assert_eq!(cut.len(), MAX_PARSE_DEPTH * 5);
        let ordinary = "<p>one<p>two<ul><li>a<li>b</ul><img src=x><br>".repeat(10_000);
        assert_eq!(bounded(&ordinary).len(), ordinary.len());
    }

    #[test]
    fn text_is_escaped_but_words_with_underscores_are_left_alone() {
        assert_eq!(
            escape_text("a *b* [c] snake_case _x_"),
            r"a \*b\* \[c\] snake_case \_x\_"
        );
    }
}
