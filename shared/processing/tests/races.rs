//! The document worker racing other writers of the same record: a sync's soft delete, a newer
//! version queued by a re-sync, another delivery of the same message. Neither side's write is
//! lost, and a stale result never replaces a newer version.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use recorder_domain::StoreError;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::memory::{MemoryDeps, MemoryStore};
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::DocumentStore;
use recorder_processing::{Options, Outcome, process_document};

const KEY: &str = "org_acme/connectors/file_upload/uploads/2026-11-24/original/d1-notes.md";

type Change = Box<dyn FnOnce(&mut ImportedDocument) + Send>;

/// The in-memory store, with another writer's change landing just before the worker writes its
/// result (after its claim, which is a write too).
struct RaceAtResult {
    inner: Arc<MemoryStore>,
    change: Mutex<Option<Change>>,
}

#[async_trait]
impl DocumentStore for RaceAtResult {
    async fn create(&self, doc: &ImportedDocument) -> Result<(), StoreError> {
        self.inner.create(doc).await
    }
    async fn get(&self, id: &str) -> Result<Option<ImportedDocument>, StoreError> {
        DocumentStore::get(self.inner.as_ref(), id).await
    }
    async fn update(&self, doc: &mut ImportedDocument) -> Result<bool, StoreError> {
        self.inner.update(doc).await
    }
    async fn find_by_external_id(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        self.inner
            .find_by_external_id(connector_id, external_id)
            .await
    }
    async fn list_by_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ImportedDocument>, StoreError> {
        self.inner.list_by_connector(connector_id, page).await
    }
    async fn finish(&self, doc: &ImportedDocument) -> Result<bool, StoreError> {
        if let Some(change) = self.change.lock().unwrap().take() {
            self.inner.race_next_write(change);
        }
        self.inner.finish(doc).await
    }
    async fn find_completed_by_hash(
        &self,
        org_id: &str,
        hash: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        self.inner.find_completed_by_hash(org_id, hash).await
    }
    async fn list_stale_processing(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ImportedDocument>, StoreError> {
        self.inner.list_stale_processing(before, limit).await
    }
}

/// A Markdown upload waiting to be processed; `race` is another writer's change made while it
/// is.
async fn world(race: impl FnOnce(&mut ImportedDocument) + Send + 'static) -> MemoryDeps {
    let mut m = MemoryDeps::new();
    m.deps.documents = Arc::new(RaceAtResult {
        inner: m.store.clone(),
        change: Mutex::new(Some(Box::new(race))),
    });
    m.blobs.objects.lock().unwrap().insert(
        KEY.into(),
        (
            b"# Notes\n\n- one\n- two\n".to_vec(),
            "text/markdown".into(),
        ),
    );
    let mut doc = ImportedDocument::new_pending(
        "d1".into(),
        "org_acme",
        None,
        "d1".into(),
        chrono::Utc::now(),
    );
    doc.title = "notes.md".into();
    doc.original_key = Some(KEY.into());
    m.deps.documents.create(&doc).await.unwrap();
    m
}

async fn process(m: &MemoryDeps) -> Outcome {
    let options = Options::from_lookup(&|_| None).unwrap();
    process_document(&m.deps, "org_acme", "d1", &options)
        .await
        .unwrap()
}

async fn doc(m: &MemoryDeps) -> ImportedDocument {
    m.deps.documents.get("d1").await.unwrap().unwrap()
}

#[tokio::test]
async fn a_soft_delete_made_while_the_document_is_processed_is_kept_beside_the_result() {
    let m = world(|d| {
        d.is_deleted = true;
        d.deleted_at = Some(chrono::Utc::now());
        d.source_metadata["fingerprint"] = "v1".into();
    })
    .await;
    let outcome = process(&m).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    let d = doc(&m).await;
    assert!(
        d.is_deleted && d.deleted_at.is_some(),
        "the delete was lost"
    );
    assert_eq!(d.processing_status, ProcessingStatus::Completed);
    assert!(d.chunk_count > 0 && d.extracted_key.is_some(), "{d:?}");
    // Metadata merges key by key: the sync's key and the worker's both stay.
    assert_eq!(d.source_metadata["fingerprint"], "v1");
    assert_eq!(d.source_metadata["format"], "markdown");
}

#[tokio::test]
async fn a_result_of_a_version_replaced_meanwhile_is_not_written() {
    let newer = "org_acme/connectors/file_upload/uploads/2026-11-24/original/d1-notes-v2.md";
    let m = world(move |d| {
        d.processing_status = ProcessingStatus::Pending;
        d.sync_count += 1;
        d.original_key = Some(newer.into());
    })
    .await;
    let outcome = process(&m).await;
    assert!(
        matches!(outcome, Outcome::Skipped(why) if why.contains("new version")),
        "{outcome:?}"
    );
    let d = doc(&m).await;
    assert_eq!(d.processing_status, ProcessingStatus::Pending);
    assert_eq!(d.original_key.as_deref(), Some(newer));
    assert!(d.extracted_key.is_none() && d.chunk_count == 0, "{d:?}");
}

#[tokio::test]
async fn a_document_another_delivery_finished_first_is_left_as_it_finished() {
    let m = world(|d| {
        d.processing_status = ProcessingStatus::Completed;
        d.chunk_count = 99;
    })
    .await;
    let outcome = process(&m).await;
    assert!(
        matches!(outcome, Outcome::Skipped("already processed")),
        "{outcome:?}"
    );
    assert_eq!(doc(&m).await.chunk_count, 99);
}
