//! The scheduler's fan-out: one queued sync per due connector.

use crate::error::{DomainError, StoreError};
use crate::ports::Deps;
use crate::service::connector_writes::queue_sync;
use crate::sync_log::SyncType;

/// How many due connectors one tick handles; the rest wait for the next tick.
pub const MAX_PER_TICK: u32 = 500;

/// Channels expiring within this window are renewed now (comfortably more than one tick).
pub const RENEW_WINDOW: chrono::Duration = chrono::Duration::hours(2);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub queued: Vec<String>,
    pub failed: Vec<(String, String)>,
    pub renewed: Vec<String>,
}

/// Queues a scheduled sync for each due connector and moves its next_sync_at forward first, so a
/// second tick (or a retried one) does not queue it again.
pub async fn tick(deps: &Deps) -> Result<TickReport, DomainError> {
    let now = deps.clock.now();
    let mut report = TickReport::default();
    for connector in deps.connectors.list_due(now, MAX_PER_TICK).await? {
        let mut next = connector.clone();
        next.next_sync_at = connector.sync_frequency.next_after(now);
        next.updated_at = if now > connector.updated_at {
            now
        } else {
            connector.updated_at + chrono::Duration::microseconds(1)
        };
        match deps.connectors.replace(&connector, &next).await {
            Ok(()) => {}
            // Someone changed it meanwhile (edited, disabled, or another tick): leave it for the next tick.
            Err(StoreError::ConditionFailed(_)) => continue,
            Err(e) => {
                report.failed.push((connector.id.clone(), e.to_string()));
                continue;
            }
        }
        match queue_sync(deps, &next, SyncType::Scheduled, None).await {
            Ok(_) => report.queued.push(connector.id.clone()),
            Err(e) => report.failed.push((connector.id.clone(), e.to_string())),
        }
    }
    for (id, result) in
        crate::service::subscriptions::renew_expiring(deps, now + RENEW_WINDOW).await?
    {
        match result {
            Ok(()) => report.renewed.push(id),
            Err(e) => report.failed.push((id, format!("channel renewal: {e}"))),
        }
    }
    Ok(report)
}
