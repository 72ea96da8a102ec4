//! Structure-aware chunking of Markdown for search: chunks follow headings and paragraphs, and a
//! table row, list item or code line is never cut in two.

use serde::Serialize;

use crate::Segment;
use crate::formats::transcript::segment_line;

#[derive(Debug, Clone)]
pub struct ChunkOptions {
    /// Aim for chunks about this long (characters).
    pub target_chars: usize,
    /// Carry up to this many characters of whole paragraphs/rows/items into the next chunk.
    pub overlap_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            target_chars: 1500,
            overlap_chars: 150,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    pub index: usize,
    pub text: String,
    /// Headings in effect where the chunk starts, outermost first.
    pub heading_path: Vec<String>,
    /// Byte range of the source Markdown this chunk covers (overlap included).
    pub start_offset: usize,
    pub end_offset: usize,
    /// The page the chunk starts on, for Markdown with `<!-- page N -->` markers (PDF).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
}

/// A piece of the source that is never split further.
#[derive(Debug, Clone)]
struct Piece {
    text: String,
    start: usize,
    end: usize,
    heading_path: Vec<String>,
    is_heading: bool,
}

/// Splits `markdown` into chunks near `opts.target_chars`, starting new chunks at headings.
pub fn chunk(markdown: &str, opts: &ChunkOptions) -> Vec<Chunk> {
    let target = opts.target_chars.max(1);
    let pieces = pieces(markdown, target);
    let pages = page_markers(markdown);
    let mut chunks = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    let mut fresh_from = 0; // index in `current` where this chunk's own (non-overlap) pieces start
    for piece in pieces {
        let len: usize = current.iter().map(|p| p.text.len() + 2).sum();
        let own = current.len() > fresh_from;
        let heading_break = piece.is_heading && own && len >= target / 4;
        if own && (heading_break || len + piece.text.len() > target) {
            chunks.push(build_chunk(
                chunks.len(),
                markdown,
                &pages,
                &current,
                fresh_from,
            ));
            current = if heading_break {
                Vec::new()
            } else {
                overlap(&current, opts.overlap_chars)
            };
            fresh_from = current.len();
        }
        current.push(piece);
    }
    if current.len() > fresh_from {
        chunks.push(build_chunk(
            chunks.len(),
            markdown,
            &pages,
            &current,
            fresh_from,
        ));
    }
    chunks
}

/// The trailing whole pieces that fit in `budget`, never a heading alone.
fn overlap(pieces: &[Piece], budget: usize) -> Vec<Piece> {
    let mut taken = Vec::new();
    let mut used = 0;
    for piece in pieces.iter().rev() {
        if piece.is_heading || used + piece.text.len() > budget {
            break;
        }
        used += piece.text.len();
        taken.push(piece.clone());
    }
    taken.reverse();
    taken
}

fn build_chunk(
    index: usize,
    source: &str,
    pages: &[(usize, u32)],
    pieces: &[Piece],
    fresh_from: usize,
) -> Chunk {
    let mut text = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            text.push_str(separator(source, pieces[i - 1].end, piece.start));
        }
        text.push_str(&piece.text);
    }
    let first_own = &pieces[fresh_from.min(pieces.len() - 1)];
    Chunk {
        index,
        text,
        heading_path: first_own.heading_path.clone(),
        page: page_at(pages, first_own.start),
        start_offset: pieces[0].start,
        end_offset: pieces[pieces.len() - 1].end,
        start_ms: None,
        end_ms: None,
    }
}

/// Where each `<!-- page N -->` marker starts, in order.
fn page_markers(source: &str) -> Vec<(usize, u32)> {
    const MARKER: &str = "<!-- page ";
    source
        .match_indices(MARKER)
        .filter_map(|(at, _)| {
            let number = source[at + MARKER.len()..]
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            Some((at, number))
        })
        .collect()
}

/// The page of the last marker at or before `offset`.
fn page_at(pages: &[(usize, u32)], offset: usize) -> Option<u32> {
    let after = pages.partition_point(|(at, _)| *at <= offset);
    after.checked_sub(1).map(|i| pages[i].1)
}

/// Keeps the source's own gap (newline, space) between neighbours, a blank line otherwise.
fn separator(source: &str, prev_end: usize, next_start: usize) -> &str {
    match source.get(prev_end..next_start) {
        Some(gap) if !gap.is_empty() && gap.trim().is_empty() && !gap.contains("\n\n") => gap,
        _ => "\n\n",
    }
}

// ---------- Markdown → pieces ----------

#[derive(Debug, PartialEq)]
enum Kind {
    Heading(usize),
    Code,
    Table,
    List,
    Paragraph,
}

struct Line<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

fn lines(markdown: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for text in markdown.split('\n') {
        out.push(Line {
            text,
            start,
            end: start + text.len(),
        });
        start += text.len() + 1;
    }
    out
}

fn pieces(markdown: &str, target: usize) -> Vec<Piece> {
    let lines = lines(markdown);
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].text.trim().is_empty() {
            i += 1;
            continue;
        }
        let (kind, end) = block_at(&lines, i);
        let block = &lines[i..end];
        let current_path =
            |path: &[(usize, String)]| path.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
        match kind {
            Kind::Heading(level) => {
                let title = block[0]
                    .text
                    .trim()
                    .trim_start_matches('#')
                    .trim()
                    .to_owned();
                path.retain(|(l, _)| *l < level);
                path.push((level, title));
                out.push(piece(
                    markdown,
                    block[0].start,
                    block[0].end,
                    current_path(&path),
                    true,
                ));
            }
            Kind::Code => code_pieces(markdown, block, target, &current_path(&path), &mut out),
            Kind::Table => table_pieces(markdown, block, target, &current_path(&path), &mut out),
            Kind::List => list_pieces(markdown, block, target, &current_path(&path), &mut out),
            Kind::Paragraph => {
                let (start, stop) = (block[0].start, block[block.len() - 1].end);
                paragraph_pieces(
                    markdown,
                    start,
                    stop,
                    target,
                    &current_path(&path),
                    &mut out,
                );
            }
        }
        i = end;
    }
    out
}

fn piece(
    source: &str,
    start: usize,
    end: usize,
    heading_path: Vec<String>,
    is_heading: bool,
) -> Piece {
    Piece {
        text: source[start..end].to_owned(),
        start,
        end,
        heading_path,
        is_heading,
    }
}

/// The kind of block starting at line `i`, and the index just past it.
fn block_at(lines: &[Line<'_>], i: usize) -> (Kind, usize) {
    let text = lines[i].text;
    let trimmed = text.trim_start();
    if let Some(level) = heading_level(trimmed) {
        return (Kind::Heading(level), i + 1);
    }
    if let Some(fence) = fence_marker(trimmed) {
        let close = (i + 1..lines.len()).find(|&j| {
            let t = lines[j].text.trim();
            t.starts_with(&fence)
                && t.trim_start_matches(fence.chars().next().unwrap_or('`'))
                    .is_empty()
        });
        // An unclosed fence runs to the end of the document, as CommonMark reads it.
        return (Kind::Code, close.map_or(lines.len(), |c| c + 1));
    }
    if trimmed.starts_with('|') {
        let end = (i..lines.len())
            .find(|&j| !lines[j].text.trim_start().starts_with('|'))
            .unwrap_or(lines.len());
        return (Kind::Table, end);
    }
    if list_marker(text).is_some() {
        return (Kind::List, list_end(lines, i));
    }
    let end = (i + 1..lines.len())
        .find(|&j| {
            let t = lines[j].text.trim_start();
            t.is_empty()
                || heading_level(t).is_some()
                || fence_marker(t).is_some()
                || t.starts_with('|')
                || list_marker(lines[j].text).is_some()
        })
        .unwrap_or(lines.len());
    (Kind::Paragraph, end)
}

fn heading_level(trimmed: &str) -> Option<usize> {
    let hashes = trimmed.chars().take_while(|&c| c == '#').count();
    ((1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ')).then_some(hashes)
}

fn fence_marker(trimmed: &str) -> Option<String> {
    let c = trimmed.chars().next()?;
    if c != '`' && c != '~' {
        return None;
    }
    let n = trimmed.chars().take_while(|&x| x == c).count();
    (n >= 3).then(|| c.to_string().repeat(n))
}

/// Indent width and marker length when `line` starts a list item.
pub(crate) fn list_marker(line: &str) -> Option<(usize, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    if rest.starts_with("- ") || rest.starts_with("* ") || rest.starts_with("+ ") {
        return Some((indent, 2));
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let after = &rest[digits..];
    (digits > 0 && digits <= 9 && (after.starts_with(". ") || after.starts_with(") ")))
        .then_some((indent, digits + 2))
}

/// A list runs while lines are items, indented continuations, or blank lines between them.
fn list_end(lines: &[Line<'_>], start: usize) -> usize {
    let mut j = start + 1;
    while j < lines.len() {
        let t = lines[j].text;
        if t.trim().is_empty() {
            let next = (j + 1..lines.len()).find(|&k| !lines[k].text.trim().is_empty());
            match next {
                Some(k)
                    if list_marker(lines[k].text).is_some() || lines[k].text.starts_with("  ") =>
                {
                    j = k
                }
                _ => return j,
            }
            continue;
        }
        let trimmed = t.trim_start();
        if list_marker(t).is_none()
            && !t.starts_with(' ')
            && (heading_level(trimmed).is_some()
                || fence_marker(trimmed).is_some()
                || trimmed.starts_with('|'))
        {
            return j;
        }
        j += 1;
    }
    lines.len()
}

/// Groups consecutive units (start, end) into pieces of at most `target`, never splitting one.
fn group_units(
    source: &str,
    units: &[(usize, usize)],
    target: usize,
    path: &[String],
    out: &mut Vec<Piece>,
) {
    let mut group_start: Option<usize> = None;
    let mut group_end = 0;
    for &(start, end) in units {
        if let Some(gs) = group_start
            && end - gs > target
        {
            out.push(piece(source, gs, group_end, path.to_vec(), false));
            group_start = None;
        }
        group_start.get_or_insert(start);
        group_end = end;
    }
    if let Some(gs) = group_start {
        out.push(piece(source, gs, group_end, path.to_vec(), false));
    }
}

fn list_pieces(
    source: &str,
    block: &[Line<'_>],
    target: usize,
    path: &[String],
    out: &mut Vec<Piece>,
) {
    let mut items: Vec<(usize, usize)> = Vec::new();
    for line in block.iter().filter(|l| !l.text.trim().is_empty()) {
        match items.last_mut() {
            Some(item) if list_marker(line.text).is_none() => item.1 = line.end,
            _ => items.push((line.start, line.end)),
        }
    }
    group_units(source, &items, target, path, out);
}

/// Rows are kept whole; a table split over chunks repeats its header row in each.
fn table_pieces(
    source: &str,
    block: &[Line<'_>],
    target: usize,
    path: &[String],
    out: &mut Vec<Piece>,
) {
    let header_lines = if block.len() >= 2 && is_separator_row(block[1].text) {
        2
    } else {
        0
    };
    let rows: Vec<(usize, usize)> = block[header_lines.min(block.len())..]
        .iter()
        .map(|l| (l.start, l.end))
        .collect();
    if header_lines > 0 && rows.is_empty() {
        // A header with no rows: the header and its separator stay together.
        out.push(piece(
            source,
            block[0].start,
            block[block.len() - 1].end,
            path.to_vec(),
            false,
        ));
        return;
    }
    if header_lines == 0 || block[block.len() - 1].end - block[0].start <= target {
        let all: Vec<(usize, usize)> = block.iter().map(|l| (l.start, l.end)).collect();
        return group_units(source, &all, target, path, out);
    }
    let header = &source[block[0].start..block[1].end];
    let mut groups = Vec::new();
    group_units(
        source,
        &rows,
        target.saturating_sub(header.len()).max(1),
        path,
        &mut groups,
    );
    for (n, mut g) in groups.into_iter().enumerate() {
        if n == 0 {
            g.start = block[0].start;
        }
        g.text = format!("{header}\n{}", g.text);
        out.push(g);
    }
}

fn is_separator_row(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// A long code block is cut between lines, and each part is fenced again.
fn code_pieces(
    source: &str,
    block: &[Line<'_>],
    target: usize,
    path: &[String],
    out: &mut Vec<Piece>,
) {
    let (first, last) = (&block[0], &block[block.len() - 1]);
    if last.end - first.start <= target || block.len() <= 2 {
        out.push(piece(source, first.start, last.end, path.to_vec(), false));
        return;
    }
    let open = first.text.trim();
    let close = fence_marker(open).unwrap_or_else(|| "```".to_owned());
    let has_close = fence_marker(last.text.trim()).is_some();
    let body = &block[1..block.len() - usize::from(has_close)];
    let units: Vec<(usize, usize)> = body.iter().map(|l| (l.start, l.end)).collect();
    let mut groups = Vec::new();
    group_units(
        source,
        &units,
        target.saturating_sub(open.len() + close.len() + 2).max(1),
        path,
        &mut groups,
    );
    let count = groups.len();
    for (n, mut g) in groups.into_iter().enumerate() {
        g.text = format!("{open}\n{}\n{close}", g.text);
        if n == 0 {
            g.start = first.start;
        }
        if n + 1 == count {
            g.end = last.end;
        }
        out.push(g);
    }
}

/// A paragraph longer than `target` is cut after sentences, or failing that between words.
fn paragraph_pieces(
    source: &str,
    start: usize,
    end: usize,
    target: usize,
    path: &[String],
    out: &mut Vec<Piece>,
) {
    let end = start + source[start..end].trim_end().len();
    let mut pos = start;
    while end - pos > target {
        let window_end = floor_char_boundary(source, pos + target);
        let window = &source[pos..window_end];
        let cut = window
            .rfind(['.', '!', '?'])
            .filter(|&i| i > target / 3)
            .map(|i| i + 1)
            .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i > 0))
            .unwrap_or(window.len());
        let cut = if cut == 0 { window.len().max(1) } else { cut };
        let cut_at = floor_char_boundary(source, pos + cut).max(pos + 1);
        let cut_at = ceil_char_boundary(source, cut_at);
        out.push(piece(source, pos, cut_at, path.to_vec(), false));
        pos = cut_at;
        while pos < end && source[pos..].starts_with(char::is_whitespace) {
            pos += source[pos..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if pos < end {
        out.push(piece(source, pos, end, path.to_vec(), false));
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

// ---------- transcripts ----------

/// Chunks a transcript at speaker turns, carrying timestamps. Offsets refer to the transcript's
/// Markdown as `extract` writes it (one `**Speaker** [hh:mm:ss]: text` line per segment).
pub fn chunk_transcript(segments: &[Segment], opts: &ChunkOptions) -> Vec<Chunk> {
    let target = opts.target_chars.max(1);
    let lines: Vec<String> = segments.iter().map(segment_line).collect();
    let mut offsets = Vec::with_capacity(lines.len());
    let mut pos = 0;
    for line in &lines {
        offsets.push((pos, pos + line.len()));
        pos += line.len() + 2;
    }
    // Turns: runs of segments by the same speaker.
    let mut turns: Vec<(usize, usize)> = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        match turns.last_mut() {
            Some(turn) if segments[turn.0].speaker == seg.speaker => turn.1 = i + 1,
            _ => turns.push((i, i + 1)),
        }
    }
    let mut chunks = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let len_of = |idx: &[usize]| idx.iter().map(|&i| lines[i].len() + 2).sum::<usize>();
    for (from, to) in turns {
        let turn: Vec<usize> = (from..to).collect();
        // A turn that fits joins the chunk or starts the next; a long turn is split by segment.
        let parts: Vec<Vec<usize>> = if len_of(&turn) <= target {
            vec![turn]
        } else {
            turn.into_iter().map(|i| vec![i]).collect()
        };
        for part in parts {
            if !current.is_empty() && len_of(&current) + len_of(&part) > target {
                chunks.push(transcript_chunk(
                    chunks.len(),
                    segments,
                    &lines,
                    &offsets,
                    &current,
                ));
                current = transcript_overlap(&current, &lines, opts.overlap_chars);
            }
            current.extend(part);
        }
    }
    if !current.is_empty() {
        chunks.push(transcript_chunk(
            chunks.len(),
            segments,
            &lines,
            &offsets,
            &current,
        ));
    }
    chunks
}

fn transcript_overlap(current: &[usize], lines: &[String], budget: usize) -> Vec<usize> {
    match current.last() {
        Some(&last) if lines[last].len() <= budget => vec![last],
        _ => Vec::new(),
    }
}

fn transcript_chunk(
    index: usize,
    segments: &[Segment],
    lines: &[String],
    offsets: &[(usize, usize)],
    idx: &[usize],
) -> Chunk {
    let (first, last) = (idx[0], idx[idx.len() - 1]);
    Chunk {
        index,
        text: idx
            .iter()
            .map(|&i| lines[i].as_str())
            .collect::<Vec<_>>()
            .join("\n\n"),
        heading_path: Vec::new(),
        page: None,
        start_offset: offsets[first].0,
        end_offset: offsets[last].1,
        start_ms: Some(segments[first].start_ms),
        end_ms: Some(
            idx.iter()
                .map(|&i| segments[i].end_ms)
                .max()
                .unwrap_or(segments[last].end_ms),
        ),
    }
}
