//! Feeds an SQS queue to its function the way Lambda's event source mapping does: batches of up to
//! BatchSize, the function's partial batch failures left on the queue (so SQS counts receives and
//! redrives to the dead-letter queue), successes deleted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use local_aws::QueueSource;
use local_aws::provision::REGION;
use serde_json::json;

use crate::Function;

fn record(m: &Message, arn: &str) -> serde_json::Value {
    let attributes: HashMap<String, String> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_string(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
        "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
        "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": REGION
    })
}

pub async fn poll(
    function: Arc<Function>,
    source: QueueSource,
    sdk: SdkConfig,
    retry_delay: Duration,
) {
    let client = aws_sdk_sqs::Client::new(&sdk);
    // As the template resolves it: the doc-processor tells dead letters by it.
    let arn = source.queue_arn.clone();
    loop {
        let received = client
            .receive_message()
            .queue_url(&source.queue_url)
            .max_number_of_messages(source.batch_size.clamp(1, 10))
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(queue = %source.queue_url, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let event =
            json!({"Records": messages.iter().map(|m| record(m, &arn)).collect::<Vec<_>>()});
        let failed: HashSet<String> = match serde_json::from_value(event) {
            Ok(event) => function
                .sqs(event)
                .await
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "could not build an SQS event");
                messages
                    .iter()
                    .filter_map(|m| m.message_id().map(str::to_string))
                    .collect()
            }
        };
        // Successes leave in one DeleteMessageBatch, as Lambda's event source mapping deletes them.
        let mut done = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let Some(handle) = m.receipt_handle() else {
                continue;
            };
            let is_failed = source.report_batch_item_failures
                && m.message_id().is_some_and(|id| failed.contains(id));
            if !is_failed {
                let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build();
                match entry {
                    Ok(entry) => done.push(entry),
                    Err(error) => tracing::warn!(%error, "could not settle a message"),
                }
                continue;
            }
            let result = client
                .change_message_visibility()
                .queue_url(&source.queue_url)
                .receipt_handle(handle)
                .visibility_timeout(retry_delay.as_secs() as i32)
                .send()
                .await;
            if let Err(e) = result {
                let error = aws_sdk_sqs::error::DisplayErrorContext(e).to_string();
                tracing::warn!(%error, "could not settle a message");
            }
        }
        if done.is_empty() {
            continue;
        }
        let result = client
            .delete_message_batch()
            .queue_url(&source.queue_url)
            .set_entries(Some(done))
            .send()
            .await;
        match result {
            Ok(out) if !out.failed().is_empty() => {
                tracing::warn!(
                    failed = out.failed().len(),
                    "could not delete some messages"
                )
            }
            Ok(_) => {}
            Err(e) => {
                let error = aws_sdk_sqs::error::DisplayErrorContext(e).to_string();
                tracing::warn!(%error, "could not settle the batch");
            }
        }
    }
}
