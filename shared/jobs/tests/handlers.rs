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

#[tokio::test]
async fn the_doc_processor_acknowledges_s3_test_events_and_fails_what_it_cannot_process() {
    let resp = doc_processor::handle_documents(sqs(include_str!(
        "../../../events/doc-processor-s3-test-event.json"
    )))
    .await;
    assert!(resp.batch_item_failures.is_empty());
    let resp = doc_processor::handle_documents(sqs(include_str!(
        "../../../events/doc-processor-s3-upload.json"
    )))
    .await;
    assert_eq!(resp.batch_item_failures.len(), 1);
    let resp = doc_processor::handle_documents(sqs(include_str!(
        "../../../events/doc-processor-job.json"
    )))
    .await;
    assert_eq!(resp.batch_item_failures.len(), 1);
}
