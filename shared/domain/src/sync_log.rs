//! SyncLog: one run of a connector's sync, written at start and kept up to date while it runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncType {
    Manual,
    Scheduled,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Accepted and waiting in the sync-jobs queue.
    Queued,
    Running,
    Success,
    Partial,
    Failed,
}

impl SyncStatus {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            SyncStatus::Success | SyncStatus::Partial | SyncStatus::Failed
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCounts {
    pub synced: u64,
    pub updated: u64,
    pub failed: u64,
    pub deleted: u64,
    pub skipped_duplicates: u64,
}

/// One item that failed during a sync: enough to find it at the source and to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFailure {
    pub external_id: String,
    pub name: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub current: u64,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncLog {
    pub id: String,
    pub connector_id: String,
    pub org_id: String,
    pub sync_type: SyncType,
    pub status: SyncStatus,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<u64>,
    #[serde(default)]
    pub counts: SyncCounts,
    pub error_message: Option<String>,
    #[serde(default)]
    pub error_details: Vec<ItemFailure>,
    #[serde(default)]
    pub api_calls_made: u64,
    #[serde(default)]
    pub bytes_transferred: u64,
    #[serde(default)]
    pub progress: Progress,
    /// How many times the sync was continued after a time-limit cut-off.
    #[serde(default)]
    pub segment: u32,
}

impl SyncLog {
    pub fn queued(
        id: String,
        connector_id: String,
        org_id: String,
        sync_type: SyncType,
        now: DateTime<Utc>,
    ) -> Self {
        SyncLog {
            id,
            connector_id,
            org_id,
            sync_type,
            status: SyncStatus::Queued,
            queued_at: now,
            started_at: None,
            completed_at: None,
            duration_ms: None,
            counts: SyncCounts::default(),
            error_message: None,
            error_details: Vec::new(),
            api_calls_made: 0,
            bytes_transferred: 0,
            progress: Progress::default(),
            segment: 0,
        }
    }
}
