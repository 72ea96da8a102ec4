//! Originals too big to hold in a 512 MB function (above [`crate::MAX_PROCESSED_BYTES`]): audio
//! and video are read by range, a bounded amount at a time — hashed in 8 MB steps, their metadata
//! read from the header (or MP4's `moov` box, wherever it sits), transcribed piece by piece.
//! Other formats that large are refused with the limit.

use recorder_domain::StoreError;
use recorder_domain::ports::BlobStore;
use recorder_extract::iso_box;
use sha2::{Digest, Sha256};

/// Read first for every original: small files come whole in this one request.
pub const HEAD_BYTES: u64 = 1024 * 1024;
/// Step of the streamed hash.
const HASH_STEP: u64 = 8 * 1024 * 1024;
/// A `moov` box larger than this is not read (hours of video index in tens of MB).
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

pub struct LargeOriginal {
    pub key: String,
    pub head: Vec<u8>,
    pub total: u64,
}

impl LargeOriginal {
    /// SHA-256 of the whole object, read in steps.
    pub async fn sha256(&self, blobs: &dyn BlobStore) -> Result<String, StoreError> {
        let mut hasher = Sha256::new();
        let mut at = 0;
        while at < self.total {
            let part = blobs
                .get_range(&self.key, at, HASH_STEP)
                .await?
                .ok_or_else(|| StoreError::NotFound(self.key.clone()))?;
            if part.bytes.is_empty() {
                break;
            }
            at += part.bytes.len() as u64;
            hasher.update(&part.bytes);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    /// The bytes the media header reader needs: the head, or for ISO media (MP4, MOV, M4A) the
    /// `ftyp` box followed by `moov`, which is often at the end, after the media data.
    pub async fn media_header(&self, blobs: &dyn BlobStore) -> Result<Vec<u8>, StoreError> {
        if self.head.get(4..8) != Some(b"ftyp") {
            return Ok(self.head.clone());
        }
        let mut out = Vec::new();
        let mut at = 0u64;
        while at < self.total {
            let header = blobs
                .get_range(&self.key, at, 16)
                .await?
                .map(|r| r.bytes)
                .unwrap_or_default();
            let Some((kind, size, _)) = iso_box(&header, self.total - at) else {
                break;
            };
            if &kind == b"ftyp" || &kind == b"moov" {
                if size > MAX_MOOV_BYTES {
                    break;
                }
                let body = blobs.get_range(&self.key, at, size).await?;
                out.extend(body.map(|r| r.bytes).unwrap_or_default());
                if &kind == b"moov" {
                    break;
                }
            }
            at += size;
        }
        Ok(out)
    }
}
