//! The sync engine against an in-memory source: initial and incremental syncs, soft deletes and
//! restores, per-item failures (sync_retries.rs has the rest), time-limit continuation, crash
//! resume, duplicate deliveries, and a revoked grant.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Duration;
use recorder_domain::connector::{Account, Connector, ConnectorStatus, ConnectorType};
use recorder_domain::document::ProcessingStatus;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::ports::TokenStore;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::connector_writes::queue_sync;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};
use recorder_domain::source::*;
use recorder_domain::sync_log::{SyncStatus, SyncType};

mod common;

const PAGE: usize = 3;

#[derive(Default)]
struct FakeSource {
    files: Mutex<BTreeMap<String, (SourceItem, Vec<u8>)>>,
    log: Mutex<Vec<Change>>,
    fail_fetch: Mutex<HashSet<String>>,
    fail_list_at_cursor: Mutex<Option<String>>,
    revoked: Mutex<bool>,
    lists: AtomicU32,
    /// Runs once, right after the given list call: the source changing while a sync runs.
    on_list: Mutex<Option<Hook>>,
}

type Hook = (u32, Box<dyn FnOnce(&FakeSource) + Send>);

impl FakeSource {
    fn put(&self, id: &str, content: &str, version: u32) {
        let item = SourceItem {
            external_id: id.into(),
            name: format!("{id}.txt"),
            mime_type: Some("text/plain".into()),
            size: Some(content.len() as u64),
            parents: vec!["root".into()],
            external_url: None,
            fingerprint: format!("v{version}"),
            metadata: serde_json::json!({"author": "dana"}),
        };
        self.files
            .lock()
            .unwrap()
            .insert(id.into(), (item.clone(), content.as_bytes().to_vec()));
        self.log.lock().unwrap().push(Change::Upsert(item));
    }
    fn remove(&self, id: &str) {
        self.files.lock().unwrap().remove(id);
        self.log.lock().unwrap().push(Change::Removed {
            external_id: id.into(),
        });
    }
}

#[async_trait]
impl Source for FakeSource {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account {
            id: Some("acct".into()),
            display_name: Some("Dana".into()),
            email: None,
        })
    }

    async fn list_changes(
        &self,
        cx: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        cx.meter.call();
        let n = self.lists.fetch_add(1, Ordering::SeqCst) + 1;
        let hook = {
            let mut h = self.on_list.lock().unwrap();
            if h.as_ref().is_some_and(|(at, _)| *at == n) {
                h.take()
            } else {
                None
            }
        };
        if *self.revoked.lock().unwrap() {
            return Err(SourceError::AuthRevoked("invalid_grant".into()));
        }
        let at = cursor.map(|c| c.parse::<usize>().unwrap()).unwrap_or(0);
        let mut fail = self.fail_list_at_cursor.lock().unwrap();
        if fail.is_some() && fail.as_deref() == cursor {
            *fail = None;
            return Err(SourceError::Transient("503 backendError".into()));
        }
        drop(fail);
        let page = {
            let log = self.log.lock().unwrap();
            let end = (at + PAGE).min(log.len());
            ChangePage {
                changes: log[at..end].to_vec(),
                cursor: end.to_string(),
                has_more: end < log.len(),
            }
        };
        if let Some((_, change)) = hook {
            change(self);
        }
        Ok(page)
    }

    async fn get_item(
        &self,
        _: &SourceContext,
        id: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        Ok(self.files.lock().unwrap().get(id).map(|(i, _)| i.clone()))
    }

    async fn fetch(
        &self,
        cx: &SourceContext,
        item: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        cx.meter.call();
        if self.fail_fetch.lock().unwrap().contains(&item.external_id) {
            return Err(SourceError::Item(
                "This file is too large to be exported.".into(),
            ));
        }
        let bytes = self
            .files
            .lock()
            .unwrap()
            .get(&item.external_id)
            .map(|(_, b)| b.clone())
            .ok_or(SourceError::Item("gone".into()))?;
        let stream = futures::stream::iter(vec![Ok(Bytes::from(bytes))]);
        Ok(FetchedContent {
            content_type: "text/plain".into(),
            stream: Box::pin(stream),
        })
    }
}

struct RevokingOAuth;

#[async_trait]
impl OAuthClient for RevokingOAuth {
    async fn authorize_url(&self, _: &str, _: &str, _: &str) -> Result<String, SourceError> {
        Ok(String::new())
    }
    async fn exchange_code(&self, _: &str, _: &str, _: &str) -> Result<OAuthTokens, SourceError> {
        Err(SourceError::Config("unused".into()))
    }
    async fn refresh(&self, _: &OAuthTokens) -> Result<OAuthTokens, SourceError> {
        Err(SourceError::AuthRevoked(
            "Token has been expired or revoked.".into(),
        ))
    }
}

struct World {
    m: MemoryDeps,
    source: Arc<FakeSource>,
    connector: Connector,
}

async fn world() -> World {
    let m = MemoryDeps::new();
    let source = Arc::new(FakeSource::default());
    m.providers
        .register(ConnectorType::GoogleDrive, source.clone());
    let connector = common::drive_connector(&m, Duration::hours(1)).await;
    World {
        m,
        source,
        connector,
    }
}

impl World {
    async fn sync(&self) -> (JobOutcome, recorder_domain::sync_log::SyncLog) {
        common::sync(&self.m, &self.connector).await
    }
    async fn docs(&self) -> Vec<recorder_domain::document::ImportedDocument> {
        common::docs(&self.m).await
    }
    async fn connector(&self) -> Connector {
        self.m
            .deps
            .connectors
            .get("org", "c1")
            .await
            .unwrap()
            .unwrap()
    }
}

#[tokio::test]
async fn an_initial_sync_imports_every_file_once_and_queues_it_for_processing() {
    let w = world().await;
    for i in 0..10 {
        w.source.put(&format!("f{i}"), &format!("content {i}"), 1);
    }
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.synced, 10);
    assert_eq!(log.progress.current, 10);
    assert!(
        log.api_calls_made >= 14,
        "4 list pages + 10 downloads, got {}",
        log.api_calls_made
    );
    assert_eq!(
        log.bytes_transferred,
        (0..10)
            .map(|i| format!("content {i}").len() as u64)
            .sum::<u64>()
    );
    let docs = w.docs().await;
    assert_eq!(docs.len(), 10);
    assert!(
        docs.iter()
            .all(|d| d.processing_status == ProcessingStatus::Pending && d.original_key.is_some())
    );
    assert_eq!(w.m.queue.document_jobs.lock().unwrap().len(), 10);
    assert_eq!(w.connector().await.documents_count, 10);
    let key = docs[0].original_key.clone().unwrap();
    assert!(w.m.blobs.objects.lock().unwrap().contains_key(&key));
    assert!(key.starts_with("org/connectors/google_drive/c1/"), "{key}");
}

#[tokio::test]
async fn an_incremental_sync_touches_exactly_the_changed_files() {
    let w = world().await;
    for i in 0..8 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    w.sync().await;
    w.source.put("f1", "edited", 2);
    w.source.put("f2", "edited too", 2);
    w.source.remove("f3");
    w.source.put("f9", "new", 1);
    let (_, log) = w.sync().await;
    assert_eq!(
        (log.counts.updated, log.counts.deleted, log.counts.synced),
        (2, 1, 1),
        "{:?}",
        log.counts
    );
    let docs = w.docs().await;
    let by_ext = |e: &str| docs.iter().find(|d| d.external_id == e).unwrap().clone();
    assert_eq!(by_ext("f1").sync_count, 2);
    assert_eq!(
        by_ext("f4").sync_count,
        1,
        "untouched files are not re-imported"
    );
    assert!(by_ext("f3").is_deleted);
    assert_eq!(w.connector().await.documents_count, 8);

    // A deleted file that comes back is restored, not duplicated.
    w.source.put("f3", "back", 3);
    let (_, log) = w.sync().await;
    assert_eq!(log.counts.updated, 1);
    assert!(
        !w.docs()
            .await
            .iter()
            .find(|d| d.external_id == "f3")
            .unwrap()
            .is_deleted
    );
    assert_eq!(w.docs().await.len(), 9);
}

#[tokio::test]
async fn a_worker_finishing_a_file_while_a_sync_deletes_or_updates_it_loses_neither_write() {
    let w = world().await;
    w.source.put("f1", "one", 1);
    w.source.put("f2", "two", 1);
    w.sync().await;
    let worker_finishes = |d: &mut recorder_domain::document::ImportedDocument| {
        d.processing_status = ProcessingStatus::Completed;
        d.chunk_count = 7;
    };
    // The document worker writes its result between the sync's read and its write.
    w.source.remove("f1");
    w.m.store.race_next_write(worker_finishes);
    let (_, log) = w.sync().await;
    assert_eq!(log.counts.deleted, 1, "{:?}", log.counts);
    let docs = w.docs().await;
    let f1 = docs.iter().find(|d| d.external_id == "f1").unwrap();
    assert!(f1.is_deleted, "the soft delete was kept");
    assert_eq!(
        (f1.processing_status, f1.chunk_count),
        (ProcessingStatus::Completed, 7),
        "the worker's result was kept"
    );

    w.source.put("f2", "two, edited", 2);
    w.m.store.race_next_write(worker_finishes);
    let (_, log) = w.sync().await;
    assert_eq!(log.counts.updated, 1, "{:?}", log.counts);
    let docs = w.docs().await;
    let f2 = docs.iter().find(|d| d.external_id == "f2").unwrap();
    assert_eq!(
        (f2.processing_status, f2.sync_count),
        (ProcessingStatus::Pending, 2),
        "the new version waits for processing"
    );
    assert_eq!(w.connector().await.documents_count, 1);
}

#[tokio::test]
async fn a_file_that_cannot_be_exported_makes_the_sync_partial_and_is_tried_again_when_it_changes()
{
    let w = world().await;
    for i in 0..5 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    w.source.fail_fetch.lock().unwrap().insert("f2".into());
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!(log.counts.synced, 4);
    assert_eq!(log.counts.failed, 1);
    assert_eq!(log.error_details[0].external_id, "f2");
    assert_eq!(log.error_details[0].name.as_deref(), Some("f2.txt"));
    assert!(log.error_details[0].reason.contains("too large"));
    assert!(log.error_details[0].permanent);

    w.source.fail_fetch.lock().unwrap().clear();
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(
        (log.counts.synced, log.counts.failed),
        (0, 0),
        "the same version is not fetched again"
    );
    w.source.put("f2", "c2, smaller", 2);
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.synced, 1, "the changed file is fetched again");
    assert_eq!(w.docs().await.len(), 5);
}

#[tokio::test]
async fn a_sync_cut_off_by_the_time_limit_continues_from_its_checkpoint() {
    let w = world().await;
    for i in 0..9 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    let log = queue_sync(&w.m.deps, &w.connector, SyncType::Manual, None)
        .await
        .unwrap();
    let job = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    // A deadline already within the margin: the engine stops before its first page.
    let deadline = w.m.deps.clock.now() + Duration::seconds(30);
    assert_eq!(
        run_sync_job(&w.m.deps, &job, Some(deadline)).await.unwrap(),
        JobOutcome::Continued { segment: 1 }
    );
    let follow_up = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    assert_eq!(follow_up.segment, 1);
    assert_ne!(follow_up.dedup_id(), job.dedup_id());
    // The original message delivered again is stale now.
    assert_eq!(
        run_sync_job(&w.m.deps, &job, None).await.unwrap(),
        JobOutcome::AlreadyHandled
    );
    assert_eq!(
        run_sync_job(&w.m.deps, &follow_up, None).await.unwrap(),
        JobOutcome::Finished(SyncStatus::Success)
    );
    let done =
        w.m.deps
            .sync_logs
            .get("c1", &log.id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(done.counts.synced, 9);
    assert_eq!(w.docs().await.len(), 9);
}

#[tokio::test]
async fn a_sync_that_crashes_midway_resumes_without_losing_or_duplicating_items() {
    let w = world().await;
    for i in 0..9 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    *w.source.fail_list_at_cursor.lock().unwrap() = Some("6".into());
    let log = queue_sync(&w.m.deps, &w.connector, SyncType::Manual, None)
        .await
        .unwrap();
    let job = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    assert!(
        run_sync_job(&w.m.deps, &job, None).await.is_err(),
        "the third page fails: SQS will redeliver"
    );
    assert_eq!(w.docs().await.len(), 6);
    let lists_before = w.source.lists.load(Ordering::SeqCst);
    // Redelivery of the same message.
    assert_eq!(
        run_sync_job(&w.m.deps, &job, None).await.unwrap(),
        JobOutcome::Finished(SyncStatus::Success)
    );
    assert_eq!(
        w.source.lists.load(Ordering::SeqCst) - lists_before,
        1,
        "resumes at the third page, not from the start"
    );
    let done =
        w.m.deps
            .sync_logs
            .get("c1", &log.id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(done.counts.synced, 9);
    assert_eq!(w.docs().await.len(), 9);
    assert_eq!(w.m.queue.document_jobs.lock().unwrap().len(), 9);
}

#[tokio::test]
async fn a_finished_sync_delivered_again_does_nothing() {
    let w = world().await;
    w.source.put("f0", "x", 1);
    w.sync().await;
    let job = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    assert_eq!(
        run_sync_job(&w.m.deps, &job, None).await.unwrap(),
        JobOutcome::AlreadyHandled
    );
    assert_eq!(w.docs().await[0].sync_count, 1);
}

#[tokio::test]
async fn a_revoked_grant_puts_the_connector_in_error_and_stops_its_syncs() {
    let w = world().await;
    w.m.providers
        .register_oauth(ConnectorType::GoogleDrive, Arc::new(RevokingOAuth));
    // The stored token has expired, so the engine must refresh first.
    let expired = OAuthTokens {
        access_token: Secret::new("old"),
        refresh_token: Some(Secret::new("rt")),
        expires_at: Some(w.m.deps.clock.now()),
        scope: None,
    };
    w.m.secrets.put_tokens("c1", &expired).await.unwrap();
    w.source.put("f0", "x", 1);
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Failed));
    assert!(log.error_message.unwrap().contains("reconnect needed"));
    let c = w.connector().await;
    assert_eq!(c.status, ConnectorStatus::Error);
    assert!(c.last_error.unwrap().contains("reconnect needed"));
    assert!(w.docs().await.is_empty());
}

#[tokio::test]
async fn the_same_bytes_already_processed_in_the_org_are_a_skipped_duplicate() {
    let w = world().await;
    w.source.put("a", "same bytes", 1);
    w.sync().await;
    let mut first = w.docs().await.remove(0);
    first.processing_status = ProcessingStatus::Completed;
    assert!(w.m.deps.documents.update(&mut first).await.unwrap());
    w.source.put("b", "same bytes", 1);
    let (_, log) = w.sync().await;
    assert_eq!(log.counts.skipped_duplicates, 1);
    let b = w
        .docs()
        .await
        .into_iter()
        .find(|d| d.external_id == "b")
        .unwrap();
    assert_eq!(b.duplicate_of.as_deref(), Some(first.id.as_str()));
    assert_eq!(
        w.m.queue.document_jobs.lock().unwrap().len(),
        1,
        "the duplicate is not processed again"
    );
}

#[tokio::test]
async fn filters_apply_before_download() {
    let w = world().await;
    let mut c = w.connector().await;
    let prev = c.clone();
    c.filters.file_types = vec!["application/pdf".into()];
    c.updated_at += Duration::seconds(1);
    w.m.deps.connectors.replace(&prev, &c).await.unwrap();
    w.source.put("f0", "text file", 1);
    let (_, log) = w.sync().await;
    assert_eq!(log.counts.synced, 0);
    assert_eq!(log.api_calls_made, 1, "listed but never downloaded");
}

#[tokio::test]
async fn a_redelivered_job_does_not_run_beside_its_still_running_first_delivery() {
    let w = world().await;
    w.source.put("f0", "x", 1);
    let job = common::queue(&w.m, &w.connector).await;
    // The first delivery's worker holds the lease (it is still running).
    assert!(
        w.m.deps
            .locks
            .try_lock(
                &format!("sync#{}", job.sync_log_id),
                "first-worker",
                std::time::Duration::from_secs(60)
            )
            .await
            .unwrap()
    );
    let second = run_sync_job(&w.m.deps, &job, None).await;
    assert!(
        matches!(second, Err(recorder_domain::DomainError::Conflict(_))),
        "{second:?}"
    );
    assert!(w.docs().await.is_empty());
}

#[tokio::test]
async fn a_file_changed_during_a_sync_ends_in_its_latest_version_once() {
    let w = world().await;
    for i in 0..6 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    // Right after the first page (f0..f2) is listed, f1 is edited at the source.
    *w.source.on_list.lock().unwrap() = Some((
        1,
        Box::new(|s: &FakeSource| s.put("f1", "edited while syncing", 2)),
    ));
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(
        (log.counts.synced, log.counts.updated),
        (6, 1),
        "{:?}",
        log.counts
    );
    let docs = w.docs().await;
    assert_eq!(docs.len(), 6, "no duplicate for the edited file");
    let f1 = docs.iter().find(|d| d.external_id == "f1").unwrap();
    assert_eq!(f1.source_metadata["fingerprint"], "v2");
    let stored =
        w.m.blobs
            .objects
            .lock()
            .unwrap()
            .get(f1.original_key.as_deref().unwrap())
            .unwrap()
            .0
            .clone();
    assert_eq!(stored, b"edited while syncing");
}

#[tokio::test]
async fn past_the_monthly_quota_new_files_fail_with_the_reset_and_updates_still_sync() {
    let mut w = world().await;
    w.m.deps.settings = Arc::new(recorder_domain::settings::Settings {
        monthly_import_quota: Some(4),
        ..Default::default()
    });
    for i in 0..6 {
        w.source.put(&format!("f{i}"), &format!("c{i}"), 1);
    }
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!((log.counts.synced, log.counts.failed), (4, 2));
    assert!(
        log.error_details
            .iter()
            .all(|f| f.reason.contains("monthly import quota of 4")
                && f.reason.contains("resets at")),
        "{:?}",
        log.error_details
    );
    // An edit of an imported file is not a new import.
    let imported = w.docs().await[0].external_id.clone();
    w.source.put(&imported, "edited", 2);
    let (_, log) = w.sync().await;
    assert_eq!(
        (log.counts.updated, log.counts.failed),
        (1, 0),
        "the refused files wait out their backoff instead of being refused again"
    );
    // Next month the two waiting files come in.
    w.m.clock.advance(Duration::days(32));
    let fresh = OAuthTokens {
        access_token: Secret::new("at2"),
        refresh_token: Some(Secret::new("rt")),
        expires_at: Some(w.m.deps.clock.now() + Duration::hours(1)),
        scope: None,
    };
    w.m.secrets.put_tokens("c1", &fresh).await.unwrap();
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.synced, 2);
    assert_eq!(w.docs().await.len(), 6);
}

#[tokio::test]
async fn a_synced_document_whose_job_was_never_sent_gets_it_when_the_sync_is_retried() {
    let w = world().await;
    w.source.put("f1", "content", 1);
    let job = common::queue(&w.m, &w.connector).await;
    // The document is stored, then the queue refuses its job: the sync job fails and SQS
    // delivers it again.
    w.m.queue.fail.store(true, Ordering::SeqCst);
    assert!(run_sync_job(&w.m.deps, &job, None).await.is_err());
    w.m.queue.fail.store(false, Ordering::SeqCst);
    let docs = w.docs().await;
    assert_eq!(docs.len(), 1);
    assert!(w.m.queue.document_jobs.lock().unwrap().is_empty());

    run_sync_job(&w.m.deps, &job, None).await.unwrap();
    let sent = w.m.queue.document_jobs.lock().unwrap().clone();
    assert_eq!(
        sent.iter()
            .map(|j| j.document_id.as_str())
            .collect::<Vec<_>>(),
        vec![docs[0].id.as_str()],
        "the unchanged, still pending document is queued for processing again"
    );
}
