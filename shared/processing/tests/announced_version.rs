//! A direct upload is processed as the version S3 announced (the notification's ETag): it is
//! read with If-Match, so bytes that replaced it are never processed under the older
//! announcement, and the processed version's ETag is kept on the document, so a notification of
//! a replacement after processing is recognised instead of being taken for a redelivery.

mod common;

use common::{World, doc, sqs, upload, world};
use recorder_domain::document::ProcessingStatus;
use recorder_domain::memory::etag_of;
use recorder_jobs::doc_processor::handle_documents;
use recorder_processing::{Outcome, Run, process_version, version};
use serde_json::json;

const FIRST: &[u8] = b"# First\n\n- the file as uploaded\n";
const SECOND: &[u8] = b"# Second\n\n- the file that replaced it\n";

/// S3's object-created notification of one version of `key`.
fn announced(message_id: &str, key: &str, bytes: &[u8]) -> aws_lambda_events::event::sqs::SqsEvent {
    let body = json!({"Records": [{"eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "files"},
               "object": {"key": key, "size": bytes.len(), "eTag": etag_of(bytes)}}}]});
    sqs(message_id, &body, 1)
}

fn replace(w: &World, key: &str, bytes: &[u8]) {
    w.m.blobs
        .objects
        .lock()
        .unwrap()
        .insert(key.into(), (bytes.to_vec(), "text/markdown".into()));
}

fn stored(w: &World, key: &str) -> String {
    let objects = w.m.blobs.objects.lock().unwrap();
    String::from_utf8(objects[key].0.clone()).unwrap()
}

async fn deliver(w: &World, event: aws_lambda_events::event::sqs::SqsEvent) {
    let resp = handle_documents(&w.m.deps, &w.options, event, None).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
}

#[tokio::test]
async fn the_announced_version_is_processed_and_its_etag_is_kept_on_the_document() {
    let w = world().await;
    let key = upload(&w, "d1", "notes.md", FIRST.to_vec()).await;
    deliver(&w, announced("m-1", &key, FIRST)).await;
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Completed, "{d:?}");
    assert_eq!(
        d.source_metadata["original_etag"].as_str(),
        Some(etag_of(FIRST).as_str())
    );
    assert!(stored(&w, d.extracted_key.as_deref().unwrap()).contains("# First"));
}

#[tokio::test]
async fn bytes_that_replaced_the_announced_version_are_left_to_their_own_notification() {
    let w = world().await;
    let key = upload(&w, "d1", "notes.md", FIRST.to_vec()).await;
    // Replaced before the first notification was handled.
    replace(&w, &key, SECOND);
    deliver(&w, announced("m-1", &key, FIRST)).await;
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Pending, "{d:?}");
    assert!(d.processing_lease.is_none(), "the lease is given back");
    assert!(d.extracted_key.is_none(), "nothing was processed");
    let queued = w.m.queue.document_jobs.lock().unwrap().clone();
    assert_eq!(
        queued.len(),
        1,
        "queued once more, for the version stored now"
    );

    deliver(&w, announced("m-2", &key, SECOND)).await;
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Completed, "{d:?}");
    assert_eq!(
        d.source_metadata["original_etag"].as_str(),
        Some(etag_of(SECOND).as_str())
    );
    assert!(stored(&w, d.extracted_key.as_deref().unwrap()).contains("# Second"));
}

#[tokio::test]
async fn an_original_replaced_after_it_was_processed_is_not_processed_again() {
    let w = world().await;
    let key = upload(&w, "d1", "notes.md", FIRST.to_vec()).await;
    deliver(&w, announced("m-1", &key, FIRST)).await;
    let before = doc(&w, "d1").await;
    assert_eq!(before.processing_status, ProcessingStatus::Completed);

    replace(&w, &key, SECOND);
    deliver(&w, announced("m-2", &key, SECOND)).await;
    let after = doc(&w, "d1").await;
    assert_eq!(after.processing_status, ProcessingStatus::Completed);
    assert_eq!(after.extracted_key, before.extracted_key);
    assert_eq!(after.content_hash, before.content_hash);
    assert_eq!(
        after.source_metadata["original_etag"].as_str(),
        Some(etag_of(FIRST).as_str()),
        "still the version that was processed"
    );
    assert!(w.m.queue.document_jobs.lock().unwrap().is_empty());

    let outcome = process_version(
        &w.m.deps,
        "org_acme",
        "d1",
        Some(&etag_of(SECOND)),
        &w.options,
        &Run::unlimited(),
    )
    .await
    .unwrap();
    assert_eq!(outcome, Outcome::Skipped(version::REPLACED));
}

#[tokio::test]
async fn a_job_without_an_announcement_records_the_version_it_read() {
    let w = world().await;
    let key = upload(&w, "d1", "notes.md", FIRST.to_vec()).await;
    replace(&w, &key, SECOND);
    deliver(&w, common::job("m-job", "d1")).await;
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Completed, "{d:?}");
    assert_eq!(
        d.source_metadata["original_etag"].as_str(),
        Some(etag_of(SECOND).as_str())
    );
    // Its own notification, arriving afterwards, is a redelivery of the same version.
    deliver(&w, announced("m-2", &key, SECOND)).await;
    assert_eq!(doc(&w, "d1").await.version, d.version);
}
