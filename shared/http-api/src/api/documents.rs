//! Imported documents: a connector's list, one document, its artifacts' download URLs.

use recorder_domain::service::connectors;

use super::Call;
use crate::error::ApiError;
use crate::views::{download_view, page_view, to_json};
use serde_json::Value;

pub async fn list_for_connector(c: &Call<'_>) -> Result<Value, ApiError> {
    let page = connectors::list_documents(c.deps, &c.who, c.id(), &c.page()?).await?;
    Ok(page_view(page, to_json))
}

pub async fn get(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(to_json(
        &connectors::get_document(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn download(c: &Call<'_>) -> Result<Value, ApiError> {
    let artifact = c.param("artifact");
    let (url, ttl) = connectors::artifact_url(c.deps, &c.who, c.id(), artifact).await?;
    Ok(download_view(c.id(), artifact, &url, ttl))
}
