//! A small element tree over quick-xml for the office formats: depth-capped, and entities other
//! than the five predefined ones and character references are dropped, never expanded. Large
//! parts can be read one subtree at a time with `children`.

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
    let mut builder = Builder::new(xml, max_depth, format, 0);
    while !matches!(builder.step()?, Step::Eof) {}
    // A truncated document still yields what was read; the caller decides if that is enough.
    while builder.stack.len() > 1 {
        builder.close();
    }
    Ok(builder.stack.pop().unwrap_or_default())
}

/// The children of the first element named `local_name` (depth-first, as [`Element::find`]),
/// built one at a time so a large document is never in memory whole. The rest of the document is
/// still read, so errors and the depth cap anywhere in it are reported as `parse` reports them.
pub(crate) struct Children<'a> {
    builder: Builder<'a>,
    finished: bool,
}

/// Reads up to the first element named `local_name` at most `max_level` deep (1 is the document
/// element, `usize::MAX` anywhere); `None` when the document has none.
pub(crate) fn children<'a>(
    xml: &'a [u8],
    local_name: &str,
    max_level: usize,
    max_depth: usize,
    format: &'static str,
) -> Result<Option<Children<'a>>, ExtractError> {
    // Nothing is kept on the way there: only the open elements, for the depth cap.
    let mut builder = Builder::new(xml, max_depth, format, usize::MAX);
    loop {
        match builder.step()? {
            // The stack holds the synthetic root too, so its length is one past the level.
            Step::Opened
                if builder.stack.len() - 1 <= max_level
                    && builder.stack.last().is_some_and(|e| e.is(local_name)) =>
            {
                // Its children keep their content; each is handed out when it closes.
                builder.keep_from = builder.stack.len();
                break;
            }
            // An empty element (`<w:body/>`): no children, but the rest must still be read.
            Step::Detached(e) if builder.stack.len() <= max_level && e.is(local_name) => break,
            Step::Eof => return Ok(None),
            _ => {}
        }
    }
    Ok(Some(Children {
        builder,
        finished: false,
    }))
}

impl Iterator for Children<'_> {
    type Item = Result<Element, ExtractError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            match self.builder.step() {
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                Ok(Step::Detached(e)) => {
                    if self.builder.stack.len() == self.builder.keep_from {
                        return Some(Ok(e));
                    }
                    // The parent itself closed: read on to the end, keeping nothing.
                    self.builder.keep_from = usize::MAX;
                }
                Ok(Step::Eof) => {
                    self.finished = true;
                    // A truncated document: the child left open is handed out as `parse` keeps it.
                    while self.builder.stack.len() > self.builder.keep_from {
                        if let Step::Detached(e) = self.builder.close() {
                            return Some(Ok(e));
                        }
                    }
                }
                Ok(Step::Opened | Step::Other) => {}
            }
        }
        None
    }
}

/// The event loop behind `parse` and `Children`: open elements on a stack, each closed one
/// added to its parent, or handed back to the caller when the parent does not keep children.
struct Builder<'a> {
    reader: Reader<&'a [u8]>,
    max_depth: usize,
    format: &'static str,
    /// The synthetic root, then the open elements, innermost last.
    stack: Vec<Element>,
    /// Stack index from which elements keep their children and text; what closes onto an
    /// element below it is handed back by `step` instead, and text there is dropped.
    keep_from: usize,
}

enum Step {
    /// An element opened; it is the top of the stack.
    Opened,
    /// An element closed (or was empty) onto a parent that does not keep children.
    Detached(Element),
    Other,
    Eof,
}

impl<'a> Builder<'a> {
    fn new(xml: &'a [u8], max_depth: usize, format: &'static str, keep_from: usize) -> Self {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().check_end_names = false;
        Self {
            reader,
            max_depth,
            format,
            stack: vec![Element::default()],
            keep_from,
        }
    }

    fn step(&mut self) -> Result<Step, ExtractError> {
        let event = self.reader.read_event().map_err(|e| {
            ExtractError::corrupt_at(
                self.format,
                format!("XML error at byte {}", self.reader.error_position()),
                e,
            )
        })?;
        Ok(match event {
            Event::Start(start) => {
                if self.stack.len() > self.max_depth {
                    return Err(ExtractError::TooDeep {
                        limit: self.max_depth,
                    });
                }
                self.stack.push(element(&start));
                Step::Opened
            }
            Event::Empty(start) => self.attach(element(&start)),
            Event::End(_) => self.close(),
            Event::Text(t) => self.push_text(&t.xml_content().unwrap_or_default()),
            Event::CData(t) => self.push_text(&t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => match resolve_ref(&r) {
                Some(text) => self.push_text(&text),
                None => Step::Other,
            },
            Event::Eof => Step::Eof,
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => Step::Other,
        })
    }

    /// Closes the innermost open element; the synthetic root is never closed.
    fn close(&mut self) -> Step {
        if self.stack.len() > 1
            && let Some(done) = self.stack.pop()
        {
            self.attach(done)
        } else {
            Step::Other
        }
    }

    fn attach(&mut self, done: Element) -> Step {
        if self.stack.len() <= self.keep_from {
            return Step::Detached(done);
        }
        if let Some(top) = self.stack.last_mut() {
            top.children.push(Node::Element(done));
        }
        Step::Other
    }

    fn push_text(&mut self, text: &str) -> Step {
        if text.is_empty() || self.stack.len() <= self.keep_from {
            return Step::Other;
        }
        if let Some(top) = self.stack.last_mut() {
            if let Some(Node::Text(prev)) = top.children.last_mut() {
                prev.push_str(text);
            } else {
                top.children.push(Node::Text(text.to_owned()));
            }
        }
        Step::Other
    }
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
