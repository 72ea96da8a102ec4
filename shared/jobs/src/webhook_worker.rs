//! The `webhook-worker` function: verified deliveries from the webhook-events queue, each event
//! recorded once and acted on (see `service::push`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use recorder_domain::Deps;
use recorder_domain::push::PushJob;
use recorder_domain::service::push::{Batch, handle};

use crate::batch::{parse_body, process_sqs_batch};

pub async fn handle_webhook_events(deps: &Deps, event: SqsEvent) -> SqsBatchResponse {
    // One per receive: a burst's deliveries share their connector lookups and sync decision.
    let batch = &Batch::default();
    process_sqs_batch(event, |record| async move {
        let job: PushJob = parse_body(&record, "webhook delivery")?;
        let outcomes = handle(deps, &job, batch).await?;
        tracing::info!(source = %job.source, events = job.events.len(), ?outcomes, "webhook delivery handled");
        Ok(())
    })
    .await
}
