//! Page text from PDF content streams, laid out by position: runs on one baseline join into a
//! line (with a space where there is a gap), a larger vertical step starts a new paragraph, and
//! runs under a link annotation become Markdown links. lopdf's own `extract_text` breaks a line
//! at every text object, which cuts sentences apart.

use std::collections::BTreeMap;

use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use crate::formats::pdf_lazy::Contents;
use crate::markdown::link;

/// One line of text and the font size it was mostly set in.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// The line's text; table cells (runs far apart on one baseline) are separated by tabs.
    pub text: String,
    pub size: f32,
    /// Where the line starts horizontally (user space), for list nesting.
    pub x: f32,
    /// The stretches between gaps, to find table columns.
    pub segments: Vec<Segment>,
    /// A blank line (paragraph gap) came before this line.
    pub gap_before: bool,
}

/// Fonts already read, by the address of their dictionary in the document: pages share fonts,
/// and reading one (its ToUnicode CMap above all) was a tenth of the time when done per page.
pub(crate) type FontCache<'a> = std::collections::HashMap<usize, std::rc::Rc<Font<'a>>>;

pub(crate) struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    /// Strings already decoded: documents repeat the same words and fragments, and lopdf's
    /// CMap lookups allocate per character (a third of the time in profiles).
    decoded: std::cell::RefCell<std::collections::HashMap<Vec<u8>, String>>,
    /// Glyph widths (1/1000 em) from `FirstChar`, for simple fonts.
    widths: Option<(u32, Vec<f32>)>,
    two_byte: bool,
}

type Matrix = [f32; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// Graphics and text state that matter for layout.
struct State {
    ctm: Matrix,
    saved: Vec<Matrix>,
    /// Text matrix and the start of the current line.
    tm: Matrix,
    line: Matrix,
    size: f32,
    leading: f32,
    font: Vec<u8>,
}

/// A link annotation: its rectangle in user space and target.
struct LinkArea {
    rect: [f32; 4],
    uri: String,
}

/// A horizontal gap wider than this many ems marks a new cell.
const COLUMN_GAP_EM: f32 = 0.6;

/// Saved graphics states beyond this are ignored; real pages nest a handful.
const MAX_SAVED_STATES: usize = 64;

/// The page's lines and how many bytes of content were decompressed for them.
pub(crate) fn page_lines<'a>(
    doc: &'a Document,
    contents: &Contents,
    page_id: ObjectId,
    max_content: usize,
    cache: &mut FontCache<'a>,
) -> Result<(Vec<Line>, usize), lopdf::Error> {
    let fonts = load_fonts(doc, page_id, cache)?;
    let data = contents.page(doc, page_id, max_content)?;
    let used = data.len();
    let operations = crate::formats::pdf_content::operations(&data)
        .map_err(|_| lopdf::Error::Syntax("unreadable content stream".into()))?;
    let mut layout = Layout {
        links: link_areas(doc, page_id),
        ..Layout::default()
    };
    let mut st = State {
        ctm: IDENTITY,
        saved: Vec::new(),
        tm: IDENTITY,
        line: IDENTITY,
        size: 12.0,
        leading: 0.0,
        font: Vec::new(),
    };
    for op in &operations {
        let num = |i: usize| {
            op.operands
                .get(i)
                .and_then(|o| o.as_float().ok())
                .unwrap_or(0.0)
        };
        match op.operator.as_str() {
            "q" if st.saved.len() < MAX_SAVED_STATES => st.saved.push(st.ctm),
            "Q" => st.ctm = st.saved.pop().unwrap_or(st.ctm),
            "cm" => st.ctm = multiply(&[num(0), num(1), num(2), num(3), num(4), num(5)], &st.ctm),
            "BT" => {
                st.tm = IDENTITY;
                st.line = IDENTITY;
            }
            "Tf" => {
                st.font = op
                    .operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default();
                st.size = num(1);
            }
            "TL" => st.leading = num(0),
            "Td" => move_line(&mut st, num(0), num(1)),
            "TD" => {
                st.leading = -num(1);
                move_line(&mut st, num(0), num(1));
            }
            "T*" => {
                let leading = st.leading;
                move_line(&mut st, 0.0, -leading);
            }
            "Tm" => {
                st.tm = [num(0), num(1), num(2), num(3), num(4), num(5)];
                st.line = st.tm;
            }
            "Tj" | "'" | "\"" | "TJ" => {
                if op.operator == "'" || op.operator == "\"" {
                    let leading = st.leading;
                    move_line(&mut st, 0.0, -leading);
                }
                let font = fonts.get(&st.font).map(|f| &**f);
                let operands: &[Object] = if op.operator == "\"" {
                    op.operands.get(2..).unwrap_or(&[])
                } else {
                    &op.operands
                };
                for operand in operands {
                    show(operand, font, &mut st, &mut layout);
                }
            }
            _ => {}
        }
    }
    Ok((layout.finish(), used))
}

/// `m × n` for PDF's row-vector affine matrices.
fn multiply(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

fn move_line(st: &mut State, tx: f32, ty: f32) {
    st.line = multiply(&[1.0, 0.0, 0.0, 1.0, tx, ty], &st.line);
    st.tm = st.line;
}

fn show(operand: &Object, font: Option<&Font<'_>>, st: &mut State, layout: &mut Layout) {
    match operand {
        Object::String(bytes, _) => {
            let text = font.and_then(|f| f.decode(bytes)).unwrap_or_else(|| {
                bytes
                    .iter()
                    .filter(|b| b.is_ascii_graphic() || **b == b' ')
                    .map(|&b| b as char)
                    .collect()
            });
            // Text space → user space: the text matrix, then the CTM.
            let render = multiply(&st.tm, &st.ctm);
            let width_em = text_width(font, bytes, text.chars().count());
            let advance_text = width_em * st.size;
            let advance_user = advance_text * render[0].hypot(render[1]);
            let size_user = (st.size * render[2].hypot(render[3])).abs().max(1.0);
            layout.push(&text, render[4], render[5], advance_user, size_user);
            st.tm = multiply(&[1.0, 0.0, 0.0, 1.0, advance_text, 0.0], &st.tm);
        }
        Object::Array(items) => {
            for item in items {
                match item {
                    Object::Integer(_) | Object::Real(_) => {
                        let shift = -item.as_float().unwrap_or(0.0) / 1000.0 * st.size;
                        st.tm = multiply(&[1.0, 0.0, 0.0, 1.0, shift, 0.0], &st.tm);
                    }
                    other => show(other, font, st, layout),
                }
            }
        }
        _ => {}
    }
}

/// Width in em of the shown bytes: from the font's `Widths` when it has them, else an average.
fn text_width(font: Option<&Font<'_>>, bytes: &[u8], chars: usize) -> f32 {
    match font {
        Some(Font {
            widths: Some((first, widths)),
            two_byte: false,
            ..
        }) => {
            bytes
                .iter()
                .map(|&b| {
                    (b as u32)
                        .checked_sub(*first)
                        .and_then(|i| widths.get(i as usize))
                        .copied()
                        .unwrap_or(500.0)
                })
                .sum::<f32>()
                / 1000.0
        }
        _ => chars as f32 * 0.5,
    }
}

fn load_fonts<'a>(
    doc: &'a Document,
    page_id: ObjectId,
    cache: &mut FontCache<'a>,
) -> Result<BTreeMap<Vec<u8>, std::rc::Rc<Font<'a>>>, lopdf::Error> {
    let fonts = doc.get_page_fonts(page_id)?;
    Ok(fonts
        .into_iter()
        .map(|(name, dict)| {
            let key = dict as *const Dictionary as usize;
            let font = cache
                .entry(key)
                .or_insert_with(|| std::rc::Rc::new(font(doc, dict)))
                .clone();
            (name, font)
        })
        .collect())
}

/// Decoded strings kept per font; past this the cache stops growing.
const MAX_DECODED_PER_FONT: usize = 50_000;

impl Font<'_> {
    fn decode(&self, bytes: &[u8]) -> Option<String> {
        let encoding = self.encoding.as_ref()?;
        if let Some(text) = self.decoded.borrow().get(bytes) {
            return Some(text.clone());
        }
        let text = Document::decode_text(encoding, bytes).ok()?;
        let mut cache = self.decoded.borrow_mut();
        if cache.len() < MAX_DECODED_PER_FONT {
            cache.insert(bytes.to_vec(), text.clone());
        }
        Some(text)
    }
}

fn font<'a>(doc: &'a Document, dict: &'a Dictionary) -> Font<'a> {
    let two_byte = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|s| s == b"Type0");
    let first = dict.get(b"FirstChar").and_then(Object::as_i64).ok();
    let widths = dict
        .get_deref(b"Widths", doc)
        .and_then(Object::as_array)
        .ok()
        .map(|w| {
            w.iter()
                .map(|o| o.as_float().unwrap_or(500.0))
                .collect::<Vec<f32>>()
        });
    Font {
        encoding: dict.get_font_encoding(doc).ok(),
        widths: first.zip(widths).map(|(f, w)| (f.max(0) as u32, w)),
        two_byte,
        decoded: Default::default(),
    }
}

/// Link annotations read per page; each text run is tested against all of them.
const MAX_LINKS_PER_PAGE: usize = 2_000;

/// URI link annotations of a page.
fn link_areas(doc: &Document, page_id: ObjectId) -> Vec<LinkArea> {
    let Ok(page) = doc.get_dictionary(page_id) else {
        return Vec::new();
    };
    let Ok(annots) = page.get_deref(b"Annots", doc).and_then(Object::as_array) else {
        return Vec::new();
    };
    annots
        .iter()
        .take(MAX_LINKS_PER_PAGE)
        .filter_map(|a| doc.dereference(a).ok()?.1.as_dict().ok())
        .filter(|a| {
            a.get(b"Subtype")
                .and_then(Object::as_name)
                .is_ok_and(|s| s == b"Link")
        })
        .filter_map(|a| {
            let rect = a.get_deref(b"Rect", doc).and_then(Object::as_array).ok()?;
            let r: Vec<f32> = rect.iter().filter_map(|v| v.as_float().ok()).collect();
            let action = a.get_deref(b"A", doc).and_then(Object::as_dict).ok()?;
            let uri = match action.get_deref(b"URI", doc).ok()? {
                Object::String(bytes, _) => String::from_utf8_lossy(bytes).into_owned(),
                _ => return None,
            };
            let [x1, y1, x2, y2] = r.get(..4)?.try_into().ok()?;
            Some(LinkArea {
                rect: [x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2)],
                uri,
            })
        })
        .collect()
}

/// A stretch of a line between gaps, with where it starts and ends.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub text: String,
    pub start: f32,
    pub end: f32,
    /// The gap before it is wide enough to be a cell boundary; otherwise it is a word space that
    /// may still turn out to be one when the lines around it have a column starting there.
    pub hard: bool,
}

/// A line's text: segments joined by a tab at cell boundaries, by a space otherwise.
pub(crate) fn join_segments(segments: &[Segment]) -> String {
    let mut text = String::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            text.push(if seg.hard { '\t' } else { ' ' });
        }
        text.push_str(&seg.text);
    }
    text
}

/// A segment being built: its runs, each with the link it sits under.
struct SegmentBuild {
    runs: Vec<(String, Option<usize>)>,
    start: f32,
    end: f32,
    hard: bool,
}

/// Collects positioned runs into lines.
#[derive(Default)]
struct Layout {
    links: Vec<LinkArea>,
    lines: Vec<Line>,
    current: Vec<SegmentBuild>,
    sizes: Vec<f32>,
    baseline: Option<f32>,
    end_x: f32,
    line_height: f32,
    pending_gap: bool,
}

impl Layout {
    fn push(&mut self, text: &str, x: f32, y: f32, advance: f32, size: f32) {
        // Tabs mark cell boundaries in our output; the PDF's own are plain spacing.
        let text = text.replace('\t', " ");
        if text.is_empty() {
            return;
        }
        // None: same segment; Some(hard): a new segment after a gap.
        let mut boundary = None;
        match self.baseline {
            // Same baseline (within a third of the type size): continue the line.
            Some(base) if (base - y).abs() < size * 0.35 => {
                if x > self.end_x + size * COLUMN_GAP_EM {
                    boundary = Some(true);
                } else if x > self.end_x + size * 0.15 {
                    boundary = Some(false);
                }
            }
            Some(base) => {
                let step = (base - y).abs();
                self.flush();
                // A step well beyond one line of text is a paragraph break.
                self.pending_gap = step > self.line_height.max(size) * 1.6;
            }
            None => {}
        }
        let under = self.link_at(x + advance / 2.0, y + size * 0.3);
        let end = x + advance;
        match self.current.last_mut() {
            Some(seg) if boundary.is_none() => {
                match seg.runs.last_mut() {
                    Some((run, link)) if *link == under => run.push_str(&text),
                    _ => seg.runs.push((text, under)),
                }
                seg.end = end;
            }
            _ => self.current.push(SegmentBuild {
                runs: vec![(text, under)],
                start: x,
                end,
                hard: boundary.unwrap_or(false),
            }),
        }
        self.sizes.push(size);
        self.baseline = Some(y);
        self.end_x = end;
        self.line_height = size * 1.2;
    }

    fn link_at(&self, x: f32, y: f32) -> Option<usize> {
        self.links
            .iter()
            .position(|l| x >= l.rect[0] && x <= l.rect[2] && y >= l.rect[1] && y <= l.rect[3])
    }

    fn render_runs(&self, runs: Vec<(String, Option<usize>)>) -> String {
        let mut out = String::new();
        for (run, under) in runs {
            match under.and_then(|i| self.links.get(i)) {
                Some(area) => {
                    let lead = if run.starts_with(' ') { " " } else { "" };
                    let trail = if run.ends_with(' ') { " " } else { "" };
                    out.push_str(&format!("{lead}{}{trail}", link(&run, &area.uri)));
                }
                None => out.push_str(&run),
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn flush(&mut self) {
        let builds = std::mem::take(&mut self.current);
        let x = builds.first().map_or(0.0, |b| b.start);
        let mut segments: Vec<Segment> = Vec::new();
        for build in builds {
            let text = self.render_runs(build.runs);
            if text.is_empty() {
                continue;
            }
            // The first kept segment starts the line; nothing is before it.
            let hard = build.hard && !segments.is_empty();
            segments.push(Segment {
                text,
                start: build.start,
                end: build.end,
                hard,
            });
        }
        if !segments.is_empty() {
            let mut sizes = std::mem::take(&mut self.sizes);
            sizes.sort_by(f32::total_cmp);
            let size = sizes.get(sizes.len() / 2).copied().unwrap_or(12.0);
            self.lines.push(Line {
                text: join_segments(&segments),
                segments,
                size,
                x,
                gap_before: self.pending_gap,
            });
        }
        self.sizes.clear();
        self.pending_gap = false;
    }

    fn finish(mut self) -> Vec<Line> {
        self.flush();
        self.lines
    }
}
