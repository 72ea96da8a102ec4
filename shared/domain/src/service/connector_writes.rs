//! The writes every service shares: the read-modify-write of a connector and queueing a sync.
//! They live apart from the API operations in `connectors` so that credentials, OAuth, sync,
//! webhooks and the scheduler can use them without depending on `connectors` (which depends on
//! some of them): this module depends on no service module but `activity`.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::activity::ActivityKind;
use crate::connector::{Connector, ConnectorType, name_key};
use crate::error::{DomainError, StoreError};
use crate::ids::new_id;
use crate::jobs::SyncJob;
use crate::ports::Deps;
use crate::service::activity::record;
use crate::sync_log::{SyncLog, SyncStatus, SyncType};

pub(crate) fn name_taken(connector_type: ConnectorType, name: &str) -> DomainError {
    DomainError::Conflict(format!(
        "a {} connector named '{name}' already exists",
        connector_type.as_str()
    ))
}

/// Read, change, write with an optimistic check, retried a few times when another writer got in
/// between. `change` returns the connector as it should be (or an error to stop). None when the
/// connector does not exist.
pub async fn apply<F>(
    deps: &Deps,
    org_id: &str,
    id: &str,
    mut change: F,
) -> Result<Option<Connector>, DomainError>
where
    F: FnMut(&Connector, DateTime<Utc>) -> Result<Connector, DomainError>,
{
    for _ in 0..5 {
        let Some(current) = deps.connectors.get(org_id, id).await? else {
            return Ok(None);
        };
        let mut next = change(&current, deps.clock.now())?;
        if next == current {
            return Ok(Some(current));
        }
        // updated_at is the version: keep it strictly increasing even within one clock tick.
        let now = deps.clock.now();
        next.updated_at = if now > current.updated_at {
            now
        } else {
            current.updated_at + chrono::Duration::microseconds(1)
        };
        match deps.connectors.replace(&current, &next).await {
            Ok(()) => return Ok(Some(next)),
            Err(StoreError::ConditionFailed(_)) => {
                // Either a concurrent write (retry) or a taken name (report it).
                if name_key(&next.name) != name_key(&current.name) {
                    let fresh = deps.connectors.get(org_id, id).await?;
                    if fresh.is_some_and(|f| f.updated_at == current.updated_at) {
                        return Err(name_taken(next.connector_type, &next.name));
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(
        "the connector is being changed by someone else; try again".into(),
    ))
}

/// Writes a queued sync log and sends its job; used by the API, the scheduler and webhooks.
pub async fn queue_sync(
    deps: &Deps,
    connector: &Connector,
    sync_type: SyncType,
    user_id: Option<&str>,
) -> Result<SyncLog, DomainError> {
    let mut log = SyncLog::queued(
        new_id(),
        connector.id.clone(),
        connector.org_id.clone(),
        sync_type,
        deps.clock.now(),
    );
    deps.sync_logs.put(&log).await?;
    let job = SyncJob {
        org_id: connector.org_id.clone(),
        connector_id: connector.id.clone(),
        sync_log_id: log.id.clone(),
        sync_type,
        segment: 0,
    };
    if let Err(e) = deps.queue.send_sync(&job).await {
        // Leave no log that claims a sync is coming when none is.
        log.status = SyncStatus::Failed;
        log.error_message = Some("the sync could not be queued; try again".into());
        log.completed_at = Some(deps.clock.now());
        deps.sync_logs.put(&log).await?;
        return Err(e.into());
    }
    record(
        deps,
        ActivityKind::ConnectorJobScheduled,
        connector,
        user_id,
        json!({"sync_log_id": log.id, "sync_type": sync_type}),
    )
    .await;
    Ok(log)
}
