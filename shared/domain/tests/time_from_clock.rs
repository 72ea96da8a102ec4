//! Uploads and URL imports take their time from the Clock port, never the machine's clock. The
//! clock is set years away from today, so a stamp read from the system shows.

use chrono::{DateTime, Duration, TimeZone, Utc};
use recorder_domain::document::ProcessingStatus;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::service::upload_checks::fail_document;
use recorder_domain::service::uploads::{self, BatchRequest, FileSpec};
use recorder_domain::service::url_import::{self, ImportRequest};

mod common;

use common::{member, upload};

fn then() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 3, 4, 5, 6, 7).unwrap()
}

fn at_then() -> MemoryDeps {
    let m = MemoryDeps::new();
    *m.clock.0.lock().unwrap() = then();
    m
}

#[tokio::test]
async fn a_requested_upload_is_created_and_filed_at_the_clocks_time() {
    let m = at_then();
    let t = upload(&m, "notes.txt", 42).await;
    let doc = m.deps.documents.get(&t.document_id).await.unwrap().unwrap();
    assert_eq!((doc.first_synced_at, doc.updated_at), (then(), then()));
    let key = doc.original_key.unwrap();
    assert!(key.contains("/2031-03-04/"), "{key}");
}

#[tokio::test]
async fn a_batch_is_created_failed_retried_and_settled_at_the_clocks_time() {
    let m = at_then();
    let req = BatchRequest {
        name: None,
        connector_id: None,
        files: vec![FileSpec {
            name: "a.txt".into(),
            size: 3,
            content_type: "text/plain".into(),
        }],
    };
    let (view, tickets) = uploads::request_batch(&m.deps, &member(), req)
        .await
        .unwrap();
    let (batch_id, doc_id) = (view.batch.id, tickets[0].document_id.clone());
    assert_eq!(view.batch.created_at, then());
    let doc = m.deps.documents.get(&doc_id).await.unwrap().unwrap();
    assert_eq!(doc.first_synced_at, then());

    m.clock.advance(Duration::minutes(1));
    let failed = fail_document(&m.deps, &doc_id, "could not be read")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.updated_at, then() + Duration::minutes(1));
    let batch = m.deps.batches.get(&batch_id).await.unwrap().unwrap();
    assert_eq!(batch.completed_at, Some(then() + Duration::minutes(1)));

    m.clock.advance(Duration::minutes(1));
    uploads::retry_batch(&m.deps, &member(), &batch_id)
        .await
        .unwrap();
    let doc = m.deps.documents.get(&doc_id).await.unwrap().unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Pending);
    assert_eq!(doc.updated_at, then() + Duration::minutes(2));
}

#[tokio::test]
async fn an_imported_url_is_queued_and_queued_again_at_the_clocks_time() {
    let m = at_then();
    let req = || ImportRequest {
        url: Some("https://example.com/page".into()),
        urls: None,
        connector_id: None,
    };
    let docs = url_import::import(&m.deps, &member(), req()).await.unwrap();
    assert_eq!(
        (docs[0].first_synced_at, docs[0].updated_at),
        (then(), then())
    );

    m.clock.advance(Duration::minutes(1));
    let again = url_import::import(&m.deps, &member(), req()).await.unwrap();
    assert_eq!(again[0].id, docs[0].id);
    let later = then() + Duration::minutes(1);
    assert_eq!(
        (again[0].updated_at, again[0].last_synced_at),
        (later, later)
    );
}
