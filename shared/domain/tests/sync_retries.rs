//! Failed items and failed jobs: thousands of failures keep the sync log small and the sync
//! finishable, retries are their own items with backoff, permanent failures wait for the file to
//! change, every loop stops at the deadline, the quota charges a new item once, and a job run
//! again after a failure is recorded as retried.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Duration, TimeZone, Utc};
use recorder_domain::activity::ActivityKind;
use recorder_domain::connector::{Account, Connector, ConnectorType};
use recorder_domain::memory::{FixedClock, MemoryDeps};
use recorder_domain::paging::PageRequest;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};
use recorder_domain::source::*;
use recorder_domain::sync_log::{RetryItem, SyncLog, SyncStatus};

mod common;

const PAGE: usize = 500;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fail {
    /// Too large to export: retrying cannot help.
    Permanent,
    /// A 503 that outlived the HTTP client's own retries.
    Transient,
}

/// A source of text files whose fetches fail as told, counting what it is asked. Each call may
/// move the clock on, so a sync can run out of time.
struct Files {
    versions: Mutex<BTreeMap<String, u32>>,
    log: Mutex<Vec<Change>>,
    failing: Mutex<HashMap<String, Fail>>,
    fetches: Mutex<HashMap<String, u32>>,
    gets: AtomicU32,
    fail_list_once: Mutex<bool>,
    clock: Arc<FixedClock>,
    per_call: Mutex<Duration>,
}

impl Files {
    fn put(&self, id: &str, version: u32) {
        self.versions.lock().unwrap().insert(id.into(), version);
        self.log
            .lock()
            .unwrap()
            .push(Change::Upsert(item(id, version)));
    }
    fn fail(&self, id: &str, how: Fail) {
        self.failing.lock().unwrap().insert(id.into(), how);
    }
    fn heal(&self, id: &str) {
        self.failing.lock().unwrap().remove(id);
    }
    fn fetches_of(&self, id: &str) -> u32 {
        self.fetches.lock().unwrap().get(id).copied().unwrap_or(0)
    }
    fn total_fetches(&self) -> u32 {
        self.fetches.lock().unwrap().values().sum()
    }
    fn tick(&self) {
        self.clock.advance(*self.per_call.lock().unwrap());
    }
}

fn item(id: &str, version: u32) -> SourceItem {
    SourceItem {
        external_id: id.into(),
        name: format!("{id}.txt"),
        mime_type: Some("text/plain".into()),
        size: Some(8),
        parents: vec![],
        external_url: None,
        fingerprint: format!("v{version}"),
        metadata: serde_json::json!({}),
    }
}

#[async_trait]
impl Source for Files {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account::default())
    }

    async fn list_changes(
        &self,
        _: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        self.tick();
        if std::mem::take(&mut *self.fail_list_once.lock().unwrap()) {
            return Err(SourceError::Transient("503 backendError".into()));
        }
        let at = cursor.map(|c| c.parse::<usize>().unwrap()).unwrap_or(0);
        let log = self.log.lock().unwrap();
        let end = (at + PAGE).min(log.len());
        Ok(ChangePage {
            changes: log[at..end].to_vec(),
            cursor: end.to_string(),
            has_more: end < log.len(),
        })
    }

    async fn get_item(
        &self,
        _: &SourceContext,
        id: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        self.tick();
        self.gets.fetch_add(1, Ordering::SeqCst);
        Ok(self.versions.lock().unwrap().get(id).map(|v| item(id, *v)))
    }

    async fn fetch(
        &self,
        _: &SourceContext,
        it: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        self.tick();
        *self
            .fetches
            .lock()
            .unwrap()
            .entry(it.external_id.clone())
            .or_default() += 1;
        match self.failing.lock().unwrap().get(&it.external_id) {
            Some(Fail::Permanent) => {
                return Err(SourceError::Item(format!(
                    "{}: this file is too large to be exported {}",
                    it.external_id,
                    "(Google answered exportSizeLimitExceeded) ".repeat(8)
                )));
            }
            Some(Fail::Transient) => {
                return Err(SourceError::Transient("HTTP 503 backendError".into()));
            }
            None => {}
        }
        let bytes = Bytes::from(format!("{}:{}", it.external_id, it.fingerprint));
        Ok(FetchedContent {
            content_type: "text/plain".into(),
            stream: Box::pin(futures::stream::iter(vec![Ok(bytes)])),
        })
    }
}

struct World {
    m: MemoryDeps,
    files: Arc<Files>,
    connector: Connector,
}

async fn world() -> World {
    let m = MemoryDeps::new();
    let files = Arc::new(Files {
        versions: Mutex::default(),
        log: Mutex::default(),
        failing: Mutex::default(),
        fetches: Mutex::default(),
        gets: AtomicU32::new(0),
        fail_list_once: Mutex::new(false),
        clock: m.clock.clone(),
        per_call: Mutex::new(Duration::zero()),
    });
    m.providers
        .register(ConnectorType::GoogleDrive, files.clone());
    // Long-lived tokens, so tests can move the clock past backoffs without refreshing.
    let connector = common::drive_connector(&m, Duration::days(400)).await;
    World {
        m,
        files,
        connector,
    }
}

impl World {
    async fn queue(&self) -> recorder_domain::jobs::SyncJob {
        common::queue(&self.m, &self.connector).await
    }
    async fn log(&self, id: &str) -> SyncLog {
        self.m.deps.sync_logs.get("c1", id).await.unwrap().unwrap()
    }
    async fn sync(&self) -> (JobOutcome, SyncLog) {
        common::sync(&self.m, &self.connector).await
    }
    async fn docs(&self) -> usize {
        common::docs(&self.m).await.len()
    }
    fn now(&self) -> DateTime<Utc> {
        self.m.deps.clock.now()
    }
    async fn retry_items(&self) -> Vec<RetryItem> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .m
                .deps
                .retries
                .list("c1", &PageRequest::new(Some(200), cursor))
                .await
                .unwrap();
            all.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return all,
            }
        }
    }
    async fn activity(&self, kind: ActivityKind) -> Vec<recorder_domain::activity::ActivityEvent> {
        let all = self
            .m
            .deps
            .activity
            .list("org", &PageRequest::new(Some(200), None))
            .await
            .unwrap()
            .items;
        all.into_iter().filter(|e| e.kind == kind).collect()
    }
}

#[tokio::test]
async fn five_thousand_failing_items_keep_the_sync_log_small_and_name_the_count() {
    let w = world().await;
    for i in 0..5_000 {
        let id = format!("big{i:04}");
        w.files.put(&id, 1);
        w.files.fail(&id, Fail::Permanent);
    }
    for i in 0..10 {
        w.files.put(&format!("ok{i}"), 1);
    }
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!((log.counts.synced, log.counts.failed), (10, 5_000));
    let size = serde_json::to_vec(&log).unwrap().len();
    assert!(size < 64 * 1024, "the sync log is {size} bytes");
    let message = log.error_message.clone().unwrap();
    assert!(message.contains("5000 item(s) failed"), "{message}");
    assert!(log.error_details.len() <= 50);
    assert_eq!(log.error_details[0].external_id, "big0000");
    assert!(
        log.error_details[0]
            .reason
            .contains("too large to be exported")
    );
    assert!(log.error_details[0].permanent);

    let retries = w.retry_items().await;
    assert_eq!(retries.len(), 5_000);
    assert!(retries.iter().all(|r| r.permanent
        && r.attempts == 1
        && r.fingerprint.as_deref() == Some("v1")
        && r.last_reason.contains("too large")));
    let connector = w.m.deps.connectors.get("org", "c1").await.unwrap().unwrap();
    assert!(
        connector.sync_cursor.unwrap().len() < 100,
        "the checkpoint holds no retry list"
    );

    // The next sync fetches none of them again: they have not changed.
    let fetched = w.files.total_fetches();
    w.m.clock.advance(Duration::days(2));
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.failed, 0);
    assert_eq!(w.files.total_fetches(), fetched);
    assert_eq!(w.files.gets.load(Ordering::SeqCst), 0, "nor looks them up");

    // Nor does a full listing of the source.
    w.m.deps
        .connectors
        .set_cursor("org", "c1", None)
        .await
        .unwrap();
    let (outcome, _) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(w.files.total_fetches(), fetched);

    // A file that changes is tried again: one now imports, one still fails.
    w.files.heal("big0001");
    w.files.put("big0001", 2);
    w.files.put("big0002", 2);
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!((log.counts.synced, log.counts.failed), (1, 1));
    assert_eq!(log.error_details[0].external_id, "big0002");
    assert_eq!(
        (w.files.fetches_of("big0001"), w.files.fetches_of("big0002")),
        (2, 2)
    );
    let retries = w.retry_items().await;
    assert_eq!(
        retries.len(),
        4_999,
        "the imported file's retry item is gone"
    );
    let again = retries.iter().find(|r| r.external_id == "big0002").unwrap();
    assert_eq!(
        (again.attempts, again.fingerprint.as_deref()),
        (2, Some("v2"))
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_backoff_until_it_imports() {
    let w = world().await;
    w.files.put("flaky", 1);
    w.files.fail("flaky", Fail::Transient);
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert!(!log.error_details[0].permanent);
    let retry = w.m.deps.retries.get("c1", "flaky").await.unwrap().unwrap();
    assert_eq!(retry.attempts, 1);
    assert_eq!(retry.next_attempt_at, w.now() + Duration::minutes(5));
    assert!(retry.last_reason.contains("503"), "{}", retry.last_reason);

    // Not due yet: left alone.
    let (outcome, _) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(w.files.fetches_of("flaky"), 1);

    w.m.clock.advance(Duration::minutes(5));
    let (outcome, _) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!(w.files.fetches_of("flaky"), 2);
    let retry = w.m.deps.retries.get("c1", "flaky").await.unwrap().unwrap();
    assert_eq!(retry.attempts, 2);
    assert_eq!(retry.next_attempt_at, w.now() + Duration::minutes(10));

    w.files.heal("flaky");
    w.m.clock.advance(Duration::minutes(10));
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.synced, 1);
    assert!(w.m.deps.retries.get("c1", "flaky").await.unwrap().is_none());
    assert_eq!(w.docs().await, 1);
}

#[tokio::test]
async fn retries_kept_in_an_older_checkpoint_become_retry_items_and_are_fetched() {
    let w = world().await;
    w.files.put("f0", 1);
    w.sync().await;
    // Listed and failed under the old engine, which kept the id in the checkpoint.
    w.files.versions.lock().unwrap().insert("f1".into(), 1);
    w.m.deps
        .connectors
        .set_cursor("org", "c1", Some(r#"{"cursor":"1","retry":["f1"]}"#))
        .await
        .unwrap();
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(log.counts.synced, 1);
    assert_eq!(w.docs().await, 2);
    let connector = w.m.deps.connectors.get("org", "c1").await.unwrap().unwrap();
    assert_eq!(connector.sync_cursor.as_deref(), Some(r#"{"cursor":"1"}"#));
}

#[tokio::test]
async fn a_new_item_that_keeps_failing_is_charged_to_the_quota_once() {
    let mut w = world().await;
    w.m.deps.settings = Arc::new(recorder_domain::settings::Settings {
        monthly_import_quota: Some(3),
        ..Default::default()
    });
    // Early in a month, so every sync below counts in the same one.
    *w.m.clock.0.lock().unwrap() = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    w.files.put("a", 1);
    w.files.put("b", 1);
    w.files.put("flaky", 1);
    w.files.fail("flaky", Fail::Transient);
    for _ in 0..3 {
        let (outcome, _) = w.sync().await;
        assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
        // Past any backoff, so the next sync tries it again.
        w.m.clock.advance(Duration::days(2));
    }
    assert!(
        w.files.fetches_of("flaky") >= 3,
        "it was tried on every sync"
    );
    let used =
        w.m.deps
            .usage
            .reserve_imports("org", "2026-11", 0, u64::MAX)
            .await
            .unwrap();
    assert_eq!(used, Ok(2), "only the two imported files are counted");
    w.files.heal("flaky");
    let (outcome, log) = w.sync().await;
    assert_eq!(
        outcome,
        JobOutcome::Finished(SyncStatus::Success),
        "{:?}",
        log.error_details
    );
    assert_eq!(w.docs().await, 3, "three new files fit a quota of three");
}

#[tokio::test]
async fn a_sync_job_run_again_after_a_failure_is_recorded_as_retried_once() {
    let w = world().await;
    for i in 0..3 {
        w.files.put(&format!("f{i}"), 1);
    }
    *w.files.fail_list_once.lock().unwrap() = true;
    let job = w.queue().await;
    assert!(run_sync_job(&w.m.deps, &job, None).await.is_err());
    // SQS delivers the same message again.
    assert_eq!(
        run_sync_job(&w.m.deps, &job, None).await.unwrap(),
        JobOutcome::Finished(SyncStatus::Success)
    );
    let retried = w.activity(ActivityKind::ConnectorJobRetried).await;
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0].context["sync_log_id"], job.sync_log_id.as_str());
    assert_eq!(retried[0].context["attempt"], 2);
    assert_eq!(retried[0].connector_id.as_deref(), Some("c1"));
}

#[tokio::test]
async fn a_sync_out_of_time_while_retrying_stops_at_the_deadline_and_continues() {
    let w = world().await;
    for i in 0..300 {
        let id = format!("f{i:03}");
        w.files.put(&id, 1);
        w.files.fail(&id, Fail::Transient);
    }
    w.sync().await;
    for i in 0..300 {
        w.files.heal(&format!("f{i:03}"));
    }
    w.m.clock.advance(Duration::days(2));
    // Every provider call takes a second; the job has two minutes.
    *w.files.per_call.lock().unwrap() = Duration::seconds(1);
    let job = w.queue().await;
    let deadline = w.now() + Duration::seconds(120);
    let outcome = run_sync_job(&w.m.deps, &job, Some(deadline)).await.unwrap();
    assert_eq!(outcome, JobOutcome::Continued { segment: 1 });
    assert!(
        w.now() <= deadline,
        "the job ran {} past its deadline",
        w.now() - deadline
    );
    let mut next = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    *w.files.per_call.lock().unwrap() = Duration::zero();
    loop {
        match run_sync_job(&w.m.deps, &next, None).await.unwrap() {
            JobOutcome::Continued { .. } => {
                next = w.m.queue.sent_sync_jobs().last().cloned().unwrap()
            }
            other => {
                assert_eq!(other, JobOutcome::Finished(SyncStatus::Success));
                break;
            }
        }
    }
    let log = w.log(&job.sync_log_id).await;
    assert_eq!((log.counts.synced, log.counts.failed), (300, 0));
    assert!(w.retry_items().await.is_empty());
    assert!(
        w.activity(ActivityKind::ConnectorJobRetried)
            .await
            .is_empty(),
        "a continuation is not a retry"
    );
}

#[tokio::test]
async fn a_page_too_long_for_the_time_left_is_finished_by_the_follow_up_job() {
    let w = world().await;
    for i in 0..PAGE {
        w.files.put(&format!("f{i:03}"), 1);
    }
    *w.files.per_call.lock().unwrap() = Duration::seconds(1);
    let job = w.queue().await;
    let deadline = w.now() + Duration::seconds(120);
    let outcome = run_sync_job(&w.m.deps, &job, Some(deadline)).await.unwrap();
    assert_eq!(outcome, JobOutcome::Continued { segment: 1 });
    assert!(
        w.now() <= deadline,
        "the job ran {} past its deadline",
        w.now() - deadline
    );
    *w.files.per_call.lock().unwrap() = Duration::zero();
    let next = w.m.queue.sent_sync_jobs().last().cloned().unwrap();
    assert_eq!(
        run_sync_job(&w.m.deps, &next, None).await.unwrap(),
        JobOutcome::Finished(SyncStatus::Success)
    );
    let log = w.log(&job.sync_log_id).await;
    assert_eq!((log.counts.synced, log.counts.failed), (PAGE as u64, 0));
    assert_eq!(
        w.files.total_fetches(),
        PAGE as u32,
        "each file downloaded once"
    );
    assert!(w.retry_items().await.is_empty());
    assert!(
        w.activity(ActivityKind::ConnectorJobRetried)
            .await
            .is_empty()
    );
}
