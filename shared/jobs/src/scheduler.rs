//! The `scheduler` function: an EventBridge tick queues a sync for each due connector, and sweeps
//! documents whose processing never finished (requeued once, then failed with the reason).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use recorder_domain::Deps;
use recorder_domain::document::PROCESSING_STALE_AFTER;
use recorder_domain::service::scheduler::{TickReport, tick};
use recorder_processing::sweep::sweep_stale_processing;

use crate::JobError;

pub async fn handle_tick(deps: &Deps, event: EventBridgeEvent) -> Result<TickReport, JobError> {
    // Independent of the syncs: one failing never holds the other back.
    match sweep_stale_processing(deps, PROCESSING_STALE_AFTER).await {
        Ok(s) => {
            tracing::info!(
                requeued = s.requeued.len(),
                failed = s.failed.len(),
                errors = s.errors.len(),
                "stale documents swept"
            );
            for (document_id, error) in &s.errors {
                tracing::error!(%document_id, %error, "could not sweep a stale document");
            }
        }
        Err(error) => tracing::error!(%error, "could not list stale documents"),
    }
    let report = tick(deps).await?;
    tracing::info!(event_id = ?event.id, queued = report.queued.len(), failed = report.failed.len(), "scheduler tick");
    for (connector_id, error) in &report.failed {
        tracing::error!(%connector_id, %error, "could not queue a scheduled sync");
    }
    Ok(report)
}
