//! Document extraction for recorder-connectors: bytes in, Markdown + metadata + chunks out.
//!
//! ```
//! use recorder_extract::{extract, chunk, ChunkOptions, Hints, Limits};
//! let out = extract(b"# Title\n\nHello.", &Hints::named("a.md"), &Limits::default()).unwrap();
//! let chunks = chunk(&out.markdown, &ChunkOptions::default());
//! assert_eq!(chunks[0].heading_path, vec!["Title".to_string()]);
//! ```

mod archive;
mod chunk;
mod detect;
mod error;
mod fidelity;
mod formats;
mod markdown;
mod types;
mod xmltree;

use std::panic::{AssertUnwindSafe, catch_unwind};

use sha2::{Digest, Sha256};

use crate::markdown::MarkdownOut;

pub use chunk::{Chunk, ChunkOptions, chunk, chunk_transcript};
pub use detect::{detect, format_from_mime, format_from_name};
pub use error::ExtractError;
pub use fidelity::{Fidelity, fidelity, text_recall};
pub use formats::audio_split::{
    AudioPiece, CutPlan, FrameRun, SplitError, mp3_run, plan_cut, split_audio,
};
pub use formats::csv::{CsvTables, TablePart, sniff_delimiter};
pub use formats::media::iso_box;
pub use formats::text::decode_html;
pub use formats::transcript::{transcript_markdown, webvtt};

/// Metadata (duration, codecs, size) of audio or video too big to read whole: `head` is the
/// start of the file (for MP4, MOV and M4A: its `ftyp` and `moov` boxes, found with [`iso_box`]),
/// `total_len` its size.
pub fn media_metadata(
    head: &[u8],
    total_len: u64,
    format: Format,
) -> Result<Extracted, ExtractError> {
    if !format.is_media() {
        return Err(ExtractError::corrupt(
            format.label(),
            "it is not audio or video",
        ));
    }
    guarded(format, || {
        formats::media::extract_sized(head, total_len, format)
    })
}
pub use types::{Detected, Extracted, Format, Hints, Limits, Metadata, Segment};

/// Extracts Markdown, metadata and (for transcripts) timed segments from `bytes`.
///
/// The real type comes from the content; a declared type that disagrees is reported in
/// `warnings` and `metadata.extra["type_mismatch"]`, or as `TypeMismatch` when the content is
/// not a document we can read at all.
pub fn extract(bytes: &[u8], hints: &Hints, limits: &Limits) -> Result<Extracted, ExtractError> {
    extract_into(bytes, hints, limits, &mut MarkdownOut::collect())
}

/// As [`extract`], with the Markdown written to `writer` rather than returned (the returned
/// `markdown` is empty): a PDF's page by page as its pages are read, so a long one's is never
/// whole in memory, any other format's whole at the end. A file that fails part-way leaves what
/// was written of it. The outer error is `writer`'s own.
pub fn extract_to(
    bytes: &[u8],
    hints: &Hints,
    limits: &Limits,
    writer: &mut dyn std::io::Write,
) -> std::io::Result<Result<Extracted, ExtractError>> {
    let mut out = MarkdownOut::to(writer);
    let result = extract_into(bytes, hints, limits, &mut out).map(|mut extracted| {
        out.push_raw(&std::mem::take(&mut extracted.markdown));
        extracted
    });
    out.finish()?;
    Ok(result)
}

fn extract_into(
    bytes: &[u8],
    hints: &Hints,
    limits: &Limits,
    out: &mut MarkdownOut,
) -> Result<Extracted, ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    if bytes.len() as u64 > limits.max_input_bytes {
        return Err(ExtractError::TooLarge {
            what: "input",
            limit_mb: limits.max_input_bytes / (1024 * 1024),
        });
    }
    // A ZIP that lost a byte is repaired here, so detection and every reader agree.
    let completed = archive::repair_zip(bytes);
    let bytes: &[u8] = &completed;
    let detected = detect(
        bytes,
        hints.declared_mime.as_deref(),
        hints.file_name.as_deref(),
    );
    refuse_encrypted_office(bytes, &detected)?;
    refuse_legacy_excel(bytes, &detected)?;
    refuse_unreadable(&detected)?;
    let format = detected.format;
    let result = guarded(format, || formats::extract_as(format, bytes, limits, out));
    let mut extracted = result?;
    if let Some(mismatch) = detected.mismatch {
        extracted
            .metadata
            .extra
            .insert("type_mismatch".to_owned(), mismatch.clone());
        extracted.warnings.push(mismatch);
    }
    Ok(extracted)
}

/// Runs one format's extractor. Parsers of hostile input are the likeliest place for a bug; a
/// panic there must become an error for this one file, not a crashed batch. The panic's own text
/// goes to stderr through the panic hook; the reason shown to a person stays free of internals.
fn guarded(
    format: Format,
    run: impl FnOnce() -> Result<Extracted, ExtractError>,
) -> Result<Extracted, ExtractError> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(ExtractError::corrupt(
            format.label(),
            "its content could not be read",
        ))
    })
}

/// Password-protected DOCX/XLSX/PPTX are not ZIPs but OLE2 files holding an `EncryptedPackage`.
fn refuse_encrypted_office(bytes: &[u8], detected: &Detected) -> Result<(), ExtractError> {
    const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if !bytes.starts_with(CFB_MAGIC) {
        return Ok(());
    }
    let marker: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    if detect::find(bytes, &marker).is_some() {
        let format = detected.declared.map_or("Office document", Format::label);
        return Err(ExtractError::Encrypted { format });
    }
    Ok(())
}

/// Excel 2.x to 4.0 saved a bare BIFF stream, not the OLE2 container of Excel 5 and later that
/// the XLS reader needs: its first record is a BOF (0x0009, 0x0209 or 0x0409) of 4 to 16 bytes.
/// calamine reads BIFF5 and BIFF8 only, so these are refused with a reason.
fn refuse_legacy_excel(bytes: &[u8], detected: &Detected) -> Result<(), ExtractError> {
    let word = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    // The BOF's second field is the sheet type: worksheet, chart, macro sheet or (Excel 4)
    // workbook.
    let bof = matches!(word(0), Some(0x0009 | 0x0209 | 0x0409))
        && word(2).is_some_and(|len| (4..=16).contains(&len))
        && matches!(word(6), Some(0x0010 | 0x0020 | 0x0040 | 0x0100));
    if detected.format == Format::Binary && bof {
        return Err(ExtractError::Unsupported {
            what: "legacy format: Excel 2.x-4.0 worksheet (older than Excel 5); \
                   open it in Excel or LibreOffice, save it as XLSX and upload that"
                .into(),
        });
    }
    Ok(())
}

/// When a file claims to be a document but its content is nothing we can read, the useful
/// message names both sides.
fn refuse_unreadable(detected: &Detected) -> Result<(), ExtractError> {
    match (detected.declared, detected.format) {
        (Some(declared), actual @ (Format::Binary | Format::Zip)) if declared != actual => {
            Err(ExtractError::TypeMismatch {
                declared: declared.label().to_owned(),
                actual: actual.label().to_owned(),
            })
        }
        (Some(declared), actual)
            if !declared.is_textual()
                && actual.is_textual()
                && !matches!(declared, Format::Zip | Format::Binary) =>
        {
            Err(ExtractError::TypeMismatch {
                declared: declared.label().to_owned(),
                actual: actual.label().to_owned(),
            })
        }
        _ => Ok(()),
    }
}

/// Lower-case hex SHA-256 of `bytes`, for content addressing and dedup.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_extractor_becomes_a_corrupt_error() {
        let err = guarded(Format::Docx, || panic!("index out of bounds")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "damaged DOCX file: its content could not be read"
        );
        assert_eq!(err.code(), "corrupt");
    }

    #[test]
    fn sha256_hex_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
