//! A small element tree over quick-xml for the office formats: depth-capped, and entities other
//! than the five predefined ones and character references are dropped, never expanded.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::ExtractError;

#[derive(Debug, Default)]
pub(crate) struct Element {
    /// Qualified name as written, e.g. `w:p`.
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

#[derive(Debug)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The name without its namespace prefix.
    pub fn local(&self) -> &str {
        local(&self.name)
    }

    pub fn is(&self, local_name: &str) -> bool {
        self.local() == local_name
    }

    /// An attribute by qualified name, or failing that by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        let wanted_local = local(name);
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| self.attrs.iter().find(|(k, _)| local(k) == wanted_local))
            .map(|(_, v)| v.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn child(&self, local_name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(local_name))
    }

    /// First descendant (depth-first) with this local name.
    pub fn find(&self, local_name: &str) -> Option<&Element> {
        for e in self.elements() {
            if e.is(local_name) {
                return Some(e);
            }
            if let Some(found) = e.find(local_name) {
                return Some(found);
            }
        }
        None
    }

    /// All descendants with this local name, in document order (not looking inside matches).
    pub fn find_all<'a>(&'a self, local_name: &str, out: &mut Vec<&'a Element>) {
        for e in self.elements() {
            if e.is(local_name) {
                out.push(e);
            } else {
                e.find_all(local_name, out);
            }
        }
    }

    /// All text below this element, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out
    }

    fn collect_text(&self, out: &mut String) {
        for c in &self.children {
            match c {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => e.collect_text(out),
            }
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Parses `xml` into a tree whose root is a synthetic element holding the document element.
pub(crate) fn parse(
    xml: &[u8],
    max_depth: usize,
    format: &'static str,
) -> Result<Element, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().check_end_names = false;
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let event = reader.read_event().map_err(|e| {
            ExtractError::corrupt_at(
                format,
                format!("XML error at byte {}", reader.error_position()),
                e,
            )
        })?;
        match event {
            Event::Start(start) => {
                if stack.len() > max_depth {
                    return Err(ExtractError::TooDeep { limit: max_depth });
                }
                stack.push(element(&start));
            }
            Event::Empty(start) => push_child(&mut stack, Node::Element(element(&start))),
            Event::End(_) => close(&mut stack),
            Event::Text(t) => push_text(&mut stack, &t.xml_content().unwrap_or_default()),
            Event::CData(t) => push_text(&mut stack, &t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => {
                if let Some(text) = resolve_ref(&r) {
                    push_text(&mut stack, &text);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
        }
    }
    // A truncated document still yields what was read; the caller decides if that is enough.
    while stack.len() > 1 {
        close(&mut stack);
    }
    Ok(stack.pop().unwrap_or_default())
}

fn element(start: &BytesStart<'_>) -> Element {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let attrs = start
        .attributes()
        .flatten()
        .map(|a| {
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
            (key, value)
        })
        .collect();
    Element {
        name,
        attrs,
        children: Vec::new(),
    }
}

fn close(stack: &mut Vec<Element>) {
    if stack.len() > 1
        && let Some(done) = stack.pop()
    {
        push_child(stack, Node::Element(done));
    }
}

fn push_child(stack: &mut [Element], node: Node) {
    if let Some(top) = stack.last_mut() {
        top.children.push(node);
    }
}

fn push_text(stack: &mut [Element], text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(top) = stack.last_mut() {
        if let Some(Node::Text(prev)) = top.children.last_mut() {
            prev.push_str(text);
        } else {
            top.children.push(Node::Text(text.to_owned()));
        }
    }
}

/// Resolves `&amp;`-style predefined entities and character references. Anything declared in a
/// DTD is dropped: expanding it is how billion-laughs attacks work.
pub(crate) fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    let text = match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    };
    Some(text.to_owned())
}
