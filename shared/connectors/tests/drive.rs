//! The Google connector against the fake Google (infra/fake-google), which follows Drive v3's and
//! Google OAuth's documented behaviour: OAuth with PKCE, full and incremental syncs through the
//! engine, a 429 storm, the export limit, a revoked grant, and push channels.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;
use fake_google::{FakeConfig, FakeGoogle, NewFile};
use recorder_connectors::google::drive::{DriveSource, SCOPES};
use recorder_connectors::google::oauth::GoogleOAuth;
use recorder_connectors::google::settings::GoogleSettings;
use recorder_domain::connector::{Connector, ConnectorStatus, ConnectorType};
use recorder_domain::memory::{MemoryDeps, test_connector};
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::TokenStore;
use recorder_domain::push::{Push, PushSecrets, Subscribe};
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::connector_writes::queue_sync;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};
use recorder_domain::source::{Meter, OAuthClient, Source, SourceContext, SourceError};
use recorder_domain::sync_log::{SyncLog, SyncStatus, SyncType};

fn settings(fake: &FakeGoogle) -> GoogleSettings {
    GoogleSettings {
        auth_url: fake.auth_url(),
        token_url: fake.token_url(),
        api_base_url: fake.api_base_url(),
        rate_limit_per_sec: 1000.0,
        ..GoogleSettings::defaults()
    }
}

struct World {
    fake: FakeGoogle,
    m: MemoryDeps,
    connector: Connector,
    oauth: Arc<GoogleOAuth>,
}

async fn world(config: FakeConfig) -> World {
    let fake = FakeGoogle::start(config).await.unwrap();
    let m = MemoryDeps::new();
    m.secrets
        .app
        .lock()
        .unwrap()
        .insert("google_client_id".into(), "local-client-id".into());
    m.secrets
        .app
        .lock()
        .unwrap()
        .insert("google_client_secret".into(), "local-client-secret".into());
    let s = settings(&fake);
    let oauth = Arc::new(GoogleOAuth::new(s.clone(), m.secrets.clone(), SCOPES));
    m.providers
        .register(ConnectorType::GoogleDrive, Arc::new(DriveSource::new(s)));
    m.providers
        .register_oauth(ConnectorType::GoogleDrive, oauth.clone());
    let now = m.deps.clock.now();
    let connector = test_connector("c1", "org", ConnectorType::GoogleDrive, "Drive", now);
    m.deps.connectors.create(&connector).await.unwrap();
    World {
        fake,
        m,
        connector,
        oauth,
    }
}

impl World {
    /// Connects through the real OAuth round trip against the fake and stores the tokens.
    async fn connect(&self) -> OAuthTokens {
        let redirect = "http://127.0.0.1:3000/api/connectors/auth/google_drive/callback";
        let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
        let url = self
            .oauth
            .authorize_url("state-1", verifier, redirect)
            .await
            .unwrap();
        assert!(
            url.contains("access_type=offline") && url.contains("code_challenge_method=S256"),
            "{url}"
        );
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = http.get(&url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 302);
        let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
        let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
        assert_eq!(q["state"], "state-1");
        let tokens = self
            .oauth
            .exchange_code(&q["code"], verifier, redirect)
            .await
            .unwrap();
        self.m.secrets.put_tokens("c1", &tokens).await.unwrap();
        tokens
    }

    async fn sync(&self) -> (JobOutcome, SyncLog) {
        let log = queue_sync(&self.m.deps, &self.connector, SyncType::Manual, None)
            .await
            .unwrap();
        let job = self.m.queue.sent_sync_jobs().last().cloned().unwrap();
        let outcome = run_sync_job(&self.m.deps, &job, None).await.unwrap();
        (
            outcome,
            self.m
                .deps
                .sync_logs
                .get("c1", &log.id)
                .await
                .unwrap()
                .unwrap(),
        )
    }

    async fn live_docs(&self) -> usize {
        let docs = self
            .m
            .deps
            .documents
            .list_by_connector("c1", &PageRequest::new(Some(200), None))
            .await
            .unwrap();
        let mut n = docs.items.iter().filter(|d| !d.is_deleted).count();
        let mut cursor = docs.next_cursor;
        while let Some(c) = cursor {
            let page = self
                .m
                .deps
                .documents
                .list_by_connector("c1", &PageRequest::new(Some(200), Some(c)))
                .await
                .unwrap();
            n += page.items.iter().filter(|d| !d.is_deleted).count();
            cursor = page.next_cursor;
        }
        n
    }
}

#[tokio::test]
async fn the_oauth_round_trip_gives_tokens_that_refresh_until_revoked() {
    let w = world(FakeConfig::default()).await;
    let tokens = w.connect().await;
    assert!(
        tokens.refresh_token.is_some(),
        "offline access gives a refresh token"
    );
    let fresh = w.oauth.refresh(&tokens).await.unwrap();
    assert_ne!(fresh.access_token, tokens.access_token);
    assert_eq!(
        fresh.refresh_token, tokens.refresh_token,
        "Google keeps the refresh token"
    );
    w.fake.revoke_refresh_tokens();
    assert!(matches!(
        w.oauth.refresh(&tokens).await,
        Err(SourceError::AuthRevoked(_))
    ));
}

#[tokio::test]
async fn a_drive_syncs_fully_then_incrementally_touching_exactly_the_changes() {
    let w = world(FakeConfig::default()).await;
    w.connect().await;
    let ids = w.fake.seed(120, 7);
    let (outcome, log) = w.sync().await;
    assert!(
        matches!(
            outcome,
            JobOutcome::Finished(SyncStatus::Success | SyncStatus::Partial)
        ),
        "{outcome:?} {:?}",
        log.error_details
    );
    let imported = log.counts.synced;
    assert_eq!(
        imported as usize + log.counts.failed as usize,
        w.live_docs().await + log.counts.failed as usize
    );
    assert!(
        imported >= 100,
        "most seeded files import: {imported} ({:?})",
        log.error_details
    );

    // Edit 5, delete 3, add 2: the next sync touches exactly those.
    let binary: Vec<_> = ids
        .iter()
        .filter(|id| w.fake.file(id).is_some_and(|f| f.is_binary()))
        .cloned()
        .collect();
    for id in &binary[0..5] {
        w.fake.update_content(id, b"edited bytes".to_vec()).unwrap();
    }
    for id in &binary[5..8] {
        w.fake.delete(id).unwrap();
    }
    w.fake
        .add_file(NewFile::new("new-1.txt", "text/plain", b"new one".to_vec()));
    w.fake
        .add_file(NewFile::new("new-2.txt", "text/plain", b"new two".to_vec()));
    let before = w.fake.stats();
    let (_, log) = w.sync().await;
    assert_eq!(
        (log.counts.updated, log.counts.deleted, log.counts.synced),
        (5, 3, 2),
        "{:?}",
        log.counts
    );
    let after = w.fake.stats();
    assert_eq!(
        after.calls_to("drive.files.list"),
        before.calls_to("drive.files.list"),
        "no re-listing: the change feed only"
    );
    assert_eq!(
        after.calls_to("drive.files.download") - before.calls_to("drive.files.download"),
        7,
        "5 edits + 2 new downloaded"
    );
}

#[tokio::test]
async fn a_burst_of_429s_slows_the_sync_but_fails_no_item() {
    let w = world(FakeConfig::default()).await;
    w.connect().await;
    for i in 0..10 {
        w.fake.add_file(NewFile::new(
            format!("f{i}.txt"),
            "text/plain",
            format!("file {i}").into_bytes(),
        ));
    }
    w.fake.inject_429(6);
    let (outcome, log) = w.sync().await;
    assert_eq!(
        outcome,
        JobOutcome::Finished(SyncStatus::Success),
        "{:?}",
        log.error_details
    );
    assert_eq!(log.counts.synced, 10);
    assert_eq!(w.fake.stats().http_429_served, 6);
}

#[tokio::test]
async fn a_provider_limit_lower_than_ours_slows_the_sync_and_fails_no_item() {
    // Drive throttles at 10 req/s (half its refusals 403 userRateLimitExceeded, half 429) while
    // the connector is set to 50: the pacer must learn the limit instead of failing items.
    let w = world(FakeConfig {
        rate_limit_per_sec: Some(10),
        ..FakeConfig::default()
    })
    .await;
    w.connect().await;
    w.m.providers.register(
        ConnectorType::GoogleDrive,
        Arc::new(DriveSource::new(GoogleSettings {
            rate_limit_per_sec: 50.0,
            ..settings(&w.fake)
        })),
    );
    for i in 0..40 {
        w.fake.add_file(NewFile::new(
            format!("f{i}.txt"),
            "text/plain",
            format!("file {i}").into_bytes(),
        ));
    }
    let (outcome, log) = w.sync().await;
    assert_eq!(
        outcome,
        JobOutcome::Finished(SyncStatus::Success),
        "{:?}",
        log.error_details
    );
    assert_eq!((log.counts.synced, log.counts.failed), (40, 0));
    let stats = w.fake.stats();
    assert!(stats.http_403_rate_limit_served >= 1, "{stats:?}");
    let throttled = stats.http_403_rate_limit_served + stats.http_429_served;
    let calls: u64 = stats
        .calls
        .iter()
        .filter(|(k, _)| k.starts_with("drive."))
        .map(|(_, v)| v)
        .sum();
    // Pausing the whole connector on a throttle keeps the refused share small.
    assert!(
        throttled * 5 <= calls,
        "{throttled} of {calls} calls throttled"
    );
}

#[tokio::test]
async fn a_google_doc_over_the_export_limit_fails_alone_with_a_clear_reason() {
    let w = world(FakeConfig {
        export_limit_bytes: 1000,
        ..FakeConfig::default()
    })
    .await;
    w.connect().await;
    w.fake
        .add_file(NewFile::google_doc("Huge plan", "lorem ipsum ".repeat(500)));
    w.fake.add_file(NewFile::google_doc("Small note", "short"));
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Partial));
    assert_eq!(log.counts.synced, 1);
    assert_eq!(log.error_details.len(), 1);
    assert_eq!(log.error_details[0].name.as_deref(), Some("Huge plan"));
    assert!(
        log.error_details[0].reason.contains("10 MB export limit"),
        "{}",
        log.error_details[0].reason
    );
}

#[tokio::test]
async fn a_token_revoked_mid_sync_puts_the_connector_in_error() {
    let w = world(FakeConfig::default()).await;
    let tokens = w.connect().await;
    w.fake
        .add_file(NewFile::new("a.txt", "text/plain", b"a".to_vec()));
    // The access token dies and the refresh token with it.
    w.fake.expire_access_tokens();
    w.fake.revoke_refresh_tokens();
    let expired = OAuthTokens {
        expires_at: Some(w.m.deps.clock.now() + Duration::hours(1)),
        ..tokens
    };
    w.m.secrets.put_tokens("c1", &expired).await.unwrap();
    let (outcome, log) = w.sync().await;
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Failed));
    assert!(
        log.error_message
            .as_deref()
            .unwrap_or_default()
            .contains("reconnect needed"),
        "{log:?}"
    );
    let c = w.m.deps.connectors.get("org", "c1").await.unwrap().unwrap();
    assert_eq!(c.status, ConnectorStatus::Error);
}

#[tokio::test]
async fn a_push_channel_opens_on_the_change_feed_and_stops() {
    let w = world(FakeConfig::default()).await;
    let tokens = w.connect().await;
    let source = DriveSource::new(settings(&w.fake));
    let cx = SourceContext {
        connector: w.connector.clone(),
        access_token: tokens.access_token.clone(),
        meter: Arc::new(Meter::default()),
    };
    let account = source.account(&cx).await.unwrap();
    assert_eq!(account.email.as_deref(), Some(fake_google::USER_EMAIL));
    let secrets = PushSecrets(BTreeMap::from([(
        "drive_webhook_token",
        Secret::new("webhook-key"),
    )]));
    let request = Subscribe {
        address: "http://127.0.0.1:9/api/connectors/webhooks/drive",
        nonce: "n1",
        cursor: None,
        secrets: &secrets,
    };
    let opened = source.subscribe(&cx, &request).await.unwrap().unwrap();
    // The channel id names the connector, so its token can be checked from the headers alone.
    assert!(
        opened.active
            && opened.channel_id.as_deref() == Some("c1-n1")
            && opened.resource_id.is_some()
    );
    assert!(opened.expires_at.is_some());
    assert_eq!(w.fake.open_channels(), 1);
    source.unsubscribe(&cx, &opened).await.unwrap();
    assert_eq!(w.fake.open_channels(), 0);
}
