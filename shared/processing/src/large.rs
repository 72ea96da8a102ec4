//! Originals too big to hold in a 512 MB function (above [`crate::MAX_PROCESSED_BYTES`]): audio
//! and video are read by range, a bounded amount at a time — hashed in 8 MB steps, their metadata
//! read from the header (or MP4's `moov` box, wherever it sits), transcribed piece by piece.
//! Other formats that large are refused with the limit.

use recorder_domain::StoreError;
use recorder_domain::ports::{BlobStore, RangeRead};
use recorder_extract::iso_box;
use sha2::{Digest, Sha256};

use crate::stages::store::{ArtifactKeys, CHUNKS_TYPE, MARKDOWN_TYPE};

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
    /// The version read (its ETag): every later range is read of it only.
    pub etag: String,
}

impl LargeOriginal {
    /// A range of this version; `ConditionFailed` when the object was replaced meanwhile (the
    /// message is retried, and its next run finds the change before reading anything).
    pub async fn range(
        &self,
        blobs: &dyn BlobStore,
        at: u64,
        len: u64,
    ) -> Result<Option<RangeRead>, StoreError> {
        let read = blobs
            .get_range_version(&self.key, at, len, Some(&self.etag))
            .await?;
        Ok(read.map(|v| v.read))
    }

    /// SHA-256 of the whole object, read in steps.
    pub async fn sha256(&self, blobs: &dyn BlobStore) -> Result<String, StoreError> {
        let mut hasher = Sha256::new();
        let mut at = 0;
        while at < self.total {
            let part = self
                .range(blobs, at, HASH_STEP)
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
            let header = self
                .range(blobs, at, 16)
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
                let body = self.range(blobs, at, size).await?;
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

/// Formats read beyond the whole-file limit: audio and video by range, CSV and TSV streamed.
pub fn streamable(format: recorder_extract::Format) -> bool {
    use recorder_extract::Format::{Csv, Tsv};
    format.is_media() || matches!(format, Csv | Tsv)
}

type Part = Result<bytes::Bytes, recorder_domain::source::SourceError>;

fn stream_of(rx: tokio::sync::mpsc::Receiver<Part>) -> recorder_domain::source::ByteStream {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|part| (part, rx))
    }))
}

/// A CSV or TSV too big to hold, read in steps and written as it is read: tables of about one
/// chunk each go to the Markdown artifact, their chunks to the JSON Lines artifact, both through
/// streamed multipart puts. `Ok(Err(reason))` fails the document.
pub(crate) async fn stream_table(
    deps: &recorder_domain::Deps,
    original: &LargeOriginal,
    format: recorder_extract::Format,
    chunking: &recorder_extract::ChunkOptions,
    keys: &ArtifactKeys,
) -> Result<Result<(serde_json::Value, usize), String>, crate::ProcessError> {
    use recorder_domain::ports::PutStreamError;
    let (md_tx, md_rx) = tokio::sync::mpsc::channel::<Part>(4);
    let (chunk_tx, chunk_rx) = tokio::sync::mpsc::channel::<Part>(4);
    let blobs = deps.blobs.as_ref();
    let markdown = blobs.put_stream(&keys.markdown, MARKDOWN_TYPE, stream_of(md_rx));
    let chunks = blobs.put_stream(&keys.chunks, CHUNKS_TYPE, stream_of(chunk_rx));
    let produce = async move {
        let mut tables =
            recorder_extract::CsvTables::for_file(&original.head, format, chunking.target_chars);
        let encoding = tables.encoding;
        let (mut at, mut count) = (0u64, 0usize);
        let mut pending = Vec::new();
        let failure = loop {
            for part in pending.drain(..) {
                let recorder_extract::TablePart { markdown, chunk } = part;
                let line = serde_json::to_string(&chunk).unwrap_or_default() + "\n";
                // A closed channel: that upload already failed, and says why below.
                if md_tx.send(Ok(markdown.into())).await.is_err()
                    || chunk_tx.send(Ok(line.into())).await.is_err()
                {
                    return Err(None);
                }
                count += 1;
            }
            if at >= original.total {
                break None;
            }
            match original.range(blobs, at, HASH_STEP).await {
                Ok(Some(read)) if !read.bytes.is_empty() => {
                    at += read.bytes.len() as u64;
                    pending = tables.push_bytes(&read.bytes, at >= original.total);
                }
                Ok(_) => break Some(StoreError::NotFound(original.key.clone())),
                Err(e) => break Some(e),
            }
        };
        if let Some(e) = failure {
            // Abort both uploads rather than complete them with half the file.
            let why = || recorder_domain::source::SourceError::Transient(e.to_string());
            let _ = md_tx.send(Err(why())).await;
            let _ = chunk_tx.send(Err(why())).await;
            return Err(Some(e));
        }
        let (rest, rows) = tables.finish();
        for recorder_extract::TablePart { markdown, chunk } in rest {
            let line = serde_json::to_string(&chunk).unwrap_or_default() + "\n";
            if md_tx.send(Ok(markdown.into())).await.is_err()
                || chunk_tx.send(Ok(line.into())).await.is_err()
            {
                return Err(None);
            }
            count += 1;
        }
        Ok((rows, count, encoding))
    };
    let (markdown, chunks, produced) = tokio::join!(markdown, chunks, produce);
    for put in [markdown, chunks] {
        match put {
            Ok(_) => {}
            Err(PutStreamError::Store(e)) => return Err(e.into()),
            Err(PutStreamError::Source(_)) => {} // our own abort: the read error follows
        }
    }
    let (rows, count, encoding) = match produced {
        Ok(done) => done,
        Err(Some(e)) => return Err(e.into()),
        Err(None) => {
            return Err(StoreError::NotFound("an artifact upload stopped".into()).into());
        }
    };
    let mut metadata = recorder_extract::Metadata::default();
    metadata.extra.insert("rows".into(), rows.to_string());
    metadata.extra.insert("encoding".into(), encoding.into());
    metadata.extra.insert("tables".into(), count.to_string());
    Ok(Ok((
        serde_json::to_value(&metadata).unwrap_or_default(),
        count,
    )))
}
