//! What the sync engine keeps about items it could not import: one retry item each, retried with
//! backoff when the failure may pass, left alone until the file changes when it cannot; and the
//! retry pass that starts every sync.

use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;

use super::{
    ITEM_CONCURRENCY, PullEnd, PullError, RETRY_PAGE, apply_changes, context, out_of_time,
    source_failure,
};
use crate::connector::Connector;
use crate::error::StoreError;
use crate::paging::PageRequest;
use crate::ports::Deps;
use crate::source::{Change, Source, SourceContext, SourceError, SourceItem};
use crate::sync_log::{ItemFailure, RetryItem, SyncLog, bounded};

/// The first retry waits this long; each further failure doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::minutes(5);
const MAX_BACKOFF: Duration = Duration::hours(24);
const MAX_STORED_REASON_BYTES: usize = 1000;

/// The wait after the `attempts`-th failure.
pub(super) fn backoff(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_BACKOFF * 2i32.pow(doublings)).min(MAX_BACKOFF)
}

/// True when `prior` failed permanently at this very version: fetching it again cannot help.
pub(super) fn failed_for_good(prior: Option<&RetryItem>, fingerprint: &str) -> bool {
    prior.is_some_and(|p| p.permanent && p.fingerprint.as_deref() == Some(fingerprint))
}

/// Records one more failed attempt of an item.
pub(super) async fn record_failure(
    deps: &Deps,
    connector_id: &str,
    prior: Option<RetryItem>,
    failure: &ItemFailure,
    fingerprint: Option<&str>,
) -> Result<(), StoreError> {
    let now = deps.clock.now();
    let attempts = prior.as_ref().map_or(0, |p| p.attempts) + 1;
    let item = RetryItem {
        connector_id: connector_id.to_string(),
        external_id: failure.external_id.clone(),
        name: failure
            .name
            .clone()
            .or_else(|| prior.as_ref().and_then(|p| p.name.clone())),
        attempts,
        next_attempt_at: now + backoff(attempts),
        last_reason: bounded(&failure.reason, MAX_STORED_REASON_BYTES),
        fingerprint: fingerprint
            .map(str::to_string)
            .or_else(|| prior.and_then(|p| p.fingerprint)),
        permanent: failure.permanent,
        updated_at: now,
    };
    deps.retries.put(&item).await
}

/// Hands a change the time limit left no room for to the follow-up job: a retry item due now
/// (its earlier failures kept), which the follow-up takes first.
pub(super) async fn defer(
    deps: &Deps,
    connector_id: &str,
    change: &Change,
) -> Result<(), StoreError> {
    due_now(
        deps,
        connector_id,
        change,
        "handed on to the follow-up job at the time limit",
    )
    .await
}

/// A provider pushed an event about one item: the next sync fetches it first, before the change
/// feed (a retry item due now, its earlier failures kept).
pub async fn item_notified(
    deps: &Deps,
    connector_id: &str,
    external_id: &str,
) -> Result<(), StoreError> {
    let change = Change::Removed {
        external_id: external_id.to_string(),
    };
    due_now(deps, connector_id, &change, "notified by the provider").await
}

async fn due_now(
    deps: &Deps,
    connector_id: &str,
    change: &Change,
    reason: &str,
) -> Result<(), StoreError> {
    let (external_id, fingerprint) = match change {
        Change::Upsert(item) => (&item.external_id, Some(item.fingerprint.as_str())),
        Change::Removed { external_id } => (external_id, None),
    };
    let prior = deps.retries.get(connector_id, external_id).await?;
    if let Some(f) = fingerprint
        && failed_for_good(prior.as_ref(), f)
    {
        return Ok(());
    }
    let now = deps.clock.now();
    let item = match prior {
        Some(p) => RetryItem {
            next_attempt_at: now,
            permanent: false,
            updated_at: now,
            ..p
        },
        None => RetryItem {
            connector_id: connector_id.to_string(),
            external_id: external_id.clone(),
            name: match change {
                Change::Upsert(item) => Some(item.name.clone()),
                Change::Removed { .. } => None,
            },
            attempts: 0,
            next_attempt_at: now,
            last_reason: reason.into(),
            fingerprint: fingerprint.map(str::to_string),
            permanent: false,
            updated_at: now,
        },
    };
    deps.retries.put(&item).await
}

/// Checkpoints from before retry items carried the ids to retry inline: each becomes a retry
/// item due now.
pub(super) async fn adopt_legacy(
    deps: &Deps,
    connector_id: &str,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for id in ids {
        if deps.retries.get(connector_id, id).await?.is_some() {
            continue;
        }
        let item = RetryItem {
            connector_id: connector_id.to_string(),
            external_id: id.clone(),
            name: None,
            attempts: 1,
            next_attempt_at: now,
            last_reason: "failed in an earlier sync".into(),
            fingerprint: None,
            permanent: false,
            updated_at: now,
        };
        deps.retries.put(&item).await?;
    }
    Ok(())
}

/// The log's closing message for a sync with failed items: the count, where the first ones are
/// listed, and what happens to them next.
pub(super) fn failures_message(log: &SyncLog) -> String {
    let failed = log.counts.failed;
    let listed = log.error_details.len();
    let where_listed = if failed as usize > listed {
        format!("the first {listed} are listed in error_details")
    } else {
        "see error_details".to_string()
    };
    format!(
        "{failed} item(s) failed; {where_listed}. Items that cannot be imported as they are \
         (too large to export, not downloadable, gone) are tried again when they change; the \
         others are retried with backoff on later syncs."
    )
}

/// The retry items due now, page by page. Each item handled ends deleted (imported, gone,
/// filtered out, already current) or rescheduled, so whatever the time limit leaves is still due
/// for the follow-up job.
pub(super) async fn retry_due(
    deps: &Deps,
    source: &dyn Source,
    cx: &mut SourceContext,
    connector: &Connector,
    log: &mut SyncLog,
    deadline: Option<DateTime<Utc>>,
) -> Result<PullEnd, PullError> {
    let now = deps.clock.now();
    let mut cursor = None;
    loop {
        if out_of_time(deps, deadline) {
            return Ok(PullEnd::CutOff);
        }
        let page = deps
            .retries
            .list_due(
                &connector.id,
                now,
                &PageRequest::new(Some(RETRY_PAGE), cursor),
            )
            .await?;
        if page.items.is_empty() {
            match page.next_cursor {
                Some(next) => {
                    cursor = Some(next);
                    continue;
                }
                None => return Ok(PullEnd::Done),
            }
        }
        let mut looked = look_up(deps, source, cx, page.items, deadline).await;
        if looked
            .iter()
            .any(|(_, got)| matches!(got, Some(Err(SourceError::Unauthorized))))
        {
            *cx = context(deps, connector, &cx.meter, true).await?;
            for (retry, got) in &mut looked {
                if matches!(got, Some(Err(SourceError::Unauthorized))) {
                    *got = Some(source.get_item(cx, &retry.external_id).await);
                }
            }
        }
        let mut changes = Vec::new();
        let mut out_of_time_midway = false;
        for (retry, got) in looked {
            let (reason, permanent) = match got {
                None => {
                    out_of_time_midway = true;
                    continue;
                }
                Some(Ok(Some(item))) => {
                    changes.push(Change::Upsert(item));
                    continue;
                }
                Some(Ok(None)) => {
                    changes.push(Change::Removed {
                        external_id: retry.external_id,
                    });
                    continue;
                }
                Some(Err(SourceError::Item(reason))) => (reason, true),
                Some(Err(e)) if e.is_transient() => (e.to_string(), false),
                Some(Err(e)) => return Err(source_failure(e)),
            };
            let failure = ItemFailure {
                external_id: retry.external_id.clone(),
                name: retry.name.clone(),
                reason,
                permanent,
            };
            record_failure(deps, &connector.id, Some(retry), &failure, None).await?;
            log.record_failure(failure);
            log.progress.current += 1;
            log.progress.total = Some(log.progress.total.unwrap_or(0) + 1);
        }
        log.progress.total = Some(log.progress.total.unwrap_or(0) + changes.len() as u64);
        let handed_on =
            apply_changes(deps, source, cx, connector, log, changes, deadline, true).await?;
        deps.sync_logs.put(log).await?;
        if handed_on || out_of_time_midway {
            return Ok(PullEnd::CutOff);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(PullEnd::Done),
        }
    }
}

/// Each retry item as the source has it now; None for those the time limit left unread.
async fn look_up(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    items: Vec<RetryItem>,
    deadline: Option<DateTime<Utc>>,
) -> Vec<(RetryItem, Option<Result<Option<SourceItem>, SourceError>>)> {
    futures::stream::iter(items.into_iter().map(|retry| async move {
        if out_of_time(deps, deadline) {
            return (retry, None);
        }
        let got = source.get_item(cx, &retry.external_id).await;
        (retry, Some(got))
    }))
    .buffered(ITEM_CONCURRENCY)
    .collect()
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_minutes_up_to_a_day() {
        assert_eq!(backoff(1), Duration::minutes(5));
        assert_eq!(backoff(2), Duration::minutes(10));
        assert_eq!(backoff(4), Duration::minutes(40));
        assert_eq!(backoff(9), Duration::hours(21) + Duration::minutes(20));
        assert_eq!(backoff(10), Duration::hours(24));
        assert_eq!(backoff(u32::MAX), Duration::hours(24));
    }
}
