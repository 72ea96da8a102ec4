//! CSV and TSV to a Markdown table (RFC 4180 quoting; the delimiter is sniffed for CSV).

use crate::formats::text::decode;
use crate::markdown::table;
use crate::{ExtractError, Extracted, Format, Metadata};

pub(crate) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    let (text, encoding) = decode(bytes);
    let delimiter = if format == Format::Tsv {
        '\t'
    } else {
        sniff_delimiter(&text)
    };
    let rows: Vec<Vec<String>> = parse(&text, delimiter)
        .into_iter()
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .collect();
    let mut metadata = Metadata::default();
    metadata
        .extra
        .insert("encoding".to_owned(), encoding.to_owned());
    metadata
        .extra
        .insert("rows".to_owned(), rows.len().to_string());
    Ok(Extracted::new(format, table(&rows), metadata))
}

/// Comma unless the header line has more semicolons (European Excel) or tabs.
fn sniff_delimiter(text: &str) -> char {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [',', ';', '\t']
        .into_iter()
        .max_by_key(|&c| (count(c), c == ','))
        .unwrap_or(',')
}

/// Splits records and fields; quoted fields may hold delimiters, quotes (`""`) and newlines.
pub(crate) fn parse(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => in_quotes = false,
            (true, _) => field.push(c),
            (false, '"') if field.is_empty() => in_quotes = true,
            (false, c) if c == delimiter => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
