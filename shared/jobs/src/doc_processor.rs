//! The `doc-processor` function: documents-queue messages are either our `process_document` jobs
//! or S3 object-created notifications (direct uploads land in S3 first); both end in the document
//! pipeline, which processes each document version once however many messages announce it. S3's
//! one-time test event is acknowledged.
//!
//! Nothing is left non-final behind the dead-letter queue: a message on its last receive whose
//! processing fails ends its document `failed` with the reason. Messages the invocation has no
//! time left for are queued again as fresh jobs, not failed. The function also drains the
//! dead-letter queue: those records are never processed, their documents fail (`dead_letters`).

mod announced;
mod dead_letters;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use recorder_domain::Deps;
use recorder_domain::document::ImportedDocument;
use recorder_domain::jobs::DocumentJob;
use recorder_domain::keys::{is_upload_original, parse_object_key};
use recorder_processing::{
    MESSAGE_BUDGET, Options, Outcome, ProcessError, Run, give_up, process_version,
};
use serde_json::Value;

use crate::JobError;
use crate::batch::{parse_body, process_sqs_batch, receive_count};

/// `options` are read once at cold start (`Options::from_lookup`); `deadline` is when the
/// invocation times out (None: no limit, as in the local stack).
pub async fn handle_documents(
    deps: &Deps,
    options: &Options,
    event: SqsEvent,
    deadline: Option<DateTime<Utc>>,
) -> SqsBatchResponse {
    process_sqs_batch(event, |record| async move {
        if dead_letters::is_dead_letter(options, &record) {
            return dead_letters::fail_documents(deps, options, &record).await;
        }
        let targets = targets(&record)?;
        let owner = record.message_id.clone().unwrap_or_default();
        if too_late(deps.clock.now(), deadline) {
            return requeue(deps, &owner, &targets).await;
        }
        let run = Run { owner, deadline };
        let last = receive_count(&record) >= options.max_receives;
        let versions = announced::versions(&record);
        for (org_id, document_id) in &targets {
            let version = versions.get(document_id).map(String::as_str);
            match process_version(deps, org_id, document_id, version, options, &run).await {
                Ok(Outcome::Failed { reason }) => {
                    tracing::info!(%document_id, %reason, "document failed")
                }
                Ok(other) => tracing::info!(%document_id, outcome = ?other, "document processed"),
                Err(ProcessError::OutOfTime) => {
                    requeue(deps, &run.owner, &[(org_id.clone(), document_id.clone())]).await?
                }
                Err(e) if last => {
                    // SQS would dead-letter the message next: the document says why instead.
                    let reason = format!(
                        "processing failed {} times; the last error: {e}",
                        options.max_receives
                    );
                    // Not while another delivery holds it.
                    let ours = |d: &ImportedDocument| {
                        d.processing_lease.as_ref().is_none_or(|l| l.owner == run.owner)
                    };
                    let outcome = give_up(deps, org_id, document_id, reason, ours).await?;
                    tracing::warn!(%document_id, ?outcome, "last receive failed; document marked failed");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })
    .await
}

/// The documents a message is about; an empty list for S3's test event and for notifications
/// of keys that are not direct uploads.
fn targets(record: &SqsMessage) -> Result<Vec<(String, String)>, JobError> {
    let body: Value = parse_body(record, "JSON message")?;
    if body.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    if let Some(records) = body.get("Records").and_then(Value::as_array) {
        return Ok(s3_targets(records));
    }
    let job: DocumentJob = serde_json::from_value(body).map_err(|source| JobError::BadMessage {
        expected: "process_document job",
        source,
    })?;
    Ok(vec![(job.org_id, job.document_id)])
}

/// True when, at `now`, the invocation has less time left than one message may need.
fn too_late(now: DateTime<Utc>, deadline: Option<DateTime<Utc>>) -> bool {
    deadline.is_some_and(|d| (d - now).to_std().unwrap_or_default() < MESSAGE_BUDGET)
}

/// Queues the documents again as fresh jobs: delivered at once (a failed message would wait out
/// the queue's visibility timeout) and without using up the message's receives.
async fn requeue(
    deps: &Deps,
    message_id: &str,
    targets: &[(String, String)],
) -> Result<(), JobError> {
    for (org_id, document_id) in targets {
        let job = DocumentJob {
            org_id: org_id.clone(),
            document_id: document_id.clone(),
        };
        deps.queue
            .send_document(&job)
            .await
            .map_err(ProcessError::Store)?;
    }
    tracing::info!(
        message_id,
        documents = targets.len(),
        "no time left in this invocation; queued again"
    );
    Ok(())
}

/// The documents an S3 notification is about: direct uploads' originals (keys arrive
/// URL-encoded, spaces as '+'). Everything else we write ourselves and queue explicitly; the
/// bucket notifies only the uploads prefix, so another key here is counted and ignored. Only the
/// key is read, so emitters that differ in the other fields (timestamps, sequencers) are handled
/// alike.
fn s3_targets(records: &[Value]) -> Vec<(String, String)> {
    let keys: Vec<String> = records
        .iter()
        .filter(|r| {
            r["eventName"]
                .as_str()
                .is_none_or(|n| n.starts_with("ObjectCreated"))
        })
        .filter_map(|r| r["s3"]["object"]["key"].as_str())
        .map(|k| percent_decode(&k.replace('+', " ")))
        .collect();
    let targets: Vec<_> = keys
        .iter()
        .filter_map(|k| parse_object_key(k))
        .filter(is_upload_original)
        .map(|k| (k.org_id, k.file_id))
        .collect();
    let ignored = keys.len() - targets.len();
    if ignored > 0 {
        tracing::warn!(
            ignored_keys = ignored,
            "S3 notifications for keys other than uploads ignored"
        );
    }
    targets
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
