//! The one SQS batch helper: every record is handled, failures are reported per message (never
//! dropped, never failing their neighbours), and a panic counts as a failure.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::FutureExt;

use crate::JobError;

/// Handles each record in order. On a FIFO queue, once a record fails the rest of the batch is
/// reported failed too, so a message group never runs out of order.
pub async fn process_sqs_batch<F, Fut>(event: SqsEvent, mut handle: F) -> SqsBatchResponse
where
    F: FnMut(SqsMessage) -> Fut,
    Fut: Future<Output = Result<(), JobError>>,
{
    let mut response = SqsBatchResponse::default();
    let mut fifo_blocked = false;
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let fifo = record
            .event_source_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(".fifo"));
        if fifo_blocked {
            tracing::warn!(message_id = %id, "not run: an earlier message of this FIFO batch failed");
            response.batch_item_failures.push(failure(id));
            continue;
        }
        let outcome = AssertUnwindSafe(handle(record)).catch_unwind().await;
        let error = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => error_chain(&e),
            Err(panic) => format!("handler panicked: {}", panic_text(&panic)),
        };
        tracing::error!(message_id = %id, error = %error, "message failed; SQS will retry it, then dead-letter it");
        response.batch_item_failures.push(failure(id));
        fifo_blocked = fifo;
    }
    response
}

fn failure(id: String) -> BatchItemFailure {
    let mut f = BatchItemFailure::default();
    f.item_identifier = id;
    f
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

/// SQS's `ApproximateReceiveCount` of a record (1 on the first delivery): a record received the
/// queue's `maxReceiveCount` times goes to the dead-letter queue if it fails once more.
pub fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// Parses a record's JSON body.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    record: &SqsMessage,
    expected: &'static str,
) -> Result<T, JobError> {
    serde_json::from_str(record.body.as_deref().unwrap_or_default())
        .map_err(|source| JobError::BadMessage { expected, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bodies: &[&str], arn: &str) -> SqsEvent {
        let records: Vec<_> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| serde_json::json!({"messageId": format!("m{i}"), "body": b, "eventSourceARN": arn}))
            .collect();
        serde_json::from_value(serde_json::json!({"Records": records})).unwrap()
    }

    fn ids(r: &SqsBatchResponse) -> Vec<String> {
        r.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect()
    }

    #[tokio::test]
    async fn a_bad_message_fails_alone_on_a_standard_queue_and_panics_count_as_failures() {
        let ev = event(
            &["ok", "bad", "ok", "panic"],
            "arn:aws:sqs:us-east-1:1:docs",
        );
        let mut seen = Vec::new();
        let resp = process_sqs_batch(ev, |m| {
            let body = m.body.clone().unwrap_or_default();
            seen.push(body.clone());
            async move {
                match body.as_str() {
                    "bad" => Err(JobError::Unsupported("bad".into())),
                    "panic" => panic!("boom"),
                    _ => Ok(()),
                }
            }
        })
        .await;
        assert_eq!(seen.len(), 4, "every record is handled");
        assert_eq!(ids(&resp), vec!["m1", "m3"]);
    }

    #[tokio::test]
    async fn on_a_fifo_queue_the_rest_of_the_batch_waits_behind_a_failure() {
        let ev = event(&["ok", "bad", "ok"], "arn:aws:sqs:us-east-1:1:sync.fifo");
        let resp = process_sqs_batch(ev, |m| {
            let bad = m.body.as_deref() == Some("bad");
            async move {
                if bad {
                    Err(JobError::Unsupported("bad".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert_eq!(ids(&resp), vec!["m1", "m2"]);
    }
}
