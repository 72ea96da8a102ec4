//! What operators read of the provider events a connector received.

use crate::caller::Caller;
use crate::error::DomainError;
use crate::ids::is_valid_id;
use crate::paging::{Page, PageRequest};
use crate::ports::Deps;
use crate::webhook::WebhookEvent;

/// The connector's stored webhook events, newest first. Owners and admins only, like the other
/// operator calls on a connector (processing errors are internals); another org's connector is
/// not found, like every connector route.
pub async fn list_for_connector(
    deps: &Deps,
    caller: &Caller,
    connector_id: &str,
    page: &PageRequest,
) -> Result<Page<WebhookEvent>, DomainError> {
    caller.require_admin()?;
    let not_found = || DomainError::NotFound(format!("connector {connector_id}"));
    if !is_valid_id(connector_id) {
        return Err(not_found());
    }
    let connector = deps
        .connectors
        .get(&caller.org_id, connector_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(deps
        .webhook_events
        .list_for_connector(&connector.id, page)
        .await?)
}
