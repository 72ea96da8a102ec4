//! CSV and TSV to a Markdown table (RFC 4180 quoting; the delimiter is sniffed for CSV).
//!
//! Files too big to hold are converted piece by piece with [`CsvTables`]: the rows become a run of
//! tables of about one chunk each, every one with the header row, so each chunk stands alone.

use crate::chunk::Chunk;
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
    let rows = parse(&text, delimiter);
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
pub fn sniff_delimiter(text: &str) -> char {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [',', ';', '\t']
        .into_iter()
        .max_by_key(|&c| (count(c), c == ','))
        .unwrap_or(',')
}

/// Splits records and fields; quoted fields may hold delimiters, quotes (`""`) and newlines.
/// Blank records are dropped.
pub(crate) fn parse(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut parser = RowParser::new(delimiter);
    parser.feed(text, &mut |row| rows.push(row));
    parser.finish(&mut |row| rows.push(row));
    rows
}

/// The CSV state machine, fed text in pieces of any size (a quote pair may straddle two).
struct RowParser {
    delimiter: char,
    in_quotes: bool,
    /// A quote inside quotes: either the first of `""` or the end of the quoted part.
    quote_seen: bool,
    field: String,
    row: Vec<String>,
}

impl RowParser {
    fn new(delimiter: char) -> Self {
        RowParser {
            delimiter,
            in_quotes: false,
            quote_seen: false,
            field: String::new(),
            row: Vec::new(),
        }
    }

    fn feed(&mut self, text: &str, emit: &mut dyn FnMut(Vec<String>)) {
        for c in text.chars() {
            if self.quote_seen {
                self.quote_seen = false;
                if c == '"' {
                    self.field.push('"');
                    continue;
                }
                self.in_quotes = false;
            }
            match (self.in_quotes, c) {
                (true, '"') => self.quote_seen = true,
                (true, _) => self.field.push(c),
                (false, '"') if self.field.is_empty() => self.in_quotes = true,
                (false, c) if c == self.delimiter => self.row.push(std::mem::take(&mut self.field)),
                (false, '\r') => {}
                (false, '\n') => {
                    self.row.push(std::mem::take(&mut self.field));
                    self.end_row(emit);
                }
                (false, _) => self.field.push(c),
            }
        }
    }

    fn end_row(&mut self, emit: &mut dyn FnMut(Vec<String>)) {
        let row = std::mem::take(&mut self.row);
        if row.iter().any(|c| !c.trim().is_empty()) {
            emit(row);
        }
    }

    fn finish(&mut self, emit: &mut dyn FnMut(Vec<String>)) {
        if !self.field.is_empty() || !self.row.is_empty() {
            self.row.push(std::mem::take(&mut self.field));
            self.end_row(emit);
        }
    }
}

/// Streams a CSV of any size into Markdown tables of about `target_chars` each, every one with the
/// header row, plus one chunk per table. Memory holds one table's rows.
pub struct CsvTables {
    decoder: encoding_rs::Decoder,
    /// The text encoding, from the first bytes.
    pub encoding: &'static str,
    parser: RowParser,
    target_chars: usize,
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    rows_chars: usize,
    /// Rows seen, header included.
    pub row_count: u64,
    /// Bytes of Markdown handed out so far (chunk offsets refer to the whole document).
    written: usize,
    chunks: usize,
}

/// One finished table: its Markdown (with the separating blank line when not the first) and its
/// chunk.
pub struct TablePart {
    pub markdown: String,
    pub chunk: Chunk,
}

impl CsvTables {
    /// `head` is the start of the file: it decides the text encoding and (for CSV) the delimiter.
    pub fn for_file(head: &[u8], format: Format, target_chars: usize) -> Self {
        let (text, name) = decode(head);
        let delimiter = if format == Format::Tsv {
            '\t'
        } else {
            sniff_delimiter(&text)
        };
        let encoding =
            encoding_rs::Encoding::for_label(name.as_bytes()).unwrap_or(encoding_rs::UTF_8);
        let mut tables = Self::new(delimiter, target_chars);
        tables.decoder = encoding.new_decoder();
        tables.encoding = encoding.name();
        tables
    }

    /// Feeds the next bytes of the file (a character may straddle two pieces).
    pub fn push_bytes(&mut self, bytes: &[u8], last: bool) -> Vec<TablePart> {
        let mut text = String::with_capacity(
            self.decoder
                .max_utf8_buffer_length(bytes.len())
                .unwrap_or(bytes.len() * 3),
        );
        let _ = self.decoder.decode_to_string(bytes, &mut text, last);
        self.push(&text)
    }

    pub fn new(delimiter: char, target_chars: usize) -> Self {
        CsvTables {
            decoder: encoding_rs::UTF_8.new_decoder(),
            encoding: "UTF-8",
            parser: RowParser::new(delimiter),
            target_chars: target_chars.max(1),
            header: None,
            rows: Vec::new(),
            rows_chars: 0,
            row_count: 0,
            written: 0,
            chunks: 0,
        }
    }

    /// Feeds the next piece of text; returns the tables it completed.
    pub fn push(&mut self, text: &str) -> Vec<TablePart> {
        let mut done = Vec::new();
        let mut rows = Vec::new();
        self.parser.feed(text, &mut |row| rows.push(row));
        for row in rows {
            self.add_row(row, &mut done);
        }
        done
    }

    /// The last table.
    pub fn finish(mut self) -> (Vec<TablePart>, u64) {
        let mut done = Vec::new();
        let mut rows = Vec::new();
        self.parser.finish(&mut |row| rows.push(row));
        for row in rows {
            self.add_row(row, &mut done);
        }
        if !self.rows.is_empty() || (self.chunks == 0 && self.header.is_some()) {
            done.push(self.table());
        }
        (done, self.row_count)
    }

    fn add_row(&mut self, row: Vec<String>, done: &mut Vec<TablePart>) {
        self.row_count += 1;
        if self.header.is_none() {
            self.header = Some(row);
            return;
        }
        self.rows_chars += row.iter().map(|c| c.len() + 3).sum::<usize>() + 2;
        self.rows.push(row);
        if self.rows_chars >= self.target_chars {
            done.push(self.table());
        }
    }

    fn table(&mut self) -> TablePart {
        let mut rows = vec![self.header.clone().unwrap_or_default()];
        rows.append(&mut self.rows);
        self.rows_chars = 0;
        let body = table(&rows);
        let markdown = if self.written == 0 {
            body.clone()
        } else {
            format!("\n\n{body}")
        };
        let start = self.written + (markdown.len() - body.len());
        self.written += markdown.len();
        let chunk = Chunk {
            index: self.chunks,
            text: body,
            heading_path: Vec::new(),
            start_offset: start,
            end_offset: self.written,
            page: None,
            start_ms: None,
            end_ms: None,
        };
        self.chunks += 1;
        TablePart { markdown, chunk }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_any_size_give_the_rows_of_the_whole() {
        let text =
            "name,note\r\n\"Ana\",\"said \"\"hi\"\", left\"\n\nBo,\"two\nlines\"\nCy,plain\n";
        let whole = parse(text, ',');
        assert_eq!(whole.len(), 4);
        assert_eq!(whole[1], ["Ana", "said \"hi\", left"]);
        for size in 1..8 {
            let mut parser = RowParser::new(',');
            let mut rows = Vec::new();
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(size) {
                let piece: String = piece.iter().collect();
                parser.feed(&piece, &mut |r| rows.push(r));
            }
            parser.finish(&mut |r| rows.push(r));
            assert_eq!(rows, whole, "pieces of {size}");
        }
    }

    #[test]
    fn streamed_tables_repeat_the_header_and_their_chunks_point_into_the_markdown() {
        let mut csv = String::from("id,city\n");
        for i in 0..500 {
            csv.push_str(&format!("{i},Lisbon {i}\n"));
        }
        let bytes = csv.replace("Lisbon", "Évora").into_bytes();
        let mut tables = CsvTables::for_file(&bytes[..100], Format::Csv, 300);
        let mut parts = Vec::new();
        // 777-byte pieces cut some "É"s in half.
        let pieces: Vec<&[u8]> = bytes.chunks(777).collect();
        for (i, piece) in pieces.iter().enumerate() {
            parts.extend(tables.push_bytes(piece, i + 1 == pieces.len()));
        }
        let (last, rows) = tables.finish();
        parts.extend(last);
        assert_eq!(rows, 501);
        let markdown: String = parts.iter().map(|p| p.markdown.as_str()).collect();
        assert!(parts.len() > 10);
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.chunk.index, i);
            assert!(p.chunk.text.starts_with("| id | city |\n| --- | --- |\n"));
            assert_eq!(
                &markdown[p.chunk.start_offset..p.chunk.end_offset],
                p.chunk.text
            );
        }
        let data_rows = markdown
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| id") && !l.starts_with("| ---"))
            .count();
        assert_eq!(data_rows, 500, "every row once");
        assert!(markdown.contains("| 499 | Évora 499 |"));
        assert!(!markdown.contains('\u{FFFD}'), "no character was cut");
    }
}
