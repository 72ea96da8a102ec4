//! Documents: an external id imported once per connector, versioned writes (with a hook to
//! make another writer race), counted finishes and the processing sweep.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, lock, page_of};
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::DocumentStore;

impl MemoryStore {
    /// Another writer's change, applied to the stored document just before the next
    /// conditional write of it is checked: how tests make a sync and a worker race.
    pub fn race_next_write(&self, change: impl FnOnce(&mut ImportedDocument) + Send + 'static) {
        lock(&self.racing_writes).push(Box::new(change));
    }

    /// The version check of `update` and `finish`, after any racing write.
    fn is_current(
        &self,
        docs: &mut BTreeMap<String, ImportedDocument>,
        doc: &ImportedDocument,
    ) -> bool {
        let racing = std::mem::take(&mut *lock(&self.racing_writes));
        if let Some(stored) = docs.get_mut(&doc.id) {
            for change in racing {
                change(stored);
                stored.version += 1;
            }
        }
        docs.get(&doc.id).map(|d| d.version) == Some(doc.version)
    }
}

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn create(&self, doc: &ImportedDocument) -> Result<(), StoreError> {
        let mut ext = lock(&self.external_ids);
        let key = (
            doc.connector_id.clone().unwrap_or_default(),
            doc.external_id.clone(),
        );
        if ext.contains_key(&key) {
            return Err(StoreError::ConditionFailed(format!(
                "external id {} exists",
                doc.external_id
            )));
        }
        ext.insert(key, doc.id.clone());
        lock(&self.documents).insert(doc.id.clone(), doc.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<ImportedDocument>, StoreError> {
        Ok(lock(&self.documents).get(id).cloned())
    }

    async fn update(&self, doc: &mut ImportedDocument) -> Result<bool, StoreError> {
        let mut docs = lock(&self.documents);
        if !self.is_current(&mut docs, doc) {
            return Ok(false);
        }
        doc.version += 1;
        docs.insert(doc.id.clone(), doc.clone());
        Ok(true)
    }

    async fn find_by_external_id(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        let id = lock(&self.external_ids)
            .get(&(connector_id.to_string(), external_id.to_string()))
            .cloned();
        Ok(id.and_then(|id| lock(&self.documents).get(&id).cloned()))
    }

    async fn list_by_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ImportedDocument>, StoreError> {
        let items: Vec<_> = lock(&self.documents)
            .values()
            .filter(|d| d.connector_id.as_deref() == Some(connector_id))
            .cloned()
            .collect();
        page_of(items, page)
    }

    async fn finish(&self, doc: &ImportedDocument) -> Result<bool, StoreError> {
        let mut docs = lock(&self.documents);
        if !self.is_current(&mut docs, doc) {
            return Ok(false);
        }
        if let Some(batch_id) = &doc.batch_id {
            let mut batches = lock(&self.batches);
            let b = batches
                .get_mut(batch_id)
                .ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
            if doc.processing_status == ProcessingStatus::Failed {
                b.failed_files += 1;
            } else {
                b.processed_files += 1;
            }
        }
        let mut stored = doc.clone();
        stored.version += 1;
        docs.insert(doc.id.clone(), stored);
        Ok(true)
    }

    async fn find_completed_by_hash(
        &self,
        org_id: &str,
        hash: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        Ok(lock(&self.documents)
            .values()
            .find(|d| {
                d.org_id == org_id
                    && d.content_hash.as_deref() == Some(hash)
                    && d.processing_status == ProcessingStatus::Completed
                    && d.duplicate_of.is_none()
            })
            .cloned())
    }

    async fn list_stale_processing(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ImportedDocument>, StoreError> {
        let mut stale: Vec<_> = lock(&self.documents)
            .values()
            .filter(|d| d.processing_status == ProcessingStatus::Processing)
            .filter(|d| {
                d.processing_lease
                    .as_ref()
                    .is_some_and(|l| l.started_at < before)
            })
            .cloned()
            .collect();
        stale.sort_by_key(|d| d.processing_lease.as_ref().map(|l| l.started_at));
        stale.truncate(limit as usize);
        Ok(stale)
    }
}
