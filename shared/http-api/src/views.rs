//! What the API answers: the JSON shape of each response, built from domain values. The OpenAPI
//! document takes its response schemas from [`schemas`], next to the shapes they describe.
//!
//! A leaf: domain types in, JSON out; it imports no handler.

use chrono::{DateTime, Utc};
use recorder_domain::connector::Connector;
use recorder_domain::document::ImportedDocument;
use recorder_domain::paging::Page;
use recorder_domain::service::uploads::{BatchView, UploadTicket};
use recorder_domain::sync_log::SyncLog;
use recorder_domain::webhook::WebhookEvent;
use serde::Serialize;
use serde_json::{Value, json};

/// Any serializable domain value as it is.
pub fn to_json<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

/// A listing: `{"items": [...], "next_cursor": ...}`.
pub fn page_view<T>(p: Page<T>, f: impl Fn(&T) -> Value) -> Value {
    json!({"items": p.items.iter().map(f).collect::<Vec<_>>(), "next_cursor": p.next_cursor})
}

/// What the API shows of a connector: everything but the provider cursor, plus the dashboard's
/// `active` flag.
pub fn connector_view(c: &Connector) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    if let Some(m) = v.as_object_mut() {
        m.remove("sync_cursor");
        m.insert("active".into(), json!(c.is_active()));
    }
    v
}

/// A queued manual sync.
pub fn sync_queued_view(log: &SyncLog) -> Value {
    json!({"sync_log_id": log.id, "status": log.status, "sync_log": log})
}

/// A short-lived artifact download URL.
pub fn download_view(
    document_id: &str,
    artifact: &str,
    url: &str,
    ttl: std::time::Duration,
) -> Value {
    json!({"document_id": document_id, "artifact": artifact, "url": url, "expires_in_secs": ttl.as_secs()})
}

/// The documents a URL import queued.
pub fn url_import_view(docs: &[ImportedDocument]) -> Value {
    let docs: Vec<_> = docs
        .iter()
        .map(|d| json!({"document_id": d.id, "url": d.external_url, "status": d.processing_status, "sync_count": d.sync_count}))
        .collect();
    json!({"documents": docs})
}

/// A new upload batch with its per-file instructions.
pub fn batch_view(batch: &BatchView, files: &[UploadTicket]) -> Value {
    json!({"batch": batch, "files": files})
}

/// What operators see of a received webhook event: how its processing went, never its payload
/// or headers (they may carry provider tokens). Named fields, so a field added to the stored
/// event is not shown until it is added here.
#[derive(Debug, Serialize)]
pub struct WebhookEventView<'a> {
    pub source: &'a str,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub processed: bool,
    pub processing_error: Option<&'a str>,
    pub retry_count: u32,
    pub received_at: DateTime<Utc>,
}

pub fn webhook_event_view(e: &WebhookEvent) -> Value {
    to_json(&WebhookEventView {
        source: &e.source,
        event_id: &e.event_id,
        event_type: &e.event_type,
        processed: e.processed,
        processing_error: e.processing_error.as_deref(),
        retry_count: e.retry_count,
        received_at: e.received_at,
    })
}

/// The response schemas of the shapes above that routes name (`Route::response`).
pub fn schemas() -> Value {
    json!({
        "WebhookEvent": {"type": "object", "additionalProperties": false,
            "required": ["source", "event_id", "event_type", "processed", "processing_error", "retry_count", "received_at"],
            "properties": {
                "source": {"type": "string", "description": "the provider that sent it, e.g. drive"},
                "event_id": {"type": "string", "description": "the provider's id of the delivery (deduplicated per source)"},
                "event_type": {"type": "string"},
                "processed": {"type": "boolean"},
                "processing_error": {"type": ["string", "null"]},
                "retry_count": {"type": "integer", "minimum": 0},
                "received_at": {"type": "string", "format": "date-time"}}},
        "WebhookEventPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookEvent"}},
            "next_cursor": {"type": ["string", "null"], "description": "pass as cursor for the next page; null on the last"}}}
    })
}
