//! Messages between functions. Their JSON is the contract on the queues.

use serde::{Deserialize, Serialize};

use crate::sync_log::SyncType;

/// A message on the sync-jobs FIFO queue; its group is the connector id so one connector
/// never syncs twice at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "sync")]
pub struct SyncJob {
    pub org_id: String,
    pub connector_id: String,
    pub sync_log_id: String,
    pub sync_type: SyncType,
    /// 0 for the first run; n for the n-th continuation after a time-limit cut-off.
    #[serde(default)]
    pub segment: u32,
}

impl SyncJob {
    /// The FIFO deduplication id: one per segment of one sync.
    pub fn dedup_id(&self) -> String {
        format!("{}-{}", self.sync_log_id, self.segment)
    }
}

/// A message on the documents queue asking for one document to be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "process_document")]
pub struct DocumentJob {
    pub org_id: String,
    pub document_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_jobs_carry_their_type_tag() {
        let job = SyncJob {
            org_id: "org_acme".into(),
            connector_id: "c1".into(),
            sync_log_id: "s1".into(),
            sync_type: SyncType::Manual,
            segment: 0,
        };
        let v = serde_json::to_value(&job).unwrap();
        assert_eq!(v["type"], "sync");
        assert_eq!(v["sync_type"], "manual");
        assert_eq!(serde_json::from_value::<SyncJob>(v).unwrap(), job);
    }
}

/// Emitted when a document is finished and its Markdown and chunks are stored, for downstream
/// indexing. Delivered at least once: consumers key on `document_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "document.processed")]
pub struct DocumentProcessed {
    pub org_id: String,
    pub document_id: String,
    pub connector_id: Option<String>,
    pub title: String,
    pub extracted_key: Option<String>,
    pub chunks_key: Option<String>,
    #[serde(default)]
    pub transcript_key: Option<String>,
    pub chunk_count: u32,
    pub duplicate_of: Option<String>,
}
