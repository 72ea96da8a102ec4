//! Webhook records in DynamoDB against a real moto server (resources from template.yaml): the
//! received events carry the table's TTL attribute, and the webhook-sync mark is a
//! compare-and-set that connector edits leave alone; a connector's events list newest first.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{SubsecRound, Utc};
use common::stack;
use recorder_domain::StoreError;
use recorder_domain::connector::Connector;
use recorder_domain::paging::PageRequest;
use recorder_domain::webhook::{EVENT_RETENTION, WebhookEvent, WebhookSync, WebhookSyncPhase};

mod common;

fn event(id: &str) -> WebhookEvent {
    WebhookEvent {
        source: "drive".into(),
        event_id: id.into(),
        event_type: "change".into(),
        connector_id: Some("c1".into()),
        org_id: Some("o".into()),
        payload: serde_json::Value::Null,
        headers: Default::default(),
        processed: false,
        processed_at: None,
        processing_error: None,
        retry_count: 0,
        received_at: Utc::now().trunc_subsecs(0),
    }
}

#[tokio::test]
async fn a_webhook_event_is_stored_with_the_ttl_attribute_the_table_expires_items_by() {
    let s = stack().await;
    let e = event("ch-1:7");
    assert!(s.deps.webhook_events.record(&e).await.unwrap());
    s.deps
        .webhook_events
        .mark_processed("drive", &e.event_id, Utc::now(), None)
        .await
        .unwrap();
    let dynamo = aws_sdk_dynamodb::Client::new(&s.sdk);
    let raw = dynamo
        .get_item()
        .table_name(&s.config.table_name)
        .key("pk", AttributeValue::S("WEBHOOK#drive#ch-1:7".into()))
        .key("sk", AttributeValue::S("WEBHOOK".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let ttl: i64 = raw["expires_at"].as_n().unwrap().parse().unwrap();
    assert_eq!(ttl, (e.received_at + EVENT_RETENTION).timestamp());
    assert_eq!(EVENT_RETENTION, chrono::Duration::days(7));
    let described = dynamo
        .describe_time_to_live()
        .table_name(&s.config.table_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.time_to_live_description.unwrap().attribute_name(),
        Some("expires_at"),
        "the attribute the table's TTL reads"
    );
    // The record still reads back as the event.
    let got = s
        .deps
        .webhook_events
        .get("drive", &e.event_id)
        .await
        .unwrap()
        .unwrap();
    assert!(got.processed);
}

#[tokio::test]
async fn the_webhook_sync_mark_changes_only_from_the_revision_it_was_read_at_and_edits_keep_it() {
    let s = stack().await;
    let now = Utc::now();
    let c: Connector = serde_json::from_value(serde_json::json!({
        "id": "c1", "org_id": "o", "connector_type": "google_drive", "name": "Drive", "description": null,
        "status": "active", "sync_frequency": "manual", "next_sync_at": null, "last_sync_at": null,
        "last_sync_status": null, "last_error": null, "last_error_at": null, "sync_cursor": null,
        "sync_progress": null, "created_by": "u", "created_at": now, "updated_at": now
    }))
    .unwrap();
    let store = &s.deps.connectors;
    assert!(
        store.webhook_sync("o", "missing").await.is_err(),
        "no connector, no mark"
    );
    store.create(&c).await.unwrap();
    let unset = store.webhook_sync("o", "c1").await.unwrap();
    assert_eq!(unset, WebhookSync::default());
    let queued = WebhookSync {
        phase: WebhookSyncPhase::Queued,
        sync_log_id: None,
        since: Some(now),
        last_started: None,
        rev: 1,
    };
    assert!(
        store
            .swap_webhook_sync("o", "c1", 0, &queued)
            .await
            .unwrap()
    );
    assert!(
        !store
            .swap_webhook_sync("o", "c1", 0, &queued)
            .await
            .unwrap(),
        "revision 0 was already moved on"
    );
    let running = WebhookSync {
        phase: WebhookSyncPhase::Running,
        sync_log_id: Some("log-1".into()),
        since: Some(now),
        last_started: Some(now),
        rev: 2,
    };
    assert!(
        !store
            .swap_webhook_sync("o", "c1", 2, &running)
            .await
            .unwrap(),
        "not at revision 2 yet"
    );
    assert!(
        store
            .swap_webhook_sync("o", "c1", 1, &running)
            .await
            .unwrap()
    );

    let mut edited = c.clone();
    edited.name = "Drive (team)".into();
    edited.updated_at = now + chrono::Duration::seconds(1);
    store.replace(&c, &edited).await.unwrap();
    assert_eq!(store.webhook_sync("o", "c1").await.unwrap(), running);
    assert_eq!(
        store.get("o", "c1").await.unwrap().unwrap().name,
        "Drive (team)",
        "the connector still reads with the mark beside it"
    );
}

#[tokio::test]
async fn a_connectors_webhook_events_list_newest_first_in_pages_and_no_other_connectors() {
    let s = stack().await;
    let events = &s.deps.webhook_events;
    let t0 = Utc::now().trunc_subsecs(0) - chrono::Duration::hours(1);
    // Recorded out of order: the listing orders by received_at, not by write.
    for (id, secs) in [("e3", 3), ("e1", 1), ("e5", 5), ("e2", 2), ("e4", 4)] {
        let mut e = event(id);
        e.received_at = t0 + chrono::Duration::seconds(secs);
        assert!(events.record(&e).await.unwrap());
    }
    let mut other = event("elsewhere");
    other.connector_id = Some("c2".into());
    other.received_at = t0 + chrono::Duration::seconds(10);
    events.record(&other).await.unwrap();
    let mut unowned = event("no-connector");
    unowned.connector_id = None;
    events.record(&unowned).await.unwrap();
    // A processed (updated) event keeps its place and shows its state.
    events
        .mark_processed("drive", "e4", Utc::now(), Some("provider down"))
        .await
        .unwrap();

    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = events
            .list_for_connector("c1", &PageRequest::new(Some(2), cursor))
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let ids: Vec<_> = listed.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["e5", "e4", "e3", "e2", "e1"]);
    let e4 = &listed[1];
    assert_eq!(
        (e4.processing_error.as_deref(), e4.retry_count),
        (Some("provider down"), 1)
    );
    assert_eq!(e4.received_at, t0 + chrono::Duration::seconds(4));

    let first = events
        .list_for_connector("c1", &PageRequest::new(Some(2), None))
        .await
        .unwrap();
    let foreign = events
        .list_for_connector("c2", &PageRequest::new(Some(2), first.next_cursor))
        .await
        .unwrap_err();
    assert!(matches!(foreign, StoreError::InvalidCursor), "{foreign:?}");
    let c2 = events
        .list_for_connector("c2", &PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(c2.items, vec![other]);
}
