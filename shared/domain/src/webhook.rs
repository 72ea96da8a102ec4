//! WebhookEvent: a provider notification as received, stored once per (source, event id).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub source: String,
    pub event_id: String,
    pub event_type: String,
    pub connector_id: Option<String>,
    pub org_id: Option<String>,
    #[serde(default)]
    pub payload: Value,
    /// Only the headers needed to audit the delivery; never Authorization or cookies.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub processed: bool,
    pub processed_at: Option<DateTime<Utc>>,
    pub processing_error: Option<String>,
    #[serde(default)]
    pub retry_count: u32,
    pub received_at: DateTime<Utc>,
}
