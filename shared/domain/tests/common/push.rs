//! A provider's push for domain tests, shaped like Drive's (a per-channel token we derive, the
//! channel naming its connector, a resource the channel watches), in headers of its own: the
//! domain must handle it without knowing any provider.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use recorder_domain::DomainError;
use recorder_domain::connector::{Connector, WebhookState};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::push::*;
use recorder_domain::secret::same_secret;
use recorder_domain::service::push::{Batch, Received, handle, receive};
use recorder_domain::service::webhook_sync::NotificationOutcome;
use recorder_domain::source::{SourceContext, SourceError};

pub const KEY: &str = "webhook-key";
pub const SECRET_NAME: &str = "test_webhook_key";
pub const RESOURCE: &str = "res-1";

pub struct TestPush;

/// The token of a channel: only who holds the key can make it.
pub fn token(key: &str, channel: &str) -> String {
    format!("{key}|{channel}")
}

/// A notification on `channel` as the test provider sends it.
pub fn delivery(channel: &str, token: &str, state: &str, number: u32, resource: &str) -> Delivery {
    let headers = [
        ("x-test-channel", channel),
        ("x-test-token", token),
        ("x-test-state", state),
        ("x-test-resource", resource),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([("x-test-number".to_string(), number.to_string())])
    .collect();
    Delivery {
        headers,
        ..Delivery::default()
    }
}

#[async_trait]
impl Push for TestPush {
    fn key(&self) -> &'static str {
        "test"
    }
    fn secret_names(&self) -> &'static [&'static str] {
        &[SECRET_NAME]
    }
    async fn verify(
        &self,
        d: &Delivery,
        secrets: &PushSecrets,
        _: &dyn SubscriptionLookup,
    ) -> Result<Verified, PushRefusal> {
        let h = |n| d.header(n).unwrap_or_default().to_string();
        let (channel, given) = (h("x-test-channel"), h("x-test-token"));
        let key = secrets
            .get(SECRET_NAME)
            .ok_or_else(|| PushRefusal::NotConfigured("no key".into()))?;
        if channel.is_empty() || !same_secret(&token(key, &channel), &given) {
            return Err(PushRefusal::NotVerified("token".into()));
        }
        let meaning = match h("x-test-state").as_str() {
            "sync" => Meaning::Ignore {
                reason: "channel opened".into(),
            },
            _ => Meaning::SyncHint,
        };
        Ok(Verified::Events(vec![PushEvent {
            event_id: format!("{channel}:{}", h("x-test-number")),
            event_type: h("x-test-state"),
            target: Target::Subscription { id: channel },
            meaning,
            audit: BTreeMap::from([("resource".to_string(), h("x-test-resource"))]),
            payload: serde_json::Value::Null,
        }]))
    }
    fn matches(&self, event: &PushEvent, connector: &Connector) -> Result<(), PushRefusal> {
        let Target::Subscription { id } = &event.target;
        let hook = &connector.webhook;
        if hook.channel_id.as_deref() != Some(id)
            || hook.resource_id.as_deref() != event.audit.get("resource").map(String::as_str)
        {
            return Err(PushRefusal::NotVerified("not the current channel".into()));
        }
        Ok(())
    }
    async fn subscribe(
        &self,
        cx: &SourceContext,
        r: &Subscribe<'_>,
    ) -> Result<Option<WebhookState>, SourceError> {
        Ok(Some(WebhookState {
            url: Some(r.address.into()),
            active: true,
            channel_id: Some(format!("{}-{}", cx.connector.id, r.nonce)),
            resource_id: Some(RESOURCE.into()),
            expires_at: Some(chrono::Utc::now() + Duration::days(1)),
        }))
    }
    async fn unsubscribe(&self, _: &SourceContext, _: &WebhookState) -> Result<(), SourceError> {
        Ok(())
    }
}

/// Registers the test push for Drive-typed test connectors, with its key in the app secret.
pub fn register(m: &MemoryDeps) {
    m.providers.register_push(
        recorder_domain::connector::ConnectorType::GoogleDrive,
        Arc::new(TestPush),
    );
    m.secrets
        .app
        .lock()
        .unwrap()
        .insert(SECRET_NAME.into(), KEY.into());
}

/// The acknowledgement: verified and queued (the job it queued), or refused.
pub async fn acknowledge(m: &MemoryDeps, d: &Delivery) -> Result<Option<PushJob>, DomainError> {
    match receive(&m.deps, "test", d).await? {
        Received::Accepted { events: 0 } => Ok(None),
        Received::Accepted { .. } => Ok(m.queue.push_jobs.lock().unwrap().last().cloned()),
        Received::Handshake(h) => panic!("no handshake expected: {h:?}"),
    }
}

/// The acknowledgement, then the worker: what the (single) event led to.
pub async fn deliver(m: &MemoryDeps, d: &Delivery) -> Result<NotificationOutcome, DomainError> {
    let job = acknowledge(m, d).await?.expect("an event");
    Ok(handle(&m.deps, &job, &Batch::default()).await?.remove(0))
}
