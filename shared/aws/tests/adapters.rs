//! The AWS adapters over the wire against a real moto server, with the resources created from
//! template.yaml. Conditional writes, counters, TTL attributes, FIFO grouping, redrive and
//! presigned URLs really happen here.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use chrono::Utc;
use common::stack;
use recorder_domain::StoreError;
use recorder_domain::connector::*;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::ids::new_id;
use recorder_domain::jobs::{DocumentJob, SyncJob};
use recorder_domain::memory::test_connector;
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::*;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::sync_log::{SyncLog, SyncType};
use recorder_domain::upload::{BatchStatus, UploadBatch};
use recorder_domain::webhook::WebhookEvent;

mod common;

fn connector(org: &str, name: &str) -> Connector {
    let now = Utc::now();
    Connector {
        settings: serde_json::json!({"a": 1}),
        ..test_connector(&new_id(), org, ConnectorType::FileUpload, name, now)
    }
}

fn document(org: &str, connector_id: &str, external_id: &str) -> ImportedDocument {
    let mut doc = ImportedDocument::new_pending(
        new_id(),
        org,
        Some(connector_id),
        external_id.into(),
        Utc::now(),
    );
    doc.title = "Report.pdf".into();
    doc.mime_type = Some("application/pdf".into());
    doc.size_bytes = Some(10);
    doc
}

#[tokio::test]
async fn a_connector_name_is_unique_per_org_and_type_by_a_conditional_write() {
    let s = stack().await;
    let a = connector("org_a", "Team files");
    s.deps.connectors.create(&a).await.unwrap();
    let dup = s
        .deps
        .connectors
        .create(&connector("org_a", "team files"))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::ConditionFailed(_)), "{dup:?}");
    s.deps
        .connectors
        .create(&connector("org_b", "Team files"))
        .await
        .unwrap();
    let got = s
        .deps
        .connectors
        .get("org_a", &a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, a);
    assert!(
        s.deps
            .connectors
            .get("org_b", &a.id)
            .await
            .unwrap()
            .is_none(),
        "another org's id is not found"
    );
}

#[tokio::test]
async fn a_replace_with_a_stale_version_fails_and_a_rename_moves_the_name() {
    let s = stack().await;
    let a = connector("o", "A");
    s.deps.connectors.create(&a).await.unwrap();
    let mut renamed = a.clone();
    renamed.name = "B".into();
    renamed.updated_at = a.updated_at + chrono::Duration::seconds(1);
    s.deps.connectors.replace(&a, &renamed).await.unwrap();
    // The same stale version again loses.
    let mut again = a.clone();
    again.description = Some("x".into());
    assert!(matches!(
        s.deps.connectors.replace(&a, &again).await,
        Err(StoreError::ConditionFailed(_))
    ));
    // "A" is free again, "B" is taken.
    s.deps
        .connectors
        .create(&connector("o", "A"))
        .await
        .unwrap();
    assert!(
        s.deps
            .connectors
            .create(&connector("o", "b"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_document_counts_are_never_lost_and_a_replace_keeps_them() {
    let s = stack().await;
    let a = connector("o", "A");
    s.deps.connectors.create(&a).await.unwrap();
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let store = s.deps.connectors.clone();
            let id = a.id.clone();
            tokio::spawn(async move { store.add_documents_count("o", &id, 1).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut edited = a.clone();
    edited.description = Some("edited from a stale read".into());
    edited.updated_at = a.updated_at + chrono::Duration::seconds(1);
    s.deps.connectors.replace(&a, &edited).await.unwrap();
    let got = s.deps.connectors.get("o", &a.id).await.unwrap().unwrap();
    assert_eq!(got.documents_count, 25);
    assert_eq!(got.description.as_deref(), Some("edited from a stale read"));
}

#[tokio::test]
async fn due_connectors_come_from_the_schedule_index() {
    let s = stack().await;
    let now = Utc::now();
    let mut due = connector("o", "due");
    due.sync_frequency = SyncFrequency::Hourly;
    due.next_sync_at = Some(now - chrono::Duration::minutes(1));
    let mut later = connector("o", "later");
    later.sync_frequency = SyncFrequency::Hourly;
    later.next_sync_at = Some(now + chrono::Duration::hours(1));
    let mut paused = due.clone();
    paused.id = new_id();
    paused.name = "paused".into();
    paused.status = ConnectorStatus::Paused;
    for c in [&due, &later, &paused] {
        s.deps.connectors.create(c).await.unwrap();
    }
    let found: Vec<_> = s
        .deps
        .connectors
        .list_due(now, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, vec![due.id.clone()]);
    // Disabling it (a replace) takes it out of the index.
    let mut off = due.clone();
    off.status = ConnectorStatus::Paused;
    off.updated_at = due.updated_at + chrono::Duration::seconds(1);
    s.deps.connectors.replace(&due, &off).await.unwrap();
    assert!(
        s.deps
            .connectors
            .list_due(now, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn listings_page_with_opaque_cursors_that_only_work_for_their_own_listing() {
    let s = stack().await;
    for i in 0..5 {
        s.deps
            .connectors
            .create(&connector("org_a", &format!("c{i}")))
            .await
            .unwrap();
    }
    let p1 = s
        .deps
        .connectors
        .list("org_a", &PageRequest::new(Some(2), None))
        .await
        .unwrap();
    assert_eq!(p1.items.len(), 2);
    let cursor = p1.next_cursor.clone().expect("more pages");
    let p2 = s
        .deps
        .connectors
        .list("org_a", &PageRequest::new(Some(10), Some(cursor.clone())))
        .await
        .unwrap();
    assert_eq!(p2.items.len(), 3);
    assert!(
        p2.items
            .iter()
            .all(|c| p1.items.iter().all(|d| d.id != c.id))
    );
    let stolen = s
        .deps
        .connectors
        .list("org_b", &PageRequest::new(Some(2), Some(cursor)))
        .await;
    assert!(matches!(stolen, Err(StoreError::InvalidCursor)));
    let garbage = s
        .deps
        .connectors
        .list(
            "org_a",
            &PageRequest::new(Some(2), Some("not-a-cursor".into())),
        )
        .await;
    assert!(matches!(garbage, Err(StoreError::InvalidCursor)));
}

#[tokio::test]
async fn an_external_id_is_imported_once_per_connector_and_found_by_hash_when_completed() {
    let s = stack().await;
    let d = document("o", "c1", "drive-file-1");
    s.deps.documents.create(&d).await.unwrap();
    let dup = document("o", "c1", "drive-file-1");
    assert!(matches!(
        s.deps.documents.create(&dup).await,
        Err(StoreError::ConditionFailed(_))
    ));
    s.deps
        .documents
        .create(&document("o", "c2", "drive-file-1"))
        .await
        .unwrap();
    assert_eq!(
        s.deps
            .documents
            .find_by_external_id("c1", "drive-file-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        d.id
    );

    assert!(
        s.deps
            .documents
            .find_completed_by_hash("o", "abc")
            .await
            .unwrap()
            .is_none()
    );
    // Writes are conditional on the version read: a copy read before another write is refused.
    let mut stale = d.clone();
    let mut deleted = d.clone();
    deleted.is_deleted = true;
    assert!(s.deps.documents.update(&mut deleted).await.unwrap());
    assert_eq!(deleted.version, 1);
    stale.processing_status = ProcessingStatus::Completed;
    assert!(!s.deps.documents.update(&mut stale).await.unwrap());
    assert!(!s.deps.documents.finish(&stale).await.unwrap());
    let stored = s.deps.documents.get(&d.id).await.unwrap().unwrap();
    assert!(stored.is_deleted && stored.processing_status == ProcessingStatus::Pending);
    assert_eq!(stored.version, 1);

    let mut done = stored;
    done.is_deleted = false;
    done.content_hash = Some("abc".into());
    done.processing_status = ProcessingStatus::Completed;
    assert!(s.deps.documents.finish(&done).await.unwrap());
    assert_eq!(
        s.deps.documents.get(&d.id).await.unwrap().unwrap().version,
        2
    );
    assert_eq!(
        s.deps
            .documents
            .find_completed_by_hash("o", "abc")
            .await
            .unwrap()
            .unwrap()
            .id,
        d.id
    );
    assert!(
        s.deps
            .documents
            .find_completed_by_hash("other_org", "abc")
            .await
            .unwrap()
            .is_none()
    );
    let listed = s
        .deps
        .documents
        .list_by_connector("c1", &PageRequest::new(None, None))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn a_replayed_webhook_event_is_stored_once() {
    let s = stack().await;
    let e = WebhookEvent {
        source: "zoom".into(),
        event_id: "evt-1".into(),
        event_type: "recording.completed".into(),
        connector_id: None,
        org_id: None,
        payload: serde_json::json!({"k": "v"}),
        headers: Default::default(),
        processed: false,
        processed_at: None,
        processing_error: None,
        retry_count: 0,
        received_at: Utc::now(),
    };
    assert!(s.deps.webhook_events.record(&e).await.unwrap());
    assert!(!s.deps.webhook_events.record(&e).await.unwrap());
    s.deps
        .webhook_events
        .mark_processed("zoom", "evt-1", Utc::now(), Some("boom"))
        .await
        .unwrap();
    let got = s
        .deps
        .webhook_events
        .get("zoom", "evt-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.retry_count, 1);
    assert!(!got.processed);
}

#[tokio::test]
async fn only_lost_conditional_writes_and_cancelled_transactions_are_condition_failures() {
    let s = stack().await;
    let c = connector("org_a", "Lost writes");
    s.deps.connectors.create(&c).await.unwrap();
    let doc = document("org_a", &c.id, "ext-1");
    s.deps.documents.create(&doc).await.unwrap();
    // A single conditional write that lost: the version it was read at has moved on.
    let mut first = doc.clone();
    assert!(s.deps.documents.update(&mut first).await.unwrap());
    let mut stale = doc.clone();
    assert!(!s.deps.documents.update(&mut stale).await.unwrap());
    // A transaction cancelled by its condition: the same external id imported again.
    let err = s
        .deps
        .documents
        .create(&document("org_a", &c.id, "ext-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed(_)), "{err:?}");

    // Refusals for other reasons (here a missing table) are failures of the store, never a
    // taken name or a lost race.
    let missing = recorder_aws::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&s.sdk),
        "no-such-table",
    );
    let err = ConnectorStore::create(&missing, &connector("org_a", "Elsewhere"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
    let err = DocumentStore::update(&missing, &mut doc.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err:?}");
}

#[tokio::test]
async fn concurrent_batch_counters_never_lose_an_increment() {
    let s = stack().await;
    let b = UploadBatch {
        id: new_id(),
        org_id: "o".into(),
        user_id: "u".into(),
        name: None,
        total_files: 60,
        processed_files: 0,
        failed_files: 0,
        status: BatchStatus::Processing,
        created_at: Utc::now(),
        completed_at: None,
        document_ids: vec![],
    };
    s.deps.batches.create(&b).await.unwrap();
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let store = s.deps.batches.clone();
            let id = b.id.clone();
            tokio::spawn(async move {
                if i % 3 == 0 {
                    store.add_counts(&id, 0, 1).await
                } else {
                    store.add_counts(&id, 1, 0).await
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let got = s.deps.batches.get(&b.id).await.unwrap().unwrap();
    assert_eq!((got.processed_files, got.failed_files), (40, 20));
    s.deps
        .batches
        .set_status(&b.id, BatchStatus::Completed, Some(Utc::now()))
        .await
        .unwrap();
    let got = s.deps.batches.get(&b.id).await.unwrap().unwrap();
    assert_eq!(got.status, BatchStatus::Completed);
    assert_eq!(
        got.processed_files, 40,
        "a status change keeps the counters"
    );
}

#[tokio::test]
async fn the_import_quota_admits_exactly_up_to_its_limit_under_concurrency() {
    let s = stack().await;
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let usage = s.deps.usage.clone();
            tokio::spawn(async move { usage.reserve_imports("o", "2026-11", 1, 20).await })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 20);
    assert_eq!(
        s.deps
            .usage
            .reserve_imports("o", "2026-11", 1, 20)
            .await
            .unwrap(),
        Err(20),
        "refusals report the count and add nothing"
    );
    assert_eq!(
        s.deps
            .usage
            .reserve_imports("o", "2026-11", 30, 20)
            .await
            .unwrap(),
        Err(20)
    );
    assert_eq!(
        s.deps
            .usage
            .reserve_imports("o", "2026-12", 5, 20)
            .await
            .unwrap(),
        Ok(5),
        "a new month starts at zero"
    );
    assert_eq!(
        s.deps
            .usage
            .reserve_imports("other", "2026-11", 20, 20)
            .await
            .unwrap(),
        Ok(20),
        "orgs are counted apart"
    );
}

#[tokio::test]
async fn an_oauth_state_has_a_ttl_attribute_and_is_single_use() {
    let s = stack().await;
    let state = OAuthState {
        state: new_id(),
        org_id: "o".into(),
        user_id: "u".into(),
        provider: "google_drive".into(),
        code_verifier: Some("v".into()),
        redirect_after: None,
        expires_at: Utc::now() + chrono::Duration::minutes(10),
        browser_nonce_hash: Some("ab12".into()),
    };
    s.deps.oauth_states.put(&state).await.unwrap();
    // Reading does not use it up (a callback from another browser only reads).
    for _ in 0..2 {
        let read = s
            .deps
            .oauth_states
            .get(&state.state)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.browser_nonce_hash.as_deref(), Some("ab12"));
        assert_eq!(read.expires_at.timestamp(), state.expires_at.timestamp());
    }
    let raw = aws_sdk_dynamodb::Client::new(&s.sdk)
        .get_item()
        .table_name(&s.config.table_name)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("OAUTH#{}", state.state)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("OAUTH".into()),
        )
        .send()
        .await
        .unwrap();
    let ttl = raw.item.unwrap().get("expires_at").cloned().unwrap();
    assert_eq!(
        ttl.as_n().unwrap(),
        &state.expires_at.timestamp().to_string(),
        "TTL is epoch seconds in a number"
    );
    let ttl_desc = aws_sdk_dynamodb::Client::new(&s.sdk)
        .describe_time_to_live()
        .table_name(&s.config.table_name)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl_desc.time_to_live_description.unwrap().attribute_name(),
        Some("expires_at")
    );

    let taken = s
        .deps
        .oauth_states
        .take(&state.state)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.expires_at.timestamp(), state.expires_at.timestamp());
    assert!(
        s.deps
            .oauth_states
            .take(&state.state)
            .await
            .unwrap()
            .is_none(),
        "a state is used once"
    );
}

#[tokio::test]
async fn sync_logs_list_newest_first() {
    let s = stack().await;
    let ids: Vec<_> = (0..3).map(|_| new_id()).collect();
    for id in &ids {
        s.deps
            .sync_logs
            .put(&SyncLog::queued(
                id.clone(),
                "c1".into(),
                "o".into(),
                SyncType::Manual,
                Utc::now(),
            ))
            .await
            .unwrap();
    }
    let listed: Vec<_> = s
        .deps
        .sync_logs
        .list("c1", &PageRequest::new(None, None))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(listed, expected);
}

#[tokio::test]
async fn presigned_urls_upload_and_download_through_s3() {
    let s = stack().await;
    let key = "org_a/connectors/file_upload/c1/2026-11-24/original/d1-report.txt";
    let put_url = s
        .deps
        .blobs
        .presign_put(key, "text/plain", 20, Duration::from_secs(300))
        .await
        .unwrap();
    assert!(put_url.contains("X-Amz-Signature"), "{put_url}");
    let http = reqwest::Client::new();
    let resp = http
        .put(&put_url)
        .header("content-type", "text/plain")
        .header("if-none-match", "*")
        .body("hello from a browser")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(
        s.deps.blobs.get(key).await.unwrap().unwrap(),
        b"hello from a browser"
    );
    let get_url = s
        .deps
        .blobs
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        http.get(&get_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "hello from a browser"
    );
    assert!(s.deps.blobs.get("missing/key").await.unwrap().is_none());
}

#[tokio::test]
async fn a_connectors_sync_jobs_are_delivered_one_at_a_time_and_deduplicated() {
    let s = stack().await;
    let job = |c: &str, log: &str| SyncJob {
        org_id: "o".into(),
        connector_id: c.into(),
        sync_log_id: log.into(),
        sync_type: SyncType::Manual,
        segment: 0,
    };
    s.deps.queue.send_sync(&job("A", "a1")).await.unwrap();
    s.deps.queue.send_sync(&job("A", "a1")).await.unwrap(); // same dedup id: dropped
    s.deps.queue.send_sync(&job("A", "a2")).await.unwrap();
    s.deps.queue.send_sync(&job("B", "b1")).await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&s.sdk);
    let receive = || async {
        let out = sqs
            .receive_message()
            .queue_url(&s.config.sync_jobs_queue_url)
            .max_number_of_messages(1)
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default().into_iter().next()
    };
    let first = receive().await.expect("a1");
    assert!(first.body().unwrap().contains("\"a1\""));
    // While a1 is in flight, A's next job waits; B's is delivered.
    let second = receive().await.expect("b1");
    assert!(
        second.body().unwrap().contains("\"b1\""),
        "{:?}",
        second.body()
    );
    assert!(receive().await.is_none(), "a2 must wait for a1");
    sqs.delete_message()
        .queue_url(&s.config.sync_jobs_queue_url)
        .receipt_handle(first.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    let third = receive().await.expect("a2 after a1 is done");
    assert!(third.body().unwrap().contains("\"a2\""));
}

#[tokio::test]
async fn a_document_job_received_too_often_is_redriven_to_the_dead_letter_queue() {
    let s = stack().await;
    s.deps
        .queue
        .send_document(&DocumentJob {
            org_id: "o".into(),
            document_id: "d1".into(),
        })
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&s.sdk);
    let url = &s.config.documents_queue_url;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .unwrap();
    let policy = attrs.attributes.unwrap()[&QueueAttributeName::RedrivePolicy].clone();
    assert!(policy.contains("DocumentsDeadLetterQueue"), "{policy}");
    // The queue also holds the s3:TestEvent that S3 sends when notifications are configured.
    let mut receives = 0;
    for _ in 0..20 {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .visibility_timeout(0)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let msgs = out.messages.unwrap_or_default();
        if msgs.is_empty() {
            break;
        }
        receives += msgs
            .iter()
            .filter(|m| m.body().unwrap_or_default().contains("\"d1\""))
            .count();
    }
    assert_eq!(receives, 5, "maxReceiveCount from template.yaml");
    let dlq_url = sqs
        .get_queue_url()
        .queue_name(
            url.rsplit('/')
                .next()
                .unwrap()
                .replace("DocumentsQueue", "DocumentsDeadLetterQueue"),
        )
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dead = sqs
        .receive_message()
        .queue_url(dlq_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(
        dead.iter()
            .filter(|m| m.body().unwrap_or_default().contains("\"d1\""))
            .count(),
        1
    );
}

#[tokio::test]
async fn tokens_live_in_one_secret_per_connector_and_app_secrets_are_cached() {
    let s = stack().await;
    let tokens = OAuthTokens {
        access_token: Secret::new("at-1"),
        refresh_token: Some(Secret::new("rt-1")),
        expires_at: None,
        scope: None,
    };
    s.deps.tokens.put_tokens("c1", &tokens).await.unwrap();
    let rotated = OAuthTokens {
        access_token: Secret::new("at-2"),
        ..tokens.clone()
    };
    s.deps.tokens.put_tokens("c1", &rotated).await.unwrap();
    assert_eq!(
        s.deps.tokens.get_tokens("c1").await.unwrap().unwrap(),
        rotated
    );
    assert!(
        !format!("{rotated:?}").contains("at-2"),
        "tokens never print"
    );
    s.deps.tokens.delete_tokens("c1").await.unwrap();
    assert!(s.deps.tokens.get_tokens("c1").await.unwrap().is_none());
    s.deps.tokens.delete_tokens("c1").await.unwrap();

    // App secrets: a value is read once and then served from the cache until the TTL passes.
    let sm = aws_sdk_secretsmanager::Client::new(&s.sdk);
    sm.put_secret_value()
        .secret_id(&s.config.app_secret_id)
        .secret_string(r#"{"zoom_webhook_secret":"first"}"#)
        .send()
        .await
        .unwrap();
    let app = Arc::clone(&s.deps.app_secrets);
    assert_eq!(
        app.get("zoom_webhook_secret")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "first"
    );
    sm.put_secret_value()
        .secret_id(&s.config.app_secret_id)
        .secret_string(r#"{"zoom_webhook_secret":"second"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        app.get("zoom_webhook_secret")
            .await
            .unwrap()
            .unwrap()
            .expose(),
        "first",
        "cached within the TTL"
    );
    assert!(app.get("google_client_secret").await.unwrap().is_none());
}

#[tokio::test]
async fn a_large_stream_goes_to_s3_in_parts_with_its_hash() {
    let s = stack().await;
    // 20 MiB in 1 MiB chunks: three multipart parts of at most 8 MiB each.
    let chunk = bytes::Bytes::from(vec![7u8; 1024 * 1024]);
    let chunks: Vec<Result<bytes::Bytes, recorder_domain::source::SourceError>> =
        (0..20).map(|_| Ok(chunk.clone())).collect();
    let stored = s
        .deps
        .blobs
        .put_stream(
            "o/big.bin",
            "application/octet-stream",
            Box::pin(futures::stream::iter(chunks)),
        )
        .await
        .unwrap();
    assert_eq!(stored.size, 20 * 1024 * 1024);
    let back = s.deps.blobs.get("o/big.bin").await.unwrap().unwrap();
    assert_eq!(back.len(), 20 * 1024 * 1024);
    use sha2::Digest;
    assert_eq!(stored.sha256, hex::encode(sha2::Sha256::digest(&back)));

    let small: Vec<Result<bytes::Bytes, recorder_domain::source::SourceError>> =
        vec![Ok(bytes::Bytes::from_static(b"tiny"))];
    let stored = s
        .deps
        .blobs
        .put_stream(
            "o/small.txt",
            "text/plain",
            Box::pin(futures::stream::iter(small)),
        )
        .await
        .unwrap();
    assert_eq!(stored.size, 4);

    // A download that fails midway leaves nothing behind.
    let failing: Vec<Result<bytes::Bytes, recorder_domain::source::SourceError>> =
        vec![Ok(chunk.clone()); 9]
            .into_iter()
            .chain([Err(recorder_domain::source::SourceError::Transient(
                "reset".into(),
            ))])
            .collect();
    assert!(
        s.deps
            .blobs
            .put_stream(
                "o/broken.bin",
                "application/octet-stream",
                Box::pin(futures::stream::iter(failing))
            )
            .await
            .is_err()
    );
    assert!(s.deps.blobs.get("o/broken.bin").await.unwrap().is_none());
}

#[tokio::test]
async fn a_lease_has_one_holder_until_released() {
    let s = stack().await;
    assert!(
        s.deps
            .locks
            .try_lock("refresh#c1", "w1", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !s.deps
            .locks
            .try_lock("refresh#c1", "w2", Duration::from_secs(30))
            .await
            .unwrap()
    );
    s.deps.locks.unlock("refresh#c1", "w2").await.unwrap(); // not the holder: no effect
    assert!(
        !s.deps
            .locks
            .try_lock("refresh#c1", "w2", Duration::from_secs(30))
            .await
            .unwrap()
    );
    s.deps.locks.unlock("refresh#c1", "w1").await.unwrap();
    assert!(
        s.deps
            .locks
            .try_lock("refresh#c1", "w2", Duration::from_secs(30))
            .await
            .unwrap()
    );
    // An expired lease can be taken over.
    assert!(
        s.deps
            .locks
            .try_lock("short", "a", Duration::from_millis(1))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        s.deps
            .locks
            .try_lock("short", "b", Duration::from_secs(30))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn worker_state_survives_edits_and_webhook_channels_are_found_and_listed_by_expiry() {
    let s = stack().await;
    let c = connector("o", "Drive");
    s.deps.connectors.create(&c).await.unwrap();
    s.deps
        .connectors
        .set_cursor("o", &c.id, Some("{\"cursor\":\"42\"}"))
        .await
        .unwrap();
    let now = Utc::now();
    let hook = WebhookState {
        url: Some("https://x/y".into()),
        active: true,
        channel_id: Some("ch-1".into()),
        resource_id: Some("r".into()),
        expires_at: Some(now + chrono::Duration::minutes(10)),
    };
    s.deps
        .connectors
        .set_webhook(&c, &hook, None)
        .await
        .unwrap();

    let mut edited = c.clone();
    edited.name = "Drive (team)".into();
    edited.updated_at = c.updated_at + chrono::Duration::seconds(1);
    s.deps.connectors.replace(&c, &edited).await.unwrap();
    let got = s.deps.connectors.get("o", &c.id).await.unwrap().unwrap();
    assert_eq!(got.sync_cursor.as_deref(), Some("{\"cursor\":\"42\"}"));
    assert_eq!(got.webhook, hook);

    assert_eq!(
        s.deps
            .connectors
            .find_by_channel("ch-1")
            .await
            .unwrap()
            .unwrap()
            .id,
        c.id
    );
    let soon = s
        .deps
        .connectors
        .list_webhooks_expiring(now + chrono::Duration::minutes(15), 10)
        .await
        .unwrap();
    assert_eq!(soon.len(), 1);
    assert!(
        s.deps
            .connectors
            .list_webhooks_expiring(now + chrono::Duration::minutes(5), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let renewed = WebhookState {
        channel_id: Some("ch-2".into()),
        expires_at: Some(now + chrono::Duration::hours(2)),
        ..hook.clone()
    };
    s.deps
        .connectors
        .set_webhook(&got, &renewed, Some(&hook))
        .await
        .unwrap();
    assert!(
        s.deps
            .connectors
            .find_by_channel("ch-1")
            .await
            .unwrap()
            .is_none(),
        "the old channel is forgotten"
    );
    assert_eq!(
        s.deps
            .connectors
            .find_by_channel("ch-2")
            .await
            .unwrap()
            .unwrap()
            .id,
        c.id
    );
}

#[tokio::test]
async fn a_client_fills_a_multipart_upload_through_presigned_part_urls_and_we_complete_it() {
    let s = stack().await;
    let key = "org/connectors/file_upload/direct/2026-11-24/original/d9-big.bin";
    let upload_id = s
        .deps
        .blobs
        .start_multipart(key, "application/octet-stream")
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let part1 = vec![1u8; 5 * 1024 * 1024];
    let part2 = vec![2u8; 1024];
    let mut parts = Vec::new();
    for (n, body) in [(1u32, part1.clone()), (2, part2.clone())] {
        let url = s
            .deps
            .blobs
            .presign_part(
                key,
                &upload_id,
                n,
                body.len() as u64,
                Duration::from_secs(300),
            )
            .await
            .unwrap();
        let resp = http.put(&url).body(body).send().await.unwrap();
        assert!(resp.status().is_success(), "part {n}: {}", resp.status());
        parts.push(UploadedPart {
            part_number: n,
            etag: resp.headers()["etag"].to_str().unwrap().to_string(),
        });
    }
    let size = s
        .deps
        .blobs
        .complete_multipart(key, &upload_id, &parts)
        .await
        .unwrap();
    assert_eq!(size, (part1.len() + part2.len()) as u64);
    let back = s.deps.blobs.get(key).await.unwrap().unwrap();
    assert_eq!(&back[..3], &[1, 1, 1]);
    assert_eq!(back[back.len() - 1], 2);
}

#[tokio::test]
async fn range_reads_return_the_slice_and_the_whole_size() {
    let s = stack().await;
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    s.deps
        .blobs
        .put("org/r/obj.bin", body.clone(), "application/octet-stream")
        .await
        .unwrap();
    let r = s
        .deps
        .blobs
        .get_range("org/r/obj.bin", 1000, 5000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((r.bytes.as_slice(), r.total), (&body[1000..6000], 100_000));
    let tail = s
        .deps
        .blobs
        .get_range("org/r/obj.bin", 99_000, 5000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        tail.bytes,
        &body[99_000..],
        "a range past the end is cut at the end"
    );
    let past = s
        .deps
        .blobs
        .get_range("org/r/obj.bin", 200_000, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((past.bytes.len(), past.total), (0, 100_000));
    s.deps
        .blobs
        .put("org/r/empty", Vec::new(), "text/plain")
        .await
        .unwrap();
    let empty = s
        .deps
        .blobs
        .get_range("org/r/empty", 0, 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((empty.bytes.len(), empty.total), (0, 0));
    assert!(
        s.deps
            .blobs
            .get_range("org/r/missing", 0, 10)
            .await
            .unwrap()
            .is_none()
    );
}
