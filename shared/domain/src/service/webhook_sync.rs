//! One notification-triggered sync per connector at a time, and at most one follow-up after it.
//!
//! A notification while a sync is queued is folded into it (that sync has not read yet). While a
//! sync runs it may already be past the notified change, so the notification marks a follow-up,
//! queued by the running sync when it ends: a burst gives at most the sync now and one after it,
//! and nothing notified is left unread. Consecutive webhook syncs of a connector start reading at
//! least `SPACING` apart (the later one waits, still queued, so notifications keep folding into
//! it): a burst shorter than that is read at most twice even when each sync is quick. The mark is
//! changed by compare-and-set on its revision; a mark untouched for longer than a Lambda can run
//! belongs to a lost job and is taken over.

use chrono::{DateTime, Utc};

use crate::connector::{Connector, ConnectorStatus};
use crate::error::DomainError;
use crate::ports::Deps;
use crate::service::connector_writes::queue_sync;
use crate::sync_log::{SyncLog, SyncType};
use crate::webhook::{WebhookSync, WebhookSyncPhase};

/// What a delivered event led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// An incremental sync was queued.
    SyncQueued,
    /// A sync is already queued: this notification is folded into it.
    Coalesced,
    /// A sync is running: one follow-up sync runs when it ends.
    FollowUp,
    /// The subscription was opened again.
    Renewed,
    /// A channel's opening message, a replay, a connector that is not active, and the like.
    Ignored(String),
}

/// Longer than one sync segment can run (a Lambda runs at most 15 minutes).
const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(20);
/// Compare-and-set attempts before giving up (the provider retries the delivery).
const ATTEMPTS: usize = 8;
/// Least time between the starts of two webhook syncs of a connector. The sync-jobs queue is
/// FIFO per connector (no per-message delay), so the later sync waits at its start.
pub const SPACING: chrono::Duration = chrono::Duration::seconds(2);

fn mark(
    read: &WebhookSync,
    phase: WebhookSyncPhase,
    sync_log_id: Option<String>,
    since: DateTime<Utc>,
) -> WebhookSync {
    WebhookSync {
        phase,
        sync_log_id,
        since: Some(since),
        last_started: read.last_started,
        rev: read.rev + 1,
    }
}

fn is_live(m: &WebhookSync, now: DateTime<Utc>) -> bool {
    m.since.is_some_and(|s| now - s < STALE_AFTER)
}

async fn swap(
    deps: &Deps,
    c: &Connector,
    read: &WebhookSync,
    next: &WebhookSync,
) -> Result<bool, DomainError> {
    Ok(deps
        .connectors
        .swap_webhook_sync(&c.org_id, &c.id, read.rev, next)
        .await?)
}

/// A verified notification for an active connector: queue a sync, or fold it into one.
pub async fn notified(deps: &Deps, c: &Connector) -> Result<NotificationOutcome, DomainError> {
    for _ in 0..ATTEMPTS {
        let read = deps.connectors.webhook_sync(&c.org_id, &c.id).await?;
        let now = deps.clock.now();
        let live = is_live(&read, now);
        match read.phase {
            WebhookSyncPhase::Queued if live => return Ok(NotificationOutcome::Coalesced),
            WebhookSyncPhase::FollowUpDue if live => return Ok(NotificationOutcome::FollowUp),
            WebhookSyncPhase::Running if live => {
                // Keep `since`: it dates the running segment, not this notification.
                let next = WebhookSync {
                    phase: WebhookSyncPhase::FollowUpDue,
                    rev: read.rev + 1,
                    ..read.clone()
                };
                if swap(deps, c, &read, &next).await? {
                    return Ok(NotificationOutcome::FollowUp);
                }
            }
            _ => {
                let queued = mark(&read, WebhookSyncPhase::Queued, None, now);
                if swap(deps, c, &read, &queued).await? {
                    queue_or_release(deps, c, &queued).await?;
                    return Ok(NotificationOutcome::SyncQueued);
                }
            }
        }
    }
    Err(DomainError::Conflict(
        "notifications raced each other; deliver again".into(),
    ))
}

/// Queues the sync the mark `queued` promises; when that fails, the mark is released so the
/// provider's retry (or the next notification) queues it, instead of being folded into nothing.
async fn queue_or_release(
    deps: &Deps,
    c: &Connector,
    queued: &WebhookSync,
) -> Result<(), DomainError> {
    let Err(e) = queue_sync(deps, c, SyncType::Webhook, None).await else {
        return Ok(());
    };
    let idle = mark(queued, WebhookSyncPhase::Idle, None, deps.clock.now());
    if let Err(release) = swap(deps, c, queued, &idle).await {
        // The mark goes stale on its own: later notifications take it over then.
        tracing::warn!(connector_id = %c.id, error = %release, "could not release the webhook sync mark");
    }
    Err(e)
}

/// A segment of a sync starts (before it reads): a queued webhook sync becomes the running one;
/// the running one dates its new segment. Other syncs leave the mark alone.
pub async fn sync_started(deps: &Deps, c: &Connector, log: &SyncLog) -> Result<(), DomainError> {
    if log.sync_type != SyncType::Webhook {
        return Ok(());
    }
    let mut waited = false;
    for _ in 0..ATTEMPTS {
        let read = deps.connectors.webhook_sync(&c.org_id, &c.id).await?;
        let now = deps.clock.now();
        let mine = read.sync_log_id.as_deref() == Some(log.id.as_str());
        let take_over = match read.phase {
            WebhookSyncPhase::Queued => true,
            WebhookSyncPhase::Running | WebhookSyncPhase::FollowUpDue => {
                !mine && !is_live(&read, now)
            }
            WebhookSyncPhase::Idle => false,
        };
        if take_over && !waited {
            waited = true;
            let ready = read.last_started.map(|at| at + SPACING);
            if let Some(wait) = ready.and_then(|r| (r - now).to_std().ok()) {
                // Still queued while waiting: notifications meanwhile fold into this sync.
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        let next = match read.phase {
            WebhookSyncPhase::Running | WebhookSyncPhase::FollowUpDue if mine => WebhookSync {
                since: Some(now),
                rev: read.rev + 1,
                ..read.clone()
            },
            _ if take_over => WebhookSync {
                last_started: Some(now),
                ..mark(&read, WebhookSyncPhase::Running, Some(log.id.clone()), now)
            },
            // Idle, or another live sync owns the mark: this one runs untracked.
            _ => return Ok(()),
        };
        if swap(deps, c, &read, &next).await? {
            return Ok(());
        }
    }
    Err(DomainError::Conflict(
        "the webhook sync mark kept changing; the job runs again".into(),
    ))
}

/// The sync `sync_log_id` ended (or was found already ended): it releases the mark, or turns it
/// into the queued follow-up. Never fails the job: the worst case is a mark that goes stale.
pub async fn sync_ended(deps: &Deps, org_id: &str, connector_id: &str, sync_log_id: &str) {
    if let Err(e) = end(deps, org_id, connector_id, sync_log_id).await {
        tracing::warn!(%connector_id, %sync_log_id, error = %e, "could not hand on the webhook sync mark; it goes stale on its own");
    }
}

async fn end(
    deps: &Deps,
    org_id: &str,
    connector_id: &str,
    sync_log_id: &str,
) -> Result<(), DomainError> {
    for _ in 0..ATTEMPTS {
        let Some(c) = deps.connectors.get(org_id, connector_id).await? else {
            return Ok(());
        };
        let read = deps.connectors.webhook_sync(org_id, connector_id).await?;
        if read.sync_log_id.as_deref() != Some(sync_log_id) {
            return Ok(());
        }
        let now = deps.clock.now();
        let next = match read.phase {
            WebhookSyncPhase::FollowUpDue if c.status == ConnectorStatus::Active => {
                mark(&read, WebhookSyncPhase::Queued, None, now)
            }
            WebhookSyncPhase::Running | WebhookSyncPhase::FollowUpDue => {
                mark(&read, WebhookSyncPhase::Idle, None, now)
            }
            _ => return Ok(()),
        };
        if swap(deps, &c, &read, &next).await? {
            if next.phase == WebhookSyncPhase::Queued {
                queue_or_release(deps, &c, &next).await?;
            }
            return Ok(());
        }
    }
    Err(DomainError::Conflict(
        "the webhook sync mark kept changing".into(),
    ))
}
