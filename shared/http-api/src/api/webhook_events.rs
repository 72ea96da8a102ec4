//! `GET /api/connectors/{id}/webhook-events`: the provider events a connector received, for
//! operators.

use recorder_domain::service::webhook_events;
use serde_json::Value;

use super::Call;
use crate::error::ApiError;
use crate::views::{page_view, webhook_event_view};

pub async fn list(c: &Call<'_>) -> Result<Value, ApiError> {
    let page = webhook_events::list_for_connector(c.deps, &c.who, c.id(), &c.page()?).await?;
    Ok(page_view(page, webhook_event_view))
}
