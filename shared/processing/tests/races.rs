//! The document worker racing other writers of the same record: a sync's soft delete, a newer
//! version queued by a re-sync, another delivery of the same message. Neither side's write is
//! lost, and a stale result never replaces a newer version.

use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::memory::MemoryDeps;
use recorder_processing::{Options, Outcome, process_document};

const KEY: &str = "org_acme/connectors/file_upload/uploads/2026-11-24/original/d1-notes.md";

/// A Markdown upload that a first delivery already marked `processing`, so the next conditional
/// write of the record is the worker's result.
async fn world() -> MemoryDeps {
    let m = MemoryDeps::new();
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
    doc.processing_status = ProcessingStatus::Processing;
    m.deps.documents.create(&doc).await.unwrap();
    m
}

async fn process(m: &MemoryDeps) -> Outcome {
    let options = Options::from_lookup(&|_| None);
    process_document(&m.deps, "org_acme", "d1", &options)
        .await
        .unwrap()
}

async fn doc(m: &MemoryDeps) -> ImportedDocument {
    m.deps.documents.get("d1").await.unwrap().unwrap()
}

#[tokio::test]
async fn a_soft_delete_made_while_the_document_is_processed_is_kept_beside_the_result() {
    let m = world().await;
    m.store.race_next_write(|d| {
        d.is_deleted = true;
        d.deleted_at = Some(chrono::Utc::now());
        d.source_metadata["fingerprint"] = "v1".into();
    });
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
    assert_eq!(d.source_metadata["format"], "Markdown");
}

#[tokio::test]
async fn a_result_of_a_version_replaced_meanwhile_is_not_written() {
    let m = world().await;
    let newer = "org_acme/connectors/file_upload/uploads/2026-11-24/original/d1-notes-v2.md";
    m.store.race_next_write(move |d| {
        d.processing_status = ProcessingStatus::Pending;
        d.sync_count += 1;
        d.original_key = Some(newer.into());
    });
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
    let m = world().await;
    m.store.race_next_write(|d| {
        d.processing_status = ProcessingStatus::Completed;
        d.chunk_count = 99;
    });
    let outcome = process(&m).await;
    assert!(
        matches!(outcome, Outcome::Skipped("already processed")),
        "{outcome:?}"
    );
    assert_eq!(doc(&m).await.chunk_count, 99);
}
