//! Spreadsheets (XLSX, XLSM, XLS, ODS) via calamine: each sheet a `## Name` and a table.

use std::io::Cursor;

use calamine::{Data, Ods, Reader, Xls, Xlsx, open_workbook_from_rs};

use crate::archive::SafeZip;
use crate::markdown::{join_blocks, table};
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
            crate::formats::odf::read_meta(&mut zip, limits, label)?
        } else {
            crate::formats::ooxml::core_properties(&mut zip, limits, label)?
        };
    }
    if format == Format::Xls {
        check_compound_file(bytes, limits, label)?;
    }
    let cursor = Cursor::new(bytes);
    let sheets = match format {
        Format::Xls => render(
            &mut open_workbook_from_rs::<Xls<_>, _>(cursor).map_err(|e| xls_error(e, label))?,
        ),
        Format::Ods => render(
            &mut open_workbook_from_rs::<Ods<_>, _>(cursor)
                .map_err(|e| ExtractError::corrupt_by(label, e))?,
        ),
        _ => render(
            &mut open_workbook_from_rs::<Xlsx<_>, _>(cursor)
                .map_err(|e| ExtractError::corrupt_by(label, e))?,
        ),
    }?;
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

/// (sheet name, Markdown table) for every sheet, in workbook order.
fn render<RS, R>(workbook: &mut R) -> Result<Vec<(String, String)>, ExtractError>
where
    RS: std::io::Read + std::io::Seek,
    R: Reader<RS>,
    R::Error: std::error::Error + Send + Sync + 'static,
{
    let names = workbook.sheet_names();
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| ExtractError::corrupt_at("spreadsheet", format!("sheet {name}"), e))?;
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|row| row.iter().map(cell).collect::<Vec<_>>())
            .filter(|row| row.iter().any(|c| !c.is_empty()))
            .collect();
        sheets.push((name, table(&trim_empty_columns(rows))));
    }
    Ok(sheets)
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
