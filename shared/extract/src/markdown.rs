//! Small helpers to write Markdown that survives round trips: tables, fences, escapes.

/// Renders rows as a Markdown table; the first row is the header. Rows are padded to the widest.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        out.push('|');
        for col in 0..width {
            let cell = row.get(col).map(|c| cell_text(c)).unwrap_or_default();
            out.push(' ');
            out.push_str(&cell);
            out.push_str(" |");
        }
        out.push('\n');
        if i == 0 {
            out.push('|');
            out.push_str(&" --- |".repeat(width));
            out.push('\n');
        }
    }
    out.pop();
    out
}

/// A table cell lives on one line, and a pipe inside it must not end the cell.
pub(crate) fn cell_text(raw: &str) -> String {
    let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.replace('\\', "\\\\").replace('|', "\\|")
}

/// Wraps `body` in a code fence long enough not to be closed by backticks inside it.
pub(crate) fn fence(lang: &str, body: &str) -> String {
    let longest = longest_run(body, '`');
    let ticks = "`".repeat(longest.max(2) + 1);
    let body = body.trim_end_matches('\n');
    format!("{ticks}{lang}\n{body}\n{ticks}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        cur = if c == ch { cur + 1 } else { 0 };
        best = best.max(cur);
    }
    best
}

/// Collapses runs of whitespace to one space, as HTML and XML text is read.
pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending = true;
        } else {
            if pending {
                out.push(' ');
            }
            pending = false;
            out.push(c);
        }
    }
    if pending {
        out.push(' ');
    }
    out
}

/// Joins blocks with one blank line and tidies line ends: the canonical shape of our output.
pub(crate) fn join_blocks<I: IntoIterator<Item = String>>(blocks: I) -> String {
    let kept: Vec<String> = blocks
        .into_iter()
        .map(|b| b.trim_matches('\n').to_owned())
        .filter(|b| !b.trim().is_empty())
        .collect();
    kept.join("\n\n")
}

/// Line ends to `\n`, trailing spaces off, at most one blank line in a row outside code fences.
pub(crate) fn normalise(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    let mut in_fence = false;
    for line in text.split('\n') {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with("```") || trimmed.trim_start().starts_with("~~~") {
            in_fence = !in_fence;
        }
        if trimmed.is_empty() && !in_fence {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    out.trim_matches('\n').to_owned()
}

/// Wraps inline text in a marker (`**`, `*`) keeping surrounding spaces outside, as Markdown
/// needs emphasis to hug its text.
pub(crate) fn emphasise(text: &str, marker: &str) -> String {
    let core = text.trim();
    if core.is_empty() {
        return text.to_owned();
    }
    let lead = &text[..text.len() - text.trim_start().len()];
    let trail = &text[text.trim_end().len()..];
    format!("{lead}{marker}{core}{marker}{trail}")
}

/// `[text](target)`, or the bare text when there is no usable target.
pub(crate) fn link(text: &str, target: &str) -> String {
    let text = text.trim();
    let target = target.trim();
    if target.is_empty() || target.starts_with('#') {
        return text.to_owned();
    }
    let label = if text.is_empty() { target } else { text };
    let target = target
        .replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29");
    format!(
        "[{}]({target})",
        label.replace('[', "\\[").replace(']', "\\]")
    )
}

/// Where a document's Markdown goes as it is produced: collected into a `String`, or written
/// out as it comes (a long PDF's is tens of MB, rendered page by page). Either way it is trimmed
/// as a whole: white space before the first text is dropped, and white space is held back until
/// more text follows, so none ends it.
pub(crate) struct MarkdownOut<'w> {
    writer: Option<&'w mut dyn std::io::Write>,
    collected: String,
    /// White space not yet passed on: it may turn out to end the document.
    held: String,
    started: bool,
    /// The first write error; nothing more is written after it.
    error: Option<std::io::Error>,
}

impl<'w> MarkdownOut<'w> {
    pub(crate) fn collect() -> Self {
        Self::new(None)
    }

    pub(crate) fn to(writer: &'w mut dyn std::io::Write) -> Self {
        Self::new(Some(writer))
    }

    fn new(writer: Option<&'w mut dyn std::io::Write>) -> Self {
        Self {
            writer,
            collected: String::new(),
            held: String::new(),
            started: false,
            error: None,
        }
    }

    pub(crate) fn push(&mut self, text: &str) {
        let text = if self.started {
            text
        } else {
            text.trim_start()
        };
        let body = text.trim_end();
        if !body.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.emit(&held);
            self.emit(body);
            self.started = true;
        }
        self.held.push_str(&text[body.len()..]);
    }

    /// Text passed on as it is, for Markdown that came whole and is already finished.
    pub(crate) fn push_raw(&mut self, text: &str) {
        self.emit(text);
    }

    fn emit(&mut self, text: &str) {
        match &mut self.writer {
            None => self.collected.push_str(text),
            Some(writer) if self.error.is_none() => {
                if let Err(e) = writer.write_all(text.as_bytes()) {
                    self.error = Some(e);
                }
            }
            Some(_) => {}
        }
    }

    /// Whether writing out has failed (nothing more is written).
    pub(crate) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// What was collected (empty when written out).
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut self.collected)
    }

    /// The first write error, if any.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        self.error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_out_trims_the_whole_whether_collected_or_written() {
        let pieces = [
            "\n  ",
            "",
            " <!-- page 1 -->\n\n",
            "text  ",
            "\n\n",
            "",
            "more\n",
            "\n \n",
        ];
        let whole = pieces.concat();
        let mut collected = MarkdownOut::collect();
        let mut bytes = Vec::new();
        let mut written = MarkdownOut::to(&mut bytes);
        for piece in pieces {
            collected.push(piece);
            written.push(piece);
        }
        written.finish().expect("written");
        assert_eq!(collected.take(), whole.trim());
        assert_eq!(String::from_utf8(bytes).expect("UTF-8"), whole.trim());
    }
}
