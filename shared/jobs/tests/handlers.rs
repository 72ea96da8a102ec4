//! The job handlers driven by the sample events in events/, against in-memory ports.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use recorder_domain::connector::SyncFrequency;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::paging::PageRequest;
use recorder_domain::service::connectors::{self, NewConnector};
use recorder_domain::sync_log::SyncStatus;
use recorder_domain::{Caller, Role};
use recorder_jobs::{doc_processor, scheduler, sync_worker};

fn sqs(json_text: &str) -> SqsEvent {
    serde_json::from_str(json_text).expect("sample SQS event parses")
}

fn admin() -> Caller {
    Caller {
        org_id: "org_acme".into(),
        user_id: "user_01".into(),
        role: Role::Admin,
    }
}

async fn upload_connector(m: &MemoryDeps, freq: SyncFrequency) -> String {
    let input = NewConnector {
        connector_type: "file_upload".into(),
        name: "uploads".into(),
        description: None,
        settings: None,
        filters: None,
        sync_frequency: Some(freq),
    };
    connectors::create(&m.deps, &admin(), input)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn the_sync_worker_runs_a_queued_job_and_ignores_its_redelivery() {
    let m = MemoryDeps::new();
    let id = upload_connector(&m, SyncFrequency::Manual).await;
    let log = connectors::request_sync(&m.deps, &admin(), &id)
        .await
        .unwrap();
    let mut event = sqs(include_str!("../../../events/sync-worker-job.json"));
    event.records.truncate(1);
    event.records[0].body = Some(serde_json::to_string(&m.queue.sent_sync_jobs()[0]).unwrap());
    let resp = sync_worker::handle_sync_jobs(&m.deps, event.clone(), None).await;
    assert!(resp.batch_item_failures.is_empty());
    let got = m.deps.sync_logs.get(&id, &log.id).await.unwrap().unwrap();
    assert_eq!(got.status, SyncStatus::Success);
    let again = sync_worker::handle_sync_jobs(&m.deps, event, None).await;
    assert!(
        again.batch_item_failures.is_empty(),
        "a duplicate delivery is acknowledged, not retried"
    );
}

#[tokio::test]
async fn a_sync_job_for_an_unknown_log_fails_and_blocks_the_rest_of_its_fifo_batch() {
    let m = MemoryDeps::new();
    let event = sqs(include_str!("../../../events/sync-worker-job.json"));
    assert_eq!(event.records.len(), 2);
    let resp = sync_worker::handle_sync_jobs(&m.deps, event, None).await;
    assert_eq!(resp.batch_item_failures.len(), 2);
}

#[tokio::test]
async fn a_malformed_sync_message_is_reported_failed() {
    let m = MemoryDeps::new();
    let mut event = sqs(include_str!("../../../events/sync-worker-job.json"));
    event.records.truncate(1);
    event.records[0].body = Some("{\"type\":\"sync\"}".into());
    let resp = sync_worker::handle_sync_jobs(&m.deps, event, None).await;
    assert_eq!(resp.batch_item_failures.len(), 1);
}

#[tokio::test]
async fn the_scheduler_tick_queues_due_connectors() {
    let m = MemoryDeps::new();
    let id = upload_connector(&m, SyncFrequency::Hourly).await;
    m.clock.advance(chrono::Duration::hours(2));
    let tick: EventBridgeEvent =
        serde_json::from_str(include_str!("../../../events/scheduler-tick.json")).unwrap();
    let report = scheduler::handle_tick(&m.deps, tick).await.unwrap();
    assert_eq!(report.queued, vec![id.clone()]);
    let logs = m
        .deps
        .sync_logs
        .list(&id, &PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(logs.items.len(), 1);
}

fn document(
    m: &MemoryDeps,
    id: &str,
    title: &str,
    key: &str,
    batch: Option<&str>,
) -> recorder_domain::document::ImportedDocument {
    let now = m.deps.clock.now();
    serde_json::from_value(serde_json::json!({
        "id": id, "org_id": "org_acme", "connector_id": null, "external_id": id, "external_url": null,
        "parent_external_id": null, "title": title, "mime_type": null, "size_bytes": null, "content_hash": null,
        "processing_status": "pending", "processing_error": null, "first_synced_at": now, "last_synced_at": now,
        "deleted_at": null, "original_key": key, "extracted_key": null, "chunks_key": null, "duplicate_of": null,
        "batch_id": batch, "updated_at": now
    }))
    .unwrap()
}

#[tokio::test]
async fn the_doc_processor_turns_an_upload_into_markdown_and_chunks_once() {
    let m = MemoryDeps::new();
    let key = "org_acme/connectors/file_upload/c1/2026-11-24/original/d1-notes.md";
    m.blobs.objects.lock().unwrap().insert(
        key.into(),
        (
            b"# Plan\n\n- ship\n- celebrate\n".to_vec(),
            "text/markdown".into(),
        ),
    );
    let batch = recorder_domain::upload::UploadBatch {
        id: "b1".into(),
        org_id: "org_acme".into(),
        user_id: "u".into(),
        name: None,
        total_files: 2,
        processed_files: 0,
        failed_files: 0,
        status: recorder_domain::upload::BatchStatus::Processing,
        created_at: m.deps.clock.now(),
        completed_at: None,
        document_ids: vec![],
    };
    m.deps.batches.create(&batch).await.unwrap();
    m.deps
        .documents
        .create(&document(&m, "d1", "notes.md", key, Some("b1")))
        .await
        .unwrap();
    let bad_key = "org_acme/connectors/file_upload/c1/2026-11-24/original/d2-report.docx";
    m.blobs.objects.lock().unwrap().insert(
        bad_key.into(),
        (
            b"this is not a zip".to_vec(),
            "application/octet-stream".into(),
        ),
    );
    m.deps
        .documents
        .create(&document(&m, "d2", "report.docx", bad_key, Some("b1")))
        .await
        .unwrap();

    // An S3 notification for d1 (key URL-encoded as S3 sends it) and a job for d2.
    let mut event = sqs(include_str!("../../../events/doc-processor-s3-upload.json"));
    let mut s3: serde_json::Value =
        serde_json::from_str(event.records[0].body.as_deref().unwrap()).unwrap();
    s3["Records"][0]["s3"]["object"]["key"] = serde_json::json!(key);
    // The version announced is the one stored (the pipeline reads it with If-Match).
    let etag = recorder_domain::memory::etag_of(b"# Plan\n\n- ship\n- celebrate\n");
    s3["Records"][0]["s3"]["object"]["eTag"] = serde_json::json!(etag);
    event.records[0].body = Some(s3.to_string());
    let mut job = sqs(include_str!("../../../events/doc-processor-job.json"));
    job.records[0].body = Some(
        serde_json::json!({"type": "process_document", "org_id": "org_acme", "document_id": "d2"})
            .to_string(),
    );
    event.records.push(job.records[0].clone());
    let resp =
        doc_processor::handle_documents(&m.deps, &Default::default(), event.clone(), None).await;
    assert!(resp.batch_item_failures.is_empty());

    let d1 = m.deps.documents.get("d1").await.unwrap().unwrap();
    assert_eq!(
        d1.processing_status,
        recorder_domain::document::ProcessingStatus::Completed
    );
    assert!(d1.chunk_count >= 1);
    let md = m
        .blobs
        .objects
        .lock()
        .unwrap()
        .get(d1.extracted_key.as_deref().unwrap())
        .unwrap()
        .0
        .clone();
    assert!(String::from_utf8(md).unwrap().contains("# Plan"));
    let chunks = m
        .blobs
        .objects
        .lock()
        .unwrap()
        .get(d1.chunks_key.as_deref().unwrap())
        .unwrap()
        .0
        .clone();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8(chunks).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["heading_path"][0], "Plan");
    let d2 = m.deps.documents.get("d2").await.unwrap().unwrap();
    assert_eq!(
        d2.processing_status,
        recorder_domain::document::ProcessingStatus::Failed
    );
    assert!(
        d2.processing_error.as_deref().unwrap().contains("DOCX"),
        "{:?}",
        d2.processing_error
    );

    let b = m.deps.batches.get("b1").await.unwrap().unwrap();
    assert_eq!(
        (b.processed_files, b.failed_files, b.status),
        (1, 1, recorder_domain::upload::BatchStatus::Completed)
    );
    // Delivered again: nothing is counted twice.
    doc_processor::handle_documents(&m.deps, &Default::default(), event, None).await;
    let b = m.deps.batches.get("b1").await.unwrap().unwrap();
    assert_eq!((b.processed_files, b.failed_files), (1, 1));
}

#[tokio::test]
async fn the_doc_processor_acknowledges_s3_test_events_and_unknown_documents() {
    let m = MemoryDeps::new();
    let resp = doc_processor::handle_documents(
        &m.deps,
        &Default::default(),
        sqs(include_str!(
            "../../../events/doc-processor-s3-test-event.json"
        )),
        None,
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    let resp = doc_processor::handle_documents(
        &m.deps,
        &Default::default(),
        sqs(include_str!("../../../events/doc-processor-job.json")),
        None,
    )
    .await;
    assert!(resp.batch_item_failures.is_empty());
    let mut broken = sqs(include_str!("../../../events/doc-processor-job.json"));
    broken.records[0].body = Some("not json".into());
    assert_eq!(
        doc_processor::handle_documents(&m.deps, &Default::default(), broken, None)
            .await
            .batch_item_failures
            .len(),
        1
    );
}

#[tokio::test]
async fn the_webhook_worker_reads_the_sample_delivery_and_fails_it_while_no_provider_receives_it() {
    // The build in this test registers no push: the message fails (redelivered, then
    // dead-lettered), never dropped, and a malformed neighbour fails alone.
    let m = MemoryDeps::new();
    let mut event = sqs(include_str!("../../../events/webhook-worker-delivery.json"));
    let mut bad = event.records[0].clone();
    bad.message_id = Some("not-json".into());
    bad.body = Some("{".into());
    event.records.push(bad);
    let resp = recorder_jobs::webhook_worker::handle_webhook_events(&m.deps, event).await;
    let failed: Vec<_> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["3c9e1a7b-5d2f-4e8a-b6c1-0f9d8e7a6b5c", "not-json"]);
    let job: recorder_domain::push::PushJob = serde_json::from_str(
        sqs(include_str!("../../../events/webhook-worker-delivery.json")).records[0]
            .body
            .as_deref()
            .unwrap(),
    )
    .expect("the sample body is a delivery");
    assert_eq!((job.source.as_str(), job.events.len()), ("drive", 1));
}
