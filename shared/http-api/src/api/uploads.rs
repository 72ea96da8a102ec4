//! `/api/connectors/upload[/…]`: presigned uploads, batches and multipart completion.

use recorder_domain::ports::UploadedPart;
use recorder_domain::service::uploads;
use serde_json::Value;

use super::Call;
use crate::error::ApiError;
use crate::views::{batch_view, to_json};

pub async fn request_upload(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(to_json(
        &uploads::request_upload(c.deps, &c.who, c.body()?).await?,
    ))
}

pub async fn request_batch(c: &Call<'_>) -> Result<Value, ApiError> {
    let (batch, files) = uploads::request_batch(c.deps, &c.who, c.body()?).await?;
    Ok(batch_view(&batch, &files))
}

pub async fn batch_status(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(to_json(
        &uploads::batch_status(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn retry_batch(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(to_json(
        &uploads::retry_batch(c.deps, &c.who, c.id()).await?,
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Complete {
    upload_id: String,
    parts: Vec<UploadedPart>,
}

pub async fn complete(c: &Call<'_>) -> Result<Value, ApiError> {
    let body: Complete = c.body()?;
    let doc =
        uploads::complete_upload(c.deps, &c.who, c.id(), &body.upload_id, &body.parts).await?;
    Ok(to_json(&doc))
}
