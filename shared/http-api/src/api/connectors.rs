//! `/api/connectors` and `/api/connectors/{id}[/…]`: the connectors themselves and their syncs.

use recorder_domain::service::connectors;
use serde_json::{Value, json};

use super::Call;
use crate::error::ApiError;
use crate::views::{connector_view, page_view, sync_queued_view, to_json};

pub fn list_types(c: &Call<'_>) -> Value {
    json!({"types": connectors::list_types(c.deps.providers.as_ref())})
}

pub async fn list(c: &Call<'_>) -> Result<Value, ApiError> {
    let page = connectors::list(c.deps, &c.who, &c.page()?).await?;
    Ok(page_view(page, connector_view))
}

pub async fn create(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::create(c.deps, &c.who, c.body()?).await?,
    ))
}

pub async fn get(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::get(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn update(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::update(c.deps, &c.who, c.id(), c.body()?).await?,
    ))
}

pub async fn disconnect(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::disconnect(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn disable(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::disable(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn enable(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(connector_view(
        &connectors::enable(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn request_sync(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(sync_queued_view(
        &connectors::request_sync(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn test_connection(c: &Call<'_>) -> Result<Value, ApiError> {
    Ok(to_json(
        &connectors::test_connection(c.deps, &c.who, c.id()).await?,
    ))
}

pub async fn list_sync_logs(c: &Call<'_>) -> Result<Value, ApiError> {
    let page = connectors::list_sync_logs(c.deps, &c.who, c.id(), &c.page()?).await?;
    Ok(page_view(page, to_json))
}
