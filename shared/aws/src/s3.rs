//! S3 adapter for the blob store port.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use recorder_domain::ports::BlobStore;
use recorder_domain::StoreError;

/// An S3 client; path-style addressing when an endpoint override is set (local emulators serve
/// buckets under the path, not as subdomains).
pub fn client(sdk: &SdkConfig) -> Client {
    let builder = aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some());
    Client::from_conf(builder.build())
}

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: Client, bucket: &str) -> Self {
        S3Blobs { client, bucket: bucket.into() }
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| StoreError::backend("invalid presign expiry", e))
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
            .map_err(|e| StoreError::backend(format!("could not write s3://{}/{key}", self.bucket), e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(StoreError::backend(format!("could not read s3://{}/{key}", self.bucket), e)),
        };
        let data = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::backend(format!("could not read s3://{}/{key}", self.bucket), e))?;
        Ok(Some(data.into_bytes().to_vec()))
    }

    async fn presign_put(&self, key: &str, content_type: &str, expires_in: Duration) -> Result<String, StoreError> {
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("could not presign an upload", e))?;
        Ok(req.uri().to_string())
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
}
