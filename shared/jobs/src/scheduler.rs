//! The `scheduler` function: an EventBridge tick queues a sync for each due connector.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use recorder_domain::Deps;
use recorder_domain::service::scheduler::{TickReport, tick};

use crate::JobError;

pub async fn handle_tick(deps: &Deps, event: EventBridgeEvent) -> Result<TickReport, JobError> {
    let report = tick(deps).await?;
    tracing::info!(event_id = ?event.id, queued = report.queued.len(), failed = report.failed.len(), "scheduler tick");
    for (connector_id, error) in &report.failed {
        tracing::error!(%connector_id, %error, "could not queue a scheduled sync");
    }
    Ok(report)
}
