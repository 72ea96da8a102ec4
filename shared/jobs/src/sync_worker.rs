//! The `sync-worker` function: one sync job per SQS message.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use recorder_domain::Deps;
use recorder_domain::jobs::SyncJob;
use recorder_domain::service::sync::{JobOutcome, give_up_sync_job, run_sync_job};

use crate::batch::{parse_body, process_sqs_batch};

/// `SyncJobsQueue`'s `maxReceiveCount` in template.yaml: after this receive SQS dead-letters a
/// job, so a failure on it closes the sync log rather than leaving it `running`.
pub const MAX_RECEIVES: u32 = 5;

/// `deadline`: when the Lambda invocation times out (the engine continues in a follow-up message before it).
pub async fn handle_sync_jobs(
    deps: &Deps,
    event: SqsEvent,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
) -> SqsBatchResponse {
    process_sqs_batch(event, |record| async move {
        let job: SyncJob = parse_body(&record, "sync job")?;
        let outcome = match run_sync_job(deps, &job, deadline).await {
            Ok(outcome) => outcome,
            Err(e) if receive_count(&record) >= MAX_RECEIVES => {
                let why = format!(
                    "the sync failed {MAX_RECEIVES} times and was given up; the last error: {e}. \
                     The next sync resumes where it stopped."
                );
                give_up_sync_job(deps, &job, why).await?;
                tracing::warn!(sync_log_id = %job.sync_log_id, "last receive failed; sync log closed as failed");
                // Still dead-lettered, for the record.
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        match &outcome {
            JobOutcome::AlreadyHandled => tracing::info!(sync_log_id = %job.sync_log_id, "duplicate delivery ignored"),
            other => tracing::info!(sync_log_id = %job.sync_log_id, connector_id = %job.connector_id, outcome = ?other, "sync job done"),
        }
        Ok(())
    })
    .await
}

/// SQS's `ApproximateReceiveCount` (1 on the first delivery).
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}
