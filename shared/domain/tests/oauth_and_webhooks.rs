//! Connecting through OAuth (its push subscription opened), token refresh by one worker at a
//! time, and push notifications (verification, replay, coalescing), against in-memory ports and
//! fake provider clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use chrono::Duration;
use recorder_domain::activity::ActivityKind;
use recorder_domain::connector::{Account, ConnectorStatus, ConnectorType};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::TokenStore;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::oauth::{self, CallbackParams};
use recorder_domain::service::webhook_sync::NotificationOutcome;
use recorder_domain::service::{connectors, credentials};
use recorder_domain::source::*;
use recorder_domain::{Caller, DomainError, Role};

mod common;

use common::push::{self as test_push, KEY, RESOURCE};

#[derive(Default)]
struct FakeOAuth {
    refreshes: AtomicU32,
}

#[async_trait]
impl OAuthClient for FakeOAuth {
    async fn authorize_url(
        &self,
        state: &str,
        verifier: &str,
        redirect: &str,
    ) -> Result<String, SourceError> {
        Ok(format!(
            "https://consent.example/?state={state}&v={}&redirect_uri={redirect}",
            verifier.len()
        ))
    }
    async fn exchange_code(
        &self,
        code: &str,
        verifier: &str,
        _: &str,
    ) -> Result<OAuthTokens, SourceError> {
        if code == "bad" {
            return Err(SourceError::AuthRevoked("invalid_grant".into()));
        }
        assert_eq!(verifier.len(), 64, "the stored PKCE verifier comes back");
        Ok(OAuthTokens {
            access_token: Secret::new("at-1"),
            refresh_token: Some(Secret::new("rt")),
            expires_at: Some(chrono::Utc::now() + Duration::hours(1)),
            scope: None,
        })
    }
    async fn refresh(&self, tokens: &OAuthTokens) -> Result<OAuthTokens, SourceError> {
        let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Ok(OAuthTokens {
            access_token: Secret::new(format!("at-r{n}")),
            expires_at: Some(chrono::Utc::now() + Duration::hours(1)),
            ..tokens.clone()
        })
    }
}

struct FakeDrive;

#[async_trait]
impl Source for FakeDrive {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account {
            id: Some("perm-1".into()),
            display_name: Some("Dana".into()),
            email: Some("dana@example.com".into()),
        })
    }
    async fn list_changes(
        &self,
        _: &SourceContext,
        _: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        Ok(ChangePage {
            changes: vec![],
            cursor: "1".into(),
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
        Err(SourceError::Item("none".into()))
    }
}

fn admin() -> Caller {
    Caller {
        org_id: "org".into(),
        user_id: "dana".into(),
        role: Role::Admin,
    }
}

fn setup() -> (MemoryDeps, Arc<FakeOAuth>) {
    let m = MemoryDeps::new();
    let oauth = Arc::new(FakeOAuth::default());
    m.providers
        .register(ConnectorType::GoogleDrive, Arc::new(FakeDrive));
    m.providers
        .register_oauth(ConnectorType::GoogleDrive, oauth.clone());
    test_push::register(&m);
    (m, oauth)
}

fn state_of(url: &str) -> String {
    url.split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string()
}

async fn connect(m: &MemoryDeps) -> recorder_domain::connector::Connector {
    let started = oauth::start(&m.deps, &admin(), "google_drive")
        .await
        .unwrap();
    let url = started.authorize_url.clone();
    let nonce = Some(started.browser_nonce.expose());
    let params = CallbackParams {
        code: Some("good".into()),
        state: Some(state_of(&url)),
        ..Default::default()
    };
    oauth::callback(&m.deps, "google_drive", params, nonce)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_callback_creates_the_connector_stores_tokens_opens_a_channel_and_queues_the_first_sync()
{
    let (m, _) = setup();
    let started = oauth::start(&m.deps, &admin(), "google_drive")
        .await
        .unwrap();
    let url = started.authorize_url.clone();
    let nonce = Some(started.browser_nonce.expose());
    assert!(
        url.contains(
            "redirect_uri=https://api.example.test/api/connectors/auth/google_drive/callback"
        ),
        "{url}"
    );
    let state = state_of(&url);
    let c = oauth::callback(
        &m.deps,
        "google_drive",
        CallbackParams {
            code: Some("good".into()),
            state: Some(state.clone()),
            ..Default::default()
        },
        nonce,
    )
    .await
    .unwrap();
    assert_eq!(c.account.email.as_deref(), Some("dana@example.com"));
    assert_eq!(c.name, "Google Drive (dana@example.com)");
    assert!(c.webhook.active);
    assert_eq!(
        m.secrets
            .get_tokens(&c.id)
            .await
            .unwrap()
            .unwrap()
            .access_token
            .expose(),
        "at-1"
    );
    assert_eq!(m.queue.sent_sync_jobs().len(), 1);
    // The same state again: refused, nothing new created.
    let again = oauth::callback(
        &m.deps,
        "google_drive",
        CallbackParams {
            code: Some("good".into()),
            state: Some(state),
            ..Default::default()
        },
        nonce,
    )
    .await;
    assert!(matches!(again, Err(DomainError::Validation { .. })));
    assert_eq!(
        connectors::list(&m.deps, &admin(), &PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn reconnecting_the_same_account_reactivates_its_connector() {
    let (m, _) = setup();
    let first = connect(&m).await;
    recorder_domain::service::credentials::mark_reconnect_needed(&m.deps, &first, "invalid_grant")
        .await;
    assert_eq!(
        connectors::get(&m.deps, &admin(), &first.id)
            .await
            .unwrap()
            .status,
        ConnectorStatus::Error
    );
    let second = connect(&m).await;
    assert_eq!(second.id, first.id);
    assert_eq!(second.status, ConnectorStatus::Active);
}

#[tokio::test]
async fn expired_states_denied_consent_and_refused_codes_fail_clearly_with_an_activity_event() {
    let (m, _) = setup();
    let started = oauth::start(&m.deps, &admin(), "google_drive")
        .await
        .unwrap();
    let url = started.authorize_url.clone();
    let nonce = Some(started.browser_nonce.expose());
    m.clock.advance(Duration::minutes(11));
    let expired = oauth::callback(
        &m.deps,
        "google_drive",
        CallbackParams {
            code: Some("good".into()),
            state: Some(state_of(&url)),
            ..Default::default()
        },
        nonce,
    )
    .await;
    assert!(
        matches!(expired, Err(DomainError::Validation { message, .. }) if message.contains("expired"))
    );

    let started = oauth::start(&m.deps, &admin(), "google_drive")
        .await
        .unwrap();
    let url = started.authorize_url.clone();
    let nonce = Some(started.browser_nonce.expose());
    let denied = CallbackParams {
        error: Some("access_denied".into()),
        state: Some(state_of(&url)),
        ..Default::default()
    };
    assert!(
        matches!(oauth::callback(&m.deps, "google_drive", denied, nonce).await, Err(DomainError::InvalidState(m)) if m.contains("declined"))
    );

    let started = oauth::start(&m.deps, &admin(), "google_drive")
        .await
        .unwrap();
    let url = started.authorize_url.clone();
    let nonce = Some(started.browser_nonce.expose());
    let bad = CallbackParams {
        code: Some("bad".into()),
        state: Some(state_of(&url)),
        ..Default::default()
    };
    assert!(
        oauth::callback(&m.deps, "google_drive", bad, nonce)
            .await
            .is_err()
    );

    let kinds = common::activity_kinds(&m, "org").await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ActivityKind::ConnectorConnectFailed)
            .count(),
        2
    );
    assert!(
        connectors::list(&m.deps, &admin(), &PageRequest::new(None, None))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn concurrent_workers_refresh_an_expiring_token_once() {
    let (m, oauth) = setup();
    let c = connect(&m).await;
    let expiring = OAuthTokens {
        access_token: Secret::new("old"),
        refresh_token: Some(Secret::new("rt")),
        expires_at: Some(m.deps.clock.now() + Duration::minutes(1)),
        scope: None,
    };
    m.secrets.put_tokens(&c.id, &expiring).await.unwrap();
    let (a, b) = tokio::join!(
        credentials::access_token(&m.deps, &c, false),
        credentials::access_token(&m.deps, &c, false)
    );
    assert_eq!(
        oauth.refreshes.load(Ordering::SeqCst),
        1,
        "one refresh for both workers"
    );
    assert_eq!(a.unwrap().expose(), "at-r1");
    assert_eq!(b.unwrap().expose(), "at-r1");
    assert_eq!(
        m.secrets
            .get_tokens(&c.id)
            .await
            .unwrap()
            .unwrap()
            .refresh_token
            .unwrap()
            .expose(),
        "rt"
    );
}

#[tokio::test]
async fn notifications_are_verified_deduplicated_and_coalesced() {
    let (m, _) = setup();
    let c = connect(&m).await;
    let channel = c.webhook.channel_id.clone().unwrap();
    let note = |n: u32, token: &str| {
        let state = if n == 1 { "sync" } else { "change" };
        test_push::delivery(&channel, token, state, n, RESOURCE)
    };
    let good = test_push::token(KEY, &channel);
    let forged = test_push::deliver(&m, &note(5, "nope")).await;
    assert!(matches!(forged, Err(DomainError::Forbidden(_))));
    assert_eq!(
        test_push::deliver(&m, &note(1, &good)).await.unwrap(),
        NotificationOutcome::Ignored("channel opened".into())
    );
    let jobs_before = m.queue.sent_sync_jobs().len();
    let mut outcomes = Vec::new();
    for n in 2..12 {
        outcomes.push(test_push::deliver(&m, &note(n, &good)).await.unwrap());
    }
    assert_eq!(outcomes[0], NotificationOutcome::SyncQueued);
    assert!(
        outcomes[1..]
            .iter()
            .all(|o| *o == NotificationOutcome::Coalesced),
        "{outcomes:?}"
    );
    assert_eq!(
        m.queue.sent_sync_jobs().len() - jobs_before,
        1,
        "ten notifications, one sync"
    );
    assert_eq!(
        test_push::deliver(&m, &note(2, &good)).await.unwrap(),
        NotificationOutcome::Ignored("replayed notification".into())
    );
}
