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
    /// Retrying cannot fix it (too large to export, not downloadable, gone): it is tried again
    /// only when the file changes. Otherwise it is retried with backoff on later syncs.
    #[serde(default)]
    pub permanent: bool,
}

/// A log lists at most this many failures (`counts.failed` has them all), so its item stays far
/// below DynamoDB's 400 KB limit however many items fail.
pub const MAX_ERROR_DETAILS: usize = 50;
const MAX_NAME_BYTES: usize = 200;
const MAX_REASON_BYTES: usize = 500;

/// `text` cut to at most `max` bytes on a character boundary, marked when cut (a provider's
/// error text has no length limit).
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// An item a sync could not import, kept as its own record (one per connector and external id)
/// until it imports, disappears at the source, or, when the failure is permanent, changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryItem {
    pub connector_id: String,
    pub external_id: String,
    pub name: Option<String>,
    /// Failed attempts so far; 0 for an item only handed on at a time limit.
    pub attempts: u32,
    /// Not tried again before this (backoff); ignored while `permanent`.
    pub next_attempt_at: DateTime<Utc>,
    pub last_reason: String,
    /// The version (fingerprint) it failed at, when it was listed.
    pub fingerprint: Option<String>,
    pub permanent: bool,
    pub updated_at: DateTime<Utc>,
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
    /// Runs started for the current segment: above 1, the job is being retried (a redelivery
    /// after a failed or crashed run).
    #[serde(default)]
    pub attempts: u32,
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
            attempts: 0,
        }
    }

    /// Counts a failed item, and lists it while fewer than [`MAX_ERROR_DETAILS`] are listed.
    pub fn record_failure(&mut self, failure: ItemFailure) {
        self.counts.failed += 1;
        if self.error_details.len() < MAX_ERROR_DETAILS {
            self.error_details.push(ItemFailure {
                name: failure.name.map(|n| bounded(&n, MAX_NAME_BYTES)),
                reason: bounded(&failure.reason, MAX_REASON_BYTES),
                ..failure
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_counts_every_failure_and_lists_only_the_first_few_cut_short() {
        let mut log = SyncLog::queued(
            "s".into(),
            "c".into(),
            "o".into(),
            SyncType::Manual,
            Utc::now(),
        );
        for i in 0..120 {
            log.record_failure(ItemFailure {
                external_id: format!("f{i}"),
                name: Some("é".repeat(300)),
                reason: "ü".repeat(1000),
                permanent: true,
            });
        }
        assert_eq!(log.counts.failed, 120);
        assert_eq!(log.error_details.len(), MAX_ERROR_DETAILS);
        let first = &log.error_details[0];
        assert!(first.name.as_ref().unwrap().len() <= MAX_NAME_BYTES + '…'.len_utf8());
        assert!(first.reason.len() <= MAX_REASON_BYTES + '…'.len_utf8());
        assert!(first.reason.ends_with('…'));
        assert!(serde_json::to_vec(&log).unwrap().len() < 64 * 1024);
    }
}
