//! ZIP reading that counts what it really decompresses, so a zip bomb fails fast.

use std::borrow::Cow;
use std::io::{Cursor, Read, Write};

use zip::result::ZipError;
use zip::{ZipArchive, ZipWriter};

use crate::{ExtractError, Limits};

/// A ZIP archive with a decompression budget shared by every entry read from it.
pub(crate) struct SafeZip<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    format: &'static str,
    remaining: u64,
    limit: u64,
}

impl<'a> SafeZip<'a> {
    pub fn open(
        bytes: &'a [u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, ExtractError> {
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(format, e))?;
        if archive.len() > limits.max_zip_entries {
            return Err(ExtractError::TooManyEntries {
                limit: limits.max_zip_entries,
            });
        }
        Ok(Self {
            archive,
            format,
            remaining: limits.max_decompressed_bytes,
            limit: limits.max_decompressed_bytes,
        })
    }

    pub fn names(&self) -> Vec<String> {
        self.archive.file_names().map(str::to_owned).collect()
    }

    /// Reads one entry, or `None` when it is absent. Declared sizes are not trusted: the bytes
    /// are counted as they come out of the decompressor. Like Office, a name written with
    /// backslashes or in another case (`xl\sharedstrings.xml`) still matches.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let format = self.format;
        let index = match self.archive.index_for_name(name) {
            Some(index) => index,
            None => {
                let found = self.archive.file_names().find(|n| same_part(n, name));
                match found.map(str::to_owned) {
                    Some(found) => self.archive.index_for_name(&found).unwrap_or(usize::MAX),
                    None => return Ok(None),
                }
            }
        };
        let entry = match self.archive.by_index(index) {
            Ok(entry) => entry,
            Err(e) => return Err(zip_error(format, e)),
        };
        let mut out = Vec::new();
        let read = entry
            .take(self.remaining.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| ExtractError::corrupt_at(format, name, e))?;
        self.spend(read as u64)?;
        Ok(Some(out))
    }

    /// Reads one entry as text (UTF-8, lossy; a BOM is dropped).
    pub fn read_text(&mut self, name: &str) -> Result<Option<String>, ExtractError> {
        Ok(self.read(name)?.map(|bytes| {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            String::from_utf8_lossy(body).into_owned()
        }))
    }

    /// Decompresses every entry into nothing, to prove the archive fits the budget before it is
    /// handed to a parser (calamine) that reads entries on its own.
    pub fn check_budget(&mut self) -> Result<(), ExtractError> {
        let format = self.format;
        for index in 0..self.archive.len() {
            let entry = self
                .archive
                .by_index(index)
                .map_err(|e| zip_error(format, e))?;
            let copied = std::io::copy(
                &mut entry.take(self.remaining.saturating_add(1)),
                &mut std::io::sink(),
            )
            .map_err(|e| ExtractError::corrupt_by(format, e))?;
            self.spend(copied)?;
        }
        Ok(())
    }

    fn spend(&mut self, bytes: u64) -> Result<(), ExtractError> {
        if bytes > self.remaining {
            return Err(ExtractError::TooLarge {
                what: "decompressed",
                limit_mb: self.limit / (1024 * 1024),
            });
        }
        self.remaining -= bytes;
        Ok(())
    }
}

/// Whether two part names are the same part as Office sees it: `\\` is `/`, case is ignored.
pub(crate) fn same_part(stored: &str, wanted: &str) -> bool {
    stored.len() == wanted.len()
        && stored
            .bytes()
            .zip(wanted.bytes())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b) || (a == b'\\' && b == b'/'))
}

/// A ZIP that Python's `zipfile` and LibreOffice open but the zip crate refuses is repaired in a
/// copy (the size of the input, once):
/// - an end-of-central-directory record cut short (the file lost its last byte, the comment
///   length) is completed;
/// - a byte lost before the central directory: the directory's recorded offset, and the local
///   header offsets that moved with it, are corrected where a header really is at the new place.
///
/// A sound archive is returned as it is, after a look at its end record only.
pub(crate) fn repair_zip(bytes: &[u8]) -> Cow<'_, [u8]> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    if !bytes.starts_with(b"PK") {
        return Cow::Borrowed(bytes);
    }
    let tail_start = bytes.len().saturating_sub(EOCD_LEN + usize::from(u16::MAX));
    let Some(at) = bytes[tail_start..]
        .windows(EOCD.len())
        .rposition(|w| w == EOCD)
        .map(|p| tail_start + p)
    else {
        return Cow::Borrowed(bytes);
    };
    let u16_at = |b: &[u8], p: usize| {
        b.get(p..p + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |b: &[u8], p: usize| {
        b.get(p..p + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let short = at + EOCD_LEN > bytes.len();
    let long_comment = !short && at + EOCD_LEN + usize::from(u16_at(bytes, at + 20)) > bytes.len();
    let (cd_size, cd_offset) = (u32_at(bytes, at + 12), u32_at(bytes, at + 16));
    let cd_start = at.checked_sub(cd_size as usize);
    let moved_directory = !short
        && cd_offset != u32::MAX
        && cd_start.is_some_and(|start| {
            start != cd_offset as usize && bytes[start..].starts_with(b"PK\x01\x02")
        });
    if !(short || long_comment || moved_directory) || ZipArchive::new(Cursor::new(bytes)).is_ok() {
        return Cow::Borrowed(bytes);
    }
    let mut fixed = bytes.to_vec();
    fixed.resize(fixed.len().max(at + EOCD_LEN), 0);
    // The comment is whatever really follows the record.
    let comment = (fixed.len() - at - EOCD_LEN).min(usize::from(u16::MAX)) as u16;
    fixed[at + 20..at + 22].copy_from_slice(&comment.to_le_bytes());
    if let (true, Some(start)) = (moved_directory, cd_start) {
        fixed[at + 16..at + 20].copy_from_slice(&(start as u32).to_le_bytes());
        let shift = start as i64 - i64::from(cd_offset);
        let mut entry = start;
        while entry + 46 <= at && fixed[entry..].starts_with(b"PK\x01\x02") {
            let local = u32_at(&fixed, entry + 42);
            let is_header = |p: i64| {
                usize::try_from(p).is_ok_and(|p| fixed.get(p..p + 4) == Some(b"PK\x03\x04"))
            };
            let moved = i64::from(local) + shift;
            if !is_header(i64::from(local)) && is_header(moved) {
                fixed[entry + 42..entry + 46].copy_from_slice(&(moved as u32).to_le_bytes());
            }
            entry += 46
                + usize::from(u16_at(&fixed, entry + 28))
                + usize::from(u16_at(&fixed, entry + 30))
                + usize::from(u16_at(&fixed, entry + 32));
        }
    }
    Cow::Owned(fixed)
}

/// Rewrites entries of a text (XML) part, a chunk at a time, so that memory stays a chunk's worth.
pub(crate) trait PartFilter {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>);
}

/// A copy of the archive in which the entries `pick` chooses go through a filter; the others are
/// copied still compressed. Every byte decompressed counts against the decompression budget, and
/// the copy is compressed as it is written, so memory stays about the size of the input.
pub(crate) fn rewrite(
    bytes: &[u8],
    limits: &Limits,
    format: &'static str,
    mut pick: impl FnMut(&str) -> Option<Box<dyn PartFilter>>,
) -> Result<Vec<u8>, ExtractError> {
    let mut source = SafeZip::open(bytes, limits, format)?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::with_capacity(bytes.len())));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let write_error = |e: std::io::Error| ExtractError::corrupt_by(format, e);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut filtered = Vec::with_capacity(chunk.len());
    for index in 0..source.archive.len() {
        let (remaining, limit) = (source.remaining, source.limit);
        let entry = source
            .archive
            .by_index(index)
            .map_err(|e| zip_error(format, e))?;
        let name = entry.name().to_owned();
        let Some(mut filter) = pick(&name).filter(|_| entry.is_file()) else {
            writer
                .raw_copy_file(entry)
                .map_err(|e| zip_error(format, e))?;
            continue;
        };
        writer
            .start_file(name.as_str(), options)
            .map_err(|e| zip_error(format, e))?;
        let mut entry = entry;
        let mut spent = 0u64;
        loop {
            let n = entry
                .read(&mut chunk)
                .map_err(|e| ExtractError::corrupt_at(format, &name, e))?;
            if n == 0 {
                break;
            }
            spent += n as u64;
            if spent > remaining {
                return Err(ExtractError::TooLarge {
                    what: "decompressed",
                    limit_mb: limit / (1024 * 1024),
                });
            }
            filtered.clear();
            filter.feed(&chunk[..n], &mut filtered);
            writer.write_all(&filtered).map_err(write_error)?;
        }
        drop(entry);
        source.spend(spent)?;
    }
    let out = writer.finish().map_err(|e| zip_error(format, e))?;
    Ok(out.into_inner())
}

fn zip_error(format: &'static str, error: ZipError) -> ExtractError {
    match &error {
        ZipError::UnsupportedArchive(msg) if msg.to_ascii_lowercase().contains("password") => {
            ExtractError::Encrypted { format }
        }
        _ => ExtractError::corrupt_by(format, error),
    }
}
