//! The activity trail, listed newest first.

use async_trait::async_trait;

use super::{MemoryStore, lock, page_of};
use crate::activity::ActivityEvent;
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::ActivityStore;

#[async_trait]
impl ActivityStore for MemoryStore {
    async fn append(&self, event: &ActivityEvent) -> Result<(), StoreError> {
        lock(&self.activity).push(event.clone());
        Ok(())
    }

    async fn list(
        &self,
        org_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ActivityEvent>, StoreError> {
        let mut items: Vec<_> = lock(&self.activity)
            .iter()
            .filter(|e| e.org_id == org_id)
            .cloned()
            .collect();
        items.sort_by(|a, b| b.id.cmp(&a.id));
        page_of(items, page)
    }
}
