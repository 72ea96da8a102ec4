//! S3 adapter for the blob store port.

mod parts;
mod versions;

use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::StreamExt;
use recorder_domain::StoreError;
use recorder_domain::download::DownloadAs;
use recorder_domain::ports::{
    BlobStore, PutStreamError, RangeRead, StoredBlob, StoredPart, StreamDigest, UploadedPart,
    VersionRead,
};
use recorder_domain::source::ByteStream as ContentStream;

/// Largest buffer reserved up front from the size S3 reports for an object.
const MAX_PREALLOCATED: usize = 1 << 30;

/// An S3 client; path-style addressing when an endpoint override is set (local emulators serve
/// buckets under the path, not as subdomains).
pub fn client(sdk: &SdkConfig) -> Client {
    let builder =
        aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some());
    Client::from_conf(builder.build())
}

/// Part size of streamed uploads: the most a streamed put holds in memory.
const PART_SIZE: usize = 8 * 1024 * 1024;

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: &str) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
        }
    }
}

fn signed_length(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|e| StoreError::backend("an upload length out of range", e))
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|e| StoreError::backend("invalid presign expiry", e))
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| {
                StoreError::backend(format!("could not write s3://{}/{key}", self.bucket), e)
            })?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => {
                return Err(StoreError::backend(
                    format!("could not read s3://{}/{key}", self.bucket),
                    e,
                ));
            }
        };
        // Read into one buffer of the object's size: collecting and then flattening the body
        // held three copies of it at once (a 208 MB PDF peaked at 616 MB).
        let size = out.content_length().and_then(|n| usize::try_from(n).ok());
        let mut data = Vec::with_capacity(size.unwrap_or(0).min(MAX_PREALLOCATED));
        let mut body = out.body;
        while let Some(part) = body.try_next().await.map_err(|e| {
            StoreError::backend(format!("could not read s3://{}/{key}", self.bucket), e)
        })? {
            data.extend_from_slice(&part);
        }
        Ok(Some(data))
    }

    async fn get_range(
        &self,
        key: &str,
        start: u64,
        len: u64,
    ) -> Result<Option<RangeRead>, StoreError> {
        // Whatever version is stored now: the versioned read without a condition.
        let read = versions::get_range(&self.client, &self.bucket, key, start, len, None).await?;
        Ok(read.map(|v| v.read))
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("could not presign a download", e))?;
        Ok(req.uri().to_string())
    }

    async fn start_multipart(&self, key: &str, content_type: &str) -> Result<String, StoreError> {
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|e| {
                StoreError::backend(
                    format!("could not start an upload to s3://{}/{key}", self.bucket),
                    e,
                )
            })?;
        out.upload_id
            .ok_or_else(|| StoreError::backend("no upload id", "S3 answered without an UploadId"))
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<u64, StoreError> {
        if parts.is_empty() {
            return Err(StoreError::NotFound(format!(
                "no parts were listed for s3://{}/{key}",
                self.bucket
            )));
        }
        let mut sorted = parts.to_vec();
        sorted.sort_by_key(|p| p.part_number);
        let parts: Vec<CompletedPart> = sorted
            .iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(p.part_number as i32)
                    .e_tag(&p.etag)
                    .build()
            })
            .collect();
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            // An upload creates its original, never replaces one (412 when one exists).
            .if_none_match("*")
            .send()
            .await;
        if let Err(e) = completed {
            if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) {
                return Err(StoreError::ConditionFailed(format!(
                    "an object exists at s3://{}/{key}",
                    self.bucket
                )));
            }
            // As in put_stream: a 200 we could not parse is checked against the stored object.
            let http_ok = e.raw_response().is_some_and(|r| r.status().is_success());
            if !http_ok || self.size_of(key).await.is_none() {
                return Err(StoreError::backend(
                    format!("could not complete s3://{}/{key}", self.bucket),
                    e,
                ));
            }
        }
        self.size_of(key)
            .await
            .ok_or_else(|| StoreError::NotFound(format!("s3://{}/{key}", self.bucket)))
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        // Content-Length is one of the signed headers: S3 refuses a body of any other length
        // (a presigned POST with content-length-range would allow a range, and change the
        // client's request from a PUT to a form post). So is If-None-Match: * (S3's conditional
        // write): the URL creates the original and answers 412 once one is stored, so it cannot
        // replace the file a document was processed from.
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(signed_length(content_length)?)
            .if_none_match("*")
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("could not presign an upload", e))?;
        Ok(req.uri().to_string())
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number as i32)
            .content_length(signed_length(content_length)?)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("could not presign an upload part", e))?;
        Ok(req.uri().to_string())
    }

    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<StoredPart>, StoreError> {
        parts::list(&self.client, &self.bucket, key, upload_id).await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError> {
        match self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_upload()) => Ok(()),
            Err(e) => Err(StoreError::backend(
                format!("could not abort an upload to s3://{}/{key}", self.bucket),
                e,
            )),
        }
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        self.head_size(key).await
    }

    async fn get_range_version(
        &self,
        key: &str,
        start: u64,
        len: u64,
        if_match: Option<&str>,
    ) -> Result<Option<VersionRead>, StoreError> {
        versions::get_range(&self.client, &self.bucket, key, start, len, if_match).await
    }

    async fn get_version(&self, key: &str, etag: &str) -> Result<Option<Vec<u8>>, StoreError> {
        versions::get(&self.client, &self.bucket, key, etag).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                StoreError::backend(format!("could not delete s3://{}/{key}", self.bucket), e)
            })?;
        Ok(())
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
        download: &DownloadAs,
    ) -> Result<String, StoreError> {
        // The response overrides are signed query parameters: S3 answers with these headers
        // whatever the object was stored with, and nobody can change them in the URL.
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(&download.content_disposition)
            .response_content_type(&download.content_type)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("could not presign a download", e))?;
        Ok(req.uri().to_string())
    }

    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        mut stream: ContentStream,
    ) -> Result<StoredBlob, PutStreamError> {
        let mut digest = StreamDigest::default();
        let mut buf: Vec<u8> = Vec::with_capacity(PART_SIZE);
        let mut upload: Option<(String, Vec<CompletedPart>)> = None;
        let result: Result<(), PutStreamError> = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                digest.update(&chunk);
                buf.extend_from_slice(&chunk);
                if buf.len() >= PART_SIZE {
                    let part = std::mem::replace(&mut buf, Vec::with_capacity(PART_SIZE));
                    self.upload_part(key, content_type, &mut upload, part)
                        .await?;
                }
            }
            match &mut upload {
                // Small enough for one request.
                None => {
                    self.put(key, std::mem::take(&mut buf), content_type)
                        .await?
                }
                Some(_) => {
                    if !buf.is_empty() {
                        let part = std::mem::take(&mut buf);
                        self.upload_part(key, content_type, &mut upload, part)
                            .await?;
                    }
                    let (id, parts) = upload.as_ref().expect("started above");
                    let completed = self
                        .client
                        .complete_multipart_upload()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(id)
                        .multipart_upload(
                            CompletedMultipartUpload::builder()
                                .set_parts(Some(parts.clone()))
                                .build(),
                        )
                        .send()
                        .await;
                    if let Err(e) = completed {
                        // A 200 whose body we could not read (moto names the XML root differently
                        // from S3) is checked, not assumed: the object must exist with every byte.
                        let http_ok = e.raw_response().is_some_and(|r| r.status().is_success());
                        if !(http_ok && self.size_of(key).await == Some(digest.size())) {
                            return Err(StoreError::backend(
                                format!("could not complete s3://{}/{key}", self.bucket),
                                e,
                            )
                            .into());
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let (Err(_), Some((id, _))) = (&result, &upload) {
            // Leave no half-written multipart upload behind.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(id)
                .send()
                .await;
        }
        result.map(|()| digest.finish())
    }
}

impl S3Blobs {
    /// Bytes of an object, or None when there is none; other failures are errors.
    async fn head_size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(head.content_length().map(|n| n as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::backend(
                format!("could not read the size of s3://{}/{key}", self.bucket),
                e,
            )),
        }
    }

    async fn size_of(&self, key: &str) -> Option<u64> {
        let head = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        head.content_length().map(|n| n as u64)
    }

    async fn upload_part(
        &self,
        key: &str,
        content_type: &str,
        upload: &mut Option<(String, Vec<CompletedPart>)>,
        part: Vec<u8>,
    ) -> Result<(), StoreError> {
        if upload.is_none() {
            *upload = Some((self.start_multipart(key, content_type).await?, Vec::new()));
        }
        let (id, parts) = upload.as_mut().expect("set above");
        let number = parts.len() as i32 + 1;
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(id.as_str())
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(|e| {
                StoreError::backend(
                    format!(
                        "could not upload part {number} of s3://{}/{key}",
                        self.bucket
                    ),
                    e,
                )
            })?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .build(),
        );
        Ok(())
    }
}
