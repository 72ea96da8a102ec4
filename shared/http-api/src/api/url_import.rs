//! `POST /api/connectors/url-import`: pages or files fetched by a worker.

use recorder_domain::service::url_import;
use serde_json::Value;

use super::Call;
use crate::error::ApiError;
use crate::views::url_import_view;

pub async fn import(c: &Call<'_>) -> Result<Value, ApiError> {
    let docs = url_import::import(c.deps, &c.who, c.body()?).await?;
    Ok(url_import_view(&docs))
}
