//! ZIP reading that counts what it really decompresses, so a zip bomb fails fast.

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

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
    /// are counted as they come out of the decompressor.
    pub fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        let format = self.format;
        let entry = match self.archive.by_name(name) {
            Ok(entry) => entry,
            Err(ZipError::FileNotFound) => return Ok(None),
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

fn zip_error(format: &'static str, error: ZipError) -> ExtractError {
    match &error {
        ZipError::UnsupportedArchive(msg) if msg.to_ascii_lowercase().contains("password") => {
            ExtractError::Encrypted { format }
        }
        _ => ExtractError::corrupt_by(format, error),
    }
}
