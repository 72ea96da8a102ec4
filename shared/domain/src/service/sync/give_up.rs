//! A sync job SQS is about to dead-letter: its log is closed instead of staying `running`.

use super::{SYNC_LEASE, complete, finish};
use crate::error::DomainError;
use crate::ids::new_id;
use crate::jobs::SyncJob;
use crate::ports::Deps;
use crate::sync_log::SyncStatus;

/// The job's last delivery failed and SQS dead-letters it next: the log is closed `failed` with
/// the reason instead of staying `running`, and the next sync resumes from the checkpoint. Left
/// alone while another worker still runs it (it holds the lease) or when already finished.
pub async fn give_up_sync_job(deps: &Deps, job: &SyncJob, why: String) -> Result<(), DomainError> {
    let lease = format!("sync#{}", job.sync_log_id);
    let owner = new_id();
    if !deps.locks.try_lock(&lease, &owner, SYNC_LEASE).await? {
        return Ok(());
    }
    let result = close_abandoned(deps, job, why).await;
    if let Err(e) = deps.locks.unlock(&lease, &owner).await {
        tracing::warn!(error = %e, "could not release the sync lease; it expires on its own");
    }
    result
}

async fn close_abandoned(deps: &Deps, job: &SyncJob, why: String) -> Result<(), DomainError> {
    let Some(mut log) = deps
        .sync_logs
        .get(&job.connector_id, &job.sync_log_id)
        .await?
    else {
        return Ok(());
    };
    if log.status.is_finished() || log.org_id != job.org_id || job.segment < log.segment {
        return Ok(());
    }
    match deps.connectors.get(&job.org_id, &job.connector_id).await? {
        Some(connector) => {
            complete(deps, &connector, &mut log, SyncStatus::Failed, Some(why)).await?;
        }
        None => finish(deps, &mut log, SyncStatus::Failed, Some(why)).await?,
    }
    crate::service::webhook_sync::sync_ended(
        deps,
        &job.org_id,
        &job.connector_id,
        &job.sync_log_id,
    )
    .await;
    Ok(())
}
