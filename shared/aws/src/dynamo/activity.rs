//! The activity trail: `ACTIVITY#{org_id}` / `{id}`, listed newest first (ids are ULIDs).

use async_trait::async_trait;
use recorder_domain::StoreError;
use recorder_domain::activity::ActivityEvent;
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::ActivityStore;

use super::{DynamoStore, Listing, to_item, with_keys};

#[async_trait]
impl ActivityStore for DynamoStore {
    async fn append(&self, event: &ActivityEvent) -> Result<(), StoreError> {
        let key = (format!("ACTIVITY#{}", event.org_id), event.id.clone());
        self.put_item(with_keys(to_item(event)?, "activity", key))
            .await
    }

    async fn list(
        &self,
        org_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ActivityEvent>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("ACTIVITY#{org_id}"),
            sort_prefix: None,
            newest_first: true,
        };
        self.query(l, page).await
    }
}
