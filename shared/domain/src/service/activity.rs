//! Recording and listing the `connector_*` activity trail.

use serde_json::Value;

use crate::activity::{ActivityEvent, ActivityKind};
use crate::caller::Caller;
use crate::connector::Connector;
use crate::error::DomainError;
use crate::ids::new_id;
use crate::paging::{Page, PageRequest};
use crate::ports::Deps;

/// Appends an activity event. A failure here is logged, not returned: the audit trail must not
/// undo the operation it describes.
pub async fn record(
    deps: &Deps,
    kind: ActivityKind,
    connector: &Connector,
    user_id: Option<&str>,
    context: Value,
) {
    let event = ActivityEvent {
        id: new_id(),
        org_id: connector.org_id.clone(),
        kind,
        connector_id: Some(connector.id.clone()),
        connector_type: Some(connector.connector_type.as_str().to_string()),
        user_id: user_id.map(str::to_string),
        context,
        created_at: deps.clock.now(),
    };
    if let Err(error) = deps.activity.append(&event).await {
        tracing::error!(?kind, connector_id = %connector.id, error = %error, "could not record activity event");
    }
}

pub async fn list(
    deps: &Deps,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<ActivityEvent>, DomainError> {
    Ok(deps.activity.list(&caller.org_id, page).await?)
}

/// An activity event about a connector that does not exist (yet): OAuth starts and failures.
pub async fn record_for_org(
    deps: &Deps,
    org_id: &str,
    kind: ActivityKind,
    connector_type: &str,
    user_id: Option<&str>,
    context: Value,
) {
    let event = ActivityEvent {
        id: new_id(),
        org_id: org_id.to_string(),
        kind,
        connector_id: None,
        connector_type: Some(connector_type.to_string()),
        user_id: user_id.map(str::to_string),
        context,
        created_at: deps.clock.now(),
    };
    if let Err(error) = deps.activity.append(&event).await {
        tracing::error!(?kind, error = %error, "could not record activity event");
    }
}
