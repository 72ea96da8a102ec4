//! The `doc-processor` function. Document extraction arrives with the document-processing work;
//! until then this consumer acknowledges S3's test event and fails every real message with a
//! clear reason, so nothing is silently dropped (SQS retries, then dead-letters it).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::Value;

use crate::JobError;
use crate::batch::{parse_body, process_sqs_batch};

pub async fn handle_documents(event: SqsEvent) -> SqsBatchResponse {
    process_sqs_batch(event, |record| async move {
        let body: Value = parse_body(&record, "JSON message")?;
        if body.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
            // S3 sends this once when notifications are configured: nothing to process.
            return Ok(());
        }
        let what = if body.get("Records").is_some() {
            "an S3 upload notification"
        } else {
            "a process_document job"
        };
        Err(JobError::Unsupported(format!(
            "document processing is not available in this version; {what} was left for retry"
        )))
    })
    .await
}
