//! Each document version is processed once, however many messages announce it: an S3
//! notification and an explicit job arriving together, or the same job delivered twice.

mod common;

use common::{doc, job, s3_notification, upload, wav, world};
use recorder_domain::connector::ConnectorType;
use recorder_domain::document::{PROCESSING_STALE_AFTER, ProcessingLease, ProcessingStatus};
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_domain::ports::Clock;
use recorder_jobs::doc_processor::handle_documents;

#[tokio::test]
async fn a_recording_announced_by_s3_and_by_a_job_at_once_is_transcribed_once() {
    let w = world().await;
    let key = upload(&w, "d1", "standup.wav", wav()).await;
    let (a, b) = tokio::join!(
        handle_documents(&w.m.deps, &w.options, s3_notification("m-s3", &key), None),
        handle_documents(&w.m.deps, &w.options, job("m-job", "d1"), None),
    );
    assert!(a.batch_item_failures.is_empty() && b.batch_item_failures.is_empty());
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Completed, "{d:?}");
    assert_eq!(
        w.fake.requests().len(),
        1,
        "transcription calls for one document"
    );
}

#[tokio::test]
async fn the_same_job_delivered_twice_at_once_is_transcribed_once() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    let (a, b) = tokio::join!(
        handle_documents(&w.m.deps, &w.options, job("m-1", "d1"), None),
        handle_documents(&w.m.deps, &w.options, job("m-2", "d1"), None),
    );
    assert!(a.batch_item_failures.is_empty() && b.batch_item_failures.is_empty());
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Completed
    );
    assert_eq!(w.fake.requests().len(), 1);
}

#[tokio::test]
async fn s3_notifications_for_files_we_wrote_ourselves_start_nothing() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    let now = chrono::Utc::now();
    // A synced file (queued by its sync), a URL import's page (stored by the worker that
    // fetched it: its notification made a second worker fetch it again) and an upload's own
    // artifact.
    let synced = object_key(
        "org_acme",
        ConnectorType::GoogleDrive,
        "c1",
        now,
        ArtifactKind::Original,
        "d1",
        "a.wav",
    );
    let fetched = object_key(
        "org_acme",
        ConnectorType::UrlImport,
        "c2",
        now,
        ArtifactKind::Original,
        "d1",
        "page.html",
    );
    let artifact = object_key(
        "org_acme",
        ConnectorType::FileUpload,
        "uploads",
        now,
        ArtifactKind::Extracted,
        "d1",
        "a.md",
    );
    for (i, key) in [synced, fetched, artifact].iter().enumerate() {
        let resp = handle_documents(
            &w.m.deps,
            &w.options,
            s3_notification(&format!("m{i}"), key),
            None,
        )
        .await;
        assert!(resp.batch_item_failures.is_empty());
    }
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Pending
    );
    assert!(w.fake.requests().is_empty());
}

#[tokio::test]
async fn a_lease_held_by_another_delivery_is_left_alone_until_it_is_stale() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    let mut d = doc(&w, "d1").await;
    d.processing_status = ProcessingStatus::Processing;
    d.processing_lease = Some(ProcessingLease {
        owner: "m-gone".into(),
        started_at: w.m.clock.now(),
    });
    assert!(w.m.deps.documents.update(&mut d).await.unwrap());

    handle_documents(&w.m.deps, &w.options, job("m-2", "d1"), None).await;
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Processing
    );
    assert!(
        w.fake.requests().is_empty(),
        "a live lease is not taken over"
    );

    // The holder timed out: past the function's timeout and a margin, the lease is stale.
    w.m.clock
        .advance(PROCESSING_STALE_AFTER + chrono::Duration::seconds(1));
    handle_documents(&w.m.deps, &w.options, job("m-3", "d1"), None).await;
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Completed);
    assert_eq!(d.processing_lease, None);
    assert_eq!(w.fake.requests().len(), 1);
}

#[tokio::test]
async fn a_redelivered_message_takes_its_own_lease_back_at_once() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    w.fake.fail_next(4, 503, Some(0));
    let first = handle_documents(&w.m.deps, &w.options, job("m-1", "d1"), None).await;
    assert_eq!(
        first.batch_item_failures.len(),
        1,
        "the endpoint is down: SQS retries"
    );
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Processing
    );
    let again = handle_documents(&w.m.deps, &w.options, job("m-1", "d1"), None).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Completed
    );
}
