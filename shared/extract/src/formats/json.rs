//! JSON, pretty-printed into a ```json block with its key order kept.

use crate::formats::text::decode;
use crate::markdown::fence;
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

pub(crate) fn extract(bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let (text, _) = decode(bytes);
    // Depth is measured before any parser recurses, so 100k nested arrays cost one linear scan.
    if nesting_depth(&text) > limits.max_nesting_depth {
        return Err(ExtractError::TooDeep {
            limit: limits.max_nesting_depth,
        });
    }
    validate(&text)?;
    Ok(Extracted::new(
        Format::Json,
        fence("json", &pretty(&text)),
        Metadata::default(),
    ))
}

fn validate(text: &str) -> Result<(), ExtractError> {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Ok(()),
        // serde_json stops at 128 levels; we allow up to our own cap, already checked.
        Err(e) if e.to_string().contains("recursion limit") => Ok(()),
        Err(e) => Err(ExtractError::corrupt_by("JSON", e)),
    }
}

/// Deepest bracket nesting outside strings.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Re-indents valid JSON token by token: no tree is built, so order and numbers stay as written.
fn pretty(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let (mut indent, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                skip_ws(&mut chars);
                if matches!(chars.peek(), Some('}') | Some(']')) {
                    continue;
                }
                indent += 1;
                newline(&mut out, indent);
            }
            '}' | ']' => {
                if !out.ends_with(['{', '[']) {
                    indent = indent.saturating_sub(1);
                    newline(&mut out, indent);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_ws(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.peek().is_some_and(|c| c.is_whitespace()) {
        chars.next();
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    out.push_str(&"  ".repeat(indent));
}
