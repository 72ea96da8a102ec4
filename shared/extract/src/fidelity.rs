//! A structure-preservation score: the share of the expected headings, list items, table cells
//! and links that appear in the actual Markdown, in the same order.

use serde::Serialize;

use crate::chunk::list_marker;

/// Matched / expected counts per kind of structure.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fidelity {
    pub headings: (usize, usize),
    pub list_items: (usize, usize),
    pub table_cells: (usize, usize),
    pub links: (usize, usize),
}

impl Fidelity {
    /// Overall share in 0..=1; a document with no expected structure scores 1.
    pub fn score(&self) -> f64 {
        let parts = [self.headings, self.list_items, self.table_cells, self.links];
        let matched: usize = parts.iter().map(|p| p.0).sum();
        let expected: usize = parts.iter().map(|p| p.1).sum();
        if expected == 0 {
            1.0
        } else {
            matched as f64 / expected as f64
        }
    }
}

#[derive(Debug, Default)]
struct Structure {
    headings: Vec<String>,
    list_items: Vec<String>,
    table_cells: Vec<String>,
    links: Vec<String>,
}

/// Compares the structure of `actual` against `expected`.
pub fn fidelity(expected: &str, actual: &str) -> Fidelity {
    let (e, a) = (structure(expected), structure(actual));
    let pair = |x: &[String], y: &[String]| (in_order(x, y), x.len());
    Fidelity {
        headings: pair(&e.headings, &a.headings),
        list_items: pair(&e.list_items, &a.list_items),
        table_cells: pair(&e.table_cells, &a.table_cells),
        links: pair(&e.links, &a.links),
    }
}

fn structure(markdown: &str) -> Structure {
    let mut s = Structure::default();
    let mut indents: Vec<usize> = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        s.links.extend(links(line));
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            s.headings
                .push(format!("{hashes}:{}", normalise(&trimmed[hashes..])));
            indents.clear();
        } else if let Some((indent, marker_len)) = list_marker(line) {
            indents.retain(|&i| i < indent);
            indents.push(indent);
            let ordered = trimmed.starts_with(|c: char| c.is_ascii_digit());
            let kind = if ordered { "ol" } else { "ul" };
            s.list_items.push(format!(
                "{}:{kind}:{}",
                indents.len(),
                normalise(&line[indent + marker_len..])
            ));
        } else if trimmed.starts_with('|') {
            if !trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')) {
                s.table_cells.extend(
                    cells(trimmed)
                        .into_iter()
                        .map(|c| normalise(&c))
                        .filter(|c| !c.is_empty()),
                );
            }
        } else if !trimmed.is_empty() && !line.starts_with(' ') {
            indents.clear();
        }
    }
    s
}

/// Cells of a table row, honouring `\|` escapes.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner
        .strip_suffix('|')
        .filter(|r| !r.ends_with('\\'))
        .unwrap_or(inner);
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                if let Some(cell) = out.last_mut() {
                    cell.push('|');
                }
                chars.next();
            }
            '|' => out.push(String::new()),
            c => {
                if let Some(cell) = out.last_mut() {
                    cell.push(c);
                }
            }
        }
    }
    out
}

/// `[text](target)` pairs on a line.
fn links(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else { break };
        let Some(end) = after[close + 2..].find(')') else {
            break;
        };
        let text = &after[..close];
        let target = &after[close + 2..close + 2 + end];
        out.push(format!("{}->{}", normalise(text), target.trim()));
        rest = &after[close + 2 + end..];
    }
    out
}

/// Lower-case words without emphasis or link syntax, so formatting choices do not count.
fn normalise(text: &str) -> String {
    let mut plain = String::new();
    let mut rest = text;
    // Keep link text, drop targets.
    while let Some(open) = rest.find('[') {
        plain.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (after.find("]("), after.find(')')) {
            (Some(close), Some(end)) if end > close => {
                plain.push_str(&after[..close]);
                rest = &after[end + 1..];
            }
            _ => {
                plain.push('[');
                rest = after;
            }
        }
    }
    plain.push_str(rest);
    let cleaned: String = plain
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '\\'))
        .collect();
    cleaned
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Length of the longest common subsequence: how many expected items appear in order.
fn in_order(expected: &[String], actual: &[String]) -> usize {
    if expected.is_empty() || actual.is_empty() {
        return 0;
    }
    if expected.len().saturating_mul(actual.len()) > 4_000_000 {
        return greedy(expected, actual);
    }
    let mut prev = vec![0usize; actual.len() + 1];
    for e in expected {
        let mut cur = vec![0usize; actual.len() + 1];
        for (j, a) in actual.iter().enumerate() {
            cur[j + 1] = if e == a {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        prev = cur;
    }
    prev[actual.len()]
}

fn greedy(expected: &[String], actual: &[String]) -> usize {
    let mut pos = 0;
    let mut matched = 0;
    for e in expected {
        if let Some(found) = actual[pos..].iter().position(|a| a == e) {
            matched += 1;
            pos += found + 1;
        }
    }
    matched
}

/// Share of the expected words that appear in the actual text, in order (case and punctuation
/// ignored): a check on text where structure cannot be compared, like PDF.
pub fn text_recall(expected: &str, actual: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    // Link targets are not text a reader sees; `normalise` keeps only the link text.
    let visible = |s: &str| s.lines().map(normalise).collect::<Vec<_>>().join("\n");
    let (e, a) = (words(&visible(expected)), words(&visible(actual)));
    if e.is_empty() {
        return 1.0;
    }
    in_order(&e, &a) as f64 / e.len() as f64
}
