//! Connector rules, exercised through the in-memory ports.

use recorder_domain::activity::ActivityKind;
use recorder_domain::connector::{ConnectorStatus, SyncFrequency};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::TokenStore;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::connectors::{self, ConnectorPatch, NewConnector};
use recorder_domain::service::{scheduler, sync};
use recorder_domain::sync_log::SyncStatus;
use recorder_domain::{Caller, DomainError, Role};

mod common;

fn admin(org: &str) -> Caller {
    Caller {
        org_id: org.into(),
        user_id: "u_admin".into(),
        role: Role::Admin,
    }
}

fn member(org: &str) -> Caller {
    Caller {
        org_id: org.into(),
        user_id: "u_member".into(),
        role: Role::Member,
    }
}

fn new_upload(name: &str) -> NewConnector {
    NewConnector {
        connector_type: "file_upload".into(),
        name: name.into(),
        description: None,
        settings: None,
        filters: None,
        sync_frequency: None,
    }
}

#[tokio::test]
async fn an_admin_creates_a_connector_and_a_member_can_read_it() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("org_a"), new_upload("Team files"))
        .await
        .unwrap();
    assert_eq!(c.status, ConnectorStatus::Active);
    assert_eq!(c.sync_frequency, SyncFrequency::Manual);
    assert_eq!(c.next_sync_at, None);
    let got = connectors::get(&m.deps, &member("org_a"), &c.id)
        .await
        .unwrap();
    assert_eq!(got, c);
}

#[tokio::test]
async fn a_member_cannot_create_change_sync_or_delete() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("org_a"), new_upload("x"))
        .await
        .unwrap();
    let who = member("org_a");
    assert!(matches!(
        connectors::create(&m.deps, &who, new_upload("y")).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        connectors::update(&m.deps, &who, &c.id, ConnectorPatch::default()).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        connectors::request_sync(&m.deps, &who, &c.id).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        connectors::disable(&m.deps, &who, &c.id).await,
        Err(DomainError::Forbidden(_))
    ));
    assert!(matches!(
        connectors::disconnect(&m.deps, &who, &c.id).await,
        Err(DomainError::Forbidden(_))
    ));
}

#[tokio::test]
async fn another_orgs_connector_is_not_found() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("org_a"), new_upload("x"))
        .await
        .unwrap();
    let err = connectors::get(&m.deps, &admin("org_b"), &c.id)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::NotFound(_)));
    assert!(matches!(
        connectors::request_sync(&m.deps, &admin("org_b"), &c.id).await,
        Err(DomainError::NotFound(_))
    ));
    assert!(
        connectors::list(&m.deps, &admin("org_b"), &PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn names_are_unique_per_org_and_type_ignoring_case() {
    let m = MemoryDeps::new();
    connectors::create(&m.deps, &admin("org_a"), new_upload("Team files"))
        .await
        .unwrap();
    let dup = connectors::create(&m.deps, &admin("org_a"), new_upload("team FILES "))
        .await
        .unwrap_err();
    assert!(matches!(dup, DomainError::Conflict(_)), "{dup:?}");
    // Same name in another org, or for another type, is fine.
    connectors::create(&m.deps, &admin("org_b"), new_upload("Team files"))
        .await
        .unwrap();
    let mut url = new_upload("Team files");
    url.connector_type = "url_import".into();
    connectors::create(&m.deps, &admin("org_a"), url)
        .await
        .unwrap();
}

#[tokio::test]
async fn renaming_onto_a_taken_name_conflicts_and_renaming_frees_the_old_name() {
    let m = MemoryDeps::new();
    let a = connectors::create(&m.deps, &admin("o"), new_upload("A"))
        .await
        .unwrap();
    connectors::create(&m.deps, &admin("o"), new_upload("B"))
        .await
        .unwrap();
    let patch = ConnectorPatch {
        name: Some("b".into()),
        ..Default::default()
    };
    assert!(matches!(
        connectors::update(&m.deps, &admin("o"), &a.id, patch).await,
        Err(DomainError::Conflict(_))
    ));
    let patch = ConnectorPatch {
        name: Some("C".into()),
        ..Default::default()
    };
    assert_eq!(
        connectors::update(&m.deps, &admin("o"), &a.id, patch)
            .await
            .unwrap()
            .name,
        "C"
    );
    connectors::create(&m.deps, &admin("o"), new_upload("A"))
        .await
        .unwrap();
}

#[tokio::test]
async fn oauth_types_cannot_be_created_directly() {
    let m = MemoryDeps::new();
    // Drive is in this build (a source is registered): the answer points at the OAuth route.
    m.providers.register(
        recorder_domain::connector::ConnectorType::GoogleDrive,
        std::sync::Arc::new(UnusedSource),
    );
    let mut input = new_upload("Drive");
    input.connector_type = "google_drive".into();
    match connectors::create(&m.deps, &admin("o"), input)
        .await
        .unwrap_err()
    {
        DomainError::Validation { field, message } => {
            assert_eq!(field, "connector_type");
            assert!(
                message.contains("/api/connectors/auth/google_drive"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_manual_sync_is_queued_run_and_logged() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("o"), new_upload("x"))
        .await
        .unwrap();
    let log = connectors::request_sync(&m.deps, &admin("o"), &c.id)
        .await
        .unwrap();
    assert_eq!(log.status, SyncStatus::Queued);
    let jobs = m.queue.sent_sync_jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].sync_log_id, log.id);

    let outcome = sync::run_sync_job(&m.deps, &jobs[0], None).await.unwrap();
    assert_eq!(outcome, sync::JobOutcome::Finished(SyncStatus::Success));
    // A second delivery of the same message does nothing.
    let again = sync::run_sync_job(&m.deps, &jobs[0], None).await.unwrap();
    assert_eq!(again, sync::JobOutcome::AlreadyHandled);

    let logs =
        connectors::list_sync_logs(&m.deps, &member("o"), &c.id, &PageRequest::new(None, None))
            .await
            .unwrap();
    assert_eq!(logs.items.len(), 1);
    assert_eq!(logs.items[0].status, SyncStatus::Success);
    assert!(logs.items[0].completed_at.is_some());
    let after = connectors::get(&m.deps, &member("o"), &c.id).await.unwrap();
    assert!(after.last_sync_at.is_some());
    assert_eq!(after.sync_progress, None);

    let kinds = common::activity_kinds(&m, "o").await;
    assert_eq!(
        kinds,
        vec![
            ActivityKind::ConnectorSyncCompleted,
            ActivityKind::ConnectorSyncStarted,
            ActivityKind::ConnectorJobScheduled,
            ActivityKind::ConnectorConnectSucceeded
        ]
    );
}

#[tokio::test]
async fn a_queue_failure_marks_the_sync_log_failed() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("o"), new_upload("x"))
        .await
        .unwrap();
    m.queue
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(
        connectors::request_sync(&m.deps, &admin("o"), &c.id)
            .await
            .is_err()
    );
    let logs =
        connectors::list_sync_logs(&m.deps, &admin("o"), &c.id, &PageRequest::new(None, None))
            .await
            .unwrap();
    assert_eq!(logs.items[0].status, SyncStatus::Failed);
}

#[tokio::test]
async fn a_paused_connector_cannot_sync_until_enabled() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("o"), new_upload("x"))
        .await
        .unwrap();
    let paused = connectors::disable(&m.deps, &admin("o"), &c.id)
        .await
        .unwrap();
    assert_eq!(paused.status, ConnectorStatus::Paused);
    assert!(matches!(
        connectors::request_sync(&m.deps, &admin("o"), &c.id).await,
        Err(DomainError::InvalidState(_))
    ));
    connectors::enable(&m.deps, &admin("o"), &c.id)
        .await
        .unwrap();
    connectors::request_sync(&m.deps, &admin("o"), &c.id)
        .await
        .unwrap();
}

#[tokio::test]
async fn disconnecting_deletes_tokens_keeps_the_record_and_frees_the_name() {
    let m = MemoryDeps::new();
    let c = connectors::create(&m.deps, &admin("o"), new_upload("x"))
        .await
        .unwrap();
    let tokens = OAuthTokens {
        access_token: Secret::new("at"),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    m.secrets.put_tokens(&c.id, &tokens).await.unwrap();
    let d = connectors::disconnect(&m.deps, &admin("o"), &c.id)
        .await
        .unwrap();
    assert_eq!(d.status, ConnectorStatus::Disconnected);
    assert!(m.secrets.get_tokens(&c.id).await.unwrap().is_none());
    assert_eq!(
        connectors::get(&m.deps, &member("o"), &c.id)
            .await
            .unwrap()
            .status,
        ConnectorStatus::Disconnected
    );
    assert!(matches!(
        connectors::request_sync(&m.deps, &admin("o"), &c.id).await,
        Err(DomainError::InvalidState(_))
    ));
    connectors::create(&m.deps, &admin("o"), new_upload("x"))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_scheduler_queues_each_due_connector_once() {
    let m = MemoryDeps::new();
    let mut input = new_upload("hourly");
    input.sync_frequency = Some(SyncFrequency::Hourly);
    let hourly = connectors::create(&m.deps, &admin("o"), input)
        .await
        .unwrap();
    connectors::create(&m.deps, &admin("o"), new_upload("manual"))
        .await
        .unwrap();

    assert!(
        scheduler::tick(&m.deps).await.unwrap().queued.is_empty(),
        "nothing is due yet"
    );
    m.clock.advance(chrono::Duration::minutes(61));
    let report = scheduler::tick(&m.deps).await.unwrap();
    assert_eq!(report.queued, vec![hourly.id.clone()]);
    assert!(
        scheduler::tick(&m.deps).await.unwrap().queued.is_empty(),
        "a second tick queues nothing"
    );
    assert_eq!(m.queue.sent_sync_jobs().len(), 1);
}

#[tokio::test]
async fn listings_page_with_cursors() {
    let m = MemoryDeps::new();
    for i in 0..5 {
        connectors::create(&m.deps, &admin("o"), new_upload(&format!("c{i}")))
            .await
            .unwrap();
    }
    let first = connectors::list(&m.deps, &admin("o"), &PageRequest::new(Some(2), None))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let second = connectors::list(
        &m.deps,
        &admin("o"),
        &PageRequest::new(Some(2), first.next_cursor.clone()),
    )
    .await
    .unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(
        first
            .items
            .iter()
            .all(|a| second.items.iter().all(|b| a.id != b.id))
    );
    let third = connectors::list(
        &m.deps,
        &admin("o"),
        &PageRequest::new(Some(2), second.next_cursor),
    )
    .await
    .unwrap();
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.next_cursor, None);
}

/// A registered source that is never called: only its presence matters.
struct UnusedSource;

#[async_trait::async_trait]
impl recorder_domain::source::Source for UnusedSource {
    async fn account(
        &self,
        _: &recorder_domain::source::SourceContext,
    ) -> Result<recorder_domain::connector::Account, recorder_domain::source::SourceError> {
        unimplemented!("never called")
    }
    async fn list_changes(
        &self,
        _: &recorder_domain::source::SourceContext,
        _: Option<&str>,
    ) -> Result<recorder_domain::source::ChangePage, recorder_domain::source::SourceError> {
        unimplemented!("never called")
    }
    async fn get_item(
        &self,
        _: &recorder_domain::source::SourceContext,
        _: &str,
    ) -> Result<Option<recorder_domain::source::SourceItem>, recorder_domain::source::SourceError>
    {
        unimplemented!("never called")
    }
    async fn fetch(
        &self,
        _: &recorder_domain::source::SourceContext,
        _: &recorder_domain::source::SourceItem,
    ) -> Result<recorder_domain::source::FetchedContent, recorder_domain::source::SourceError> {
        unimplemented!("never called")
    }
}
