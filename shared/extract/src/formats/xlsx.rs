//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) via calamine: each sheet a `## Name` and a table.

use std::io::Cursor;

use calamine::{
    Data, DataRef, Ods, OdsError, Reader, SheetType, Xls, Xlsb, Xlsx, XlsxError,
    open_workbook_from_rs,
};

use crate::archive::{self, PartFilter, SafeZip};
use crate::markdown::{cell_text, join_blocks, table};
use crate::{ExtractError, Extracted, Format, Limits, Metadata};

pub(crate) fn extract(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    let label = format.label();
    let mut metadata = Metadata::default();
    if format != Format::Xls {
        // calamine reads ZIP entries itself, without a budget: prove the archive is sane first.
        let mut zip = SafeZip::open(bytes, limits, label)?;
        zip.check_budget()?;
        metadata = if format == Format::Ods {
            crate::formats::odf::refuse_encrypted(&mut zip, label)?;
            crate::formats::odf::read_meta(&mut zip, limits, label)?
        } else {
            crate::formats::ooxml::core_properties(&mut zip, limits, label)?
        };
    }
    if format == Format::Xls {
        check_compound_file(bytes, limits, label)?;
    }
    let sheets = match format {
        Format::Xls => render(
            &mut open_workbook_from_rs::<Xls<_>, _>(Cursor::new(bytes))
                .map_err(|e| xls_error(e, label))?,
            false,
        )
        .map_err(Failure::into_error)?,
        Format::Xlsb => render(
            &mut open_workbook_from_rs::<Xlsb<_>, _>(Cursor::new(bytes))
                .map_err(|e| ExtractError::corrupt_by(label, e))?,
            true,
        )
        .map_err(|f| f.into_error_as(label))?,
        Format::Ods => match ods_sheets(bytes) {
            // KOffice and hand-written files put whitespace between table cells, which
            // calamine refuses; it is not content, so it is dropped and the file read again.
            Err(Failure::Open(OdsError::Mismatch { .. })) => {
                let fixed = archive::rewrite(bytes, limits, label, |name| {
                    archive::same_part(name, "content.xml")
                        .then(|| Box::new(TrimAfter::new(is_table_tag)) as Box<dyn PartFilter>)
                })?;
                ods_sheets(&fixed)
            }
            other => other,
        }
        .map_err(|f| match f {
            Failure::Open(OdsError::Password) => ExtractError::Encrypted { format: label },
            f => f.into_error_as(label),
        })?,
        _ => match xlsx_sheets(bytes) {
            // Excel itself reads `<v> 41</v>`; calamine's number parser does not. Values are
            // trimmed and the file read again (only for a workbook that failed this way).
            Err(Failure::Sheet(_, XlsxError::ParseFloat(_))) => {
                let fixed = archive::rewrite(bytes, limits, label, |name| {
                    is_worksheet(name)
                        .then(|| Box::new(TrimAfter::new(is_value_tag)) as Box<dyn PartFilter>)
                })?;
                xlsx_sheets(&fixed)
            }
            other => other,
        }
        .map_err(|f| f.into_error_as(label))?,
    };
    metadata.sheet_count = Some(sheets.len() as u32);
    let blocks = sheets
        .into_iter()
        .flat_map(|(name, body)| [format!("## {}", name.trim()), body]);
    Ok(Extracted::new(format, join_blocks(blocks), metadata))
}

/// calamine's own OLE2 reader follows sector chains without checking for loops (a 7 KB file
/// grew memory without bound in fuzzing); the `cfb` crate validates the container, so it reads
/// every stream first, within the decompression budget, and a damaged file stops here.
fn check_compound_file(
    bytes: &[u8],
    limits: &Limits,
    label: &'static str,
) -> Result<(), ExtractError> {
    use std::io::Read;
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes))
        .map_err(|e| ExtractError::corrupt_by(label, e))?;
    let streams: Vec<_> = file
        .walk()
        .filter(|e| e.is_stream())
        .map(|e| (e.path().to_path_buf(), e.len()))
        .collect();
    let mut budget = limits.max_decompressed_bytes;
    for (path, len) in streams {
        budget = budget.checked_sub(len).ok_or(ExtractError::TooLarge {
            what: "decompressed",
            limit_mb: limits.max_decompressed_bytes / (1024 * 1024),
        })?;
        let mut stream = file
            .open_stream(&path)
            .map_err(|e| ExtractError::corrupt_by(label, e))?;
        std::io::copy(&mut (&mut stream).take(len), &mut std::io::sink())
            .map_err(|e| ExtractError::corrupt_by(label, e))?;
    }
    Ok(())
}

fn xls_error(error: calamine::XlsError, label: &'static str) -> ExtractError {
    match error {
        calamine::XlsError::Password => ExtractError::Encrypted { format: label },
        other => ExtractError::corrupt_by(label, other),
    }
}

/// Why a workbook could not be read: opening it, or one of its sheets.
enum Failure<E> {
    Open(E),
    Sheet(String, E),
}

impl<E: std::error::Error + Send + Sync + 'static> Failure<E> {
    fn into_error(self) -> ExtractError {
        self.into_error_as("spreadsheet")
    }

    fn into_error_as(self, label: &'static str) -> ExtractError {
        match self {
            Self::Open(e) => ExtractError::corrupt_by(label, e),
            Self::Sheet(name, e) => {
                ExtractError::corrupt_at("spreadsheet", format!("sheet {name}"), e)
            }
        }
    }
}

fn xlsx_sheets(bytes: &[u8]) -> Result<Vec<(String, String)>, Failure<XlsxError>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(Failure::Open)?;
    let names = workbook.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let body = match streamed_sheet(&mut workbook, &name) {
            Ok(Some(body)) => body,
            Ok(None) => range_table(&mut workbook, &name)?,
            Err(e) => return Err(Failure::Sheet(name, e)),
        };
        sheets.push((name, body));
    }
    Ok(sheets)
}

/// An XLSX sheet's table read cell by cell, twice (first the columns that hold anything, then
/// the rows): calamine's `worksheet_range` holds every cell of the sheet at once, which for a
/// 400,000-row sheet was 526 MB. The result is what `range_table` gives; a sheet whose cells
/// are not in row order (allowed, never seen from Excel) is left to it (`None`).
fn streamed_sheet<RS: std::io::Read + std::io::Seek>(
    workbook: &mut Xlsx<RS>,
    name: &str,
) -> Result<Option<String>, XlsxError> {
    // Columns as calamine's range has them: from the first column with a value, up to the last
    // with a non-blank one.
    let (mut first, mut last) = (u32::MAX, None::<u32>);
    let mut previous = None;
    {
        let mut cells = match workbook.worksheet_cells_reader(name) {
            Err(XlsxError::NotAWorksheet(_)) => return Ok(Some(String::new())),
            other => other?,
        };
        while let Some(c) = cells.next_cell()? {
            if previous.is_some_and(|p| c.get_position() <= p) {
                return Ok(None);
            }
            previous = Some(c.get_position());
            let (_, col) = c.get_position();
            if *c.get_value() == DataRef::Empty {
                continue;
            }
            first = first.min(col);
            if !blank(c.get_value()) {
                last = Some(last.map_or(col, |l| l.max(col)));
            }
        }
    }
    let Some(last) = last else {
        return Ok(Some(String::new()));
    };
    let width = (last - first + 1) as usize;
    let mut out = String::new();
    let mut rows = 0usize;
    let mut row: Vec<String> = vec![String::new(); width];
    let mut row_index = None;
    let mut flush = |row: &mut Vec<String>, out: &mut String| {
        if row.iter().any(|c| !c.is_empty()) {
            push_row(out, row, rows == 0);
            rows += 1;
        }
        row.iter_mut().for_each(String::clear);
    };
    let mut cells = workbook.worksheet_cells_reader(name)?;
    while let Some(c) = cells.next_cell()? {
        let (r, col) = c.get_position();
        if row_index != Some(r) {
            flush(&mut row, &mut out);
            row_index = Some(r);
        }
        if *c.get_value() != DataRef::Empty
            && let Some(slot) = col.checked_sub(first).and_then(|i| row.get_mut(i as usize))
        {
            *slot = cell(&Data::from(c.get_value().clone()));
        }
    }
    flush(&mut row, &mut out);
    out.pop();
    Ok(Some(out))
}

/// A value that renders as nothing: an empty string.
fn blank(value: &DataRef<'_>) -> bool {
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.is_empty(),
        DataRef::SharedString(s) => s.is_empty(),
        _ => false,
    }
}

/// One row of a Markdown table as `table` writes it; the first row gets the separator.
fn push_row(out: &mut String, row: &[String], header: bool) {
    out.push('|');
    for c in row {
        out.push(' ');
        out.push_str(&cell_text(c));
        out.push_str(" |");
    }
    out.push('\n');
    if header {
        out.push('|');
        out.push_str(&" --- |".repeat(row.len()));
        out.push('\n');
    }
}

fn ods_sheets(bytes: &[u8]) -> Result<Vec<(String, String)>, Failure<OdsError>> {
    match open_workbook_from_rs::<Ods<_>, _>(Cursor::new(bytes)) {
        Ok(mut workbook) => render(&mut workbook, false),
        Err(e) => Err(Failure::Open(e)),
    }
}

/// (sheet name, Markdown table) for every sheet, in workbook order.
fn render<RS, R>(
    workbook: &mut R,
    skip_charts: bool,
) -> Result<Vec<(String, String)>, Failure<R::Error>>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    // calamine's XLSB reader fails on chart and macro sheets: their heading stays, with no
    // table, as for an XLSX chart sheet. (Its XLS reader gives a chart's data; kept.)
    let charts: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| skip_charts && s.typ != SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    let names = workbook.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let body = if charts.contains(&name) {
            String::new()
        } else {
            range_table(workbook, &name)?
        };
        sheets.push((name, body));
    }
    Ok(sheets)
}

/// A sheet's table from calamine's whole-sheet range.
fn range_table<RS, R>(workbook: &mut R, name: &str) -> Result<String, Failure<R::Error>>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
{
    let range = workbook
        .worksheet_range(name)
        .map_err(|e| Failure::Sheet(name.to_owned(), e))?;
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(cell).collect::<Vec<_>>())
        .filter(|row| row.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(table(&trim_empty_columns(rows)))
}

/// `xl/worksheets/sheet1.xml`, however the package spells it.
fn is_worksheet(name: &str) -> bool {
    let name = name.replace('\\', "/").to_ascii_lowercase();
    name.starts_with("xl/worksheets/") && name.ends_with(".xml")
}

/// A cell value, `<v>`.
fn is_value_tag(name: &[u8], closing: bool, self_closing: bool) -> bool {
    !closing && !self_closing && local(name) == b"v"
}

/// Any ODF table element: none of them holds text of its own.
fn is_table_tag(name: &[u8], _closing: bool, _self_closing: bool) -> bool {
    name.starts_with(b"table:")
}

fn local(name: &[u8]) -> &[u8] {
    name.iter()
        .position(|&b| b == b':')
        .map_or(name, |p| &name[p + 1..])
}

/// Streams XML unchanged except that the text right after a tag that `pick` accepts is trimmed
/// of surrounding whitespace. It reads tags only as far as it must (name, quotes, `/>`), so
/// it costs a few bytes of state whatever the size of the part.
struct TrimAfter {
    pick: fn(&[u8], bool, bool) -> bool,
    in_tag: bool,
    /// The tag's first bytes, enough for its name.
    tag: Vec<u8>,
    quote: Option<u8>,
    previous: u8,
    trimming: bool,
    started: bool,
    pending: Vec<u8>,
}

impl TrimAfter {
    fn new(pick: fn(&[u8], bool, bool) -> bool) -> Self {
        Self {
            pick,
            in_tag: false,
            tag: Vec::with_capacity(64),
            quote: None,
            previous: 0,
            trimming: false,
            started: false,
            pending: Vec::new(),
        }
    }

    fn tag_done(&mut self) {
        let closing = self.tag.first() == Some(&b'/');
        let self_closing = self.previous == b'/';
        let body = if closing {
            &self.tag[1..]
        } else {
            &self.tag[..]
        };
        let end = body
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(body.len());
        self.trimming = (self.pick)(&body[..end], closing, self_closing);
        self.started = false;
    }
}

impl PartFilter for TrimAfter {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.in_tag {
                out.push(b);
                match self.quote {
                    Some(q) if b == q => self.quote = None,
                    Some(_) => {}
                    None if b == b'>' => {
                        self.in_tag = false;
                        self.tag_done();
                    }
                    None if (b == b'"' || b == b'\'') && self.tag.first() != Some(&b'!') => {
                        self.quote = Some(b)
                    }
                    None if self.tag.len() < 64 => self.tag.push(b),
                    None => {}
                }
                self.previous = b;
            } else if b == b'<' {
                // Whitespace before the next tag is the end of a trimmed text: dropped.
                self.pending.clear();
                self.in_tag = true;
                self.tag.clear();
                self.quote = None;
                self.previous = b;
                out.push(b);
            } else if self.trimming && b.is_ascii_whitespace() {
                if self.started && self.pending.len() < 4096 {
                    self.pending.push(b);
                } else if self.started {
                    out.append(&mut self.pending);
                    out.push(b);
                }
            } else {
                if self.trimming {
                    self.started = true;
                    out.append(&mut self.pending);
                }
                out.push(b);
            }
        }
    }
}

fn cell(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|dt| dt.to_string())
            .unwrap_or_else(|| d.to_string()),
        Data::Error(e) => format!("#{e:?}"),
        other => other.to_string(),
    }
}

/// Formatting often stretches the used range with empty columns on the right.
fn trim_empty_columns(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    let width = rows
        .iter()
        .map(|r| r.iter().rposition(|c| !c.is_empty()).map_or(0, |p| p + 1))
        .max()
        .unwrap_or(0);
    for row in &mut rows {
        row.truncate(width);
    }
    rows
}
