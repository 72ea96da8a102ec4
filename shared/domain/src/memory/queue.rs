//! The job queue: records what was sent.

use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::jobs::{DocumentJob, DocumentProcessed, SyncJob};
use crate::ports::JobQueue;
use crate::push::PushJob;

/// Records what was sent; `fail` makes every send fail, to test how callers cope.
#[derive(Default)]
pub struct MemoryQueue {
    pub sync_jobs: Mutex<Vec<SyncJob>>,
    pub document_jobs: Mutex<Vec<DocumentJob>>,
    pub processed_events: Mutex<Vec<DocumentProcessed>>,
    pub push_jobs: Mutex<Vec<PushJob>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryQueue {
    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::backend("queue unavailable", "injected failure"));
        }
        Ok(())
    }
    pub fn sent_sync_jobs(&self) -> Vec<SyncJob> {
        lock(&self.sync_jobs).clone()
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn send_sync(&self, job: &SyncJob) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.sync_jobs).push(job.clone());
        Ok(())
    }

    async fn send_document(&self, job: &DocumentJob) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.document_jobs).push(job.clone());
        Ok(())
    }

    async fn send_processed(&self, event: &DocumentProcessed) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.processed_events).push(event.clone());
        Ok(())
    }

    async fn send_push(&self, job: &PushJob) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.push_jobs).push(job.clone());
        Ok(())
    }
}
