//! Word-level quality of extracted text against an expected text, used by the main-content
//! tests and the benchmark table in docs/benchmarks.md.

use std::collections::HashMap;

/// Bag-of-words precision and recall of `actual` against `expected`: words are lowercased runs
/// of letters and digits (so Markdown syntax and punctuation do not count), and each occurrence
/// counts once. Markdown link and image targets (`](…)`) are left out: a reader sees the link
/// text, not the URL. Precision is the share of `actual`'s words that are expected; recall the share
/// of `expected`'s words that were found. An empty side scores 1.0 (nothing wrong kept, or
/// nothing to find).
pub fn word_precision_recall(expected: &str, actual: &str) -> (f64, f64) {
    let expected = word_counts(expected);
    let actual = word_counts(actual);
    let overlap: usize = actual
        .iter()
        .map(|(word, n)| (*n).min(expected.get(word).copied().unwrap_or(0)))
        .sum();
    let ratio = |part: usize, whole: usize| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    (
        ratio(overlap, actual.values().sum()),
        ratio(overlap, expected.values().sum()),
    )
}

fn word_counts(text: &str) -> HashMap<String, usize> {
    let text = without_link_targets(text);
    let mut counts = HashMap::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// `[text](target)` → `[text]`: drops the parenthesised part right after a `]`.
fn without_link_targets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..=at]);
        let after = &rest[at + 2..];
        match after.find(')') {
            Some(close) => rest = &after[close + 1..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_texts_score_one_and_markdown_syntax_is_ignored() {
        assert_eq!(
            word_precision_recall("Hello, world. Bye", "# Hello\n\n**world** - bye"),
            (1.0, 1.0)
        );
    }

    #[test]
    fn extra_words_lower_precision_and_missing_words_lower_recall() {
        let (p, r) = word_precision_recall("one two three four", "one two menu");
        assert!((p - 2.0 / 3.0).abs() < 1e-9);
        assert!((r - 0.5).abs() < 1e-9);
    }

    #[test]
    fn link_targets_are_not_words_of_the_text() {
        assert_eq!(
            word_precision_recall("see the docs", "see [the docs](https://example.com/docs)"),
            (1.0, 1.0)
        );
    }

    #[test]
    fn repeated_words_count_once_per_occurrence() {
        let (p, r) = word_precision_recall("the cat", "the the the cat");
        assert!((p - 0.5).abs() < 1e-9);
        assert_eq!(r, 1.0);
    }
}
