//! ActivityEvent: the `connector_*` audit trail, listed per org newest first.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    ConnectorConnectStarted,
    ConnectorConnectSucceeded,
    ConnectorConnectFailed,
    ConnectorDisconnectStarted,
    ConnectorDisconnectSucceeded,
    ConnectorDisconnectFailed,
    ConnectorSyncStarted,
    ConnectorSyncCompleted,
    ConnectorSyncFailed,
    ConnectorJobScheduled,
    ConnectorJobRetried,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEvent {
    pub id: String,
    pub org_id: String,
    pub kind: ActivityKind,
    pub connector_id: Option<String>,
    pub connector_type: Option<String>,
    /// The user who caused it; None for the scheduler and workers.
    pub user_id: Option<String>,
    #[serde(default)]
    pub context: Value,
    pub created_at: DateTime<Utc>,
}
