//! Webhook events: stored once per (source, event id); a connector's events listed newest
//! first with a key-based cursor, like the DynamoDB adapter.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, lock};
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::WebhookEventStore;
use crate::webhook::WebhookEvent;

#[async_trait]
impl WebhookEventStore for MemoryStore {
    async fn record(&self, event: &WebhookEvent) -> Result<bool, StoreError> {
        let mut map = lock(&self.webhooks);
        let key = (event.source.clone(), event.event_id.clone());
        if map.contains_key(&key) {
            return Ok(false);
        }
        map.insert(key, event.clone());
        Ok(true)
    }

    async fn get(&self, source: &str, event_id: &str) -> Result<Option<WebhookEvent>, StoreError> {
        Ok(lock(&self.webhooks)
            .get(&(source.to_string(), event_id.to_string()))
            .cloned())
    }

    async fn mark_processed(
        &self,
        source: &str,
        event_id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut map = lock(&self.webhooks);
        let e = map
            .get_mut(&(source.to_string(), event_id.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("webhook event {event_id}")))?;
        e.processed = error.is_none();
        e.processed_at = Some(at);
        e.processing_error = error.map(str::to_string);
        if error.is_some() {
            e.retry_count += 1;
        }
        Ok(())
    }

    async fn list_for_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<WebhookEvent>, StoreError> {
        let after = page
            .cursor
            .as_deref()
            .map(|c| parse_cursor(c, connector_id))
            .transpose()?;
        let mut items: Vec<_> = lock(&self.webhooks)
            .values()
            .filter(|e| e.connector_id.as_deref() == Some(connector_id))
            .filter(|e| after.as_ref().is_none_or(|a| position(e) < *a))
            .cloned()
            .collect();
        items.sort_by_key(|e| std::cmp::Reverse(position(e)));
        let more = items.len() > page.limit as usize;
        items.truncate(page.limit as usize);
        let next_cursor = more
            .then(|| items.last().map(|e| cursor_of(connector_id, e)))
            .flatten();
        Ok(Page { items, next_cursor })
    }
}

/// An event's place in a connector's listing: newest first, ties in a fixed order.
type Position = (i64, String, String);

fn position(e: &WebhookEvent) -> Position {
    (
        e.received_at.timestamp_micros(),
        e.source.clone(),
        e.event_id.clone(),
    )
}

const CURSOR_PREFIX: &str = "mem-webhooks:";

/// The last listed event's position, with the connector listed, so a cursor only works for
/// the listing it came from.
fn cursor_of(connector_id: &str, e: &WebhookEvent) -> String {
    let (micros, source, event_id) = position(e);
    let plain = serde_json::json!([connector_id, micros, source, event_id]);
    format!("{CURSOR_PREFIX}{}", hex::encode(plain.to_string()))
}

fn parse_cursor(cursor: &str, connector_id: &str) -> Result<Position, StoreError> {
    let bytes = cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|h| hex::decode(h).ok())
        .ok_or(StoreError::InvalidCursor)?;
    let (listed, micros, source, event_id): (String, i64, String, String) =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if listed != connector_id {
        return Err(StoreError::InvalidCursor);
    }
    Ok((micros, source, event_id))
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn event(source: &str, id: &str, connector: &str, received_at: DateTime<Utc>) -> WebhookEvent {
        WebhookEvent {
            source: source.into(),
            event_id: id.into(),
            event_type: "change".into(),
            connector_id: Some(connector.into()),
            org_id: Some("org".into()),
            payload: serde_json::Value::Null,
            headers: Default::default(),
            processed: false,
            processed_at: None,
            processing_error: None,
            retry_count: 0,
            received_at,
        }
    }

    async fn ids(
        store: &MemoryStore,
        connector: &str,
        page: &PageRequest,
    ) -> (Vec<String>, Option<String>) {
        let got = store.list_for_connector(connector, page).await.unwrap();
        (
            got.items.into_iter().map(|e| e.event_id).collect(),
            got.next_cursor,
        )
    }

    #[tokio::test]
    async fn a_connectors_events_list_newest_first_in_pages_without_other_connectors_events() {
        let store = MemoryStore::default();
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        for (i, id) in ["e1", "e2", "e3", "e4", "e5"].iter().enumerate() {
            let at = t0 + Duration::seconds(i as i64);
            store.record(&event("drive", id, "c1", at)).await.unwrap();
        }
        store
            .record(&event("drive", "other", "c2", t0 + Duration::hours(1)))
            .await
            .unwrap();
        // Marking an event processed keeps it where it was.
        store
            .mark_processed("drive", "e2", t0 + Duration::days(1), Some("boom"))
            .await
            .unwrap();

        let (first, cursor) = ids(&store, "c1", &PageRequest::new(Some(2), None)).await;
        assert_eq!(first, ["e5", "e4"]);
        let (second, cursor) = ids(&store, "c1", &PageRequest::new(Some(2), cursor)).await;
        assert_eq!(second, ["e3", "e2"]);
        let (last, cursor) = ids(&store, "c1", &PageRequest::new(Some(2), cursor)).await;
        assert_eq!(last, ["e1"]);
        assert_eq!(cursor, None);
        let (other, _) = ids(&store, "c2", &PageRequest::new(None, None)).await;
        assert_eq!(other, ["other"]);
    }

    #[tokio::test]
    async fn a_webhook_events_cursor_only_works_for_its_own_connector() {
        let store = MemoryStore::default();
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        for id in ["a", "b"] {
            store.record(&event("drive", id, "c1", t0)).await.unwrap();
        }
        let (_, cursor) = ids(&store, "c1", &PageRequest::new(Some(1), None)).await;
        let err = store
            .list_for_connector("c2", &PageRequest::new(Some(1), cursor))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor), "{err:?}");
        let err = store
            .list_for_connector("c1", &PageRequest::new(Some(1), Some("mem:1".into())))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor), "{err:?}");
    }
}
