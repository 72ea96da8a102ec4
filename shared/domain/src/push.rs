//! Push: what a provider brings so its deliveries (webhooks, change notifications) reach the
//! domain the same way, whatever the provider. The provider reads its own headers, body and
//! secrets and answers a handshake, verified events, or a refusal; the domain never sees a
//! provider's headers or payload shapes, only [`PushEvent`]s.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connector::{Connector, WebhookState};
use crate::secret::Secret;
use crate::source::{SourceContext, SourceError};

/// One HTTP delivery as it arrived: header names lower-case, the raw body untouched (signatures
/// are computed over its exact bytes).
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    pub body: Bytes,
}

impl Delivery {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// App-secret fields a push asked for (see [`Push::secret_names`]); absent ones are missing.
#[derive(Debug, Clone, Default)]
pub struct PushSecrets(pub BTreeMap<&'static str, Secret>);

impl PushSecrets {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(Secret::expose)
            .filter(|s| !s.is_empty())
    }
}

/// What the provider expects as the answer to a handshake (URL validation, subscription check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// A verified delivery: answer a handshake, or hand on its events.
#[derive(Debug, Clone, PartialEq)]
pub enum Verified {
    Handshake(PushResponse),
    Events(Vec<PushEvent>),
}

/// Which connector an event is for, as the delivery names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Target {
    /// The subscription (channel) we opened; the connector is found by it.
    Subscription { id: String },
}

/// What an event means for the connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Meaning {
    /// The item changed (or is new): fetch it again.
    ItemChanged { external_id: String },
    /// The item is gone at the source.
    ItemDeleted { external_id: String },
    /// The item came back (untrashed, restored).
    ItemRestored { external_id: String },
    /// Something changed; read the change feed (a coalesced incremental sync).
    SyncHint,
    /// The subscription needs renewing now (it is expiring, was removed, or missed events).
    Renew,
    /// Nothing to do (e.g. the channel's opening message); kept for the record.
    Ignore { reason: String },
}

/// One verified event. `event_id` is the provider's own id of the delivery's event: a replay
/// carries the same one and is handled once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushEvent {
    pub event_id: String,
    pub event_type: String,
    pub target: Target,
    pub meaning: Meaning,
    /// What an operator needs to audit the delivery; never a token, signature or cookie.
    #[serde(default)]
    pub audit: BTreeMap<String, String>,
    #[serde(default)]
    pub payload: Value,
}

/// Why a delivery was refused. Never shown to the sender in detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushRefusal {
    /// Missing or wrong signature/token: a forgery, or a secret that changed.
    #[error("not verified: {0}")]
    NotVerified(String),
    /// Verified, but not something this push understands.
    #[error("malformed: {0}")]
    Malformed(String),
    /// The secrets this push needs are not configured.
    #[error("push is not configured: {0}")]
    NotConfigured(String),
    /// Verification could not read what it needed (a store failed): the sender should retry.
    #[error("verification could not finish: {0}")]
    Unavailable(String),
}

/// A subscription to open: where the provider delivers, and our id for it.
#[derive(Debug, Clone)]
pub struct Subscribe<'a> {
    /// The public address deliveries go to (`…/api/connectors/webhooks/<key>`).
    pub address: &'a str,
    /// Fresh, ours, unique: the push may use it as the subscription id or inside its secret.
    pub nonce: &'a str,
    /// The source's cursor (see `service::sync::source_cursor`), for feeds that start from one.
    pub cursor: Option<&'a str>,
    pub secrets: &'a PushSecrets,
}

/// Reads which connector holds a subscription (read-only; for verification).
#[async_trait]
pub trait SubscriptionLookup: Send + Sync {
    async fn connector_of(&self, subscription_id: &str) -> Result<Option<Connector>, PushRefusal>;
}

#[async_trait]
pub trait Push: Send + Sync {
    /// The path segment of this provider's deliveries: `/api/connectors/webhooks/<key>`.
    fn key(&self) -> &'static str;
    /// App-secret fields it verifies and subscribes with.
    fn secret_names(&self) -> &'static [&'static str];
    /// Verifies a delivery from its bytes and the secrets, comparing secrets in constant time.
    /// No write and no provider call; `lookup` reads which connector holds a subscription, for
    /// deliveries whose own bytes do not say.
    async fn verify(
        &self,
        delivery: &Delivery,
        secrets: &PushSecrets,
        lookup: &dyn SubscriptionLookup,
    ) -> Result<Verified, PushRefusal>;
    /// Checks a verified event against the connector its target names (e.g. it comes from the
    /// connector's current subscription). Reads nothing.
    fn matches(&self, _event: &PushEvent, _connector: &Connector) -> Result<(), PushRefusal> {
        Ok(())
    }
    /// Opens a subscription (or replaces the connector's: the domain closes the old one after).
    /// None when this connector cannot be subscribed (its settings, the account).
    async fn subscribe(
        &self,
        cx: &SourceContext,
        request: &Subscribe<'_>,
    ) -> Result<Option<WebhookState>, SourceError>;
    async fn unsubscribe(
        &self,
        cx: &SourceContext,
        state: &WebhookState,
    ) -> Result<(), SourceError>;
}

/// A verified delivery's events on their way to the worker (the webhook-events queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "webhook_delivery")]
pub struct PushJob {
    /// The push's key (`drive`, …): events are deduplicated by (key, event id).
    pub source: String,
    pub events: Vec<PushEvent>,
    pub received_at: DateTime<Utc>,
}
