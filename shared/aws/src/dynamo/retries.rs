//! Retry items: `RETRIES#{connector_id}` / `RETRY#{external_id}`, and, only while an item is
//! to be retried (not permanent), GSI1 `RETRYDUE#{connector_id}` / `{next_attempt_at}#{external_id}`
//! so the due ones are one range query in due order (docs/data-model.md).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use recorder_domain::StoreError;
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::RetryStore;
use recorder_domain::sync_log::RetryItem;

use super::{
    DynamoStore, GSI1, Listing, backend, decode_cursor, encode_cursor, from_item, key_map,
    key_time, s, to_item, with_keys,
};

/// TTL removes an item this long after its last failure: the retries of a deleted connector,
/// and permanent failures of files nobody touches again.
const KEEP: Duration = Duration::days(180);

fn retry_key(connector_id: &str, external_id: &str) -> (String, String) {
    (
        format!("RETRIES#{connector_id}"),
        format!("RETRY#{external_id}"),
    )
}

fn due_partition(connector_id: &str) -> String {
    format!("RETRYDUE#{connector_id}")
}

#[async_trait]
impl RetryStore for DynamoStore {
    async fn put(&self, r: &RetryItem) -> Result<(), StoreError> {
        let mut item = with_keys(
            to_item(r)?,
            "retry_item",
            retry_key(&r.connector_id, &r.external_id),
        );
        if !r.permanent {
            item.insert("gsi1pk".into(), s(due_partition(&r.connector_id)));
            item.insert(
                "gsi1sk".into(),
                s(format!("{}#{}", key_time(r.next_attempt_at), r.external_id)),
            );
        }
        item.insert(
            "expires_at".into(),
            AttributeValue::N((r.updated_at + KEEP).timestamp().to_string()),
        );
        self.put_item(item).await
    }

    async fn get(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<RetryItem>, StoreError> {
        self.get_item(retry_key(connector_id, external_id)).await
    }

    async fn delete(&self, connector_id: &str, external_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(retry_key(connector_id, external_id))))
            .send()
            .await
            .map_err(backend("could not delete a retry item"))?;
        Ok(())
    }

    async fn list_due(
        &self,
        connector_id: &str,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError> {
        let partition = due_partition(connector_id);
        let start = page
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, "gsi1pk", &partition))
            .transpose()?;
        // Keys are fixed-width times, so "due at or before now" is "before now + 1 µs".
        let before = key_time(now + Duration::microseconds(1));
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p AND gsi1sk < :before")
            .set_expression_attribute_values(Some(HashMap::from([
                (":p".to_string(), s(partition)),
                (":before".to_string(), s(before)),
            ])))
            .limit(page.limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend("could not list due retry items"))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<RetryItem>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(encode_cursor);
        Ok(Page { items, next_cursor })
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("RETRIES#{connector_id}"),
            sort_prefix: Some(("sk", "RETRY#")),
            newest_first: false,
        };
        self.query(l, page).await
    }
}
