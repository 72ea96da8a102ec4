//! Direct uploads with in-memory ports: the declared size is signed into every upload URL and
//! checked again at completion, originals download as attachments, and retrying a batch never
//! leaves it processing for good.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use recorder_domain::document::ProcessingStatus;
use recorder_domain::jobs::{DocumentJob, DocumentProcessed, SyncJob};
use recorder_domain::memory::{MemoryDeps, MemoryStore};
use recorder_domain::ports::{BlobStore, JobQueue};
use recorder_domain::service::connectors::artifact_url;
use recorder_domain::service::uploads::{self, BatchRequest, FileSpec, UploadRequest};
use recorder_domain::upload::BatchStatus;
use recorder_domain::{DomainError, StoreError};

mod common;

use common::{member, small_parts, upload};

#[tokio::test]
async fn a_single_upload_url_is_signed_for_the_declared_length() {
    let m = MemoryDeps::new();
    let t = upload(&m, "notes.txt", 42).await;
    assert_eq!(t.method, "put");
    assert!(
        t.url.as_deref().unwrap().contains("content-length=42"),
        "{t:?}"
    );
    assert_eq!(t.headers["content-length"], "42");
}

#[tokio::test]
async fn each_part_url_is_signed_for_its_own_length() {
    let m = small_parts();
    let t = upload(&m, "big.txt", 12).await;
    assert_eq!(t.method, "multipart");
    let lengths: Vec<_> = t
        .parts
        .iter()
        .map(|p| {
            p.url
                .split("content-length=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(lengths, ["5", "5", "2"]);
}

#[tokio::test]
async fn completing_an_upload_that_holds_more_than_declared_fails_it_and_keeps_nothing() {
    let m = small_parts();
    let t = upload(&m, "big.txt", 12).await;
    let upload_id = t.upload_id.clone().unwrap();
    for (n, len) in [(1, 5), (2, 5), (3, 7)] {
        m.blobs.upload_part(&upload_id, n, vec![b'x'; len]);
    }
    let err = uploads::complete_upload(&m.deps, &member(), &t.document_id, &upload_id, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::TooLarge(_)), "{err:?}");
    let doc = m.deps.documents.get(&t.document_id).await.unwrap().unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Failed);
    assert_eq!(
        doc.processing_error.as_deref(),
        Some("uploaded 17 bytes but declared 12 bytes; upload it again with its real size")
    );
    let key = doc.original_key.unwrap();
    assert_eq!(m.blobs.size(&key).await.unwrap(), None, "nothing completed");
    assert!(
        m.blobs.parts.lock().unwrap().is_empty(),
        "the parts are dropped"
    );
}

#[tokio::test]
async fn completing_an_upload_with_a_part_missing_or_short_is_refused_and_can_be_finished() {
    let m = small_parts();
    let t = upload(&m, "big.txt", 12).await;
    let upload_id = t.upload_id.clone().unwrap();
    let who = member();
    let complete = || uploads::complete_upload(&m.deps, &who, &t.document_id, &upload_id, &[]);
    m.blobs.upload_part(&upload_id, 1, vec![b'a'; 5]);
    m.blobs.upload_part(&upload_id, 3, vec![b'c'; 2]);
    let err = complete().await.unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidState(m) if m.contains("part 2 was not uploaded")),
        "{err:?}"
    );
    m.blobs.upload_part(&upload_id, 2, vec![b'b'; 4]);
    let err = complete().await.unwrap_err();
    assert!(
        matches!(&err, DomainError::InvalidState(m) if m.contains("part 2 holds 4 bytes")),
        "{err:?}"
    );
    m.blobs.upload_part(&upload_id, 2, vec![b'b'; 5]);
    let doc = complete().await.unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Pending);
    assert_eq!(doc.size_bytes, Some(12));
    let key = doc.original_key.unwrap();
    assert_eq!(m.blobs.get(&key).await.unwrap().unwrap(), b"aaaaabbbbbcc");
}

#[tokio::test]
async fn an_original_downloads_as_an_attachment_of_a_neutral_type() {
    let m = MemoryDeps::new();
    let req = UploadRequest {
        name: "résumé \"final\".html".into(),
        size: 10,
        content_type: "text/html".into(),
        connector_id: None,
    };
    let t = uploads::request_upload(&m.deps, &member(), req)
        .await
        .unwrap();
    let (url, _) = artifact_url(&m.deps, &member(), &t.document_id, "original")
        .await
        .unwrap();
    assert!(
        url.contains(
            "response-content-disposition=attachment; filename=\"r_sum_ _final_.html\"; \
             filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.html"
        ),
        "{url}"
    );
    assert!(
        url.contains("response-content-type=application/octet-stream"),
        "{url}"
    );
}

/// What the batch and the document looked like at the moment each job was sent.
struct WatchingQueue {
    store: Arc<MemoryStore>,
    batch_id: String,
    seen: Mutex<Vec<(ProcessingStatus, u64, BatchStatus)>>,
}

#[async_trait]
impl JobQueue for WatchingQueue {
    async fn send_sync(&self, _: &SyncJob) -> Result<(), StoreError> {
        Ok(())
    }
    async fn send_document(&self, job: &DocumentJob) -> Result<(), StoreError> {
        use recorder_domain::ports::{DocumentStore, UploadBatchStore};
        let doc = DocumentStore::get(&*self.store, &job.document_id)
            .await?
            .unwrap();
        let batch = UploadBatchStore::get(&*self.store, &self.batch_id)
            .await?
            .unwrap();
        self.seen
            .lock()
            .unwrap()
            .push((doc.processing_status, batch.failed_files, batch.status));
        Ok(())
    }
    async fn send_processed(&self, _: &DocumentProcessed) -> Result<(), StoreError> {
        Ok(())
    }
    async fn send_push(&self, _: &recorder_domain::push::PushJob) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A batch of two files that ended with one processed and one failed.
async fn settled_batch(m: &MemoryDeps) -> (String, String) {
    let files = ["a.txt", "b.txt"].map(|n| FileSpec {
        name: n.into(),
        size: 3,
        content_type: "text/plain".into(),
    });
    let req = BatchRequest {
        name: None,
        connector_id: None,
        files: files.to_vec(),
    };
    let (batch, tickets) = uploads::request_batch(&m.deps, &member(), req)
        .await
        .unwrap();
    for (t, status) in tickets
        .iter()
        .zip([ProcessingStatus::Completed, ProcessingStatus::Failed])
    {
        let mut d = m.deps.documents.get(&t.document_id).await.unwrap().unwrap();
        d.processing_status = status;
        d.processing_error =
            Some("could not be read".into()).filter(|_| status == ProcessingStatus::Failed);
        assert!(m.deps.documents.finish(&d).await.unwrap());
    }
    m.deps
        .batches
        .set_status(
            &batch.batch.id,
            BatchStatus::Completed,
            Some(chrono::Utc::now()),
        )
        .await
        .unwrap();
    (batch.batch.id, tickets[1].document_id.clone())
}

#[tokio::test]
async fn a_retried_file_is_queued_only_after_its_batch_is_reopened_and_recounted() {
    let mut m = MemoryDeps::new();
    let (batch_id, failed_doc) = settled_batch(&m).await;
    let queue = Arc::new(WatchingQueue {
        store: m.store.clone(),
        batch_id: batch_id.clone(),
        seen: Mutex::new(Vec::new()),
    });
    m.deps.queue = queue.clone();
    let view = uploads::retry_batch(&m.deps, &member(), &batch_id)
        .await
        .unwrap();
    // A worker that finishes the file the moment it is queued must find the batch open, with the
    // failure no longer counted; otherwise it settles the batch and the late recount reopens it
    // for good.
    assert_eq!(
        *queue.seen.lock().unwrap(),
        [(ProcessingStatus::Pending, 0, BatchStatus::Processing)]
    );
    assert_eq!(
        (view.batch.status, view.batch.failed_files),
        (BatchStatus::Processing, 0)
    );
    let doc = m.deps.documents.get(&failed_doc).await.unwrap().unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Pending);
}

#[tokio::test]
async fn a_retry_whose_job_cannot_be_queued_leaves_the_file_failed_and_the_batch_settled() {
    let m = MemoryDeps::new();
    let (batch_id, failed_doc) = settled_batch(&m).await;
    m.queue
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let err = uploads::retry_batch(&m.deps, &member(), &batch_id)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Store(_)), "{err:?}");
    let doc = m.deps.documents.get(&failed_doc).await.unwrap().unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Failed);
    assert!(
        doc.processing_error
            .as_deref()
            .is_some_and(|e| e.contains("could not be queued")),
        "{doc:?}"
    );
    let batch = m.deps.batches.get(&batch_id).await.unwrap().unwrap();
    assert_eq!(
        (batch.processed_files, batch.failed_files, batch.status),
        (1, 1, BatchStatus::Completed)
    );
}
