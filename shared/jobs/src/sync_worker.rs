//! The `sync-worker` function: one sync job per SQS message.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use recorder_domain::Deps;
use recorder_domain::jobs::SyncJob;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};

use crate::batch::{parse_body, process_sqs_batch};

/// `deadline`: when the Lambda invocation times out (the engine continues in a follow-up message before it).
pub async fn handle_sync_jobs(
    deps: &Deps,
    event: SqsEvent,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
) -> SqsBatchResponse {
    process_sqs_batch(event, |record| async move {
        let job: SyncJob = parse_body(&record, "sync job")?;
        let outcome = run_sync_job(deps, &job, deadline).await?;
        match &outcome {
            JobOutcome::AlreadyHandled => tracing::info!(sync_log_id = %job.sync_log_id, "duplicate delivery ignored"),
            other => tracing::info!(sync_log_id = %job.sync_log_id, connector_id = %job.connector_id, outcome = ?other, "sync job done"),
        }
        Ok(())
    })
    .await
}
