//! The blob store: objects with S3-like ETags, range reads, multipart uploads and presigned
//! URLs that tests can read back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ports::*;
use crate::ports::{PutStreamError, StoredBlob, StreamDigest, UploadedPart};
use crate::source::ByteStream;

#[derive(Default)]
pub struct MemoryBlobs {
    pub objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// Every range read (key, start, len), so tests can see how much was read at once.
    pub range_reads: Mutex<Vec<(String, u64, u64)>>,
    /// Parts of unfinished multipart uploads, by upload id then part number.
    pub parts: Mutex<HashMap<String, BTreeMap<u32, Vec<u8>>>>,
}

/// The ETag the in-memory store gives an object: derived from its bytes, as S3's is for a
/// single PUT (the same bytes stored again keep it), unquoted as in S3's notifications.
pub fn etag_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(bytes)[..16])
}

impl MemoryBlobs {
    /// The current version's ETag, or `ConditionFailed` when it is not `if_match`.
    fn matching(&self, key: &str, if_match: Option<&str>) -> Result<Option<String>, StoreError> {
        let Some(etag) = lock(&self.objects).get(key).map(|(b, _)| etag_of(b)) else {
            return Ok(None);
        };
        match if_match {
            Some(want) if want.trim_matches('"') != etag => Err(StoreError::ConditionFailed(
                format!("{key} is no longer version {want}"),
            )),
            _ => Ok(Some(etag)),
        }
    }

    /// What a client's PUT to a part URL does (no length is enforced here, as on moto).
    pub fn upload_part(&self, upload_id: &str, part_number: u32, bytes: Vec<u8>) {
        lock(&self.parts)
            .entry(upload_id.to_owned())
            .or_default()
            .insert(part_number, bytes);
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        lock(&self.objects).insert(key.to_string(), (bytes, content_type.to_string()));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.objects).get(key).map(|(b, _)| b.clone()))
    }

    async fn get_range(
        &self,
        key: &str,
        start: u64,
        len: u64,
    ) -> Result<Option<RangeRead>, StoreError> {
        lock(&self.range_reads).push((key.to_owned(), start, len));
        Ok(lock(&self.objects).get(key).map(|(b, _)| {
            let from = (start as usize).min(b.len());
            let to = (start.saturating_add(len) as usize).min(b.len());
            RangeRead {
                bytes: b[from..to].to_vec(),
                total: b.len() as u64,
            }
        }))
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        Ok(format!(
            "memory://get/{key}?expires={}",
            expires_in.as_secs()
        ))
    }

    async fn start_multipart(&self, key: &str, _content_type: &str) -> Result<String, StoreError> {
        Ok(format!("mpu-{key}"))
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        _parts: &[UploadedPart],
    ) -> Result<u64, StoreError> {
        // Completion only creates, as S3 does with If-None-Match: * (the upload stays).
        if lock(&self.parts).contains_key(upload_id) && lock(&self.objects).contains_key(key) {
            return Err(StoreError::ConditionFailed(format!(
                "an object exists at {key}"
            )));
        }
        if let Some(parts) = lock(&self.parts).remove(upload_id) {
            let bytes = parts.into_values().flatten().collect::<Vec<u8>>();
            let size = bytes.len() as u64;
            lock(&self.objects).insert(key.to_owned(), (bytes, String::new()));
            return Ok(size);
        }
        // Otherwise tests put the bytes under the key directly, as if the parts were uploaded.
        lock(&self.objects)
            .get(key)
            .map(|(b, _)| b.len() as u64)
            .ok_or_else(|| StoreError::NotFound(format!("no parts for {key}")))
    }

    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        mut stream: ByteStream,
    ) -> Result<StoredBlob, PutStreamError> {
        use futures::StreamExt;
        let mut digest = StreamDigest::default();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            digest.update(&chunk);
            buf.extend_from_slice(&chunk);
        }
        lock(&self.objects).insert(key.to_string(), (buf, content_type.to_string()));
        Ok(digest.finish())
    }

    async fn presign_put(
        &self,
        key: &str,
        _ct: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        Ok(format!(
            "memory://put/{key}?content-length={content_length}&expires={}",
            expires_in.as_secs()
        ))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        Ok(format!(
            "memory://part/{key}?upload_id={upload_id}&part={part}\
             &content-length={content_length}&expires={}",
            expires_in.as_secs()
        ))
    }

    async fn list_parts(&self, _key: &str, upload_id: &str) -> Result<Vec<StoredPart>, StoreError> {
        Ok(lock(&self.parts)
            .get(upload_id)
            .into_iter()
            .flatten()
            .map(|(n, b)| StoredPart {
                part_number: *n,
                size: b.len() as u64,
                etag: format!("\"{n}-{}\"", b.len()),
            })
            .collect())
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<(), StoreError> {
        lock(&self.parts).remove(upload_id);
        Ok(())
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(lock(&self.objects).get(key).map(|(b, _)| b.len() as u64))
    }

    async fn get_range_version(
        &self,
        key: &str,
        start: u64,
        len: u64,
        if_match: Option<&str>,
    ) -> Result<Option<VersionRead>, StoreError> {
        let Some(etag) = self.matching(key, if_match)? else {
            return Ok(None);
        };
        let read = self.get_range(key, start, len).await?;
        Ok(read.map(|read| VersionRead { read, etag }))
    }

    async fn get_version(&self, key: &str, etag: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.matching(key, Some(etag))?.is_none() {
            return Ok(None);
        }
        self.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.objects).remove(key);
        Ok(())
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
        download: &crate::download::DownloadAs,
    ) -> Result<String, StoreError> {
        // Unencoded, for tests to read back.
        Ok(format!(
            "memory://get/{key}?expires={}&response-content-disposition={}\
             &response-content-type={}",
            expires_in.as_secs(),
            download.content_disposition,
            download.content_type
        ))
    }
}
