//! The sync engine: runs one sync job from the sync-jobs queue.
//!
//! It claims the queued log (a redelivered message does nothing), pulls the connector's source page
//! by page from its checkpoint, upserts each item (new → stored and queued for processing; changed
//! → sync_count+1 and re-processed; unchanged → no work; removed → soft delete), checkpoints the
//! cursor after every page, and near the Lambda time limit hands the rest to a follow-up message.
//! Items that fail are counted on the log (the first few listed with their reason) and kept as
//! retry items: retried with backoff at the start of later syncs, or, when retrying cannot help,
//! left until the file changes. Every loop (retries, pages, items) stops at the time limit.

mod give_up;
mod retries;

pub use give_up::give_up_sync_job;
pub use retries::item_notified;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::activity::ActivityKind;
use crate::connector::{Connector, ConnectorStatus, LastSyncStatus, SyncProgress};
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::error::{DomainError, StoreError};
use crate::ids::new_id;
use crate::jobs::{DocumentJob, SyncJob};
use crate::keys::{ArtifactKind, object_key};
use crate::ports::{Deps, PutStreamError};
use crate::service::activity::record;
use crate::service::connector_writes::apply;
use crate::service::credentials::{self, mark_reconnect_needed};
use crate::service::documents::modify;
use crate::service::quota;
use crate::source::{Change, Meter, Source, SourceContext, SourceError, SourceItem, mime_allowed};
use crate::sync_log::{ItemFailure, SyncCounts, SyncLog, SyncStatus};

/// Stop this long before the deadline and continue in a follow-up message.
const DEADLINE_MARGIN: chrono::Duration = chrono::Duration::seconds(60);
/// Items of one page handled at once.
const ITEM_CONCURRENCY: usize = 8;
/// Retry items read per page.
const RETRY_PAGE: u32 = 50;

/// What happened to a job, for the queue consumer's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Finished(SyncStatus),
    /// Cut off near the time limit; a follow-up message continues from the checkpoint.
    Continued {
        segment: u32,
    },
    /// The log was already finished or moved on: a duplicate delivery.
    AlreadyHandled,
    /// The connector is gone or no longer active; the log says why.
    Skipped(String),
}

/// The engine's checkpoint, stored as the connector's sync cursor: the source's own cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub cursor: Option<String>,
    /// Items to retry, as checkpoints kept them before retry items existed; read once and
    /// turned into retry items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retry: Vec<String>,
}

/// The source's own cursor inside the engine's checkpoint (a push whose subscription starts
/// from the change feed's position reads it here, never the checkpoint's JSON).
pub fn source_cursor(connector: &Connector) -> Option<String> {
    SyncState::parse(connector.sync_cursor.as_deref()).cursor
}

impl SyncState {
    fn parse(raw: Option<&str>) -> SyncState {
        raw.and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default()
    }
    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// How one change ended.
enum ItemResult {
    New,
    Updated,
    Unchanged,
    Deleted,
    Duplicate,
    Filtered,
    Failed(ItemFailure),
    /// Failed for good at this version before: not fetched again until it changes.
    StillFailing,
    /// No time left: handed on to the follow-up job as a retry item.
    Deferred,
}

/// One run of a sync at a time, even when SQS redelivers a message whose worker is slow but alive.
/// Longer than a Lambda can run, so a crashed run's lease is gone before its message returns.
const SYNC_LEASE: std::time::Duration = std::time::Duration::from_secs(16 * 60);

pub async fn run_sync_job(
    deps: &Deps,
    job: &SyncJob,
    deadline: Option<DateTime<Utc>>,
) -> Result<JobOutcome, DomainError> {
    let lease = format!("sync#{}", job.sync_log_id);
    let owner = new_id();
    if !deps.locks.try_lock(&lease, &owner, SYNC_LEASE).await? {
        return Err(DomainError::Conflict(
            "this sync is already running in another worker; SQS will deliver it again later"
                .into(),
        ));
    }
    let result = run_claimed(deps, job, deadline).await;
    if let Ok(JobOutcome::Finished(_) | JobOutcome::Skipped(_) | JobOutcome::AlreadyHandled) =
        &result
    {
        // Hands the webhook sync mark on: released, or turned into the queued follow-up.
        crate::service::webhook_sync::sync_ended(
            deps,
            &job.org_id,
            &job.connector_id,
            &job.sync_log_id,
        )
        .await;
    }
    if let Err(e) = deps.locks.unlock(&lease, &owner).await {
        tracing::warn!(error = %e, "could not release the sync lease; it expires on its own");
    }
    result
}

async fn run_claimed(
    deps: &Deps,
    job: &SyncJob,
    deadline: Option<DateTime<Utc>>,
) -> Result<JobOutcome, DomainError> {
    let Some(mut log) = deps
        .sync_logs
        .get(&job.connector_id, &job.sync_log_id)
        .await?
    else {
        return Err(DomainError::NotFound(format!(
            "sync log {}",
            job.sync_log_id
        )));
    };
    if log.status.is_finished() || log.org_id != job.org_id || job.segment < log.segment {
        return Ok(JobOutcome::AlreadyHandled);
    }
    let connector = match deps.connectors.get(&job.org_id, &job.connector_id).await? {
        Some(c) if c.status == ConnectorStatus::Active => c,
        other => {
            let why = match other {
                Some(c) => format!("the connector is {}; sync skipped", c.status.as_str()),
                None => "the connector no longer exists; sync skipped".to_string(),
            };
            finish(deps, &mut log, SyncStatus::Failed, Some(why.clone())).await?;
            return Ok(JobOutcome::Skipped(why));
        }
    };

    if log.status == SyncStatus::Queued {
        log.status = SyncStatus::Running;
        log.started_at = Some(deps.clock.now());
        log.attempts = 1;
        deps.sync_logs.put(&log).await?;
        record(
            deps,
            ActivityKind::ConnectorSyncStarted,
            &connector,
            None,
            json!({"sync_log_id": log.id, "sync_type": log.sync_type}),
        )
        .await;
    } else {
        // A continuation starts its segment at 0 runs; more than one run of a segment is the
        // job delivered again after a run that failed or crashed.
        log.attempts += 1;
        deps.sync_logs.put(&log).await?;
        if log.attempts > 1 {
            record(
                deps,
                ActivityKind::ConnectorJobRetried,
                &connector,
                None,
                json!({"sync_log_id": log.id, "segment": log.segment, "attempt": log.attempts}),
            )
            .await;
        }
    }
    // Notifications from now on need a follow-up sync: this one may already be past their changes.
    crate::service::webhook_sync::sync_started(deps, &connector, &log).await?;
    set_progress(deps, &connector, &log).await?;

    let Some(source) = deps.providers.source(connector.connector_type) else {
        let outcome = if connector.connector_type.requires_oauth() {
            let why = format!(
                "syncing {} is not available in this version",
                connector.connector_type.builtin_info().name
            );
            (SyncStatus::Failed, Some(why))
        } else {
            // Uploads and URL imports arrive through the API: there is nothing to pull.
            (SyncStatus::Success, None)
        };
        return complete(deps, &connector, &mut log, outcome.0, outcome.1).await;
    };

    let meter = Arc::new(Meter::default());
    let base_calls = log.api_calls_made;
    let base_bytes = log.bytes_transferred;
    let result = pull(
        deps,
        source.as_ref(),
        &connector,
        &mut log,
        &meter,
        deadline,
    )
    .await;
    log.api_calls_made = base_calls + meter.calls();
    log.bytes_transferred = base_bytes + meter.total_bytes();
    match result {
        Ok(PullEnd::Done) => {
            let status = if log.counts.failed == 0 {
                SyncStatus::Success
            } else {
                SyncStatus::Partial
            };
            complete(deps, &connector, &mut log, status, None).await
        }
        Ok(PullEnd::CutOff) => {
            log.segment += 1;
            log.attempts = 0;
            deps.sync_logs.put(&log).await?;
            let next = SyncJob {
                segment: log.segment,
                ..job.clone()
            };
            deps.queue.send_sync(&next).await?;
            tracing::info!(sync_log_id = %log.id, segment = log.segment, "time limit near: continuing in a follow-up message");
            Ok(JobOutcome::Continued {
                segment: log.segment,
            })
        }
        Err(PullError::Revoked(why)) => {
            mark_reconnect_needed(deps, &connector, &why).await;
            complete_without_connector_update(
                deps,
                &connector,
                &mut log,
                format!("reconnect needed: {why}"),
            )
            .await
        }
        Err(PullError::Fatal(why)) => {
            complete(deps, &connector, &mut log, SyncStatus::Failed, Some(why)).await
        }
        Err(PullError::Retry(e)) => {
            // The checkpoint is stored; SQS redelivers the message and the sync resumes there.
            deps.sync_logs.put(&log).await?;
            tracing::warn!(sync_log_id = %log.id, error = %e, "sync interrupted; it resumes from its checkpoint on redelivery");
            Err(e)
        }
    }
}

enum PullEnd {
    Done,
    CutOff,
}

enum PullError {
    Revoked(String),
    Fatal(String),
    Retry(DomainError),
}

impl From<StoreError> for PullError {
    fn from(e: StoreError) -> Self {
        PullError::Retry(e.into())
    }
}

fn source_failure(e: SourceError) -> PullError {
    match e {
        SourceError::AuthRevoked(why) => PullError::Revoked(why),
        SourceError::Config(why) => PullError::Fatal(why),
        other => PullError::Retry(DomainError::Provider(other)),
    }
}

async fn context(
    deps: &Deps,
    connector: &Connector,
    meter: &Arc<Meter>,
    force: bool,
) -> Result<SourceContext, PullError> {
    let token = credentials::access_token(deps, connector, force)
        .await
        .map_err(source_failure)?;
    Ok(SourceContext {
        connector: connector.clone(),
        access_token: token,
        meter: meter.clone(),
    })
}

fn out_of_time(deps: &Deps, deadline: Option<DateTime<Utc>>) -> bool {
    deadline.is_some_and(|d| deps.clock.now() + DEADLINE_MARGIN >= d)
}

async fn pull(
    deps: &Deps,
    source: &dyn Source,
    connector: &Connector,
    log: &mut SyncLog,
    meter: &Arc<Meter>,
    deadline: Option<DateTime<Utc>>,
) -> Result<PullEnd, PullError> {
    let mut cx = context(deps, connector, meter, false).await?;
    let mut state = SyncState::parse(connector.sync_cursor.as_deref());
    if !state.retry.is_empty() {
        retries::adopt_legacy(deps, &connector.id, &state.retry, deps.clock.now()).await?;
        state.retry.clear();
        deps.connectors
            .set_cursor(&connector.org_id, &connector.id, Some(&state.encode()))
            .await?;
    }

    // Items that failed before and are due come first.
    if let PullEnd::CutOff =
        retries::retry_due(deps, source, &mut cx, connector, log, deadline).await?
    {
        return Ok(PullEnd::CutOff);
    }

    loop {
        if out_of_time(deps, deadline) {
            return Ok(PullEnd::CutOff);
        }
        let page = match source.list_changes(&cx, state.cursor.as_deref()).await {
            Err(SourceError::Unauthorized) => {
                cx = context(deps, connector, meter, true).await?;
                source
                    .list_changes(&cx, state.cursor.as_deref())
                    .await
                    .map_err(source_failure)?
            }
            other => other.map_err(source_failure)?,
        };
        log.progress.total = Some(log.progress.total.unwrap_or(0) + page.changes.len() as u64);
        let handed_on = apply_changes(
            deps,
            source,
            &cx,
            connector,
            log,
            page.changes,
            deadline,
            false,
        )
        .await?;
        state.cursor = Some(page.cursor);
        // The checkpoint: a cut-off or crash resumes after this page (the page's items the time
        // limit left are retry items now, taken first by the follow-up job).
        deps.connectors
            .set_cursor(&connector.org_id, &connector.id, Some(&state.encode()))
            .await?;
        deps.sync_logs.put(log).await?;
        if handed_on {
            return Ok(PullEnd::CutOff);
        }
        if !page.has_more {
            return Ok(PullEnd::Done);
        }
    }
}

/// Handles changes `ITEM_CONCURRENCY` at a time; true when the time limit handed some of them on
/// to the follow-up job.
#[allow(clippy::too_many_arguments)]
async fn apply_changes(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    connector: &Connector,
    log: &mut SyncLog,
    changes: Vec<Change>,
    deadline: Option<DateTime<Utc>>,
    retried: bool,
) -> Result<bool, PullError> {
    let results: Vec<Result<ItemResult, StoreError>> = futures::stream::iter(
        changes
            .into_iter()
            .map(|change| handle_change(deps, source, cx, connector, change, deadline, retried)),
    )
    .buffered(ITEM_CONCURRENCY)
    .collect()
    .await;
    let mut handed_on = false;
    for r in results {
        let counts: &mut SyncCounts = &mut log.counts;
        match r? {
            ItemResult::New => counts.synced += 1,
            ItemResult::Updated => counts.updated += 1,
            ItemResult::Deleted => counts.deleted += 1,
            ItemResult::Duplicate => {
                counts.synced += 1;
                counts.skipped_duplicates += 1;
            }
            ItemResult::Unchanged | ItemResult::Filtered | ItemResult::StillFailing => {}
            ItemResult::Failed(failure) => log.record_failure(failure),
            ItemResult::Deferred => {
                // Counted again by the follow-up job that handles it.
                log.progress.total = log.progress.total.map(|t| t.saturating_sub(1));
                handed_on = true;
                continue;
            }
        }
        log.progress.current += 1;
    }
    set_progress(deps, connector, log).await?;
    Ok(handed_on)
}

async fn set_progress(deps: &Deps, connector: &Connector, log: &SyncLog) -> Result<(), StoreError> {
    let progress = SyncProgress {
        sync_log_id: log.id.clone(),
        current: log.progress.current,
        total: log.progress.total,
    };
    deps.connectors
        .set_progress(&connector.org_id, &connector.id, Some(&progress))
        .await
}

async fn handle_change(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    connector: &Connector,
    change: Change,
    deadline: Option<DateTime<Utc>>,
    retried: bool,
) -> Result<ItemResult, StoreError> {
    if out_of_time(deps, deadline) {
        retries::defer(deps, &connector.id, &change).await?;
        return Ok(ItemResult::Deferred);
    }
    let external_id = match &change {
        Change::Upsert(item) => item.external_id.clone(),
        Change::Removed { external_id } => external_id.clone(),
    };
    let result = match change {
        Change::Removed { external_id } => {
            let result = soft_delete(deps, connector, &external_id).await?;
            // Gone at the source: nothing is left to retry, permanent failure or not.
            deps.retries.delete(&connector.id, &external_id).await?;
            result
        }
        Change::Upsert(item) => {
            let allowed_type =
                mime_allowed(&connector.filters.file_types, item.mime_type.as_deref());
            let allowed_folder = connector.filters.folders.is_empty()
                || item
                    .parents
                    .iter()
                    .any(|p| connector.filters.folders.contains(p));
            if !allowed_type || !allowed_folder {
                ItemResult::Filtered
            } else {
                upsert(deps, source, cx, connector, item).await?
            }
        }
    };
    if retried && matches!(result, ItemResult::Unchanged | ItemResult::Filtered) {
        // Nothing to retry any more: already at this version, or filtered out since.
        deps.retries.delete(&connector.id, &external_id).await?;
    }
    Ok(result)
}

async fn soft_delete(
    deps: &Deps,
    connector: &Connector,
    external_id: &str,
) -> Result<ItemResult, StoreError> {
    let Some(found) = deps
        .documents
        .find_by_external_id(&connector.id, external_id)
        .await?
    else {
        return Ok(ItemResult::Unchanged);
    };
    let now = deps.clock.now();
    let mut deleted = false;
    modify(deps.documents.as_ref(), &found.id, |doc| {
        deleted = !doc.is_deleted;
        if deleted {
            doc.is_deleted = true;
            doc.deleted_at = Some(now);
            doc.updated_at = now;
        }
        deleted
    })
    .await?;
    if !deleted {
        return Ok(ItemResult::Unchanged);
    }
    deps.connectors
        .add_documents_count(&connector.org_id, &connector.id, -1)
        .await?;
    Ok(ItemResult::Deleted)
}

async fn upsert(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    connector: &Connector,
    item: SourceItem,
) -> Result<ItemResult, StoreError> {
    let existing = deps
        .documents
        .find_by_external_id(&connector.id, &item.external_id)
        .await?;
    let fingerprint_of = |d: &ImportedDocument| {
        d.source_metadata
            .get("fingerprint")
            .and_then(|f| f.as_str())
            .map(str::to_string)
    };
    if let Some(doc) = &existing
        && !doc.is_deleted
        && fingerprint_of(doc).as_deref() == Some(item.fingerprint.as_str())
    {
        // Stored, but its job may never have been sent (the send failed and the sync job was
        // retried): send it again. The processing lease makes a second job harmless.
        if doc.processing_status == ProcessingStatus::Pending && doc.duplicate_of.is_none() {
            send_job(deps, doc).await?;
        }
        return Ok(ItemResult::Unchanged);
    }
    let prior = deps.retries.get(&connector.id, &item.external_id).await?;
    if retries::failed_for_good(prior.as_ref(), &item.fingerprint) {
        return Ok(ItemResult::StillFailing);
    }
    let result = import(deps, source, cx, connector, &item, existing.as_ref()).await?;
    match &result {
        ItemResult::Failed(failure) => {
            retries::record_failure(deps, &connector.id, prior, failure, Some(&item.fingerprint))
                .await?
        }
        _ if prior.is_some() => {
            deps.retries
                .delete(&connector.id, &item.external_id)
                .await?
        }
        _ => {}
    }
    Ok(result)
}

/// Charges a new document to the monthly quota, then imports it; the charge is taken back when
/// the document does not come in, so an item that fails on every sync is charged once, when it
/// finally imports.
async fn import(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    connector: &Connector,
    item: &SourceItem,
    existing: Option<&ImportedDocument>,
) -> Result<ItemResult, StoreError> {
    let charged = if existing.is_none() {
        match quota::reserve_in_month(deps, &connector.org_id, 1).await {
            Ok(month) => month,
            Err(DomainError::Store(e)) => return Err(e),
            // Retried on a later sync, which may be in the next month.
            Err(e) => return Ok(failure(item, e.to_string(), false)),
        }
    } else {
        None
    };
    let result = store_version(deps, source, cx, connector, item, existing).await;
    // A store error may come after the document was written: the charge stays, as the job's
    // redelivery finds the document and charges nothing.
    if let Some(month) = charged
        && matches!(&result, Ok(r) if !matches!(r, ItemResult::New | ItemResult::Duplicate))
        && let Err(e) = quota::release(deps, &connector.org_id, &month, 1).await
    {
        tracing::warn!(error = %e, external_id = %item.external_id, "could not take back a quota charge");
    }
    result
}

fn failure(item: &SourceItem, reason: String, permanent: bool) -> ItemResult {
    ItemResult::Failed(ItemFailure {
        external_id: item.external_id.clone(),
        name: Some(item.name.clone()),
        reason,
        permanent,
    })
}

/// Downloads `item` and stores it as a new document, or as the next version of `existing`.
async fn store_version(
    deps: &Deps,
    source: &dyn Source,
    cx: &SourceContext,
    connector: &Connector,
    item: &SourceItem,
    existing: Option<&ImportedDocument>,
) -> Result<ItemResult, StoreError> {
    let now = deps.clock.now();
    let id = existing.map(|d| d.id.clone()).unwrap_or_else(new_id);
    let key = object_key(
        &connector.org_id,
        connector.connector_type,
        &connector.id,
        now,
        ArtifactKind::Original,
        &id,
        &item.name,
    );
    // `SourceError::Item` is this item's own fault at this version (too large to export, not
    // downloadable, gone): permanent. Anything else may pass: retried with backoff.
    let content = match source.fetch(cx, item).await {
        Ok(c) => c,
        Err(SourceError::Item(reason)) => return Ok(failure(item, reason, true)),
        Err(e) => return Ok(failure(item, format!("could not download: {e}"), false)),
    };
    let stored = match deps
        .blobs
        .put_stream(&key, &content.content_type, content.stream)
        .await
    {
        Ok(s) => s,
        Err(PutStreamError::Source(e)) => {
            let permanent = matches!(e, SourceError::Item(_));
            return Ok(failure(
                item,
                format!("download failed midway: {e}"),
                permanent,
            ));
        }
        Err(PutStreamError::Store(e)) => return Err(e),
    };
    cx.meter.add_bytes(stored.size);
    let duplicate = deps
        .documents
        .find_completed_by_hash(&connector.org_id, &stored.sha256)
        .await?
        .filter(|d| d.id != id);
    let mut metadata = item.metadata.clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["fingerprint"] = json!(item.fingerprint);
    // The new version, laid over the record as it is when written (the document worker may be
    // finishing the previous version meanwhile).
    let fill = |doc: &mut ImportedDocument| {
        doc.title = item.name.clone();
        doc.external_url = item.external_url.clone();
        doc.parent_external_id = item.parents.first().cloned();
        doc.mime_type = Some(content.content_type.clone());
        doc.size_bytes = Some(stored.size);
        doc.content_hash = Some(stored.sha256.clone());
        doc.source_metadata = metadata.clone();
        doc.original_key = Some(key.clone());
        doc.last_synced_at = now;
        doc.updated_at = now;
        doc.processing_error = None;
        match &duplicate {
            Some(original) => doc.mark_duplicate_of(original),
            None => {
                doc.processing_status = ProcessingStatus::Pending;
                doc.duplicate_of = None;
            }
        }
    };
    let mut was_counted = false;
    let doc = if existing.is_none() {
        let mut doc = ImportedDocument::new_pending(
            id.clone(),
            &connector.org_id,
            Some(&connector.id),
            item.external_id.clone(),
            now,
        );
        fill(&mut doc);
        match deps.documents.create(&doc).await {
            Ok(()) => {}
            // A cancelled transaction may still have been ours (a lost reply, then a retry that
            // met its own write): only a document with another id is a concurrent delivery's.
            Err(StoreError::ConditionFailed(_)) => {
                let there = deps
                    .documents
                    .find_by_external_id(&connector.id, &item.external_id)
                    .await?;
                if there.is_none_or(|d| d.id != doc.id) {
                    return Ok(ItemResult::Unchanged);
                }
            }
            Err(e) => return Err(e),
        }
        doc
    } else {
        let stored = modify(deps.documents.as_ref(), &id, |d| {
            was_counted = !d.is_deleted;
            d.sync_count += 1;
            d.is_deleted = false;
            d.deleted_at = None;
            fill(d);
            true
        })
        .await?;
        match stored {
            Some(d) => d,
            None => return Ok(ItemResult::Unchanged),
        }
    };
    if !was_counted {
        deps.connectors
            .add_documents_count(&connector.org_id, &connector.id, 1)
            .await?;
    }
    if duplicate.is_some() {
        return Ok(ItemResult::Duplicate);
    }
    send_job(deps, &doc).await?;
    Ok(if existing.is_some() {
        ItemResult::Updated
    } else {
        ItemResult::New
    })
}

async fn send_job(deps: &Deps, doc: &ImportedDocument) -> Result<(), StoreError> {
    deps.queue
        .send_document(&DocumentJob {
            org_id: doc.org_id.clone(),
            document_id: doc.id.clone(),
        })
        .await
}

async fn finish(
    deps: &Deps,
    log: &mut SyncLog,
    status: SyncStatus,
    error: Option<String>,
) -> Result<(), DomainError> {
    let now = deps.clock.now();
    log.status = status;
    log.completed_at = Some(now);
    log.duration_ms = log
        .started_at
        .map(|s| (now - s).num_milliseconds().max(0) as u64);
    log.error_message = error;
    if status != SyncStatus::Failed {
        log.progress.total = Some(log.progress.current);
    }
    deps.sync_logs.put(log).await?;
    Ok(())
}

async fn complete(
    deps: &Deps,
    connector: &Connector,
    log: &mut SyncLog,
    status: SyncStatus,
    error: Option<String>,
) -> Result<JobOutcome, DomainError> {
    if status == SyncStatus::Partial && log.error_message.is_none() {
        log.error_message = Some(retries::failures_message(log));
    }
    let message = error.or_else(|| log.error_message.clone());
    finish(deps, log, status, message.clone()).await?;
    deps.connectors
        .set_progress(&connector.org_id, &connector.id, None)
        .await?;
    apply(deps, &connector.org_id, &connector.id, |c, now| {
        let mut next = c.clone();
        next.last_sync_at = Some(now);
        next.last_sync_status = Some(match status {
            SyncStatus::Success => LastSyncStatus::Success,
            SyncStatus::Partial => LastSyncStatus::Partial,
            _ => LastSyncStatus::Failed,
        });
        if status == SyncStatus::Failed {
            next.error_count += 1;
            next.last_error = message.clone();
            next.last_error_at = Some(now);
        } else {
            next.error_count = 0;
        }
        if next.is_scheduled() {
            next.next_sync_at = next.sync_frequency.next_after(now);
        }
        Ok(next)
    })
    .await?;
    let kind = if status == SyncStatus::Failed {
        ActivityKind::ConnectorSyncFailed
    } else {
        ActivityKind::ConnectorSyncCompleted
    };
    record(
        deps,
        kind,
        connector,
        None,
        json!({"sync_log_id": log.id, "status": status, "counts": log.counts, "error": message}),
    )
    .await;
    Ok(JobOutcome::Finished(status))
}

/// A dead grant: the connector was already put in `error`; only the log is closed.
async fn complete_without_connector_update(
    deps: &Deps,
    connector: &Connector,
    log: &mut SyncLog,
    why: String,
) -> Result<JobOutcome, DomainError> {
    finish(deps, log, SyncStatus::Failed, Some(why)).await?;
    deps.connectors
        .set_progress(&connector.org_id, &connector.id, None)
        .await?;
    Ok(JobOutcome::Finished(SyncStatus::Failed))
}
