//! The in-memory retry items: the same order and key-based cursors as the DynamoDB adapter.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::RetryStore;
use crate::sync_log::RetryItem;

#[derive(Default)]
pub struct MemoryRetries {
    items: Mutex<BTreeMap<(String, String), RetryItem>>,
}

/// A position in due order: the due time, then the external id.
fn due_key(item: &RetryItem) -> (i64, String) {
    (
        item.next_attempt_at.timestamp_micros(),
        item.external_id.clone(),
    )
}

fn parse_due_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let rest = cursor
        .strip_prefix("mem-due:")
        .ok_or(StoreError::InvalidCursor)?;
    let (micros, id) = rest.split_once('#').ok_or(StoreError::InvalidCursor)?;
    let micros = micros.parse().map_err(|_| StoreError::InvalidCursor)?;
    Ok((micros, id.to_string()))
}

#[async_trait]
impl RetryStore for MemoryRetries {
    async fn put(&self, item: &RetryItem) -> Result<(), StoreError> {
        lock(&self.items).insert(
            (item.connector_id.clone(), item.external_id.clone()),
            item.clone(),
        );
        Ok(())
    }

    async fn get(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<RetryItem>, StoreError> {
        Ok(lock(&self.items)
            .get(&(connector_id.to_string(), external_id.to_string()))
            .cloned())
    }

    async fn delete(&self, connector_id: &str, external_id: &str) -> Result<(), StoreError> {
        lock(&self.items).remove(&(connector_id.to_string(), external_id.to_string()));
        Ok(())
    }

    async fn list_due(
        &self,
        connector_id: &str,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError> {
        let after = page.cursor.as_deref().map(parse_due_cursor).transpose()?;
        let mut due: Vec<RetryItem> = lock(&self.items)
            .values()
            .filter(|r| r.connector_id == connector_id && !r.permanent && r.next_attempt_at <= now)
            .filter(|r| after.as_ref().is_none_or(|a| due_key(r) > *a))
            .cloned()
            .collect();
        due.sort_by_key(due_key);
        let more = due.len() > page.limit as usize;
        due.truncate(page.limit as usize);
        let next_cursor = more
            .then(|| due.last().map(due_key))
            .flatten()
            .map(|(micros, id)| format!("mem-due:{micros}#{id}"));
        Ok(Page {
            items: due,
            next_cursor,
        })
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError> {
        let after = page
            .cursor
            .as_deref()
            .map(|c| {
                c.strip_prefix("mem-retry:")
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        let mut items: Vec<RetryItem> = lock(&self.items)
            .values()
            .filter(|r| r.connector_id == connector_id)
            .filter(|r| after.is_none_or(|a| r.external_id.as_str() > a))
            .cloned()
            .collect();
        let more = items.len() > page.limit as usize;
        items.truncate(page.limit as usize);
        let next_cursor = more
            .then(|| items.last().map(|r| format!("mem-retry:{}", r.external_id)))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}
