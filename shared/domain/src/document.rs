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
    /// How many times the stored record was written. Every write is conditional on it, so a
    /// sync's soft delete and a worker's result never overwrite each other.
    #[serde(default)]
    pub version: u64,
    /// Who is processing this version and since when (while `processing`): a second delivery
    /// of the same document leaves it alone unless the lease is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_lease: Option<ProcessingLease>,
    /// The `sync_count` of the version whose processing was found stale (timed out, out of
    /// memory) and queued again by the sweep; a second time it fails instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_requeue_of: Option<u32>,
}

/// A processing lease older than this belongs to a worker that is gone: the doc-processor's
/// Lambda timeout (900 s in template.yaml) plus a minute. Another delivery may take it over, and
/// the scheduler's sweep requeues or fails the document.
pub const PROCESSING_STALE_AFTER: chrono::Duration = chrono::Duration::seconds(900 + 60);

/// The claim one worker holds on a document while it processes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingLease {
    /// The SQS message id of the delivery holding it (a redelivery of the same message may take
    /// it back at once).
    pub owner: String,
    pub started_at: DateTime<Utc>,
}

impl ProcessingLease {
    /// Older than `stale_after`: its worker is gone (timed out, ran out of memory, crashed).
    pub fn is_stale(&self, now: DateTime<Utc>, stale_after: chrono::Duration) -> bool {
        self.started_at + stale_after < now
    }
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
            version: 0,
            processing_lease: None,
            stale_requeue_of: None,
        }
    }

    /// Completed as a duplicate of `original`: the same bytes, processed once, its artifacts
    /// shared.
    pub fn mark_duplicate_of(&mut self, original: &ImportedDocument) {
        self.processing_status = ProcessingStatus::Completed;
        self.processing_error = None;
        self.duplicate_of = Some(original.id.clone());
        self.extracted_key = original.extracted_key.clone();
        self.chunks_key = original.chunks_key.clone();
        self.transcript_key = original.transcript_key.clone();
        self.chunk_count = original.chunk_count;
    }

    /// This copy's changes since `base` (the record as it was read), replayed on `current` (the
    /// record as another writer left it). Objects such as `source_metadata` merge key by key;
    /// where both sides changed the same value, this copy wins. The result carries `current`'s
    /// version, ready for the next conditional write.
    pub fn rebase(&self, base: &ImportedDocument, current: &ImportedDocument) -> ImportedDocument {
        let to_json =
            |d: &ImportedDocument| serde_json::to_value(d).expect("a document serializes");
        let merged = merge3(&to_json(base), &to_json(self), &to_json(current));
        let mut out: ImportedDocument =
            serde_json::from_value(merged).expect("a merge of documents is a document");
        out.version = current.version;
        out
    }
}

/// Three-way merge of JSON values: ours where we changed it, theirs otherwise.
fn merge3(base: &Value, ours: &Value, theirs: &Value) -> Value {
    match (base, ours, theirs) {
        (Value::Object(b), Value::Object(o), Value::Object(t)) => {
            let mut out = serde_json::Map::new();
            for key in o.keys().chain(t.keys()) {
                if out.contains_key(key) {
                    continue;
                }
                let merged = match (b.get(key), o.get(key), t.get(key)) {
                    (Some(b), Some(o), Some(t)) => Some(merge3(b, o, t)),
                    // Added on one side only, or removed by a side that did not otherwise change it.
                    (b, o, t) if o == b => t.cloned(),
                    (_, o, _) => o.cloned(),
                };
                if let Some(v) = merged {
                    out.insert(key.clone(), v);
                }
            }
            Value::Object(out)
        }
        _ if ours == base => theirs.clone(),
        _ => ours.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rebase_keeps_both_sides_changes_and_ours_where_both_changed_one() {
        let now = Utc::now();
        let mut base = ImportedDocument::new_pending("d".into(), "o", None, "e".into(), now);
        base.source_metadata = json!({"fingerprint": "v1", "owner": "dana"});
        base.version = 3;
        let mut ours = base.clone();
        ours.processing_status = ProcessingStatus::Completed;
        ours.chunk_count = 4;
        ours.title = "ours".into();
        ours.source_metadata["format"] = json!("Pdf");
        let mut theirs = base.clone();
        theirs.is_deleted = true;
        theirs.title = "theirs".into();
        theirs.source_metadata["owner"] = json!("lee");
        theirs
            .source_metadata
            .as_object_mut()
            .unwrap()
            .remove("fingerprint");
        theirs.version = 4;

        let merged = ours.rebase(&base, &theirs);
        assert!(merged.is_deleted);
        assert_eq!(merged.processing_status, ProcessingStatus::Completed);
        assert_eq!(merged.chunk_count, 4);
        assert_eq!(merged.title, "ours");
        assert_eq!(
            merged.source_metadata,
            json!({"owner": "lee", "format": "Pdf"})
        );
        assert_eq!(merged.version, 4);
    }
}
