//! Sync logs, listed newest first.

use async_trait::async_trait;

use super::{MemoryStore, lock, page_of};
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::SyncLogStore;
use crate::sync_log::SyncLog;

#[async_trait]
impl SyncLogStore for MemoryStore {
    async fn put(&self, log: &SyncLog) -> Result<(), StoreError> {
        lock(&self.sync_logs).insert((log.connector_id.clone(), log.id.clone()), log.clone());
        Ok(())
    }

    async fn get(&self, connector_id: &str, id: &str) -> Result<Option<SyncLog>, StoreError> {
        Ok(lock(&self.sync_logs)
            .get(&(connector_id.to_string(), id.to_string()))
            .cloned())
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncLog>, StoreError> {
        let items: Vec<_> = lock(&self.sync_logs)
            .values()
            .rev()
            .filter(|l| l.connector_id == connector_id)
            .cloned()
            .collect();
        page_of(items, page)
    }
}
