//! The `doc-processor` function: documents-queue messages are either our `process_document` jobs
//! or S3 object-created notifications (uploads land in S3 first); both end in the document
//! pipeline. S3's one-time test event is acknowledged.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use recorder_domain::Deps;
use recorder_domain::jobs::DocumentJob;
use recorder_domain::keys::{ArtifactKind, parse_object_key};
use recorder_processing::{Options, Outcome, process_document};
use serde_json::Value;

use crate::JobError;
use crate::batch::{parse_body, process_sqs_batch};

/// `options` are read once at cold start (`Options::from_lookup`).
pub async fn handle_documents(deps: &Deps, options: &Options, event: SqsEvent) -> SqsBatchResponse {
    process_sqs_batch(event, |record| async move {
        let body: Value = parse_body(&record, "JSON message")?;
        if body.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
            return Ok(());
        }
        let targets = if let Some(records) = body.get("Records").and_then(Value::as_array) {
            s3_targets(records)
        } else {
            let job: DocumentJob =
                serde_json::from_value(body).map_err(|source| JobError::BadMessage {
                    expected: "process_document job",
                    source,
                })?;
            vec![(job.org_id, job.document_id)]
        };
        for (org_id, document_id) in targets {
            let outcome = process_document(deps, &org_id, &document_id, options)
                .await
                .map_err(|e| JobError::Processing(e.to_string()))?;
            match &outcome {
                Outcome::Failed { reason } => {
                    tracing::info!(%document_id, %reason, "document failed")
                }
                other => tracing::info!(%document_id, outcome = ?other, "document processed"),
            }
        }
        Ok(())
    })
    .await
}

/// The documents an S3 notification is about: originals written under our key layout (keys arrive
/// URL-encoded, spaces as '+'). Artifacts we write ourselves are ignored. Only the key is read, so
/// emitters that differ in the other fields (timestamps, sequencers) are handled alike.
fn s3_targets(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .filter(|r| {
            r["eventName"]
                .as_str()
                .is_none_or(|n| n.starts_with("ObjectCreated"))
        })
        .filter_map(|r| r["s3"]["object"]["key"].as_str())
        .map(|k| percent_decode(&k.replace('+', " ")))
        .filter_map(|k| parse_object_key(&k))
        .filter(|k| k.kind == ArtifactKind::Original)
        .map(|k| (k.org_id, k.file_id))
        .collect()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
