//! A connect is bound to the browser that started it: the state keeps only a hash of a nonce
//! given to that browser, and a callback without that nonce is refused before any token exchange
//! or write, leaving the state for the browser that started it. Against in-memory ports.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use recorder_domain::activity::ActivityKind;
use recorder_domain::connector::ConnectorType;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::Clock;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::oauth::{self, CallbackParams, OTHER_BROWSER};
use recorder_domain::source::{OAuthClient, SourceError};
use recorder_domain::{Caller, DomainError, Role};
use sha2::{Digest, Sha256};

mod common;

/// Counts code exchanges, so a test can see that a refused callback never reached the provider.
#[derive(Default)]
struct CountingOAuth {
    exchanges: AtomicU32,
}

#[async_trait]
impl OAuthClient for CountingOAuth {
    async fn authorize_url(&self, state: &str, _: &str, _: &str) -> Result<String, SourceError> {
        Ok(format!("https://consent.example/?state={state}"))
    }
    async fn exchange_code(
        &self,
        code: &str,
        _: &str,
        _: &str,
    ) -> Result<OAuthTokens, SourceError> {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        if code == "refused" {
            return Err(SourceError::AuthRevoked("invalid_grant".into()));
        }
        Ok(OAuthTokens {
            access_token: Secret::new("victim-access-token"),
            refresh_token: None,
            expires_at: None,
            scope: None,
        })
    }
    async fn refresh(&self, _: &OAuthTokens) -> Result<OAuthTokens, SourceError> {
        Err(SourceError::AuthRevoked("not in this test".into()))
    }
}

fn org_x_admin() -> Caller {
    Caller {
        org_id: "org_x".into(),
        user_id: "admin_x".into(),
        role: Role::Admin,
    }
}

fn setup() -> (MemoryDeps, Arc<CountingOAuth>) {
    let m = MemoryDeps::new();
    let client = Arc::new(CountingOAuth::default());
    m.providers
        .register_oauth(ConnectorType::GoogleDrive, client.clone());
    (m, client)
}

fn params(state: &str, code: &str) -> CallbackParams {
    CallbackParams {
        code: Some(code.into()),
        state: Some(state.into()),
        ..Default::default()
    }
}

async fn connectors_of_x(m: &MemoryDeps) -> usize {
    let (caller, page) = (org_x_admin(), PageRequest::new(None, None));
    let listed = recorder_domain::service::connectors::list(&m.deps, &caller, &page);
    listed.await.unwrap().items.len()
}

#[tokio::test]
async fn a_callback_without_the_starting_browsers_nonce_is_refused_before_any_exchange_or_write() {
    let (m, provider) = setup();
    let started = oauth::start(&m.deps, &org_x_admin(), "google_drive")
        .await
        .unwrap();
    let activity_before = common::activity_kinds(&m, "org_x").await.len();

    // The victim's browser: no nonce, an empty one, or a guess.
    for nonce in [None, Some(""), Some("guessed-nonce")] {
        let refused = oauth::callback(
            &m.deps,
            "google_drive",
            params(&started.state, "victims-code"),
            nonce,
        )
        .await;
        assert!(
            matches!(&refused, Err(DomainError::Forbidden(m)) if m == OTHER_BROWSER),
            "{refused:?}"
        );
    }
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 0);
    assert_eq!(connectors_of_x(&m).await, 0);
    assert!(m.secrets.tokens.lock().unwrap().is_empty());
    assert!(m.queue.sent_sync_jobs().is_empty());
    let activity_after = common::activity_kinds(&m, "org_x").await;
    assert_eq!(
        activity_after.len(),
        activity_before,
        "nothing recorded either"
    );

    // The refusals left the state to the browser that started the flow.
    let own = oauth::callback(
        &m.deps,
        "google_drive",
        params(&started.state, "admins-code"),
        Some(started.browser_nonce.expose()),
    )
    .await
    .unwrap();
    assert_eq!(own.org_id, "org_x");
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_state_record_keeps_only_a_hash_of_the_browser_nonce() {
    let (m, _) = setup();
    let started = oauth::start(&m.deps, &org_x_admin(), "google_drive")
        .await
        .unwrap();
    let nonce = started.browser_nonce.expose();
    assert!(nonce.len() >= 32, "a nonce nobody can guess");
    let record = m
        .deps
        .oauth_states
        .get(&started.state)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.browser_nonce_hash.as_deref(),
        Some(hex::encode(Sha256::digest(nonce.as_bytes())).as_str())
    );
    let stored = serde_json::to_string(&record).unwrap();
    assert!(!stored.contains(nonce), "{stored}");
    assert_eq!(started.lifetime, record.expires_at - m.clock.now());

    let other = oauth::start(&m.deps, &org_x_admin(), "google_drive")
        .await
        .unwrap();
    assert_ne!(other.browser_nonce.expose(), nonce, "a new nonce per start");
}

#[tokio::test]
async fn the_starting_browsers_attempt_uses_the_state_up_even_when_the_code_is_refused() {
    let (m, provider) = setup();
    let started = oauth::start(&m.deps, &org_x_admin(), "google_drive")
        .await
        .unwrap();
    let nonce = Some(started.browser_nonce.expose());
    let refused = oauth::callback(
        &m.deps,
        "google_drive",
        params(&started.state, "refused"),
        nonce,
    )
    .await;
    assert!(
        matches!(refused, Err(DomainError::InvalidState(_))),
        "{refused:?}"
    );
    let kinds = common::activity_kinds(&m, "org_x").await;
    assert!(
        kinds.contains(&ActivityKind::ConnectorConnectFailed),
        "{kinds:?}"
    );

    // The code is single-use at the provider: a retry needs a new start.
    let again = oauth::callback(&m.deps, "google_drive", params(&started.state, "ok"), nonce).await;
    assert!(
        matches!(&again, Err(DomainError::Validation { message, .. }) if message.contains("already used")),
        "{again:?}"
    );
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 1);
    assert_eq!(connectors_of_x(&m).await, 0);
}

#[tokio::test]
async fn a_lapsed_flow_is_told_it_expired_even_though_its_cookie_lapsed_with_it() {
    let (m, provider) = setup();
    let started = oauth::start(&m.deps, &org_x_admin(), "google_drive")
        .await
        .unwrap();
    m.clock
        .advance(started.lifetime + chrono::Duration::seconds(1));
    let late = oauth::callback(&m.deps, "google_drive", params(&started.state, "c"), None).await;
    assert!(
        matches!(&late, Err(DomainError::Validation { message, .. }) if message.contains("expired")),
        "{late:?}"
    );
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 0);
}
