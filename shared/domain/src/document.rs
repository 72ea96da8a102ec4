//! ImportedDocument: one file or page imported from a source, and its processing state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingStatus {
    Pending,
    Processing,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedDocument {
    pub id: String,
    pub org_id: String,
    /// None for direct uploads that belong to no connector.
    pub connector_id: Option<String>,
    /// The provider's id; unique per connector.
    pub external_id: String,
    pub external_url: Option<String>,
    pub parent_external_id: Option<String>,
    pub title: String,
    pub mime_type: Option<String>,
    pub size_bytes: Option<u64>,
    pub content_hash: Option<String>,
    pub processing_status: ProcessingStatus,
    pub processing_error: Option<String>,
    #[serde(default)]
    pub chunk_count: u32,
    #[serde(default)]
    pub source_metadata: Value,
    pub first_synced_at: DateTime<Utc>,
    pub last_synced_at: DateTime<Utc>,
    #[serde(default)]
    pub sync_count: u32,
    #[serde(default)]
    pub is_deleted: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub original_key: Option<String>,
    pub extracted_key: Option<String>,
    pub chunks_key: Option<String>,
    /// WebVTT transcript of audio and video (when a transcription endpoint is configured).
    #[serde(default)]
    pub transcript_key: Option<String>,
    /// Set when the same bytes were already processed in the org.
    pub duplicate_of: Option<String>,
    /// The upload batch this document arrived in, if any.
    pub batch_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl ImportedDocument {
    /// A document seen for the first time, waiting to be stored and processed; callers set the
    /// source-specific fields (title, URL, keys, metadata) on it.
    pub fn new_pending(
        id: String,
        org_id: &str,
        connector_id: Option<&str>,
        external_id: String,
        now: DateTime<Utc>,
    ) -> Self {
        ImportedDocument {
            id,
            org_id: org_id.to_owned(),
            connector_id: connector_id.map(str::to_owned),
            external_id,
            external_url: None,
            parent_external_id: None,
            title: String::new(),
            mime_type: None,
            size_bytes: None,
            content_hash: None,
            processing_status: ProcessingStatus::Pending,
            processing_error: None,
            chunk_count: 0,
            source_metadata: Value::Object(Default::default()),
            first_synced_at: now,
            last_synced_at: now,
            sync_count: 1,
            is_deleted: false,
            deleted_at: None,
            original_key: None,
            extracted_key: None,
            chunks_key: None,
            transcript_key: None,
            duplicate_of: None,
            batch_id: None,
            updated_at: now,
        }
    }
}
