//! Sync logs: `SYNCLOGS#{connector_id}` / `SYNC#{id}`, listed newest first (ids are ULIDs).

use async_trait::async_trait;
use recorder_domain::StoreError;
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::SyncLogStore;
use recorder_domain::sync_log::SyncLog;

use super::{DynamoStore, Listing, to_item, with_keys};

fn sync_log_key(connector_id: &str, id: &str) -> (String, String) {
    (format!("SYNCLOGS#{connector_id}"), format!("SYNC#{id}"))
}

#[async_trait]
impl SyncLogStore for DynamoStore {
    async fn put(&self, log: &SyncLog) -> Result<(), StoreError> {
        self.put_item(with_keys(
            to_item(log)?,
            "sync_log",
            sync_log_key(&log.connector_id, &log.id),
        ))
        .await
    }

    async fn get(&self, connector_id: &str, id: &str) -> Result<Option<SyncLog>, StoreError> {
        self.get_item(sync_log_key(connector_id, id)).await
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncLog>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("SYNCLOGS#{connector_id}"),
            sort_prefix: Some(("sk", "SYNC#")),
            newest_first: true,
        };
        self.query(l, page).await
    }
}
