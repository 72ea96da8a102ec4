//! No document stays non-final after its message reaches the documents queue's dead-letter queue
//! (its worker crashed, timed out or ran out of memory on every receive, or storage was down so
//! it was never claimed): the doc-processor drains that queue and fails each document with a
//! reason a person can act on, unless it finished or moved on to a newer version meanwhile.

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::{DateTime, Utc};
use common::{World, doc, s3_notification, upload, wav, world};
use recorder_domain::document::{PROCESSING_STALE_AFTER, ProcessingLease, ProcessingStatus};
use recorder_domain::ports::Clock;
use recorder_jobs::doc_processor::handle_documents;
use recorder_processing::Options;
use serde_json::json;

const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:documents-dlq";

/// The world's options, with the dead-letter queue configured as the template sets it.
fn options(w: &World) -> Options {
    let base = w.fake.base_url();
    Options::from_lookup(&|k| match k {
        "TRANSCRIPTION_BASE_URL" => Some(base.clone()),
        "DOCUMENTS_DLQ_ARN" => Some(DLQ_ARN.into()),
        _ => None,
    })
    .unwrap()
}

/// A message as Lambda delivers it from the dead-letter queue: first sent at `sent`, received
/// once more than the source queue allows.
fn dead_letter(message_id: &str, body: serde_json::Value, sent: DateTime<Utc>) -> SqsEvent {
    serde_json::from_value(json!({"Records": [{
        "messageId": message_id, "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": "6",
            "SentTimestamp": sent.timestamp_millis().to_string()},
        "eventSourceARN": DLQ_ARN}]}))
    .unwrap()
}

fn job_body(id: &str) -> serde_json::Value {
    json!({"type": "process_document", "org_id": "org_acme", "document_id": id})
}

/// Marks `id` as taken by `owner` now, as a worker's claim does.
async fn held_by(w: &World, id: &str, owner: &str) {
    let mut d = doc(w, id).await;
    d.processing_status = ProcessingStatus::Processing;
    d.processing_lease = Some(ProcessingLease {
        owner: owner.into(),
        started_at: w.m.clock.now(),
    });
    assert!(w.m.deps.documents.update(&mut d).await.unwrap());
}

fn reason_for(id: &str) -> String {
    format!(
        "processing kept failing (5 attempts); the file may be too large or damaged — try \
         again, or contact support with document id {id}"
    )
}

#[tokio::test]
async fn a_dead_lettered_document_ends_failed_with_a_reason_and_is_not_processed() {
    let w = world().await;
    let options = options(&w);
    let sent = Utc::now();
    // Never claimed: storage was down on every receive.
    upload(&w, "d1", "standup.wav", wav()).await;
    // Claimed by the message whose worker then vanished on every receive.
    upload(&w, "d2", "other.wav", wav()).await;
    held_by(&w, "d2", "m2").await;

    for (message, id) in [("m1", "d1"), ("m2", "d2")] {
        let resp = handle_documents(
            &w.m.deps,
            &options,
            dead_letter(message, job_body(id), sent),
            None,
        )
        .await;
        assert!(resp.batch_item_failures.is_empty(), "{id}: drained");
        let d = doc(&w, id).await;
        assert_eq!(d.processing_status, ProcessingStatus::Failed, "{id}");
        assert_eq!(d.processing_error, Some(reason_for(id)));
        assert_eq!(d.processing_lease, None);
    }
    // Held by a delivery whose worker is gone (its lease is stale): nobody else will finish it.
    upload(&w, "d3", "third.wav", wav()).await;
    held_by(&w, "d3", "m-gone").await;
    w.m.clock
        .advance(PROCESSING_STALE_AFTER + chrono::Duration::seconds(1));
    handle_documents(
        &w.m.deps,
        &options,
        dead_letter("m3", job_body("d3"), sent),
        None,
    )
    .await;
    assert_eq!(doc(&w, "d3").await.processing_error, Some(reason_for("d3")));
    assert!(
        w.fake.requests().is_empty(),
        "a dead letter is never processed"
    );
    assert!(w.m.queue.document_jobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_dead_lettered_upload_notification_fails_its_document() {
    let w = world().await;
    let options = options(&w);
    let sent = Utc::now();
    let key = upload(&w, "d1", "standup.wav", wav()).await;
    let mut event = s3_notification("m1", &key);
    event.records[0].event_source_arn = Some(DLQ_ARN.into());
    event.records[0]
        .attributes
        .insert("SentTimestamp".into(), sent.timestamp_millis().to_string());
    let resp = handle_documents(&w.m.deps, &options, event, None).await;
    assert!(resp.batch_item_failures.is_empty());
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Failed);
    assert_eq!(d.processing_error, Some(reason_for("d1")));
}

#[tokio::test]
async fn a_dead_letter_leaves_finished_and_newer_documents_alone_and_redelivery_changes_nothing() {
    let w = world().await;
    let options = options(&w);
    let sent = Utc::now();
    upload(&w, "done", "done.wav", wav()).await;
    let done = handle_documents(&w.m.deps, &options, common::job("m-ok", "done"), None).await;
    assert!(done.batch_item_failures.is_empty());
    let completed = doc(&w, "done").await;
    assert_eq!(completed.processing_status, ProcessingStatus::Completed);

    // Synced again after the dead-lettered message was sent: its own job will process it.
    upload(&w, "newer", "newer.wav", wav()).await;
    let mut newer = doc(&w, "newer").await;
    newer.sync_count += 1;
    newer.last_synced_at = sent + chrono::Duration::minutes(5);
    assert!(w.m.deps.documents.update(&mut newer).await.unwrap());
    let newer = doc(&w, "newer").await;

    // Held by another delivery that is still working on it.
    upload(&w, "held", "held.wav", wav()).await;
    held_by(&w, "held", "m-live").await;
    let held = doc(&w, "held").await;

    for (message, id) in [("m1", "done"), ("m2", "newer"), ("m3", "held")] {
        let resp = handle_documents(
            &w.m.deps,
            &options,
            dead_letter(message, job_body(id), sent),
            None,
        )
        .await;
        assert!(resp.batch_item_failures.is_empty(), "{id}");
    }
    assert_eq!(
        doc(&w, "done").await,
        completed,
        "a finished document is untouched"
    );
    assert_eq!(
        doc(&w, "newer").await,
        newer,
        "a newer version is left to its job"
    );
    assert_eq!(
        doc(&w, "held").await,
        held,
        "a live delivery is left to finish"
    );

    // A failed one stays as it is when the dead letter comes again.
    upload(&w, "d1", "standup.wav", wav()).await;
    handle_documents(
        &w.m.deps,
        &options,
        dead_letter("m4", job_body("d1"), sent),
        None,
    )
    .await;
    let failed = doc(&w, "d1").await;
    assert_eq!(failed.processing_status, ProcessingStatus::Failed);
    let again = handle_documents(
        &w.m.deps,
        &options,
        dead_letter("m4", job_body("d1"), sent),
        None,
    )
    .await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(doc(&w, "d1").await, failed, "a redelivery changes nothing");
    assert!(w.m.queue.document_jobs.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreadable_dead_letter_stays_in_the_dead_letter_queue() {
    let w = world().await;
    let options = options(&w);
    let resp = handle_documents(
        &w.m.deps,
        &options,
        dead_letter("m1", json!({"unexpected": true}), Utc::now()),
        None,
    )
    .await;
    assert_eq!(
        resp.batch_item_failures.len(),
        1,
        "kept for a person, not dropped"
    );
}
