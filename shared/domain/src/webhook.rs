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

/// How long a received event is kept: its id guards against replays, which come within hours.
pub const EVENT_RETENTION: chrono::Duration = chrono::Duration::days(7);

impl WebhookEvent {
    /// When the stored event may be dropped (the table's TTL attribute).
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.received_at + EVENT_RETENTION
    }
}

/// Where a connector's notification-triggered sync stands. Notifications are folded into the
/// queued sync, or into one follow-up queued when the running sync ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookSyncPhase {
    #[default]
    Idle,
    /// A sync is queued and has not started: it will read every change notified so far.
    Queued,
    /// A sync runs; a notification now needs a read after it.
    Running,
    /// A sync runs and a notification came meanwhile: it queues a follow-up when it ends.
    FollowUpDue,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookSync {
    pub phase: WebhookSyncPhase,
    /// The running sync's log (Running, FollowUpDue): only that sync moves the mark on.
    pub sync_log_id: Option<String>,
    /// When the mark was queued or the running segment started; an old mark is a lost job's.
    pub since: Option<DateTime<Utc>>,
    /// When the last webhook sync of the connector started reading: the next one waits for the
    /// spacing after it, so a burst of notifications is read at most twice.
    #[serde(default)]
    pub last_started: Option<DateTime<Utc>>,
    /// Counts the changes; a change names the revision it read (compare and set).
    #[serde(default)]
    pub rev: u64,
}
