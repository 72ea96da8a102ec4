//! SQS adapter for the job queue port.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use recorder_domain::StoreError;
use recorder_domain::jobs::{DocumentJob, SyncJob};
use recorder_domain::ports::JobQueue;

pub struct SqsQueue {
    client: Client,
    sync_jobs_url: String,
    documents_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, sync_jobs_url: &str, documents_url: &str) -> Self {
        SqsQueue {
            client,
            sync_jobs_url: sync_jobs_url.into(),
            documents_url: documents_url.into(),
        }
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
        self.client
            .send_message()
            .queue_url(&self.documents_url)
            .message_body(body(job)?)
            .send()
            .await
            .map_err(|e| StoreError::backend("could not queue a document", e))?;
        Ok(())
    }
}
