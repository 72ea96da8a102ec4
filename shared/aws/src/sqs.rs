//! SQS adapter for the job queue port.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use recorder_domain::StoreError;
use recorder_domain::jobs::{DocumentJob, DocumentProcessed, SyncJob};
use recorder_domain::ports::JobQueue;
use recorder_domain::push::PushJob;

pub struct SqsQueue {
    client: Client,
    sync_jobs_url: String,
    documents_url: String,
    events_url: String,
    webhook_events_url: String,
}

/// The queues the job queue port sends to.
pub struct QueueUrls<'a> {
    pub sync_jobs: &'a str,
    pub documents: &'a str,
    pub document_events: &'a str,
    pub webhook_events: &'a str,
}

impl SqsQueue {
    pub fn new(client: Client, urls: QueueUrls) -> Self {
        SqsQueue {
            client,
            sync_jobs_url: urls.sync_jobs.into(),
            documents_url: urls.documents.into(),
            events_url: urls.document_events.into(),
            webhook_events_url: urls.webhook_events.into(),
        }
    }

    async fn send_standard(&self, url: &str, body: String, what: &str) -> Result<(), StoreError> {
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| StoreError::backend(format!("could not queue {what}"), e))?;
        Ok(())
    }
}

fn body<T: serde::Serialize>(job: &T) -> Result<String, StoreError> {
    serde_json::to_string(job)
        .map_err(|e| StoreError::backend("could not encode a queue message", e))
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn send_sync(&self, job: &SyncJob) -> Result<(), StoreError> {
        self.client
            .send_message()
            .queue_url(&self.sync_jobs_url)
            // One group per connector: FIFO delivers a group's messages one at a time, so a
            // connector never syncs twice at once.
            .message_group_id(&job.connector_id)
            .message_deduplication_id(job.dedup_id())
            .message_body(body(job)?)
            .send()
            .await
            .map_err(|e| StoreError::backend("could not queue a sync job", e))?;
        Ok(())
    }

    async fn send_document(&self, job: &DocumentJob) -> Result<(), StoreError> {
        self.send_standard(&self.documents_url, body(job)?, "a document")
            .await
    }

    async fn send_processed(&self, event: &DocumentProcessed) -> Result<(), StoreError> {
        self.send_standard(&self.events_url, body(event)?, "a document.processed event")
            .await
    }

    async fn send_push(&self, job: &PushJob) -> Result<(), StoreError> {
        self.send_standard(&self.webhook_events_url, body(job)?, "a webhook delivery")
            .await
    }
}
