//! Drive's push on the seam: a delivery is verified from its `X-Goog-*` headers (the channel's
//! own token, derived from the app secret, the connector and the channel), queued, and handled by
//! the worker, which checks it comes from the connector's current channel and resource.

use std::collections::BTreeMap;

use chrono::Duration;
use recorder_connectors::google::drive::{Drive, WEBHOOK_SECRET};
use recorder_connectors::google::settings::GoogleSettings;
use recorder_connectors::push_token::subscription_token;
use recorder_domain::DomainError;
use recorder_domain::connector::{ConnectorType, WebhookState};
use recorder_domain::memory::{MemoryDeps, test_connector};
use recorder_domain::provider::Provider;
use recorder_domain::push::{Delivery, PushJob};
use recorder_domain::service::push::{Batch, Received, handle, receive};
use recorder_domain::service::webhook_sync::NotificationOutcome;

const KEY: &str = "drive-key";
const RESOURCE: &str = "res-9";

struct World {
    m: MemoryDeps,
}

/// A Drive connector `c1` whose current channel is `channel` on `RESOURCE`.
async fn world(channel: &str) -> World {
    let m = MemoryDeps::new();
    let drive = Drive::new(GoogleSettings::defaults(), m.secrets.clone());
    m.providers
        .register_push(ConnectorType::GoogleDrive, drive.push().unwrap());
    m.providers
        .register(ConnectorType::GoogleDrive, drive.source());
    m.secrets
        .app
        .lock()
        .unwrap()
        .insert(WEBHOOK_SECRET.into(), KEY.into());
    let now = m.deps.clock.now();
    let connector = test_connector("c1", "org", ConnectorType::GoogleDrive, "Drive", now);
    m.deps.connectors.create(&connector).await.unwrap();
    let hook = WebhookState {
        url: None,
        active: true,
        channel_id: Some(channel.into()),
        resource_id: Some(RESOURCE.into()),
        expires_at: Some(now + Duration::days(7)),
    };
    m.deps
        .connectors
        .set_webhook(&connector, &hook, None)
        .await
        .unwrap();
    World { m }
}

/// A notification as Google sends it: headers only, an empty body.
fn note(channel: &str, token: &str, state: &str, number: u32, resource: &str) -> Delivery {
    let headers = [
        ("x-goog-channel-id", channel.to_string()),
        ("x-goog-channel-token", token.to_string()),
        ("x-goog-resource-state", state.to_string()),
        ("x-goog-message-number", number.to_string()),
        ("x-goog-resource-id", resource.to_string()),
        (
            "x-goog-channel-expiration",
            "Mon, 14 Dec 2026 10:00:00 GMT".to_string(),
        ),
    ];
    Delivery {
        headers: headers
            .map(|(k, v)| (k.to_string(), v))
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        ..Delivery::default()
    }
}

impl World {
    async fn ack(&self, d: &Delivery) -> Result<Option<PushJob>, DomainError> {
        match receive(&self.m.deps, "drive", d).await? {
            Received::Accepted { events } => {
                assert_eq!(events, 1);
                Ok(self.m.queue.push_jobs.lock().unwrap().last().cloned())
            }
            Received::Handshake(h) => panic!("Drive has no handshake: {h:?}"),
        }
    }
    async fn deliver(&self, d: &Delivery) -> Result<NotificationOutcome, DomainError> {
        let job = self.ack(d).await?.unwrap();
        Ok(handle(&self.m.deps, &job, &Batch::default())
            .await?
            .remove(0))
    }
    fn syncs(&self) -> usize {
        self.m.queue.sent_sync_jobs().len()
    }
    fn queued_deliveries(&self) -> usize {
        self.m.queue.push_jobs.lock().unwrap().len()
    }
}

#[tokio::test]
async fn a_change_on_the_current_channel_is_verified_from_its_headers_and_queues_one_sync() {
    let channel = "c1-01jfchannel";
    let w = world(channel).await;
    let token = subscription_token(KEY, "c1", channel);
    assert_eq!(
        w.deliver(&note(channel, &token, "sync", 1, RESOURCE))
            .await
            .unwrap(),
        NotificationOutcome::Ignored("channel opened".into())
    );
    assert_eq!(
        w.deliver(&note(channel, &token, "change", 2, RESOURCE))
            .await
            .unwrap(),
        NotificationOutcome::SyncQueued
    );
    assert_eq!(
        w.deliver(&note(channel, &token, "change", 3, RESOURCE))
            .await
            .unwrap(),
        NotificationOutcome::Coalesced
    );
    assert_eq!(w.syncs(), 1);
    let id = format!("{channel}:2");
    let stored = w.m.deps.webhook_events.get("drive", &id).await.unwrap();
    let stored = stored.unwrap();
    assert!(stored.processed);
    assert_eq!(stored.headers["x-goog-resource-state"], "change");
    assert!(
        !stored.headers.contains_key("x-goog-channel-token"),
        "the token is never stored"
    );
}

#[tokio::test]
async fn a_forged_or_borrowed_token_is_refused_before_anything_is_written_or_queued() {
    let channel = "c1-01jfchannel";
    let w = world(channel).await;
    // Another channel's token (of the same connector), a token for another connector, garbage.
    for token in [
        subscription_token(KEY, "c1", "c1-01jfother"),
        subscription_token(KEY, "c2", channel),
        subscription_token("wrong-key", "c1", channel),
        "nope".to_string(),
        String::new(),
    ] {
        let got = w.ack(&note(channel, &token, "change", 2, RESOURCE)).await;
        assert!(
            matches!(got, Err(DomainError::Forbidden(_))),
            "{token}: {got:?}"
        );
    }
    assert_eq!(w.queued_deliveries(), 0, "nothing queued");
    assert_eq!(w.syncs(), 0);
    let id = format!("{channel}:2");
    let none = w.m.deps.webhook_events.get("drive", &id).await.unwrap();
    assert!(none.is_none(), "nothing recorded");
}

#[tokio::test]
async fn a_replaced_channel_or_another_resource_is_dropped_by_the_worker_unrecorded() {
    let current = "c1-01jfcurrent";
    let w = world(current).await;
    // A channel of c1 that is no longer its current one: its token is genuine.
    let old = "c1-01jfold";
    let token = subscription_token(KEY, "c1", old);
    let outcome = w.deliver(&note(old, &token, "change", 2, RESOURCE)).await;
    assert!(
        matches!(outcome, Ok(NotificationOutcome::Ignored(_))),
        "{outcome:?}"
    );
    let token = subscription_token(KEY, "c1", current);
    let outcome = w
        .deliver(&note(current, &token, "change", 3, "someone-elses"))
        .await;
    assert!(
        matches!(outcome, Ok(NotificationOutcome::Ignored(_))),
        "{outcome:?}"
    );
    assert_eq!(w.syncs(), 0, "no sync");
    for id in [format!("{old}:2"), format!("{current}:3")] {
        let got = w.m.deps.webhook_events.get("drive", &id).await.unwrap();
        assert!(got.is_none(), "{id} recorded");
    }
}

#[tokio::test]
async fn a_channel_opened_before_ids_named_their_connector_is_verified_through_its_lookup() {
    // Channel ids used to be a bare ULID; their token was derived the same way.
    let legacy = "01jflegacychannel";
    let w = world(legacy).await;
    let token = subscription_token(KEY, "c1", legacy);
    assert_eq!(
        w.deliver(&note(legacy, &token, "change", 2, RESOURCE))
            .await
            .unwrap(),
        NotificationOutcome::SyncQueued
    );
    // An unknown bare channel, and a known one with another resource, are refused at once.
    let got = w
        .ack(&note("01jfunknown", &token, "change", 3, RESOURCE))
        .await;
    assert!(matches!(got, Err(DomainError::Forbidden(_))), "{got:?}");
    let got = w
        .ack(&note(legacy, &token, "change", 4, "someone-elses"))
        .await;
    assert!(matches!(got, Err(DomainError::Forbidden(_))), "{got:?}");
}

#[tokio::test]
async fn deliveries_without_the_webhook_key_configured_are_refused() {
    let channel = "c1-01jfchannel";
    let w = world(channel).await;
    w.m.secrets.app.lock().unwrap().remove(WEBHOOK_SECRET);
    let token = subscription_token(KEY, "c1", channel);
    let got = w.ack(&note(channel, &token, "change", 2, RESOURCE)).await;
    assert!(matches!(got, Err(DomainError::Forbidden(_))), "{got:?}");
}
