//! Records from the documents queue's dead-letter queue, which the doc-processor also drains:
//! they are never processed; their documents end `failed` with a reason (see
//! `recorder_processing::dead_letter`).

use aws_lambda_events::event::sqs::SqsMessage;
use chrono::{DateTime, Utc};
use recorder_domain::Deps;
use recorder_processing::Options;
use recorder_processing::dead_letter::{DeadLetter, fail_dead_lettered};

use crate::JobError;

/// True when the record comes from the dead-letter queue (DOCUMENTS_DLQ_ARN).
pub(super) fn is_dead_letter(options: &Options, record: &SqsMessage) -> bool {
    options
        .dead_letter_queue_arn
        .as_deref()
        .is_some_and(|dlq| record.event_source_arn.as_deref() == Some(dlq))
}

/// Fails the record's documents. An unreadable record is an error, so it stays in the
/// dead-letter queue for a person rather than being dropped.
pub(super) async fn fail_documents(
    deps: &Deps,
    options: &Options,
    record: &SqsMessage,
) -> Result<(), JobError> {
    let targets = super::targets(record)?;
    let letter = DeadLetter {
        message_id: record.message_id.clone().unwrap_or_default(),
        sent_at: sent_at(record),
        attempts: options.max_receives,
    };
    for (org_id, document_id) in &targets {
        let outcome =
            fail_dead_lettered(deps, org_id, document_id, &letter, options.stale_after).await?;
        tracing::warn!(%document_id, message_id = %letter.message_id, ?outcome, "dead-lettered document handled");
    }
    Ok(())
}

/// SQS's `SentTimestamp` (milliseconds since the epoch).
fn sent_at(record: &SqsMessage) -> Option<DateTime<Utc>> {
    record
        .attributes
        .get("SentTimestamp")
        .and_then(|v| v.parse().ok())
        .and_then(DateTime::from_timestamp_millis)
}
