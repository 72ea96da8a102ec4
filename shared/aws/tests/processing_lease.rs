//! The document pipeline's claim and sweep over the wire against moto, with the resources of
//! template.yaml: two deliveries of one document racing for its lease (a conditional write on
//! DynamoDB, one wins), stale leases listed through the sparse GSI2 partition, and the bucket
//! announcing direct uploads only.

use std::time::Duration;

use chrono::Utc;
use common::Stack;
use recorder_domain::Deps;
use recorder_domain::connector::ConnectorType;
use recorder_domain::document::{ImportedDocument, ProcessingLease, ProcessingStatus};
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_processing::{Options, Outcome, Run, process_document_as};

mod common;

/// A fresh stack with the doc-processor's settings.
async fn stack() -> Stack {
    common::stack_of("doc-processor", |_| None).await
}

/// A stored Markdown upload waiting to be processed.
async fn upload(deps: &Deps, id: &str) -> String {
    let now = Utc::now();
    let key = object_key(
        "org_l",
        ConnectorType::FileUpload,
        "uploads",
        now,
        ArtifactKind::Original,
        id,
        "notes.md",
    );
    deps.blobs
        .put(
            &key,
            format!("# Notes {id}\n\n- one\n").into_bytes(),
            "text/markdown",
        )
        .await
        .unwrap();
    let mut doc = ImportedDocument::new_pending(id.into(), "org_l", None, id.into(), now);
    doc.title = "notes.md".into();
    doc.original_key = Some(key.clone());
    deps.documents.create(&doc).await.unwrap();
    key
}

fn run(owner: &str) -> Run {
    Run {
        owner: owner.into(),
        deadline: None,
    }
}

#[tokio::test]
async fn of_two_deliveries_racing_for_one_document_one_processes_it_and_the_other_skips() {
    let s = stack().await;
    let options = Options::default();
    for i in 0..5 {
        let id = format!("d{i}");
        upload(&s.deps, &id).await;
        let (s3, job) = (run("m-s3"), run("m-job"));
        let (a, b) = tokio::join!(
            process_document_as(&s.deps, "org_l", &id, &options, &s3),
            process_document_as(&s.deps, "org_l", &id, &options, &job),
        );
        let outcomes = [a.unwrap(), b.unwrap()];
        let completed = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Completed { .. }))
            .count();
        assert_eq!(completed, 1, "{outcomes:?}");
        assert!(
            outcomes.iter().any(|o| matches!(o, Outcome::Skipped(_))),
            "{outcomes:?}"
        );
        let d = s.deps.documents.get(&id).await.unwrap().unwrap();
        assert_eq!(d.processing_status, ProcessingStatus::Completed);
        assert_eq!(d.processing_lease, None);
    }
}

#[tokio::test]
async fn a_lease_written_over_a_newer_version_is_refused() {
    let s = stack().await;
    upload(&s.deps, "d1").await;
    let read = s.deps.documents.get("d1").await.unwrap().unwrap();
    let claim = |owner: &str| {
        let mut d = read.clone();
        d.processing_status = ProcessingStatus::Processing;
        d.processing_lease = Some(ProcessingLease {
            owner: owner.into(),
            started_at: Utc::now(),
        });
        d
    };
    let (mut first, mut second) = (claim("m1"), claim("m2"));
    assert!(s.deps.documents.update(&mut first).await.unwrap());
    assert!(
        !s.deps.documents.update(&mut second).await.unwrap(),
        "the second claim read the same version: its write must fail"
    );
    let stored = s.deps.documents.get("d1").await.unwrap().unwrap();
    assert_eq!(stored.processing_lease.unwrap().owner, "m1");
}

#[tokio::test]
async fn documents_processing_under_an_old_lease_are_listed_oldest_first_for_the_sweep() {
    let s = stack().await;
    let now = Utc::now();
    for (id, minutes_ago, status) in [
        ("old", 40, ProcessingStatus::Processing),
        ("older", 60, ProcessingStatus::Processing),
        ("fresh", 1, ProcessingStatus::Processing),
        ("done", 60, ProcessingStatus::Completed),
    ] {
        upload(&s.deps, id).await;
        let mut d = s.deps.documents.get(id).await.unwrap().unwrap();
        d.processing_status = status;
        d.processing_lease = Some(ProcessingLease {
            owner: "m".into(),
            started_at: now - chrono::Duration::minutes(minutes_ago),
        });
        assert!(s.deps.documents.update(&mut d).await.unwrap());
    }
    let stale = s
        .deps
        .documents
        .list_stale_processing(now - chrono::Duration::minutes(16), 10)
        .await
        .unwrap();
    let ids: Vec<_> = stale.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["older", "old"]);
    // Once finished, a document leaves the listing.
    let mut d = stale[0].clone();
    d.processing_status = ProcessingStatus::Failed;
    d.processing_lease = None;
    assert!(s.deps.documents.update(&mut d).await.unwrap());
    let stale = s
        .deps
        .documents
        .list_stale_processing(now - chrono::Duration::minutes(16), 10)
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
}

#[tokio::test]
async fn the_bucket_announces_direct_uploads_and_nothing_we_write_ourselves() {
    let s = stack().await;
    let now = Utc::now();
    let key = |t, kind, id| object_key("org_l", t, "c1", now, kind, id, "a.txt");
    let upload = key(ConnectorType::FileUpload, ArtifactKind::Original, "d1");
    let synced = key(ConnectorType::GoogleDrive, ArtifactKind::Original, "d2");
    let imported = key(ConnectorType::UrlImport, ArtifactKind::Original, "d3");
    let artifact = key(ConnectorType::FileUpload, ArtifactKind::Extracted, "d1");
    for k in [&synced, &imported, &artifact, &upload] {
        s.deps
            .blobs
            .put(k, b"x".to_vec(), "text/plain")
            .await
            .unwrap();
    }
    let sqs = aws_sdk_sqs::Client::new(&s.sdk);
    let mut announced = Vec::new();
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        let out = sqs
            .receive_message()
            .queue_url(&s.config.documents_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        let received = messages.len();
        for m in messages {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            for r in body["Records"].as_array().into_iter().flatten() {
                let key = r["s3"]["object"]["key"].as_str().unwrap();
                announced.push(key.replace("%2F", "/"));
            }
        }
        // Moto announces as it stores: once something arrived, an empty receive means all did.
        if !announced.is_empty() && received == 0 {
            break;
        }
    }
    assert_eq!(announced, [upload]);
}

#[test]
fn the_doc_processor_knows_its_queues_receive_limit_and_its_leases_outlast_its_timeout() {
    let t = local_aws::Template::load(&local_aws::workspace_root().join("template.yaml")).unwrap();
    let resources = &t.root["Resources"];
    let max_receives =
        resources["DocumentsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
            .as_u64()
            .unwrap();
    let f = &resources["DocProcessorFunction"]["Properties"];
    let configured = f["Environment"]["Variables"]["DOCUMENTS_MAX_RECEIVE_COUNT"]
        .as_str()
        .unwrap();
    assert_eq!(configured, max_receives.to_string());
    let timeout = f["Timeout"].as_i64().unwrap();
    assert!(
        recorder_domain::document::PROCESSING_STALE_AFTER
            >= chrono::Duration::seconds(timeout + 30),
        "a lease must outlast the function's timeout"
    );
}
