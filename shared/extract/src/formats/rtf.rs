//! RTF: control words stripped; paragraphs, headings (outline level or "heading N" style), list
//! items (`\listtext`), tables (`\cell`/`\row`) and HYPERLINK fields kept; `\info` title/author;
//! page headers once before the body and footers once after.

use std::collections::HashMap;

use encoding_rs::{Encoding, WINDOWS_1252};

use crate::formats::{Furniture, PageFurniture};
use crate::markdown::{join_blocks, link, table};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

/// Page headers and footers (all pages, left, right, first): each distinct one is kept once, before
/// the body or after it.
const HEADERS: &[&str] = &["header", "headerl", "headerr", "headerf"];
const FOOTERS: &[&str] = &["footer", "footerl", "footerr", "footerf"];

/// Destinations whose content is not document text.
const SKIP: &[&str] = &[
    "fonttbl",
    "colortbl",
    "pict",
    "object",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "datastore",
    "xmlnsdecl",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "mmathPr",
    "filetbl",
    "revtbl",
    "bkmkstart",
    "bkmkend",
    "operator",
    "company",
    "keywords",
    "comment",
    "subject",
    "doccomm",
    "creatim",
    "revtim",
    "printim",
    "buptim",
    "pgdsctbl",
    "userprops",
    "ftnsep",
    "ftnsepc",
    "aftnsep",
    "aftnsepc",
    "pntxtb",
    "pntxta",
    "footnote",
];

#[derive(Clone, Copy, PartialEq)]
enum Sink {
    Text,
    Skip,
    Title,
    Author,
    ListText,
    Stylesheet,
    StyleName,
    FieldInst,
    Furniture(Furniture),
}

#[derive(Clone, Copy)]
struct Group {
    sink: Sink,
    /// Fallback characters to skip after `\uN`.
    uc: usize,
}

/// Paragraph properties, reset by `\pard`.
#[derive(Default, Clone)]
struct Para {
    outline: Option<usize>,
    style: Option<i64>,
    level: usize,
    marker: Option<String>,
    in_table: bool,
}

/// An open `{\field …}`: its group depth, instruction, and where its visible result starts.
struct Field {
    depth: usize,
    inst: String,
    result_start: Option<usize>,
}

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let mut parser = Parser::new(bytes, limits.max_nesting_depth);
    parser.run()?;
    parser.end_paragraph();
    parser.flush_list();
    parser.flush_table();
    let metadata = Metadata {
        title: Some(parser.title.trim().to_owned()).filter(|t| !t.is_empty()),
        author: Some(parser.author.trim().to_owned()).filter(|t| !t.is_empty()),
        ..Metadata::default()
    };
    let markdown = parser.furniture.around(join_blocks(parser.blocks));
    Ok(Extracted::new(Format::Rtf, markdown, metadata))
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    max_depth: usize,
    stack: Vec<Group>,
    group: Group,
    encoding: &'static Encoding,
    pending_bytes: Vec<u8>,
    skip_fallback: usize,
    // Output being built.
    text: String,
    props: Para,
    blocks: Vec<String>,
    list: Vec<String>,
    cell: String,
    row: Vec<String>,
    rows: Vec<Vec<String>>,
    // Side channels.
    title: String,
    author: String,
    list_text: String,
    styles: HashMap<i64, String>,
    style_number: i64,
    fields: Vec<Field>,
    /// The open header or footer group: its depth and sink, and its text so far.
    open_furniture: Option<(usize, Furniture)>,
    furniture_text: String,
    furniture: PageFurniture,
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8], max_depth: usize) -> Self {
        Self {
            src,
            pos: 0,
            max_depth,
            stack: Vec::new(),
            group: Group {
                sink: Sink::Text,
                uc: 1,
            },
            encoding: WINDOWS_1252,
            pending_bytes: Vec::new(),
            skip_fallback: 0,
            text: String::new(),
            props: Para::default(),
            blocks: Vec::new(),
            list: Vec::new(),
            cell: String::new(),
            row: Vec::new(),
            rows: Vec::new(),
            title: String::new(),
            author: String::new(),
            list_text: String::new(),
            styles: HashMap::new(),
            style_number: 0,
            fields: Vec::new(),
            open_furniture: None,
            furniture_text: String::new(),
            furniture: PageFurniture::default(),
        }
    }

    fn run(&mut self) -> Result<(), ExtractError> {
        while let Some(&b) = self.src.get(self.pos) {
            self.pos += 1;
            match b {
                b'{' => {
                    self.flush_bytes();
                    if self.stack.len() >= self.max_depth {
                        return Err(ExtractError::TooDeep {
                            limit: self.max_depth,
                        });
                    }
                    self.stack.push(self.group);
                }
                b'}' => {
                    self.flush_bytes();
                    self.close_field();
                    self.group = self.stack.pop().unwrap_or(self.group);
                    self.close_furniture();
                }
                b'\\' => self.control(),
                b'\r' | b'\n' => {}
                _ => {
                    self.flush_bytes();
                    self.emit_char(b as char);
                }
            }
        }
        self.flush_bytes();
        Ok(())
    }

    fn control(&mut self) {
        let Some(&next) = self.src.get(self.pos) else {
            return;
        };
        if !next.is_ascii_alphabetic() {
            self.pos += 1;
            match next {
                b'\'' => self.hex_byte(),
                // `\*` marks a destination a reader may ignore when it does not know it.
                b'*' => self.group.sink = Sink::Skip,
                b'~' => self.emit_str("\u{a0}"),
                b'\\' | b'{' | b'}' => {
                    self.flush_bytes();
                    self.emit_char(next as char);
                }
                b'\n' | b'\r' if self.group.sink == Sink::Text => self.end_paragraph(),
                b'\n' | b'\r' => self.emit_str(" "),
                _ => {}
            }
            return;
        }
        let start = self.pos;
        while self.src.get(self.pos).is_some_and(u8::is_ascii_alphabetic) {
            self.pos += 1;
        }
        let word = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
        let param = self.number();
        if self.src.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        self.flush_bytes();
        self.word(&word, param);
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.pos;
        if self.src.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        while self.src.get(self.pos).is_some_and(u8::is_ascii_digit) && self.pos - start < 12 {
            self.pos += 1;
        }
        std::str::from_utf8(&self.src[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }

    fn word(&mut self, word: &str, param: Option<i64>) {
        let in_body = self.group.sink == Sink::Text;
        match word {
            "par" | "sect" | "page" if in_body => self.end_paragraph(),
            "par" | "line" if self.open_furniture.is_some() => self.emit_str(" "),
            w if HEADERS.contains(&w) || FOOTERS.contains(&w) => {
                let which = if HEADERS.contains(&w) {
                    Furniture::Header
                } else {
                    Furniture::Footer
                };
                if self.open_furniture.is_none() {
                    self.open_furniture = Some((self.stack.len(), which));
                    self.furniture_text.clear();
                }
                self.group.sink = Sink::Furniture(which);
            }
            "line" if in_body => self.emit_str("\n"),
            "pard" if in_body => self.props = Para::default(),
            "intbl" if in_body => self.props.in_table = true,
            "cell" if in_body => self.end_cell(),
            "row" if in_body => self.end_row(),
            "outlinelevel" if in_body => self.props.outline = param.map(|p| p.clamp(0, 8) as usize),
            "ilvl" if in_body => self.props.level = param.unwrap_or(0).clamp(0, 8) as usize,
            "s" if in_body => self.props.style = param,
            "s" if matches!(self.group.sink, Sink::Stylesheet | Sink::StyleName) => {
                self.style_number = param.unwrap_or(0);
                self.group.sink = Sink::StyleName;
            }
            "tab" | "cell" => self.emit_str(" "),
            "emdash" => self.emit_str("\u{2014}"),
            "endash" => self.emit_str("\u{2013}"),
            "bullet" => self.emit_str("\u{2022}"),
            "lquote" | "rquote" => self.emit_str("'"),
            "ldblquote" | "rdblquote" => self.emit_str("\""),
            "u" => {
                if let Some(code) = param {
                    // Negative values encode code points above 32767 in a signed 16-bit field.
                    let code = if code < 0 { code + 65536 } else { code };
                    self.emit_str(
                        &char::from_u32(code as u32)
                            .unwrap_or('\u{FFFD}')
                            .to_string(),
                    );
                    self.skip_fallback = self.group.uc;
                }
            }
            "uc" => self.group.uc = param.unwrap_or(1).clamp(0, 8) as usize,
            "ansicpg" => {
                let label = format!("windows-{}", param.unwrap_or(1252));
                self.encoding = Encoding::for_label(label.as_bytes()).unwrap_or(WINDOWS_1252);
            }
            "title" => self.group.sink = Sink::Title,
            "author" => self.group.sink = Sink::Author,
            "stylesheet" => self.group.sink = Sink::Stylesheet,
            "listtext" | "pntext" => {
                self.list_text.clear();
                self.group.sink = Sink::ListText;
            }
            "field" if in_body => self.fields.push(Field {
                depth: self.stack.len(),
                inst: String::new(),
                result_start: None,
            }),
            "fldinst" => self.group.sink = Sink::FieldInst,
            "fldrslt" if let Some((_, which)) = self.open_furniture => {
                self.group.sink = Sink::Furniture(which);
            }
            "fldrslt" => {
                self.group.sink = Sink::Text;
                let at = self.text.len();
                if let Some(field) = self.fields.last_mut() {
                    field.result_start = Some(at);
                }
            }
            w if SKIP.contains(&w) => self.group.sink = Sink::Skip,
            _ => {}
        }
    }

    /// At the end of a header or footer group, its text is kept if it is new.
    fn close_furniture(&mut self) {
        let Some((depth, which)) = self.open_furniture else {
            return;
        };
        if self.stack.len() >= depth {
            return;
        }
        self.open_furniture = None;
        let text = self
            .furniture_text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        self.furniture.add(which, &text);
    }

    /// At the end of a field group, a HYPERLINK's visible text becomes a Markdown link.
    fn close_field(&mut self) {
        let Some(field) = self.fields.last() else {
            return;
        };
        if field.depth != self.stack.len() {
            return;
        }
        let Some(field) = self.fields.pop() else {
            return;
        };
        let url = field.inst.trim().strip_prefix("HYPERLINK").map(|rest| {
            rest.trim()
                .split('"')
                .find(|p| !p.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_owned()
        });
        if let (Some(url), Some(start)) = (url, field.result_start)
            && start <= self.text.len()
            && self.text.is_char_boundary(start)
        {
            let label = self.text.split_off(start);
            self.text.push_str(&link(&label, &url));
        }
    }

    fn end_paragraph(&mut self) {
        let text = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        self.text.clear();
        if self.props.in_table {
            if !text.is_empty() {
                if !self.cell.is_empty() {
                    self.cell.push(' ');
                }
                self.cell.push_str(&text);
            }
            return;
        }
        let marker = self.props.marker.take();
        if text.is_empty() {
            return;
        }
        self.flush_table();
        if let Some(marker) = marker {
            self.list.push(format!(
                "{}{marker} {text}",
                "    ".repeat(self.props.level)
            ));
            return;
        }
        self.flush_list();
        match self.heading_level() {
            Some(level) => self.blocks.push(format!("{} {text}", "#".repeat(level))),
            None => self.blocks.push(text),
        }
    }

    fn heading_level(&self) -> Option<usize> {
        if let Some(outline) = self.props.outline {
            return Some((outline + 1).min(6));
        }
        let name = self
            .styles
            .get(&self.props.style?)?
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_ascii_lowercase();
        if name == "title" {
            return Some(1);
        }
        name.strip_prefix("heading ")?
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=6).contains(l))
    }

    fn end_cell(&mut self) {
        self.props.in_table = true;
        self.end_paragraph();
        self.row.push(std::mem::take(&mut self.cell));
    }

    fn end_row(&mut self) {
        if !self.text.trim().is_empty() {
            self.end_cell();
        }
        let row = std::mem::take(&mut self.row);
        if !row.is_empty() {
            self.flush_list();
            self.rows.push(row);
        }
    }

    fn flush_table(&mut self) {
        if !self.rows.is_empty() {
            self.blocks.push(table(&self.rows));
            self.rows.clear();
        }
    }

    fn flush_list(&mut self) {
        if !self.list.is_empty() {
            self.blocks.push(self.list.join("\n"));
            self.list.clear();
        }
    }

    /// `\listtext` holds the rendered marker ("1.", "•"); keep numbers, make the rest bullets.
    fn take_marker(&mut self) {
        let raw = self.list_text.trim().to_owned();
        self.list_text.clear();
        let digits = raw.chars().take_while(char::is_ascii_digit).count();
        let marker = if digits > 0 && raw[digits..].starts_with(['.', ')']) {
            format!("{}.", &raw[..digits])
        } else {
            "-".to_owned()
        };
        self.props.marker = Some(marker);
    }

    fn hex_byte(&mut self) {
        let hex = self
            .src
            .get(self.pos..self.pos + 2)
            .and_then(|h| std::str::from_utf8(h).ok());
        if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            self.pos += 2;
            if self.skip_fallback > 0 {
                self.skip_fallback -= 1;
            } else {
                self.pending_bytes.push(byte);
            }
        }
    }

    fn flush_bytes(&mut self) {
        if self.pending_bytes.is_empty() {
            return;
        }
        let (text, _, _) = self.encoding.decode(&self.pending_bytes);
        let text = text.into_owned();
        self.pending_bytes.clear();
        self.emit_str(&text);
    }

    fn emit_char(&mut self, c: char) {
        if self.skip_fallback > 0 {
            self.skip_fallback -= 1;
            return;
        }
        let mut buf = [0u8; 4];
        self.emit_str(c.encode_utf8(&mut buf));
    }

    fn emit_str(&mut self, s: &str) {
        match self.group.sink {
            Sink::Text => {
                // The first body text after a `\listtext` group makes the paragraph a list item.
                if !self.list_text.is_empty() {
                    self.take_marker();
                }
                self.text.push_str(s);
            }
            Sink::Title => self.title.push_str(s),
            Sink::Author => self.author.push_str(s),
            Sink::ListText => self.list_text.push_str(s),
            Sink::StyleName => self
                .styles
                .entry(self.style_number)
                .or_default()
                .push_str(s),
            Sink::FieldInst => {
                if let Some(field) = self.fields.last_mut() {
                    field.inst.push_str(s);
                }
            }
            Sink::Furniture(_) => self.furniture_text.push_str(s),
            Sink::Skip | Sink::Stylesheet => {}
        }
    }
}
