//! `/api/activity`: the org's connector activity trail.

use recorder_domain::service::activity;
use serde_json::Value;

use super::Call;
use crate::error::ApiError;
use crate::views::{page_view, to_json};

pub async fn list(c: &Call<'_>) -> Result<Value, ApiError> {
    let page = activity::list(c.deps, &c.who, &c.page()?).await?;
    Ok(page_view(page, to_json))
}
