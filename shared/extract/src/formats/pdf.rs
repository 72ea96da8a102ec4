//! PDF text per page via lopdf, pages marked with `<!-- page N -->`; encrypted files refused.

use std::collections::{BTreeMap, HashSet};

use lopdf::{DecompressError, Document, LoadOptions, Object, ObjectId};

use crate::formats::pdf_lazy::{self, Contents};
use crate::formats::pdf_text::{FontCache, Line, Segment, join_segments, page_lines};

use crate::detect::find;
use crate::markdown::{MarkdownOut, normalise, table};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

const FORMAT: &str = "PDF";
/// Per-page bound on decompressed content streams.
const MAX_PAGE_CONTENT: usize = 64 * 1024 * 1024;

/// Heading sizes come from every page of a document up to this long, and from this many pages
/// spread evenly through a longer one, so memory stays one page's worth however long it is.
const STATS_PAGES: usize = 300;

/// Form field dictionaries read, widgets included; a larger form is cut short.
const MAX_FORM_NODES: usize = 10_000;
/// Field names nest a few levels deep; deeper nesting is malformed.
const MAX_FORM_DEPTH: usize = 32;
/// Largest text field value stored as a stream that is read; a larger one is left out.
const MAX_FIELD_BYTES: usize = 1024 * 1024;

/// The PDF's Markdown goes to `out` page by page; the returned `Extracted` holds what `out`
/// collected, if it collects.
pub(crate) fn extract(
    bytes: &[u8],
    limits: &Limits,
    out: &mut MarkdownOut,
) -> Result<Extracted, ExtractError> {
    // The page count is read from the page tree's root without loading the pages.
    if let Ok(found) = Document::load_metadata_mem(bytes)
        && u64::from(found.page_count) > limits.max_pdf_pages
    {
        return Err(ExtractError::TooManyPages {
            pages: found.page_count.into(),
            limit: limits.max_pdf_pages,
        });
    }
    let mut budget = Budget::new(limits);
    let max_stream = budget.per_stream();
    let declares_encryption = find(bytes, b"/Encrypt").is_some();
    let mut written = Written::default();
    // Pages' objects read again cost at most what their content may inflate to.
    let allowance = budget.remaining;
    if !declares_encryption
        && let Some((doc, contents)) = pdf_lazy::load(bytes, max_stream, allowance)
    {
        match render_document(&doc, &contents, &mut budget, out, &mut written) {
            Err(Stop::NeedsFullLoad) => {}
            Err(Stop::Failed(e)) => return Err(e),
            Ok(extracted) => return Ok(extracted),
        }
    }
    // The pages already written were read as this load reads them; it goes on from the page
    // that needed it, with what is left of the budget.
    let doc = load(bytes, max_stream, declares_encryption)?;
    render_document(&doc, &Contents::Loaded, &mut budget, out, &mut written).map_err(|stop| {
        match stop {
            Stop::Failed(e) => e,
            // Not raised for a full load, which has lopdf's reader to fall back on.
            Stop::NeedsFullLoad => ExtractError::corrupt_by(
                FORMAT,
                lopdf::Error::Syntax("unreadable page content".into()),
            ),
        }
    })
}

/// Why rendering a document stopped short.
enum Stop {
    Failed(ExtractError),
    /// A page needs lopdf's own text reader, which reads the content lopdf loaded.
    NeedsFullLoad,
}

impl From<ExtractError> for Stop {
    fn from(e: ExtractError) -> Self {
        Stop::Failed(e)
    }
}

/// Pages rendered into the Markdown so far, across a switch from the lazy load to the full one.
#[derive(Default)]
struct Written {
    pages: usize,
    /// The last page written, to check that the full load lists the same pages.
    last: Option<lopdf::ObjectId>,
    any_text: bool,
}

fn render_document(
    doc: &Document,
    contents: &Contents,
    budget: &mut Budget,
    out: &mut MarkdownOut,
    written: &mut Written,
) -> Result<Extracted, Stop> {
    let pages = contents.pages(doc);
    if written.pages > 0 && pages.get(written.pages - 1).map(|p| p.1) != written.last {
        return Err(Stop::Failed(ExtractError::corrupt_by(
            FORMAT,
            lopdf::Error::Syntax("its page tree reads differently on a second reading".into()),
        )));
    }
    let sample: Vec<usize> = if pages.len() <= STATS_PAGES {
        (0..pages.len()).collect()
    } else {
        (0..STATS_PAGES)
            .map(|i| i * pages.len() / STATS_PAGES)
            .collect()
    };
    let start = budget.remaining;
    let mut page = PageReader {
        doc,
        contents,
        budget,
        fonts: FontCache::new(),
    };
    // The sampled pages' lines are kept for the rendering pass, not read twice.
    let mut read: Vec<Option<Vec<Line>>> = vec![None; pages.len()];
    let mut stats = SizeStats::default();
    for &i in &sample {
        let (number, id) = pages[i];
        let lines = page.lines_refunding(number, id, start - page.budget.remaining)?;
        stats.add(&lines);
        read[i] = Some(lines);
    }
    let sampled = start - page.budget.remaining;
    let heading_sizes = stats.heading_sizes();
    for (i, &(number, id)) in pages.iter().enumerate().skip(written.pages) {
        let lines = match read[i].take() {
            Some(lines) => lines,
            None => page.lines_refunding(number, id, sampled)?,
        };
        written.any_text |= !lines.is_empty();
        if written.pages > 0 {
            out.push("\n\n");
        }
        out.push(&format!("<!-- page {number} -->\n\n"));
        out.push(&render(lines, &heading_sizes));
        written.pages += 1;
        written.last = Some(id);
        if out.failed() {
            // Written out and the writer failed (a closed pipe): the caller reports it.
            break;
        }
    }
    let (fields, fields_cut_short) = form_fields(doc);
    if !fields.is_empty() {
        let rows: Vec<Vec<String>> = std::iter::once(("Field".to_owned(), "Value".to_owned()))
            .chain(fields)
            .map(|(name, value)| vec![name, value])
            .collect();
        out.push("\n\n## Form fields\n\n");
        out.push(&table(&rows));
    }
    let mut metadata = info(doc);
    metadata.page_count = Some(pages.len() as u32);
    if doc.was_encrypted() {
        metadata.extra.insert(
            "encryption".to_owned(),
            "owner password only (readable without a password)".to_owned(),
        );
    }
    let mut extracted = Extracted::new(Format::Pdf, out.take(), metadata);
    if fields_cut_short {
        extracted.warnings.push(format!(
            "the form has more than {MAX_FORM_NODES} fields and widgets; the values of the \
             first {MAX_FORM_NODES} are listed"
        ));
    }
    if !pages.is_empty() && !written.any_text {
        // Scanned documents are images of text; saying so beats an empty result.
        extracted
            .metadata
            .extra
            .insert("text_layer".to_owned(), "none".to_owned());
        extracted.warnings.push(
            "the PDF has no text layer (probably scanned); text recognition (OCR) is not done"
                .to_owned(),
        );
    }
    Ok(extracted)
}

/// Decompressed page content allowed for the whole document: lopdf bounds each stream, this
/// bounds their sum, so a thousand modest bombs cannot add up.
struct Budget {
    remaining: usize,
    limit_mb: u64,
}

impl Budget {
    fn new(limits: &Limits) -> Self {
        let total = usize::try_from(limits.max_decompressed_bytes).unwrap_or(usize::MAX);
        Self {
            remaining: total,
            limit_mb: limits.max_decompressed_bytes / (1024 * 1024),
        }
    }

    fn per_stream(&self) -> usize {
        self.remaining.min(MAX_PAGE_CONTENT)
    }

    fn too_large(&self) -> ExtractError {
        ExtractError::TooLarge {
            what: "decompressed",
            limit_mb: self.limit_mb,
        }
    }
}

fn is_bomb(error: &lopdf::Error) -> bool {
    matches!(
        error,
        lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. })
    )
}

/// Reads pages one at a time, sharing fonts and the decompression budget.
struct PageReader<'a, 'b> {
    doc: &'a Document,
    contents: &'b Contents<'b>,
    budget: &'b mut Budget,
    fonts: FontCache<'a>,
}

impl PageReader<'_, '_> {
    /// As [`Self::lines`]; when the page stops the document, `refund` (what the sampled pages
    /// took so far) goes back to the budget, as the full load reads them again.
    fn lines_refunding(
        &mut self,
        number: u32,
        id: lopdf::ObjectId,
        refund: usize,
    ) -> Result<Vec<Line>, Stop> {
        self.lines(number, id)
            .inspect_err(|_| self.budget.remaining += refund)
    }

    /// A page's lines; a page our layout reader cannot handle falls back to lopdf's plain text,
    /// and a page neither can read is left empty rather than failing the document. Content over
    /// the budget fails it.
    fn lines(&mut self, number: u32, id: lopdf::ObjectId) -> Result<Vec<Line>, Stop> {
        let limit = self.budget.per_stream();
        let doc = self.doc;
        match page_lines(doc, self.contents, id, limit, &mut self.fonts) {
            Ok((lines, used)) => {
                self.budget.remaining = self.budget.remaining.saturating_sub(used);
                Ok(lines)
            }
            Err(e) if is_bomb(&e) => Err(self.budget.too_large().into()),
            // lopdf's reader needs the page content it loaded.
            Err(_) if matches!(self.contents, Contents::Lazy { .. }) => Err(Stop::NeedsFullLoad),
            Err(_) => match doc.extract_text_with_limit(&[number], limit) {
                Err(e) if is_bomb(&e) => Err(self.budget.too_large().into()),
                text => Ok(normalise(&text.unwrap_or_default())
                    .lines()
                    .map(|l| Line {
                        text: l.to_owned(),
                        size: 0.0,
                        x: 0.0,
                        segments: vec![Segment {
                            text: l.to_owned(),
                            start: 0.0,
                            end: 0.0,
                            hard: false,
                        }],
                        gap_before: false,
                    })
                    .collect()),
            },
        }
    }
}

/// Type sizes seen, in tenths of a point: text length set in each, and the largest exact size
/// of a short line (≤ 120 chars) in it.
#[derive(Default)]
struct SizeStats(BTreeMap<u32, (usize, Option<f32>)>);

impl SizeStats {
    fn add(&mut self, lines: &[Line]) {
        for line in lines {
            let entry = self.0.entry((line.size * 10.0).round() as u32).or_default();
            entry.0 += line.text.len();
            if line.text.chars().count() <= 120 {
                entry.1 = Some(entry.1.map_or(line.size, |m| m.max(line.size)));
            }
        }
    }

    /// The type size most of the text is set in, weighted by length.
    fn body_size(&self) -> f32 {
        self.0
            .iter()
            .max_by_key(|(_, (n, _))| *n)
            .map_or(0.0, |(s, _)| *s as f32 / 10.0)
    }

    /// Sizes clearly larger than the body text, largest first: they become heading levels 1..=3.
    fn heading_sizes(&self) -> Vec<u32> {
        let body = self.body_size();
        let mut sizes: Vec<u32> = self
            .0
            .iter()
            .filter(|(_, (_, short))| body > 0.0 && short.is_some_and(|s| s >= body * 1.15))
            .map(|(s, _)| *s)
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.truncate(3);
        sizes
    }
}

const BULLETS: &[char] = &['•', '▪', '◦', '‣', '∙', '·', '\u{f0b7}', '\u{f0a7}', '–'];

/// Lines to Markdown blocks: headings by size, bullet glyphs to `- `, paragraphs by spacing.
fn render(mut lines: Vec<Line>, heading_sizes: &[u32]) -> String {
    promote_aligned_boundaries(&mut lines);
    let lines = &lines[..];
    let tables = table_runs(lines);
    let mut blocks: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut in_list = false;
    // Left edges of the open list levels: a marker further right is nested one deeper.
    let mut indents: Vec<f32> = Vec::new();
    let flush = |current: &mut Vec<String>, blocks: &mut Vec<String>| {
        if !current.is_empty() {
            blocks.push(current.join("\n"));
            current.clear();
        }
    };
    // The level of a heading the previous line made: a heading too long for one line wraps
    // onto the next at the same size, with no paragraph gap.
    let mut open_heading: Option<usize> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let continues = open_heading.take();
        if let Some(&(start, end)) = tables.iter().find(|(start, _)| *start == i) {
            flush(&mut current, &mut blocks);
            in_list = false;
            let rows: Vec<Vec<String>> = lines[start..end]
                .iter()
                .map(|l| l.text.split('\t').map(str::to_owned).collect())
                .collect();
            blocks.push(table(&rows));
            i = end;
            continue;
        }
        i += 1;
        let level = heading_sizes
            .iter()
            .position(|&s| s == (line.size * 10.0).round() as u32);
        if let Some(level) = level {
            let text = line.text.replace('\t', " ");
            match blocks.last_mut() {
                Some(heading) if continues == Some(level) && !line.gap_before => {
                    heading.push(' ');
                    heading.push_str(&text);
                }
                _ => {
                    flush(&mut current, &mut blocks);
                    in_list = false;
                    blocks.push(format!("{} {text}", "#".repeat(level + 1)));
                }
            }
            open_heading = Some(level);
            continue;
        }
        if line.gap_before {
            flush(&mut current, &mut blocks);
            in_list = false;
        }
        let joined = line.text.replace('\t', " ");
        let text = joined.trim();
        if let Some(rest) = text.strip_prefix(BULLETS).map(str::trim_start) {
            if !in_list {
                flush(&mut current, &mut blocks);
                indents.clear();
            }
            in_list = true;
            current.push(format!("{}- {rest}", list_indent(&mut indents, line.x)));
        } else if starts_numbered(text) {
            if !in_list {
                flush(&mut current, &mut blocks);
                indents.clear();
            }
            in_list = true;
            current.push(format!("{}{text}", list_indent(&mut indents, line.x)));
        } else if in_list && !line.gap_before {
            // A wrapped list item: continue it.
            if let Some(last) = current.last_mut() {
                last.push(' ');
                last.push_str(text);
            }
        } else {
            current.push(text.to_owned());
        }
    }
    flush(&mut current, &mut blocks);
    blocks.join("\n\n")
}

/// Cells of a line: segments grouped between hard boundaries, as (start, end) x.
fn cells(line: &Line) -> Vec<(f32, f32)> {
    let mut cells: Vec<(f32, f32)> = Vec::new();
    for seg in &line.segments {
        match cells.last_mut() {
            Some(cell) if !seg.hard => cell.1 = seg.end,
            _ => cells.push((seg.start, seg.end)),
        }
    }
    cells
}

/// A word gap becomes a cell boundary when a neighbouring line has a cell starting at the same
/// x: right-aligned numbers often leave less than a normal gap before the next column. Done
/// downwards then upwards, so one clear header row can split the rows below it.
fn promote_aligned_boundaries(lines: &mut [Line]) {
    const SAME_X: f32 = 2.0;
    let order: Vec<usize> = (0..lines.len()).chain((0..lines.len()).rev()).collect();
    for i in order {
        let neighbours: Vec<f32> = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|n| lines.get(n))
            .map(cells)
            .filter(|cells| cells.len() >= 2)
            .flat_map(|cells| cells.into_iter().map(|c| c.0))
            .collect();
        let line = &mut lines[i];
        let mut changed = false;
        for seg in line.segments.iter_mut().skip(1).filter(|s| !s.hard) {
            if neighbours.iter().any(|x| (x - seg.start).abs() <= SAME_X) {
                seg.hard = true;
                changed = true;
            }
        }
        if changed {
            line.text = join_segments(&line.segments);
        }
    }
}

/// Runs of two or more consecutive lines whose cells (2+) sit in the same columns: (first line,
/// one past the last). List lines are not tables, however well they align.
fn table_runs(lines: &[Line]) -> Vec<(usize, usize)> {
    let is_row = |l: &Line| {
        let first = l.text.split('\t').next().unwrap_or("");
        cells(l).len() >= 2 && !first.starts_with(BULLETS) && !starts_numbered(&format!("{first} "))
    };
    // Columns overlap their own column in the next row and no other, whatever the alignment.
    let overlap = |a: (f32, f32), b: (f32, f32)| a.0 < b.1 && b.0 < a.1;
    let aligned = |a: &Line, b: &Line| {
        let (ca, cb) = (cells(a), cells(b));
        ca.len() == cb.len()
            && (0..ca.len()).all(|k| {
                overlap(ca[k], cb[k])
                    && ca.get(k + 1).is_none_or(|next| !overlap(*next, cb[k]))
                    && cb.get(k + 1).is_none_or(|next| !overlap(ca[k], *next))
            })
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut end = i + 1;
        if is_row(&lines[i]) {
            while end < lines.len() && is_row(&lines[end]) && aligned(&lines[end - 1], &lines[end])
            {
                end += 1;
            }
            if end - i >= 2 {
                // A header row is often centred over its columns: same cell count is enough.
                let header = i > 0
                    && is_row(&lines[i - 1])
                    && cells(&lines[i - 1]).len() == cells(&lines[i]).len()
                    && runs.last().is_none_or(|r: &(usize, usize)| r.1 != i);
                let start = if header { i - 1 } else { i };
                runs.push((start, end));
            }
        }
        i = end;
    }
    runs
}

/// Four spaces per level, the level found from the line's left edge.
fn list_indent(indents: &mut Vec<f32>, x: f32) -> String {
    const SAME: f32 = 4.0;
    while indents.last().is_some_and(|&last| x < last - SAME) {
        indents.pop();
    }
    match indents.last() {
        Some(&last) if (x - last).abs() <= SAME => {}
        _ => indents.push(x),
    }
    "    ".repeat(indents.len().saturating_sub(1))
}

fn starts_numbered(text: &str) -> bool {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && digits <= 3 && text[digits..].starts_with(". ")
}

fn load(
    bytes: &[u8],
    max_stream: usize,
    declares_encryption: bool,
) -> Result<Document, ExtractError> {
    match load_once(bytes, max_stream, declares_encryption) {
        // Without an `/ID`, lopdf cannot derive the key; readers (pdf.js, pypdf) take the ID
        // as empty, and so did the producer. Retried once with an empty ID in the trailer.
        Err(ExtractError::Encrypted { .. }) => match with_empty_id(bytes) {
            Some(patched) => load_once(&patched, max_stream, true),
            None => Err(ExtractError::Encrypted { format: FORMAT }),
        },
        other => other,
    }
}

fn load_once(
    bytes: &[u8],
    max_stream: usize,
    declares_encryption: bool,
) -> Result<Document, ExtractError> {
    let options = LoadOptions {
        max_decompressed_size: Some(max_stream),
        ..LoadOptions::default()
    };
    match Document::load_mem_with_options(bytes, options) {
        // Loaded, but the empty password did not open it: the text is still ciphertext. An
        // `/Encrypt` written as a dictionary rather than a reference is invisible to
        // `is_encrypted`, and lopdf loads no objects at all for it: refused the same way.
        Ok(doc) if !doc.was_encrypted() && (doc.is_encrypted() || doc.trailer.has(b"Encrypt")) => {
            Err(ExtractError::Encrypted { format: FORMAT })
        }
        Ok(doc) => Ok(doc),
        Err(lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_)) => {
            Err(ExtractError::Encrypted { format: FORMAT })
        }
        Err(e) if is_bomb(&e) => Err(ExtractError::TooLarge {
            what: "decompressed",
            limit_mb: max_stream as u64 / (1024 * 1024),
        }),
        Err(_) if declares_encryption => Err(ExtractError::Encrypted { format: FORMAT }),
        Err(e) => Err(ExtractError::corrupt_by(FORMAT, e)),
    }
}

/// The file with `/ID [<> <>]` added to its last trailer dictionary (after `trailer`, or the
/// dictionary of the cross-reference stream that `startxref` points at), when that has no
/// `/ID`. That dictionary follows every object the table locates, so no offset moves.
fn with_empty_id(bytes: &[u8]) -> Option<Vec<u8>> {
    let tail_start = bytes.len().saturating_sub(1024);
    let startxref = tail_start
        + bytes[tail_start..]
            .windows(9)
            .rposition(|w| w == b"startxref")?;
    let after = bytes[startxref + 9..].trim_ascii_start();
    let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
    let offset: usize = std::str::from_utf8(&after[..digits]).ok()?.parse().ok()?;
    let section = bytes.get(offset..startxref)?;
    let dict = if section.starts_with(b"xref") {
        find(section, b"trailer")?
    } else {
        0
    };
    let open = offset + dict + find(&section[dict..], b"<<")? + 2;
    let end = find(&bytes[open..startxref], b"stream").map_or(startxref, |e| open + e);
    if find(&bytes[open..end], b"/ID").is_some() {
        return None;
    }
    let mut patched = Vec::with_capacity(bytes.len() + 12);
    patched.extend_from_slice(&bytes[..open]);
    patched.extend_from_slice(b"/ID[<><>]");
    patched.extend_from_slice(&bytes[open..]);
    Some(patched)
}

/// Filled-in values of the interactive form (PDF 32000-1 §12.7) as (full field name, value), in
/// field order: a producer need not draw a value on the page, and then it is on no page. True
/// with them when the form is larger than what is read.
fn form_fields(doc: &Document) -> (Vec<(String, String)>, bool) {
    let fields = doc
        .catalog()
        .ok()
        .and_then(|catalog| resolve(doc, catalog.get(b"AcroForm").ok()?)?.as_dict().ok())
        .and_then(|form| resolve(doc, form.get(b"Fields").ok()?)?.as_array().ok());
    let mut walk = FieldWalk {
        doc,
        seen: HashSet::new(),
        read: 0,
        cut_short: false,
        out: Vec::new(),
    };
    for field in fields.into_iter().flatten() {
        walk.field(field, "", 0);
    }
    (walk.out, walk.cut_short)
}

/// The object a reference chain ends at; `None` for a dangling one.
fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, object)| object)
}

struct FieldWalk<'a> {
    doc: &'a Document,
    /// Every field dictionary read: `/Kids` leading back to one would repeat it forever.
    seen: HashSet<ObjectId>,
    read: usize,
    cut_short: bool,
    out: Vec<(String, String)>,
}

impl FieldWalk<'_> {
    /// A field's value and its kids' (fields, or widgets, which have no `/T` of their own).
    fn field(&mut self, object: &Object, parent: &str, depth: usize) {
        let doc = self.doc;
        if self.read >= MAX_FORM_NODES {
            self.cut_short = true;
            return;
        }
        if depth > MAX_FORM_DEPTH {
            return;
        }
        self.read += 1;
        let Ok((id, object)) = doc.dereference(object) else {
            return;
        };
        if id.is_some_and(|id| !self.seen.insert(id)) {
            return;
        }
        let Ok(dict) = object.as_dict() else { return };
        let get = |key: &[u8]| resolve(doc, dict.get(key).ok()?);
        let name = match get(b"T").and_then(text_string) {
            Some(partial) if !parent.is_empty() => format!("{parent}.{partial}"),
            Some(partial) => partial,
            None => parent.to_owned(),
        };
        if let Some(value) = get(b"V").and_then(|v| field_value(doc, v))
            && !name.is_empty()
        {
            self.out.push((name.clone(), value));
        }
        for kid in get(b"Kids")
            .and_then(|k| k.as_array().ok())
            .into_iter()
            .flatten()
        {
            self.field(kid, &name, depth + 1);
        }
    }
}

/// Text (`Tx`, `Ch`; a string, or a stream for long text), a button's state name (`/Yes`; `/Off`
/// is no value), or the options of a multiple choice.
fn field_value(doc: &Document, value: &Object) -> Option<String> {
    let text = match value {
        Object::Stream(stream) => {
            text_bytes(&stream.get_plain_content_with_limit(MAX_FIELD_BYTES).ok()?)
        }
        Object::Name(name) if name.as_slice() == b"Off" => return None,
        Object::Name(name) => String::from_utf8_lossy(name).into_owned(),
        Object::Array(items) => items
            .iter()
            .filter_map(|item| text_string(resolve(doc, item)?))
            .collect::<Vec<_>>()
            .join(", "),
        other => text_string(other)?,
    };
    Some(text).filter(|t| !t.trim().is_empty())
}

/// Title, author and dates from the trailer's `/Info` dictionary.
fn info(doc: &Document) -> Metadata {
    let mut metadata = Metadata::default();
    let info = match doc.trailer.get(b"Info") {
        Ok(Object::Reference(id)) => doc.get_dictionary(*id).ok(),
        Ok(Object::Dictionary(d)) => Some(d),
        _ => None,
    };
    let Some(info) = info else { return metadata };
    let field = |key: &[u8]| {
        info.get(key)
            .ok()
            .and_then(text_string)
            .filter(|s| !s.trim().is_empty())
    };
    metadata.title = field(b"Title");
    metadata.author = field(b"Author");
    metadata.created = field(b"CreationDate").map(|d| pdf_date(&d));
    metadata.modified = field(b"ModDate").map(|d| pdf_date(&d));
    if let Some(producer) = field(b"Producer") {
        metadata.extra.insert("producer".to_owned(), producer);
    }
    metadata
}

/// PDF text strings are UTF-16BE with a BOM, or PDFDocEncoding (close enough to Latin-1).
fn text_string(object: &Object) -> Option<String> {
    let Object::String(bytes, _) = object else {
        return None;
    };
    Some(text_bytes(bytes))
}

fn text_bytes(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(rest);
        return text.into_owned();
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.to_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

/// `D:20240131120000+01'00'` → `2024-01-31T12:00:00` (offset dropped when malformed).
fn pdf_date(raw: &str) -> String {
    let digits: String = raw
        .trim_start_matches("D:")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.len() < 8 {
        return raw.to_owned();
    }
    let part = |a: usize, b: usize| digits.get(a..b).unwrap_or("00");
    format!(
        "{}-{}-{}T{}:{}:{}",
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(8, 10),
        part(10, 12),
        part(12, 14)
    )
}
