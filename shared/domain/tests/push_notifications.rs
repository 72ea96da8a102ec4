//! Push notifications (a test provider shaped like Drive's channels) against in-memory ports and
//! a change feed that counts its reads: a burst gives the running sync and one follow-up that
//! reads what came meanwhile, a failure to queue or to handle leaves nothing that swallows the
//! redelivery, and a delivery is verified against the channel it names (its own token, its
//! resource) before anything is written.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Duration;
use recorder_domain::connector::{Account, Connector, ConnectorType};
use recorder_domain::jobs::SyncJob;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::push::Delivery;
use recorder_domain::service::push::{Batch, handle};
use recorder_domain::service::subscriptions;
use recorder_domain::service::sync::run_sync_job;
use recorder_domain::service::webhook_sync::{NotificationOutcome, SPACING};
use recorder_domain::source::*;
use recorder_domain::sync_log::SyncType;
use recorder_domain::{Deps, DomainError};
use tokio::sync::watch;

mod common;

use common::push::{self as test_push, KEY, RESOURCE};

/// A change feed whose reads take their page, then wait until the gate is open: a sync that is
/// already past the changes made while it works.
struct Feed {
    log: Mutex<Vec<Change>>,
    /// The external ids each read returned, in read order.
    reads: Mutex<Vec<Vec<String>>>,
    gate: watch::Receiver<bool>,
}

impl Feed {
    fn put(&self, id: &str) {
        self.log.lock().unwrap().push(Change::Upsert(SourceItem {
            external_id: id.into(),
            name: format!("{id}.txt"),
            mime_type: Some("text/plain".into()),
            size: Some(5),
            parents: vec![],
            external_url: None,
            fingerprint: "v1".into(),
            metadata: serde_json::Value::Null,
        }));
    }
    fn reads(&self) -> Vec<Vec<String>> {
        self.reads.lock().unwrap().clone()
    }
}

#[async_trait]
impl Source for Feed {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account::default())
    }
    async fn list_changes(
        &self,
        _: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        let at = cursor.map_or(0, |c| c.parse::<usize>().unwrap());
        let changes = self.log.lock().unwrap()[at..].to_vec();
        self.reads.lock().unwrap().push(
            changes
                .iter()
                .map(|c| match c {
                    Change::Upsert(i) => i.external_id.clone(),
                    Change::Removed { external_id } => external_id.clone(),
                })
                .collect(),
        );
        let mut gate = self.gate.clone();
        gate.wait_for(|open| *open).await.unwrap();
        Ok(ChangePage {
            cursor: (at + changes.len()).to_string(),
            changes,
            has_more: false,
        })
    }
    async fn get_item(
        &self,
        _: &SourceContext,
        _: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        Ok(None)
    }
    async fn fetch(
        &self,
        _: &SourceContext,
        _: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        Ok(FetchedContent {
            content_type: "text/plain".into(),
            stream: Box::pin(futures::stream::iter(vec![Ok(Bytes::from_static(
                b"notes",
            ))])),
        })
    }
}

struct World {
    m: MemoryDeps,
    feed: Arc<Feed>,
    open: watch::Sender<bool>,
    connector: Connector,
}

/// A Drive connector with its push channel open; the feed's gate starts open.
async fn world() -> World {
    let m = MemoryDeps::new();
    let (open, gate) = watch::channel(true);
    let feed = Arc::new(Feed {
        log: Mutex::new(vec![]),
        reads: Mutex::new(vec![]),
        gate,
    });
    m.providers
        .register(ConnectorType::GoogleDrive, feed.clone());
    test_push::register(&m);
    let connector = common::drive_connector(&m, Duration::hours(1)).await;
    let mut w = World {
        m,
        feed,
        open,
        connector,
    };
    w.reopen_channel().await;
    w
}

impl World {
    async fn reopen_channel(&mut self) {
        assert!(
            subscriptions::open(&self.m.deps, &self.connector)
                .await
                .unwrap()
        );
        self.connector = self
            .m
            .deps
            .connectors
            .get("org", "c1")
            .await
            .unwrap()
            .unwrap();
    }
    fn channel(&self) -> String {
        self.connector.webhook.channel_id.clone().unwrap()
    }
    /// A change notification as the provider sends it on the connector's current channel.
    fn note(&self, message_number: u32) -> Delivery {
        let channel = self.channel();
        let token = test_push::token(KEY, &channel);
        test_push::delivery(&channel, &token, "change", message_number, RESOURCE)
    }
    /// Acknowledged, then handled by the worker.
    async fn notify(&self, n: &Delivery) -> Result<NotificationOutcome, DomainError> {
        test_push::deliver(&self.m, n).await
    }
    fn webhook_jobs(&self) -> Vec<SyncJob> {
        self.m
            .queue
            .sent_sync_jobs()
            .into_iter()
            .filter(|j| j.sync_type == SyncType::Webhook)
            .collect()
    }
    async fn stored_event(&self, n: &Delivery) -> bool {
        let id = format!(
            "{}:{}",
            n.header("x-test-channel").unwrap(),
            n.header("x-test-number").unwrap()
        );
        let got = self.m.deps.webhook_events.get("test", &id).await;
        got.unwrap().is_some()
    }
}

fn run(deps: &Deps, job: SyncJob) -> tokio::task::JoinHandle<()> {
    let deps = deps.clone();
    tokio::spawn(async move {
        run_sync_job(&deps, &job, None).await.unwrap();
    })
}

/// Lets spawned syncs run until they wait (at the feed's gate) or end.
async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn ten_notifications_while_a_sync_runs_give_that_sync_and_one_follow_up_that_reads_what_came_meanwhile()
 {
    let w = world().await;
    w.feed.put("before");
    w.open.send(false).unwrap();
    let mut running = Vec::new();
    let mut started = 0;
    let mut outcomes = Vec::new();
    for n in 1..=10 {
        outcomes.push(w.notify(&w.note(n)).await.unwrap());
        // Every queued job starts at once, as concurrent queue consumers start them.
        for job in w.webhook_jobs().into_iter().skip(started) {
            running.push(run(&w.m.deps, job));
            started += 1;
        }
        settle().await;
        if n == 1 {
            // The running sync has read the feed; this change comes after its read.
            w.feed.put("meanwhile");
        }
    }
    assert_eq!(
        w.feed.reads().len(),
        1,
        "the burst came while the first sync ran, and no other sync read meanwhile"
    );
    // The first sync ran longer than the spacing: its follow-up starts at once.
    w.m.clock.advance(SPACING);
    w.open.send(true).unwrap();
    while let Some(sync) = running.pop() {
        sync.await.unwrap();
        for job in w.webhook_jobs().into_iter().skip(started) {
            running.push(run(&w.m.deps, job));
            started += 1;
        }
    }
    let reads = w.feed.reads();
    assert_eq!(
        reads.len(),
        2,
        "the running sync and one follow-up: {reads:?}"
    );
    assert_eq!(reads[0], ["before"]);
    assert_eq!(
        reads[1],
        ["meanwhile"],
        "the follow-up reads what came meanwhile"
    );
    assert_eq!(outcomes[0], NotificationOutcome::SyncQueued);
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| *o == NotificationOutcome::FollowUp),
        "{outcomes:?}"
    );
    // Both ended: the next notification queues a sync of its own.
    assert_eq!(
        w.notify(&w.note(11)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
}

#[tokio::test]
async fn a_burst_right_after_a_quick_sync_is_read_once_more_and_not_before_the_spacing() {
    let w = world().await;
    w.feed.put("first");
    assert_eq!(
        w.notify(&w.note(1)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
    run(&w.m.deps, w.webhook_jobs()[0].clone()).await.unwrap();
    // The burst starts just after the quick first sync ended.
    let early = std::time::Duration::from_millis(300);
    w.m.clock
        .advance(SPACING - Duration::from_std(early).unwrap());
    w.feed.put("burst");
    let began = std::time::Instant::now();
    let mut outcomes = Vec::new();
    let mut running = Vec::new();
    let mut started = 1;
    for n in 2..=11 {
        outcomes.push(w.notify(&w.note(n)).await.unwrap());
        for job in w.webhook_jobs().into_iter().skip(started) {
            running.push(run(&w.m.deps, job));
            started += 1;
        }
        settle().await;
    }
    for sync in running {
        sync.await.unwrap();
    }
    let reads = w.feed.reads();
    assert_eq!(reads.len(), 2, "{reads:?} {outcomes:?}");
    assert_eq!(reads[1], ["burst"]);
    assert!(
        began.elapsed() >= early - std::time::Duration::from_millis(50),
        "the second sync waited for the spacing"
    );
    assert_eq!(outcomes[0], NotificationOutcome::SyncQueued);
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| *o == NotificationOutcome::Coalesced),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn notifications_while_a_sync_is_queued_are_folded_into_it() {
    let w = world().await;
    let outcomes: Vec<_> = futures::future::join_all((1..=10).map(|n| {
        let note = w.note(n);
        let m = &w.m;
        async move { test_push::deliver(m, &note).await.unwrap() }
    }))
    .await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == NotificationOutcome::SyncQueued)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(w.webhook_jobs().len(), 1);
}

#[tokio::test]
async fn a_failed_sync_send_leaves_nothing_pending_so_the_next_notification_queues_a_sync() {
    let w = world().await;
    let job = test_push::acknowledge(&w.m, &w.note(2))
        .await
        .unwrap()
        .unwrap();
    w.m.queue.fail.store(true, Ordering::SeqCst);
    assert!(
        handle(&w.m.deps, &job, &Batch::default()).await.is_err(),
        "the queue redelivers"
    );
    w.m.queue.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        w.notify(&w.note(3)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
    assert_eq!(w.webhook_jobs().len(), 1);
}

#[tokio::test]
async fn a_notification_that_failed_is_handled_when_the_provider_delivers_it_again() {
    let w = world().await;
    let note = w.note(2);
    let job = test_push::acknowledge(&w.m, &note).await.unwrap().unwrap();
    w.m.queue.fail.store(true, Ordering::SeqCst);
    assert!(handle(&w.m.deps, &job, &Batch::default()).await.is_err());
    let failed =
        w.m.deps
            .webhook_events
            .get("test", &format!("{}:2", w.channel()))
            .await
            .unwrap()
            .unwrap();
    assert!(!failed.processed && failed.processing_error.is_some());
    w.m.queue.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        handle(&w.m.deps, &job, &Batch::default()).await.unwrap(),
        [NotificationOutcome::SyncQueued],
        "the redelivered message is handled"
    );
    assert_eq!(w.webhook_jobs().len(), 1);
    let id = format!("{}:2", w.channel());
    let retried = w.m.deps.webhook_events.get("test", &id).await.unwrap();
    let retried = retried.unwrap();
    assert!(retried.processed && retried.retry_count == 1, "{retried:?}");
    // Handled once: a further delivery is a replay.
    assert_eq!(
        w.notify(&note).await.unwrap(),
        NotificationOutcome::Ignored("replayed notification".into())
    );
}

#[tokio::test]
async fn a_mark_left_by_a_lost_sync_is_taken_over_once_it_is_stale() {
    let w = world().await;
    assert_eq!(
        w.notify(&w.note(2)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
    // Its job is never delivered (say it ended in the dead-letter queue).
    assert_eq!(
        w.notify(&w.note(3)).await.unwrap(),
        NotificationOutcome::Coalesced
    );
    w.m.clock.advance(Duration::minutes(21));
    assert_eq!(
        w.notify(&w.note(4)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
}

#[tokio::test]
async fn a_token_of_one_channel_is_refused_on_another_and_nothing_is_written() {
    let mut w = world().await;
    let old_channel = w.channel();
    let old_token = test_push::token(KEY, &old_channel);
    w.reopen_channel().await;
    assert_ne!(w.channel(), old_channel);
    let replayed = test_push::delivery(&w.channel(), &old_token, "change", 5, RESOURCE);
    assert!(matches!(
        w.notify(&replayed).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(!w.stored_event(&replayed).await, "nothing recorded");
    assert!(
        w.m.queue.push_jobs.lock().unwrap().is_empty(),
        "nothing queued"
    );
    assert!(w.webhook_jobs().is_empty(), "no sync queued");
    // The channel's own token is accepted.
    assert_eq!(
        w.notify(&w.note(5)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
}

#[tokio::test]
async fn a_notification_naming_another_resource_is_dropped_and_nothing_is_written() {
    let w = world().await;
    let channel = w.channel();
    let token = test_push::token(KEY, &channel);
    let other = test_push::delivery(&channel, &token, "change", 5, "someone-elses-resource");
    assert!(matches!(
        w.notify(&other).await,
        Ok(NotificationOutcome::Ignored(_))
    ));
    assert!(!w.stored_event(&other).await, "nothing recorded");
    assert!(w.webhook_jobs().is_empty(), "nothing queued");
    assert_eq!(
        w.m.deps.connectors.webhook_sync("org", "c1").await.unwrap(),
        Default::default(),
        "no sync marked"
    );
}

#[tokio::test]
async fn a_batch_of_deliveries_decides_one_sync_for_its_connector_and_misses_nothing() {
    let w = world().await;
    w.feed.put("before");
    w.open.send(false).unwrap();
    assert_eq!(
        w.notify(&w.note(1)).await.unwrap(),
        NotificationOutcome::SyncQueued
    );
    let first = run(&w.m.deps, w.webhook_jobs()[0].clone());
    settle().await;
    w.feed.put("meanwhile");
    // Three deliveries arrive while that sync runs and are received in one batch.
    let mut jobs = Vec::new();
    for n in 2..=4 {
        jobs.push(
            test_push::acknowledge(&w.m, &w.note(n))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let batch = Batch::default();
    let mut outcomes = Vec::new();
    for job in &jobs {
        outcomes.extend(handle(&w.m.deps, job, &batch).await.unwrap());
    }
    assert_eq!(
        outcomes,
        [
            NotificationOutcome::FollowUp,
            NotificationOutcome::Coalesced,
            NotificationOutcome::Coalesced
        ]
    );
    for n in 2..=4 {
        let id = format!("{}:{n}", w.channel());
        let event = w.m.deps.webhook_events.get("test", &id).await.unwrap();
        assert!(event.unwrap().processed, "every event is recorded");
    }
    w.m.clock.advance(SPACING);
    w.open.send(true).unwrap();
    first.await.unwrap();
    let follow_up = w.webhook_jobs();
    assert_eq!(follow_up.len(), 2, "the running sync and one follow-up");
    run(&w.m.deps, follow_up[1].clone()).await.unwrap();
    assert_eq!(w.feed.reads(), [vec!["before"], vec!["meanwhile"]]);
}
