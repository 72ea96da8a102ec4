//! Page text from PDF content streams, laid out by position: runs on one baseline join into a
//! line (with a space where there is a gap), a larger vertical step starts a new paragraph, and
//! runs under a link annotation become Markdown links. lopdf's own `extract_text` breaks a line
//! at every text object, which cuts sentences apart.

use std::borrow::Cow;
use std::collections::BTreeMap;

use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};

use crate::formats::pdf_content::{Malformed, Operand, Operands, each_operation};
use crate::formats::pdf_glyphs;
use crate::formats::pdf_lazy::{Contents, page_resources};
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

/// What pages share. Fonts already read, by the address of their dictionary in the document:
/// reading one (its ToUnicode CMap above all) was a tenth of the time when done per page. And
/// Form XObjects that show no text and draw no forms (vector art, often drawn on every page):
/// they are not decompressed again.
#[derive(Default)]
pub(crate) struct FontCache<'a> {
    fonts: std::collections::HashMap<usize, std::rc::Rc<Font<'a>>>,
    textless_forms: std::collections::HashSet<ObjectId>,
}

impl FontCache<'_> {
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

pub(crate) struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    /// For a simple font with a ToUnicode CMap (then `encoding`): its `/Encoding` (or
    /// StandardEncoding), for the codes the CMap does not map.
    base: Option<Encoding<'a>>,
    /// Strings already decoded: documents repeat the same words and fragments, and lopdf's
    /// CMap lookups allocate per character (a third of the time in profiles).
    decoded: std::cell::RefCell<foldhash::HashMap<Vec<u8>, String>>,
    /// Glyph widths (1/1000 em) from `FirstChar`, for simple fonts.
    widths: Option<(u32, Vec<f32>)>,
    /// Glyph widths (1/1000 em) indexed by CID and the default, for Type0 fonts with an
    /// Identity CMap (two-byte codes, so at most 65,536 entries).
    cid_widths: Option<(Vec<f32>, f32)>,
    two_byte: bool,
    per_byte: Option<ByteTable>,
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
    /// `Tc`, `Tw` and `Tz` (PDF 32000-1 §9.3): extra space after each glyph and after each
    /// space, in unscaled text units, and the horizontal scale. Letter-spaced text is common
    /// (Distiller, Canva); without them its letters land apart and read as separate words.
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    /// What layout needs of the text-to-user matrix, for the matrix it was measured on: it
    /// rarely changes within a line, and `hypot` was a twentieth of the time.
    axes: Axes,
}

/// The lengths of a text-to-user matrix's two axes and the direction of its baseline.
#[derive(Clone, Copy)]
struct Axes {
    linear: [f32; 4],
    x_len: f32,
    y_len: f32,
    /// cos and sin of the baseline's angle, and the angle in whole degrees.
    baseline: (f32, f32, i16),
}

impl Axes {
    fn of(linear: [f32; 4]) -> Self {
        let [dx, dy, ..] = linear;
        let x_len = dx.hypot(dy);
        let baseline = match (dx, dy) {
            // Exact for the usual directions.
            (dx, 0.0) if dx > 0.0 => (1.0, 0.0, 0),
            (0.0, dy) if dy > 0.0 => (0.0, 1.0, 90),
            (0.0, dy) if dy < 0.0 => (0.0, -1.0, -90),
            _ if x_len == 0.0 || !x_len.is_finite() => (1.0, 0.0, 0),
            _ => (
                dx / x_len,
                dy / x_len,
                dy.atan2(dx).to_degrees().round() as i16,
            ),
        };
        Self {
            linear,
            x_len,
            y_len: linear[2].hypot(linear[3]),
            baseline,
        }
    }
}

/// A link annotation: its rectangle in user space and target.
struct LinkArea {
    rect: [f32; 4],
    uri: String,
}

impl LinkArea {
    fn rises_over(&self, y: f32) -> bool {
        y >= self.rect[1] && y <= self.rect[3]
    }

    fn contains(&self, x: f32, y: f32) -> bool {
        x >= self.rect[0] && x <= self.rect[2] && self.rises_over(y)
    }
}

/// Links are matched at a point this many ems above the baseline, in the middle of a string.
const LINK_PROBE_EM: f32 = 0.3;

/// A horizontal gap wider than this many ems is a space between words.
const WORD_GAP_EM: f32 = 0.15;

/// A horizontal gap wider than this many ems marks a new cell.
const COLUMN_GAP_EM: f32 = 0.6;

/// Saved graphics states beyond this are ignored; real pages nest a handful.
const MAX_SAVED_STATES: usize = 64;

/// Form XObjects drawn inside Form XObjects deeper than this are skipped.
const MAX_FORM_DEPTH: usize = 8;

/// The page's lines and how many bytes of content were decompressed for them (its content
/// streams and every Form XObject it draws, each time it draws one).
pub(crate) fn page_lines<'a>(
    doc: &'a Document,
    contents: &Contents,
    page_id: ObjectId,
    max_content: usize,
    cache: &mut FontCache<'a>,
) -> Result<(Vec<Line>, usize), lopdf::Error> {
    let page = contents.page_dict(doc, page_id)?;
    let fonts = load_fonts(doc, contents, page_id, &page, cache)?;
    let data = contents.page(doc, page_id, &page, max_content)?;
    let found = match &page {
        Cow::Borrowed(_) => doc.get_page_resources(page_id),
        Cow::Owned(dict) => page_resources(doc, dict),
    };
    let resources: Vec<&Dictionary> = match found {
        Ok((direct, ids)) => direct
            .into_iter()
            .chain(ids.into_iter().filter_map(|id| doc.get_dictionary(id).ok()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut run = Run {
        doc,
        contents,
        cache,
        max_content,
        used: data.len(),
        forms: Vec::new(),
        shown: Shown::default(),
        layout: Layout {
            links: link_areas(doc, contents, &page)?,
            ..Layout::default()
        },
    };
    let mut st = State {
        ctm: IDENTITY,
        saved: Vec::new(),
        tm: IDENTITY,
        line: IDENTITY,
        size: 12.0,
        leading: 0.0,
        font: Vec::new(),
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
        axes: Axes::of([1.0, 0.0, 0.0, 1.0]),
    };
    // Read as it is tokenized; a stream that turns out unreadable fails the whole page, which
    // then goes to lopdf's reader, so nothing from it is kept.
    each_operation(&data, |operator, operands| {
        run.operation(operator, operands, &fonts, &resources, &mut st)
    })?;
    Ok((run.layout.finish(), run.used))
}

/// Fonts by resource name.
type Fonts<'a> = BTreeMap<Vec<u8>, std::rc::Rc<Font<'a>>>;

/// One page being read: what its content and the forms it draws share.
struct Run<'a, 'c, 'f> {
    doc: &'a Document,
    contents: &'c Contents<'c>,
    cache: &'f mut FontCache<'a>,
    max_content: usize,
    /// Bytes of content decompressed so far.
    used: usize,
    /// The forms being drawn, outermost first: a form that draws itself is skipped.
    forms: Vec<ObjectId>,
    layout: Layout,
    /// The text being shown (its buffers reused).
    shown: Shown,
}

impl<'a> Run<'a, '_, '_> {
    /// One content-stream operation. `resources` are the resource dictionaries names are
    /// looked up in, nearest first.
    fn operation(
        &mut self,
        operator: &[u8],
        operands: &Operands,
        fonts: &Fonts<'a>,
        resources: &[&Dictionary],
        st: &mut State,
    ) -> Result<(), lopdf::Error> {
        let num = |i: usize| operands.num(i);
        match operator {
            b"q" if st.saved.len() < MAX_SAVED_STATES => st.saved.push(st.ctm),
            b"Q" => st.ctm = st.saved.pop().unwrap_or(st.ctm),
            b"cm" => st.ctm = multiply(&[num(0), num(1), num(2), num(3), num(4), num(5)], &st.ctm),
            b"BT" => {
                st.tm = IDENTITY;
                st.line = IDENTITY;
            }
            b"Tf" => {
                // Reused: pages set a font at every text object.
                st.font.clear();
                st.font
                    .extend_from_slice(operands.name(0).unwrap_or_default());
                st.size = num(1);
            }
            b"TL" => st.leading = num(0),
            b"Tc" => st.char_spacing = num(0),
            b"Tw" => st.word_spacing = num(0),
            b"Tz" => st.scale = num(0) / 100.0,
            b"Td" => move_line(st, num(0), num(1)),
            b"TD" => {
                st.leading = -num(1);
                move_line(st, num(0), num(1));
            }
            b"T*" => {
                let leading = st.leading;
                move_line(st, 0.0, -leading);
            }
            b"Tm" => {
                st.tm = [num(0), num(1), num(2), num(3), num(4), num(5)];
                st.line = st.tm;
            }
            b"Tj" | b"'" | b"\"" | b"TJ" => {
                if operator == b"'" || operator == b"\"" {
                    let leading = st.leading;
                    move_line(st, 0.0, -leading);
                }
                if operator == b"\"" {
                    // `aw ac string "` sets word and character spacing first.
                    st.word_spacing = num(0);
                    st.char_spacing = num(1);
                }
                let font = fonts.get(&st.font).map(|f| &**f);
                let first = if operator == b"\"" { 2 } else { 0 };
                for i in first..operands.len() {
                    self.show(operands, operands.with_entries(i), font, st);
                }
            }
            b"Do" => {
                if let Some(name) = operands.name(0) {
                    self.form(name, fonts, resources, st)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Shows a text-showing operand: a string, or a `TJ` array whose strings are shown and
    /// whose numbers move the next one back by thousandths of a text unit. Entries of a
    /// nested array count as the array's own; a dictionary's are skipped; anything else does
    /// nothing.
    fn show(
        &mut self,
        operands: &Operands,
        entries: &[Operand],
        font: Option<&Font<'_>>,
        st: &mut State,
    ) {
        let shown = &mut self.shown;
        shown.begin(st);
        match entries.first() {
            Some(&string @ Operand::Str(..)) => {
                shown.string(operands.bytes(string), font, st, &mut self.layout);
            }
            Some(Operand::Array { .. }) => {
                let mut i = 1;
                while let Some(&entry) = entries.get(i) {
                    match entry {
                        Operand::Int(_) | Operand::Real(_) => {
                            let shift =
                                -entry.number().unwrap_or(0.0) / 1000.0 * st.size * st.scale;
                            shown.advance(shift, st);
                        }
                        Operand::Str(..) => {
                            shown.string(operands.bytes(entry), font, st, &mut self.layout);
                        }
                        Operand::Dict { len } => i += len as usize,
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        shown.finish(st, &mut self.layout);
    }

    /// Draws the Form XObject `name` (PDF 32000-1 §8.10): its content with its own resources
    /// (names it lacks fall back to the caller's) and its matrix, in a graphics state saved and
    /// restored around it. Images and forms that cannot be read are skipped; content over the
    /// budget is an error.
    fn form(
        &mut self,
        name: &[u8],
        fonts: &Fonts<'a>,
        resources: &[&Dictionary],
        st: &mut State,
    ) -> Result<(), lopdf::Error> {
        let doc = self.doc;
        let Some(id) = resources.iter().find_map(|r| {
            r.get_deref(b"XObject", doc)
                .and_then(Object::as_dict)
                .and_then(|x| x.get(name))
                .and_then(Object::as_reference)
                .ok()
        }) else {
            return Ok(());
        };
        if self.forms.len() >= MAX_FORM_DEPTH
            || self.forms.contains(&id)
            || self.cache.textless_forms.contains(&id)
        {
            return Ok(());
        }
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            return Ok(());
        };
        let dict = &stream.dict;
        if !dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .is_ok_and(|s| s == b"Form")
        {
            return Ok(());
        }
        let limit = self.max_content.saturating_sub(self.used);
        let data = match self.contents.stream(doc, id, limit) {
            Ok(data) => data,
            Err(e @ lopdf::Error::Decompress(_)) => return Err(e),
            Err(_) => return Ok(()),
        };
        self.used += data.len();
        // Only `BT` (text) and `Do` (forms) matter here; vector art has neither.
        if !data.windows(2).any(|w| w == b"BT" || w == b"Do") {
            self.cache.textless_forms.insert(id);
            return Ok(());
        }
        // Tokenized whole first: an unreadable form is skipped, not half drawn.
        if each_operation(&data, |_, _| Ok::<_, Malformed>(())).is_err() {
            return Ok(());
        }
        let own = dict
            .get_deref(b"Resources", doc)
            .and_then(Object::as_dict)
            .ok();
        let mut form_resources = Vec::with_capacity(resources.len() + 1);
        form_resources.extend(own);
        form_resources.extend_from_slice(resources);
        let mut form_fonts;
        let fonts = match own {
            Some(own) if own.has(b"Font") => {
                form_fonts = fonts.clone();
                form_fonts.extend(resource_fonts(doc, self.contents, own, self.cache)?);
                &form_fonts
            }
            _ => fonts,
        };
        let matrix = numbers(doc, dict, b"Matrix", 0.0)
            .and_then(|m| <[f32; 6]>::try_from(m).ok())
            .unwrap_or(IDENTITY);
        let outer = State {
            ctm: st.ctm,
            saved: std::mem::take(&mut st.saved),
            tm: st.tm,
            line: st.line,
            size: st.size,
            leading: st.leading,
            font: st.font.clone(),
            char_spacing: st.char_spacing,
            word_spacing: st.word_spacing,
            scale: st.scale,
            axes: st.axes,
        };
        st.ctm = multiply(&matrix, &st.ctm);
        self.forms.push(id);
        let result = each_operation(&data, |operator, operands| {
            self.operation(operator, operands, fonts, &form_resources, st)
        });
        self.forms.pop();
        *st = outer;
        result
    }
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

/// The strings of one text-showing operand, laid out as one run while each follows the last
/// closer than a word gap and under the same link: a kerned `TJ` is dozens of one-glyph
/// strings, and laying out each on its own was a large part of the time. The run is what the
/// strings would have made one by one: the same text and extent, and each string with text
/// counts once in the line's type size.
#[derive(Default)]
struct Shown {
    text: String,
    /// Where the run starts, in the frame rotated back by the baseline's angle, and in user
    /// space (where link areas are).
    x: f32,
    y: f32,
    origin: (f32, f32),
    /// Text-space distance from the run's start to the end of the last string with text, and
    /// to the current position.
    end: f32,
    at: f32,
    /// Strings with text in the run, and the link they are under.
    pieces: usize,
    link: Option<usize>,
    /// The page's links (their indices) at the height of the run.
    row: Vec<usize>,
}

impl Shown {
    /// Starts an operand's strings.
    fn begin(&mut self, st: &mut State) {
        // The linear part of text-to-user space is the same for every string of an operand.
        let render = multiply(&st.tm, &st.ctm);
        let linear = [render[0], render[1], render[2], render[3]];
        if st.axes.linear != linear {
            st.axes = Axes::of(linear);
        }
        self.text.clear();
        self.pieces = 0;
    }

    /// Moves the text position along the baseline by `dx` text-space units.
    fn advance(&mut self, dx: f32, st: &mut State) {
        st.tm[4] += dx * st.tm[0];
        st.tm[5] += dx * st.tm[1];
        self.at += dx;
    }

    /// Shows one string: its text joins the run (or starts the next one) and the text matrix
    /// moves past it.
    fn string(
        &mut self,
        bytes: &[u8],
        font: Option<&Font<'_>>,
        st: &mut State,
        layout: &mut Layout,
    ) {
        // Decoded straight onto the run: the string's text is what follows `mark`.
        let mut mark = self.text.len();
        if !font.is_some_and(|f| f.decode(bytes, &mut self.text)) {
            self.text.extend(
                bytes
                    .iter()
                    .filter(|b| b.is_ascii_graphic() || **b == b' ')
                    .map(|&b| b as char),
            );
        }
        let width_em = text_width(font, bytes, &self.text[mark..]);
        expand_ligatures(&mut self.text, mark);
        // Word spacing applies to the single-byte code 32 only (§9.3.3).
        let two_byte = font.is_some_and(|f| f.two_byte);
        let glyphs = if two_byte {
            bytes.len() / 2
        } else {
            bytes.len()
        };
        let spaces = if two_byte {
            0
        } else {
            bytes.iter().filter(|&&b| b == b' ').count()
        };
        let advance = (width_em * st.size
            + st.char_spacing * glyphs as f32
            + st.word_spacing * spaces as f32)
            * st.scale;
        if self.text.len() > mark {
            let size = size_user(st);
            let x_len = st.axes.x_len;
            // The gap the layout would see between this string and the last one with text.
            let gap = (self.at - self.end) * x_len;
            if self.pieces > 0 && gap > size * WORD_GAP_EM {
                self.finish_at(mark, st, layout);
                mark = 0;
            }
            if self.pieces == 0 {
                self.start(st, layout);
            }
            // A string is under a link when a point a third of the way up its middle is.
            let along = self.at * x_len + advance * x_len / 2.0;
            let up = size * LINK_PROBE_EM;
            let (cos, sin, _) = st.axes.baseline;
            let (x, y) = (
                self.origin.0 + along * cos - up * sin,
                self.origin.1 + along * sin + up * cos,
            );
            let link = self
                .row
                .iter()
                .copied()
                .find(|&i| layout.links[i].contains(x, y));
            if self.pieces > 0 && link != self.link {
                self.finish_at(mark, st, layout);
                self.start(st, layout);
            }
            self.link = link;
            self.end = self.at + advance;
            self.pieces += 1;
        }
        self.advance(advance, st);
    }

    /// Starts a run at the current text position.
    fn start(&mut self, st: &State, layout: &Layout) {
        // Text space → user space: the text matrix, then the CTM.
        let render = multiply(&st.tm, &st.ctm);
        let (cos, sin, _) = st.axes.baseline;
        let (x, y) = (render[4], render[5]);
        // Where the run starts in a frame whose x axis runs along its baseline (rotated back by
        // its angle): text running up or down the page (a landscape table, a side label),
        // upside down or at a slant would otherwise have every run on a "line" of its own.
        (self.x, self.y) = (x * cos + y * sin, y * cos - x * sin);
        self.origin = (x, y);
        self.at = 0.0;
        // Exactly horizontal text (upright or upside down) probes links at one height: only
        // the links there are tried for each string. (The least slant moves the probe along
        // the run.)
        let height = y + size_user(st) * LINK_PROBE_EM * cos;
        self.row.clear();
        self.row.extend(
            (0..layout.links.len()).filter(|&i| sin != 0.0 || layout.links[i].rises_over(height)),
        );
    }

    /// Lays out the run so far.
    fn finish(&mut self, st: &State, layout: &mut Layout) {
        self.finish_at(self.text.len(), st, layout);
    }

    /// Lays out the run's first `end` bytes of text; the rest (a string just decoded) stays
    /// for the next run.
    fn finish_at(&mut self, end: usize, st: &State, layout: &mut Layout) {
        if self.pieces == 0 {
            return;
        }
        let run = Placed {
            x: self.x,
            y: self.y,
            angle: st.axes.baseline.2,
            advance: self.end * st.axes.x_len,
            size: size_user(st),
            pieces: self.pieces,
            link: self.link,
        };
        layout.push(&self.text[..end], run);
        self.text.drain(..end);
        self.pieces = 0;
    }
}

/// The type size in user space.
fn size_user(st: &State) -> f32 {
    (st.size * st.axes.y_len).abs().max(1.0)
}

/// A run of text placed on the page: where it starts (rotated back by its baseline's angle),
/// its extent and type size there, how many strings it joins and the link it is under.
struct Placed {
    x: f32,
    y: f32,
    angle: i16,
    advance: f32,
    size: f32,
    pieces: usize,
    link: Option<usize>,
}

/// Width in em of the shown bytes: from the font's `Widths` when it has them, else an average.
fn text_width(font: Option<&Font<'_>>, bytes: &[u8], text: &str) -> f32 {
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
        Some(Font {
            cid_widths: Some((widths, default)),
            two_byte: true,
            ..
        }) => {
            bytes
                .chunks(2)
                .map(|code| {
                    let cid = code.iter().fold(0u32, |n, &b| n << 8 | u32::from(b));
                    widths.get(cid as usize).copied().unwrap_or(*default)
                })
                .sum::<f32>()
                / 1000.0
        }
        _ => text.chars().count() as f32 * 0.5,
    }
}

/// The Latin ligature presentation forms U+FB00–FB06 as their letters (their compatibility
/// decompositions), so that "ﬁle" is found as "file": in `text` from byte `from` on.
fn expand_ligatures(text: &mut String, from: usize) {
    let tail = &text[from..];
    // U+FB00–FB06 are EF AC 80–86 in UTF-8: a byte search rules most strings out.
    if !tail.as_bytes().contains(&0xEF)
        || !tail.chars().any(|c| ('\u{FB00}'..='\u{FB06}').contains(&c))
    {
        return;
    }
    let mut out = String::with_capacity(tail.len() + 4);
    for c in tail.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            c => out.push(c),
        }
    }
    text.truncate(from);
    text.push_str(&out);
}

fn load_fonts<'a>(
    doc: &'a Document,
    contents: &Contents,
    page_id: ObjectId,
    page: &Cow<'a, Dictionary>,
    cache: &mut FontCache<'a>,
) -> Result<Fonts<'a>, lopdf::Error> {
    let fonts = match page {
        Cow::Borrowed(_) => doc.get_page_fonts(page_id)?,
        Cow::Owned(dict) => read_page_fonts(doc, dict)?,
    };
    fonts
        .into_iter()
        .map(|(name, dict)| Ok((name, cached_font(doc, contents, dict, cache)?)))
        .collect()
}

/// The fonts of a page read from the file, as lopdf's `get_page_fonts` finds them. The load
/// keeps a page with a font dictionary written into it (see `pdf_lazy`), so every font here is
/// one of the document's; one that is not fails the page.
fn read_page_fonts<'a>(
    doc: &'a Document,
    page: &Dictionary,
) -> Result<BTreeMap<Vec<u8>, &'a Dictionary>, lopdf::Error> {
    let mut fonts = BTreeMap::new();
    let (direct, ids) = page_resources(doc, page)?;
    let mut add = |name: &Vec<u8>, font: Option<&'a Dictionary>| {
        if let Some(font) = font {
            fonts.entry(name.clone()).or_insert(font);
        }
    };
    if let Some(resources) = direct {
        match resources.get(b"Font") {
            Ok(Object::Reference(id)) => {
                if let Ok(dict) = doc.get_object(*id).and_then(Object::as_dict) {
                    for (name, font) in dict.iter() {
                        add(name, font_dict(doc, font));
                    }
                }
            }
            Ok(Object::Dictionary(dict)) => {
                for (name, font) in dict.iter() {
                    match font {
                        Object::Reference(id) => add(name, doc.get_dictionary(*id).ok()),
                        Object::Dictionary(_) => {
                            return Err(lopdf::Error::Syntax("a font outside the document".into()));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    for id in ids {
        let Ok(resources) = doc.get_dictionary(id) else {
            continue;
        };
        let dict = match resources.get(b"Font") {
            Ok(Object::Reference(id)) => doc.get_object(*id).and_then(Object::as_dict).ok(),
            Ok(Object::Dictionary(dict)) => Some(dict),
            _ => None,
        };
        for (name, font) in dict.into_iter().flat_map(Dictionary::iter) {
            add(name, font_dict(doc, font));
        }
    }
    Ok(fonts)
}

/// A font entry of a resource dictionary that is the document's.
fn font_dict<'a>(doc: &'a Document, font: &'a Object) -> Option<&'a Dictionary> {
    match font {
        Object::Reference(id) => doc.get_dictionary(*id).ok(),
        Object::Dictionary(dict) => Some(dict),
        _ => None,
    }
}

/// The fonts of a resource dictionary (a form's).
fn resource_fonts<'a>(
    doc: &'a Document,
    contents: &Contents,
    resources: &'a Dictionary,
    cache: &mut FontCache<'a>,
) -> Result<Fonts<'a>, lopdf::Error> {
    let Ok(fonts) = resources.get_deref(b"Font", doc).and_then(Object::as_dict) else {
        return Ok(Fonts::new());
    };
    let mut read = Fonts::new();
    for (name, value) in fonts {
        if let Ok((_, Object::Dictionary(dict))) = doc.dereference(value) {
            read.insert(name.clone(), cached_font(doc, contents, dict, cache)?);
        }
    }
    Ok(read)
}

/// The font of `dict`, read once per document; an error if an encoding the load left in the
/// file cannot be read again.
fn cached_font<'a>(
    doc: &'a Document,
    contents: &Contents,
    dict: &'a Dictionary,
    cache: &mut FontCache<'a>,
) -> Result<std::rc::Rc<Font<'a>>, lopdf::Error> {
    let key = dict as *const Dictionary as usize;
    if let Some(font) = cache.fonts.get(&key) {
        return Ok(font.clone());
    }
    let font = std::rc::Rc::new(font(doc, contents, dict)?);
    cache.fonts.insert(key, font.clone());
    Ok(font)
}

/// Decoded strings kept per font; past this the cache stops growing.
const MAX_DECODED_PER_FONT: usize = 50_000;

impl Font<'_> {
    /// Appends the text of `bytes`; false, with nothing appended, when the encoding cannot
    /// decode them.
    fn decode(&self, bytes: &[u8], out: &mut String) -> bool {
        if let Some(table) = &self.per_byte {
            return table.decode(bytes, out);
        }
        if let Some(text) = self.decoded.borrow().get(bytes) {
            out.push_str(text);
            return true;
        }
        let Some(text) = self.decode_uncached(bytes) else {
            return false;
        };
        out.push_str(&text);
        let mut cache = self.decoded.borrow_mut();
        if cache.len() < MAX_DECODED_PER_FONT {
            cache.insert(bytes.to_vec(), text);
        }
        true
    }

    fn decode_uncached(&self, bytes: &[u8]) -> Option<String> {
        let encoding = self.encoding.as_ref()?;
        match (encoding, &self.base) {
            (Encoding::UnicodeMapEncoding(_), Some(base)) => {
                let mut text = String::new();
                for &b in bytes {
                    match cmap_text(encoding, b) {
                        Some(mapped) => text.push_str(&mapped),
                        None => base.write_to_string(&[b], &mut text).ok()?,
                    }
                }
                Some(text)
            }
            _ => Document::decode_text(encoding, bytes).ok(),
        }
    }

    /// Whether a string's text is its bytes' texts one after the other: a simple font's
    /// ToUnicode read code by code (above), and lopdf's one-byte encodings. A ToUnicode CMap
    /// alone may have codes of several bytes.
    fn decodes_per_byte(&self) -> bool {
        match (&self.encoding, &self.base) {
            (Some(Encoding::UnicodeMapEncoding(_)), base) => base.is_some(),
            (Some(Encoding::SimpleEncoding(name)), _) => *name == b"WinAnsiEncoding",
            (Some(Encoding::OneByteEncoding(_) | Encoding::Differences(_)), _) => true,
            (None, _) => false,
        }
    }
}

/// A simple font's one-byte code as its ToUnicode CMap (`cmap`) maps it; `None` when the CMap
/// leaves it out or maps it to nothing but U+0000.
fn cmap_text(cmap: &Encoding<'_>, code: u8) -> Option<String> {
    let Encoding::UnicodeMapEncoding(cmap) = cmap else {
        return None;
    };
    let units = cmap.get(u32::from(code), 1)?;
    units.iter().any(|&u| u != 0).then(|| {
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    })
}

/// Every byte's text, for fonts that decode byte by byte: kerned text shows a few glyphs per
/// string, and looking each string up in the cache was a tenth of the time.
struct ByteTable {
    text: String,
    /// Where each byte's text is in `text`; `None` when it cannot be decoded.
    spans: Box<[Option<(u32, u32)>; 256]>,
}

impl ByteTable {
    /// From each code's text, `None` for codes that cannot be decoded.
    fn from_texts(texts: pdf_glyphs::CodeTexts) -> Self {
        let mut text = String::new();
        let mut spans = Box::new([None; 256]);
        for (span, decoded) in spans.iter_mut().zip(texts) {
            if let Some(decoded) = decoded {
                let start = text.len() as u32;
                text.push_str(&decoded);
                *span = Some((start, text.len() as u32));
            }
        }
        Self { text, spans }
    }

    fn decode(&self, bytes: &[u8], out: &mut String) -> bool {
        let start = out.len();
        for &b in bytes {
            let Some((from, to)) = self.spans[b as usize] else {
                out.truncate(start);
                return false;
            };
            match &self.text.as_bytes()[from as usize..to as usize] {
                // Most glyphs are one ASCII letter: pushed without a call to copy a slice.
                &[b] if b.is_ascii() => out.push(char::from(b)),
                _ => out.push_str(&self.text[from as usize..to as usize]),
            }
        }
        true
    }
}

/// An array of numbers under `key`; an entry that is not a number counts as `missing`.
fn numbers(doc: &Document, dict: &Dictionary, key: &[u8], missing: f32) -> Option<Vec<f32>> {
    let array = dict.get_deref(key, doc).and_then(Object::as_array).ok()?;
    Some(
        array
            .iter()
            .map(|v| v.as_float().unwrap_or(missing))
            .collect(),
    )
}

fn font<'a>(
    doc: &'a Document,
    contents: &Contents,
    dict: &'a Dictionary,
) -> Result<Font<'a>, lopdf::Error> {
    let two_byte = dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|s| s == b"Type0");
    let first = dict.get(b"FirstChar").and_then(Object::as_i64).ok();
    let widths = numbers(doc, dict, b"Widths", 500.0);
    // ToUnicode comes first (PDF 32000-1 §9.10.2); lopdf's `get_font_encoding` reads it only
    // when there is no `/Encoding`. A simple font's codes are single bytes: those its CMap does
    // not map (or maps to nothing but U+0000) come from `/Encoding`, else StandardEncoding.
    let cmap = to_unicode(doc, dict);
    // Codes named glyph by glyph (Differences, a Type1 program's own encoding) are read here;
    // lopdf refuses some of those names and never reads a program's encoding.
    let code_texts = match two_byte {
        false => pdf_glyphs::code_texts(doc, contents, dict)?,
        true => None,
    };
    let (encoding, base) = match cmap {
        Some(cmap) if !two_byte && code_texts.is_none() => {
            let base = if dict.has(b"Encoding") {
                dict.get_font_encoding(doc)
            } else {
                STANDARD_FONT.get_font_encoding(doc)
            };
            (Some(cmap), base.ok())
        }
        Some(cmap) => (Some(cmap), None),
        None if code_texts.is_some() => (None, None),
        None => (dict.get_font_encoding(doc).ok(), None),
    };
    let mut font = Font {
        encoding,
        base,
        widths: first.zip(widths).map(|(f, w)| (f.max(0) as u32, w)),
        cid_widths: two_byte.then(|| cid_widths(doc, dict)).flatten(),
        two_byte,
        decoded: Default::default(),
        per_byte: None,
    };
    if let Some(mut texts) = code_texts {
        // The CMap's codes win; the glyph names give the rest.
        if let Some(cmap) = &font.encoding {
            for (code, text) in (0..=255u8).zip(texts.iter_mut()) {
                if let Some(mapped) = cmap_text(cmap, code) {
                    *text = Some(mapped);
                }
            }
        }
        font.per_byte = Some(ByteTable::from_texts(texts));
    } else if font.decodes_per_byte() {
        let texts = (0..=255u8).map(|b| font.decode_uncached(&[b])).collect();
        font.per_byte = Some(ByteTable::from_texts(texts));
    }
    if font.per_byte.is_some() {
        // The table is all decoding reads now. Fonts are kept for the whole document, and
        // lopdf's parsed CMaps are large: a TeX manual with 1,400 subset fonts kept 55 MB.
        font.encoding = None;
        font.base = None;
    }
    Ok(font)
}

/// A font dictionary with StandardEncoding, for lopdf to hand out that encoding.
static STANDARD_FONT: std::sync::LazyLock<Dictionary> = std::sync::LazyLock::new(|| {
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Encoding", Object::Name(b"StandardEncoding".to_vec()));
    font
});

/// Largest ToUnicode CMap read.
const MAX_CMAP_BYTES: usize = 16 * 1024 * 1024;

/// The font's ToUnicode CMap, as lopdf parses it, or else as read by [`tolerant_cmap`].
fn to_unicode(doc: &Document, dict: &Dictionary) -> Option<Encoding<'static>> {
    let stream = dict.get_deref(b"ToUnicode", doc).ok()?.as_stream().ok()?;
    let data = stream.get_plain_content_with_limit(MAX_CMAP_BYTES).ok()?;
    parse_cmap(data.clone()).or_else(|| parse_cmap(tolerant_cmap(&data)?))
}

/// A CMap parsed by lopdf, through a font dictionary that has nothing else (lopdf's CMap
/// parser is not public).
fn parse_cmap(data: Vec<u8>) -> Option<Encoding<'static>> {
    let stream = Object::Stream(lopdf::Stream::new(Dictionary::new(), data));
    pdf_glyphs::through_lopdf_font("ToUnicode", stream, |encoding| match encoding {
        Encoding::UnicodeMapEncoding(cmap) => Some(Encoding::UnicodeMapEncoding(cmap)),
        _ => None,
    })
    .flatten()
}

/// Most mappings kept from a CMap lopdf could not parse.
const MAX_CMAP_ENTRIES: usize = 100_000;

/// A CMap lopdf rejects (PDFium's `CIDSystemInfo` without its slash, headers split over lines,
/// `begin` on lines of their own) rewritten in the layout lopdf reads: only the code space and
/// the `bfchar`/`bfrange` mappings matter, everything else is dropped.
fn tolerant_cmap(data: &[u8]) -> Option<Vec<u8>> {
    let operations = crate::formats::pdf_content::operations(data).ok()?;
    let hex = |out: &mut Vec<u8>, bytes: &[u8]| {
        out.push(b'<');
        for b in bytes {
            out.extend_from_slice(format!("{b:02X}").as_bytes());
        }
        out.push(b'>');
    };
    // `<a> <b>`: one line of a CMap section.
    let hex_pair = |a: &[u8], b: &[u8]| {
        let mut line = Vec::new();
        hex(&mut line, a);
        line.push(b' ');
        hex(&mut line, b);
        line
    };
    let code = |o: &Object| match o {
        Object::String(b, _) if (1..=4).contains(&b.len()) => Some(b.clone()),
        _ => None,
    };
    // Destination strings are UTF-16BE: whole code units, 1 to 256 of them.
    let target = |o: &Object| match o {
        Object::String(b, _) if !b.is_empty() && b.len() <= 512 => {
            let mut b = b.clone();
            if b.len() % 2 == 1 {
                b.insert(0, 0);
            }
            Some(b)
        }
        _ => None,
    };
    let mut body = Vec::new();
    let mut entries = 0;
    for op in &operations {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        match op.operator.as_str() {
            "endcodespacerange" => {
                for pair in op.operands.chunks_exact(2) {
                    if let (Some(lo), Some(hi)) = (code(&pair[0]), code(&pair[1]))
                        && lo.len() == hi.len()
                    {
                        lines.push(hex_pair(&lo, &hi));
                    }
                }
            }
            "endbfchar" => {
                for pair in op.operands.chunks_exact(2) {
                    if let (Some(src), Some(dst)) = (code(&pair[0]), target(&pair[1])) {
                        lines.push(hex_pair(&src, &dst));
                    }
                }
            }
            "endbfrange" => {
                for triple in op.operands.chunks_exact(3) {
                    let (Some(lo), Some(hi)) = (code(&triple[0]), code(&triple[1])) else {
                        continue;
                    };
                    if lo.len() != hi.len() || lo > hi {
                        continue;
                    }
                    let mut line = hex_pair(&lo, &hi);
                    line.push(b' ');
                    match &triple[2] {
                        Object::Array(items) => {
                            let items: Option<Vec<Vec<u8>>> = items.iter().map(target).collect();
                            let Some(items) = items.filter(|i| !i.is_empty()) else {
                                continue;
                            };
                            line.push(b'[');
                            for (i, item) in items.iter().enumerate() {
                                if i > 0 {
                                    line.push(b' ');
                                }
                                hex(&mut line, item);
                            }
                            line.push(b']');
                        }
                        other => hex(&mut line, &target(other)?),
                    }
                    lines.push(line);
                }
            }
            _ => continue,
        }
        if lines.is_empty() {
            continue;
        }
        entries += lines.len();
        if entries > MAX_CMAP_ENTRIES {
            break;
        }
        let section = &op.operator[3..];
        body.extend_from_slice(format!("{} begin{section}\n", lines.len()).as_bytes());
        for line in lines {
            body.extend_from_slice(&line);
            body.push(b'\n');
        }
        body.extend_from_slice(format!("end{section}\n").as_bytes());
    }
    if body.is_empty() {
        return None;
    }
    let mut out =
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapType 2 def\n"
            .to_vec();
    out.extend_from_slice(&body);
    out.extend_from_slice(b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    Some(out)
}

/// Most `/W` entries read from a CIDFont.
const MAX_CID_WIDTHS: usize = 65_536;

/// Glyph widths of a Type0 font whose codes are CIDs (an Identity CMap): the descendant
/// CIDFont's `/W` array and `/DW` (1000 when absent).
fn cid_widths(doc: &Document, dict: &Dictionary) -> Option<(Vec<f32>, f32)> {
    let identity = dict
        .get(b"Encoding")
        .and_then(Object::as_name)
        .is_ok_and(|n| n == b"Identity-H" || n == b"Identity-V");
    if !identity {
        return None;
    }
    let descendants = dict
        .get_deref(b"DescendantFonts", doc)
        .ok()?
        .as_array()
        .ok()?;
    let cid_font = doc
        .dereference(descendants.first()?)
        .ok()?
        .1
        .as_dict()
        .ok()?;
    let default = cid_font
        .get_deref(b"DW", doc)
        .and_then(Object::as_float)
        .unwrap_or(1000.0);
    let mut widths = std::collections::HashMap::new();
    if let Ok(w) = cid_font.get_deref(b"W", doc).and_then(Object::as_array) {
        let number = |o: &Object| doc.dereference(o).ok()?.1.as_float().ok();
        let mut i = 0;
        while i < w.len() && widths.len() < MAX_CID_WIDTHS {
            let Some(first) = number(&w[i]).filter(|f| *f >= 0.0).map(|f| f as u32) else {
                break;
            };
            match w
                .get(i + 1)
                .and_then(|o| doc.dereference(o).ok())
                .map(|o| o.1)
            {
                // c [w1 w2 …]
                Some(Object::Array(list)) => {
                    for (k, v) in list.iter().enumerate().take(MAX_CID_WIDTHS) {
                        if let Some(v) = number(v) {
                            widths.insert(first.saturating_add(k as u32), v);
                        }
                    }
                    i += 2;
                }
                // c_first c_last w
                Some(last) => {
                    let (Ok(last), Some(v)) = (last.as_float(), w.get(i + 2).and_then(number))
                    else {
                        break;
                    };
                    let last =
                        (last.max(0.0) as u32).min(first.saturating_add(MAX_CID_WIDTHS as u32));
                    for cid in first..=last {
                        widths.insert(cid, v);
                    }
                    i += 3;
                }
                None => break,
            }
        }
    }
    // Looked up for every glyph shown: an array indexed by CID rather than a hash.
    let len = widths
        .keys()
        .map(|&cid| (cid as usize).saturating_add(1))
        .max()
        .unwrap_or(0);
    let mut dense = vec![default; len.min(MAX_CID_WIDTHS)];
    for (cid, width) in widths {
        if let Some(slot) = dense.get_mut(cid as usize) {
            *slot = width;
        }
    }
    Some((dense, default))
}

/// Link annotations read per page; each text run is tested against all of them.
const MAX_LINKS_PER_PAGE: usize = 2_000;

/// URI link annotations of a page. Links and their actions are read from the file with their
/// page when the load left them there; one that cannot be read again is an error.
fn link_areas(
    doc: &Document,
    contents: &Contents,
    page: &Dictionary,
) -> Result<Vec<LinkArea>, lopdf::Error> {
    let Some(annots) = entry(doc, contents, page, b"Annots")? else {
        return Ok(Vec::new());
    };
    let Ok(annots) = annots.as_array() else {
        return Ok(Vec::new());
    };
    let mut links = Vec::new();
    for annot in annots.iter().take(MAX_LINKS_PER_PAGE) {
        let Some(annot) = contents.resolve(doc, annot)? else {
            continue;
        };
        if let Ok(annot) = annot.as_dict()
            && let Some(link) = link_area(doc, contents, annot)?
        {
            links.push(link);
        }
    }
    Ok(links)
}

/// The area and target of a URI link annotation; `None` for any other annotation.
fn link_area(
    doc: &Document,
    contents: &Contents,
    annot: &Dictionary,
) -> Result<Option<LinkArea>, lopdf::Error> {
    let is_link = annot
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|s| s == b"Link");
    if !is_link {
        return Ok(None);
    }
    let (Some(rect), Some(action)) = (
        entry(doc, contents, annot, b"Rect")?,
        entry(doc, contents, annot, b"A")?,
    ) else {
        return Ok(None);
    };
    let (Ok(rect), Ok(action)) = (rect.as_array(), action.as_dict()) else {
        return Ok(None);
    };
    let r: Vec<f32> = rect.iter().filter_map(|v| v.as_float().ok()).collect();
    let uri = match entry(doc, contents, action, b"URI")?.as_deref() {
        Some(Object::String(bytes, _)) => String::from_utf8_lossy(bytes).into_owned(),
        _ => return Ok(None),
    };
    let Some(&[x1, y1, x2, y2]) = r.get(..4) else {
        return Ok(None);
    };
    Ok(Some(LinkArea {
        rect: [x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2)],
        uri,
    }))
}

/// `dict[key]`, references followed; `None` if it has none.
fn entry<'d>(
    doc: &'d Document,
    contents: &Contents,
    dict: &'d Dictionary,
    key: &[u8],
) -> Result<Option<Cow<'d, Object>>, lopdf::Error> {
    match dict.get(key) {
        Ok(value) => contents.resolve(doc, value),
        Err(_) => Ok(None),
    }
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

/// A segment being built: its runs' text one after another, the link the first run sits under,
/// and where each later run starts with its link (most segments are one unlinked word, so
/// nothing is allocated for them but their text).
struct SegmentBuild {
    text: String,
    link: Option<usize>,
    later: Vec<(usize, Option<usize>)>,
    start: f32,
    end: f32,
    hard: bool,
}

impl SegmentBuild {
    fn last_link(&self) -> Option<usize> {
        self.later.last().map_or(self.link, |&(_, link)| link)
    }

    /// The runs' texts, each with the link it sits under.
    fn runs(&self) -> impl Iterator<Item = (&str, Option<usize>)> {
        let starts = std::iter::once((0, self.link)).chain(self.later.iter().copied());
        let ends = self
            .later
            .iter()
            .map(|&(at, _)| at)
            .chain(std::iter::once(self.text.len()));
        starts
            .zip(ends)
            .map(|((from, link), to)| (&self.text[from..to], link))
    }
}

/// Collects positioned runs into lines.
#[derive(Default)]
struct Layout {
    links: Vec<LinkArea>,
    lines: Vec<Line>,
    current: Vec<SegmentBuild>,
    sizes: Vec<f32>,
    baseline: Option<f32>,
    /// The current line's angle (see `Shown::start`): runs at another angle start a new line,
    /// even where their rotated positions meet it.
    angle: i16,
    end_x: f32,
    line_height: f32,
    pending_gap: bool,
}

impl Layout {
    /// Adds a run of text (each of its strings counts once in the line's type size).
    fn push(&mut self, text: &str, run: Placed) {
        let Placed {
            x,
            y,
            angle,
            advance,
            size,
            pieces,
            link: under,
        } = run;
        if text.is_empty() {
            return;
        }
        // None: same segment; Some(hard): a new segment after a gap.
        let mut boundary = None;
        match self.baseline {
            // Same baseline (within a third of the type size): continue the line.
            Some(base) if angle == self.angle && (base - y).abs() < size * 0.35 => {
                if x > self.end_x + size * COLUMN_GAP_EM {
                    boundary = Some(true);
                } else if x > self.end_x + size * WORD_GAP_EM {
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
        let end = x + advance;
        match self.current.last_mut() {
            Some(seg) if boundary.is_none() => {
                if seg.last_link() != under {
                    seg.later.push((seg.text.len(), under));
                }
                push_untabbed(&mut seg.text, text);
                seg.end = end;
            }
            _ => self.current.push(SegmentBuild {
                text: untabbed(text),
                link: under,
                later: Vec::new(),
                start: x,
                end,
                hard: boundary.unwrap_or(false),
            }),
        }
        self.sizes.extend(std::iter::repeat_n(size, pieces));
        self.baseline = Some(y);
        self.angle = angle;
        self.end_x = end;
        self.line_height = size * 1.2;
    }

    fn flush(&mut self) {
        let x = self.current.first().map_or(0.0, |b| b.start);
        let mut segments: Vec<Segment> = Vec::with_capacity(self.current.len());
        for build in self.current.drain(..) {
            let (start, end, hard) = (build.start, build.end, build.hard);
            let text = render_runs(&self.links, build);
            if text.is_empty() {
                continue;
            }
            // The first kept segment starts the line; nothing is before it.
            let hard = hard && !segments.is_empty();
            segments.push(Segment {
                text,
                start,
                end,
                hard,
            });
        }
        if !segments.is_empty() {
            // The median, selected in place (the buffer is reused for the next line).
            let middle = self.sizes.len() / 2;
            let size = if self.sizes.is_empty() {
                12.0
            } else {
                *self.sizes.select_nth_unstable_by(middle, f32::total_cmp).1
            };
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

/// A segment's text: runs under a link become Markdown links, and white space is collapsed to
/// single spaces.
fn render_runs(links: &[LinkArea], build: SegmentBuild) -> String {
    // Most segments are one word with no link: kept as they are, without copying.
    if build.link.is_none() && build.later.is_empty() && spaced_once(&build.text) {
        return build.text;
    }
    let mut out = String::new();
    for (run, under) in build.runs() {
        match under.and_then(|i| links.get(i)) {
            Some(area) => {
                let lead = if run.starts_with(' ') { " " } else { "" };
                let trail = if run.ends_with(' ') { " " } else { "" };
                out.push_str(&format!("{lead}{}{trail}", link(run, &area.uri)));
            }
            None => out.push_str(run),
        }
    }
    let mut spaced = String::with_capacity(out.len());
    for word in out.split_whitespace() {
        if !spaced.is_empty() {
            spaced.push(' ');
        }
        spaced.push_str(word);
    }
    spaced
}

/// Whether `text` is already as `render_runs` leaves it: words separated by single spaces.
fn spaced_once(text: &str) -> bool {
    let mut after_space = true;
    for c in text.chars() {
        let space = c.is_whitespace();
        if space && (after_space || c != ' ') {
            return false;
        }
        after_space = space;
    }
    !after_space
}

/// Tabs mark cell boundaries in our output; the PDF's own are plain spacing.
fn push_untabbed(out: &mut String, text: &str) {
    if text.as_bytes().contains(&b'\t') {
        out.extend(text.chars().map(|c| if c == '\t' { ' ' } else { c }));
    } else {
        out.push_str(text);
    }
}

fn untabbed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_untabbed(&mut out, text);
    out
}

impl From<Malformed> for lopdf::Error {
    fn from(_: Malformed) -> Self {
        lopdf::Error::Syntax("unreadable content stream".into())
    }
}
