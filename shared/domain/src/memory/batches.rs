//! Upload batches and their counters.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, lock};
use crate::error::StoreError;
use crate::ports::UploadBatchStore;
use crate::upload::{BatchStatus, UploadBatch};

#[async_trait]
impl UploadBatchStore for MemoryStore {
    async fn create(&self, batch: &UploadBatch) -> Result<(), StoreError> {
        lock(&self.batches).insert(batch.id.clone(), batch.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<UploadBatch>, StoreError> {
        Ok(lock(&self.batches).get(id).cloned())
    }

    async fn add_counts(
        &self,
        id: &str,
        processed: i64,
        failed: i64,
    ) -> Result<UploadBatch, StoreError> {
        let mut map = lock(&self.batches);
        let b = map
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
        b.processed_files = b.processed_files.saturating_add_signed(processed);
        b.failed_files = b.failed_files.saturating_add_signed(failed);
        Ok(b.clone())
    }

    async fn set_status(
        &self,
        id: &str,
        status: BatchStatus,
        completed_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut map = lock(&self.batches);
        let b = map
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
        b.status = status;
        b.completed_at = completed_at;
        Ok(())
    }
}
