//! Running a sync job taken from the sync-jobs queue.
//!
//! This is the frame every connector's sync runs in: it claims the queued log (so a redelivered
//! message does nothing), reports progress, and records the outcome on the log, the connector and
//! the activity trail. Pulling from a provider plugs in through [`SourcePuller`].

use async_trait::async_trait;
use chrono::Utc;
use serde_json::json;

use crate::activity::ActivityKind;
use crate::connector::{Connector, ConnectorStatus, ConnectorType, LastSyncStatus, SyncProgress};
use crate::error::DomainError;
use crate::jobs::SyncJob;
use crate::ports::Deps;
use crate::service::activity::record;
use crate::sync_log::{ItemFailure, SyncCounts, SyncLog, SyncStatus};

/// What pulling from a source produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullOutcome {
    pub counts: SyncCounts,
    pub failures: Vec<ItemFailure>,
    pub api_calls: u64,
    pub bytes: u64,
}

/// Pulls a connector's changes from its source. Implementations live with the connectors.
#[async_trait]
pub trait SourcePuller: Send + Sync {
    async fn pull(&self, deps: &Deps, connector: &Connector, log: &SyncLog) -> Result<PullOutcome, DomainError>;
}

/// The puller for sources with nothing to pull: uploads and URL imports arrive through the API,
/// so their sync only confirms the connector is healthy.
pub struct NothingToPull;

#[async_trait]
impl SourcePuller for NothingToPull {
    async fn pull(&self, _: &Deps, _: &Connector, _: &SyncLog) -> Result<PullOutcome, DomainError> {
        Ok(PullOutcome::default())
    }
}

/// Chooses the puller for a connector type; None when this build has no implementation yet.
pub trait PullerRegistry: Send + Sync {
    fn puller(&self, connector_type: ConnectorType) -> Option<&dyn SourcePuller>;
}

/// The registry of this build: only the sources with nothing to pull.
pub struct BuiltinPullers;

impl PullerRegistry for BuiltinPullers {
    fn puller(&self, connector_type: ConnectorType) -> Option<&dyn SourcePuller> {
        match connector_type {
            ConnectorType::FileUpload | ConnectorType::UrlImport => Some(&NothingToPull),
            _ => None,
        }
    }
}

/// What happened to a job, for the queue consumer's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Finished(SyncStatus),
    /// The log was already claimed or finished: a duplicate delivery.
    AlreadyHandled,
    /// The connector is gone or no longer active; the log says why.
    Skipped(String),
}

pub async fn run_sync_job(deps: &Deps, registry: &dyn PullerRegistry, job: &SyncJob) -> Result<JobOutcome, DomainError> {
    let Some(mut log) = deps.sync_logs.get(&job.connector_id, &job.sync_log_id).await? else {
        return Err(DomainError::NotFound(format!("sync log {}", job.sync_log_id)));
    };
    if log.status != SyncStatus::Queued || log.org_id != job.org_id {
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

    let started = deps.clock.now();
    log.status = SyncStatus::Running;
    log.started_at = Some(started);
    deps.sync_logs.put(&log).await?;
    let progress = SyncProgress { sync_log_id: log.id.clone(), current: 0, total: None };
    deps.connectors.set_progress(&connector.org_id, &connector.id, Some(&progress)).await?;
    record(deps, ActivityKind::ConnectorSyncStarted, &connector, None, json!({"sync_log_id": log.id, "sync_type": log.sync_type})).await;

    let result = match registry.puller(connector.connector_type) {
        Some(puller) => puller.pull(deps, &connector, &log).await,
        None => Err(DomainError::Unsupported(format!(
            "syncing {} is not available in this version",
            connector.connector_type.info().name
        ))),
    };
    let (status, error) = match result {
        Ok(outcome) => {
            let status = if outcome.failures.is_empty() { SyncStatus::Success } else { SyncStatus::Partial };
            log.counts = outcome.counts;
            log.error_details = outcome.failures;
            log.api_calls_made = outcome.api_calls;
            log.bytes_transferred = outcome.bytes;
            (status, None)
        }
        Err(DomainError::Store(e)) => {
            // Storage trouble is transient: put the log back so the redelivered message retries it.
            tracing::warn!(error = %e, sync_log_id = %log.id, "sync interrupted by a storage failure; will retry");
            log.status = SyncStatus::Queued;
            log.started_at = None;
            deps.sync_logs.put(&log).await?;
            deps.connectors.set_progress(&connector.org_id, &connector.id, None).await?;
            return Err(DomainError::Store(e));
        }
        Err(e) => (SyncStatus::Failed, Some(e.to_string())),
    };
    finish(deps, &mut log, status, error.clone()).await?;
    deps.connectors.set_progress(&connector.org_id, &connector.id, None).await?;
    update_connector_after_sync(deps, &connector, status, error.as_deref()).await?;
    let kind = if status == SyncStatus::Failed { ActivityKind::ConnectorSyncFailed } else { ActivityKind::ConnectorSyncCompleted };
    record(deps, kind, &connector, None, json!({"sync_log_id": log.id, "status": status, "error": error})).await;
    Ok(JobOutcome::Finished(status))
}

async fn finish(deps: &Deps, log: &mut SyncLog, status: SyncStatus, error: Option<String>) -> Result<(), DomainError> {
    let now = deps.clock.now();
    log.status = status;
    log.completed_at = Some(now);
    log.duration_ms = log.started_at.map(|s| (now - s).num_milliseconds().max(0) as u64);
    log.error_message = error;
    if let Some(total) = log.progress.total {
        log.progress.current = total;
    }
    deps.sync_logs.put(log).await?;
    Ok(())
}

async fn update_connector_after_sync(deps: &Deps, connector: &Connector, status: SyncStatus, error: Option<&str>) -> Result<(), DomainError> {
    for _ in 0..3 {
        let Some(current) = deps.connectors.get(&connector.org_id, &connector.id).await? else { return Ok(()) };
        let now = deps.clock.now();
        let mut next = current.clone();
        next.last_sync_at = Some(now);
        next.last_sync_status = Some(match status {
            SyncStatus::Success => LastSyncStatus::Success,
            SyncStatus::Partial => LastSyncStatus::Partial,
            _ => LastSyncStatus::Failed,
        });
        if let Some(e) = error {
            next.error_count += 1;
            next.last_error = Some(e.to_string());
            next.last_error_at = Some(now);
        } else {
            next.error_count = 0;
        }
        if next.is_scheduled() {
            next.next_sync_at = next.sync_frequency.next_after(now);
        }
        next.updated_at = if now > current.updated_at { now } else { current.updated_at + chrono::Duration::microseconds(1) };
        match deps.connectors.replace(&current, &next).await {
            Ok(()) => return Ok(()),
            Err(crate::StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    tracing::warn!(connector_id = %connector.id, at = %Utc::now(), "could not record the sync result on the connector after 3 tries");
    Ok(())
}
