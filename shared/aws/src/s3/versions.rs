//! Reads of one version of an object (GetObject with If-Match): the doc-processor reads the
//! original S3 announced, never bytes that replaced it since. A 412 is `ConditionFailed`.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use recorder_domain::StoreError;
use recorder_domain::ports::{RangeRead, VersionRead};

/// S3 names versions with quoted ETags; its notifications leave the quotes out.
pub(super) fn quoted(etag: &str) -> String {
    format!("\"{}\"", etag.trim_matches('"'))
}

fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn changed(bucket: &str, key: &str, etag: Option<&str>) -> StoreError {
    StoreError::ConditionFailed(format!(
        "s3://{bucket}/{key} is no longer version {}",
        etag.unwrap_or("?")
    ))
}

pub(super) async fn get_range(
    client: &Client,
    bucket: &str,
    key: &str,
    start: u64,
    len: u64,
    if_match: Option<&str>,
) -> Result<Option<VersionRead>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        StoreError::backend(format!("could not read s3://{bucket}/{key}"), e)
    };
    if len == 0 {
        return Err(failed("an empty range".into()));
    }
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes={start}-{}", start.saturating_add(len) - 1))
        .set_if_match(if_match.map(quoted))
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) if status(&e) == Some(412) => return Err(changed(bucket, key, if_match)),
        // A start at or past the end (an empty object included): no bytes; the size and the
        // version come from a HEAD held to the same condition.
        Err(e) if status(&e) == Some(416) => {
            let head = client
                .head_object()
                .bucket(bucket)
                .key(key)
                .set_if_match(if_match.map(quoted))
                .send()
                .await;
            return match head {
                Ok(h) => Ok(Some(VersionRead {
                    read: RangeRead {
                        bytes: Vec::new(),
                        total: h.content_length().unwrap_or(0).max(0) as u64,
                    },
                    etag: h.e_tag().unwrap_or_default().to_owned(),
                })),
                Err(e) if status(&e) == Some(412) => Err(changed(bucket, key, if_match)),
                Err(e) if status(&e) == Some(404) => Ok(None),
                Err(e) => Err(failed(Box::new(e))),
            };
        }
        Err(e) => return Err(failed(Box::new(e))),
    };
    let etag = out.e_tag().unwrap_or_default().to_owned();
    // "bytes 0-99/1234"; a server that ignores Range sends the whole object instead.
    let total = out
        .content_range()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|t| t.parse().ok());
    let data = out.body.collect().await.map_err(|e| failed(Box::new(e)))?;
    let mut bytes = data.into_bytes().to_vec();
    let total = match total {
        Some(t) => t,
        None => {
            let whole = bytes.len() as u64;
            let from = (start as usize).min(bytes.len());
            let to = (start.saturating_add(len) as usize).min(bytes.len());
            bytes = bytes[from..to].to_vec();
            whole
        }
    };
    Ok(Some(VersionRead {
        read: RangeRead { bytes, total },
        etag,
    }))
}

pub(super) async fn get(
    client: &Client,
    bucket: &str,
    key: &str,
    etag: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        StoreError::backend(format!("could not read s3://{bucket}/{key}"), e)
    };
    let out = match client
        .get_object()
        .bucket(bucket)
        .key(key)
        .if_match(quoted(etag))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) if status(&e) == Some(412) => return Err(changed(bucket, key, Some(etag))),
        Err(e) => return Err(failed(Box::new(e))),
    };
    // One buffer of the object's size (see `S3Blobs::get`).
    let size = out.content_length().and_then(|n| usize::try_from(n).ok());
    let mut data = Vec::with_capacity(size.unwrap_or(0).min(super::MAX_PREALLOCATED));
    let mut body = out.body;
    while let Some(part) = body.try_next().await.map_err(|e| failed(Box::new(e)))? {
        data.extend_from_slice(&part);
    }
    Ok(Some(data))
}
