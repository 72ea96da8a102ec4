//! A direct upload is processed only as the file that was declared: one stored larger than its
//! declared size (a single PUT that a store let through without checking the signed length) is
//! deleted before it is read, and the document fails with a reason a person can act on.

use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::memory::MemoryDeps;
use recorder_processing::{Options, Outcome, process_document};

const KEY: &str = "org_acme/connectors/file_upload/direct/2026-11-24/original/d1-notes.md";

/// An upload declared at `declared` bytes whose stored object holds `body`.
async fn upload(declared: u64, body: &[u8]) -> MemoryDeps {
    let m = MemoryDeps::new();
    m.blobs
        .objects
        .lock()
        .unwrap()
        .insert(KEY.into(), (body.to_vec(), "text/markdown".into()));
    let mut doc = ImportedDocument::new_pending(
        "d1".into(),
        "org_acme",
        None,
        "d1".into(),
        chrono::Utc::now(),
    );
    doc.title = "notes.md".into();
    doc.mime_type = Some("text/markdown".into());
    doc.size_bytes = Some(declared);
    doc.source_metadata = serde_json::json!({"declared_size": declared});
    doc.original_key = Some(KEY.into());
    m.deps.documents.create(&doc).await.unwrap();
    m
}

async fn process(m: &MemoryDeps) -> Outcome {
    process_document(
        &m.deps,
        "org_acme",
        "d1",
        &Options::from_lookup(&|_| None).unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_upload_stored_larger_than_declared_is_deleted_and_fails_before_it_is_read() {
    let body = "# Notes\n\n".repeat(3 * 1024 * 1024 / 9);
    let m = upload(1024 * 1024, body.as_bytes()).await;
    let outcome = process(&m).await;
    let reason = "uploaded 3 MB but declared 1 MB; upload it again with its real size";
    assert_eq!(
        outcome,
        Outcome::Failed {
            reason: reason.into()
        }
    );
    let d = m.deps.documents.get("d1").await.unwrap().unwrap();
    assert_eq!(d.processing_status, ProcessingStatus::Failed);
    assert_eq!(d.processing_error.as_deref(), Some(reason));
    assert!(
        m.blobs.objects.lock().unwrap().get(KEY).is_none(),
        "deleted"
    );
    assert!(m.blobs.range_reads.lock().unwrap().is_empty(), "never read");
}

#[tokio::test]
async fn an_upload_of_its_declared_size_is_processed() {
    let body = b"# Notes\n\n- one\n";
    let m = upload(body.len() as u64, body).await;
    let outcome = process(&m).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
}
