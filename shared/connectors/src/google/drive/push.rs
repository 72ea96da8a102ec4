//! Drive's push: a `changes.watch` channel per connector. Google echoes our channel id and token
//! in `X-Goog-*` headers with an empty body; the token is derived from the app secret
//! `drive_webhook_token`, the connector and the channel, and the channel id carries the connector
//! id, so a delivery is verified from its headers alone. A notification is only a hint: it
//! queues a coalesced incremental sync.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use recorder_domain::connector::{Connector, WebhookState};
use recorder_domain::push::*;
use recorder_domain::secret::same_secret;
use recorder_domain::source::{SourceContext, SourceError};
use serde_json::{Value, json};

use super::source::{DriveCursor, DriveSource, parse_time};
use crate::google::failure;
use crate::push_token::subscription_token;

/// The app-secret field every channel token is derived from.
pub const WEBHOOK_SECRET: &str = "drive_webhook_token";
/// How long a channel is asked to live (Drive's maximum for changes is 7 days).
const CHANNEL_TTL: chrono::Duration = chrono::Duration::days(7);

/// The `X-Goog-*` headers of one notification (the body is empty).
struct Notification<'a> {
    channel_id: &'a str,
    token: &'a str,
    resource_state: &'a str,
    message_number: &'a str,
    resource_id: &'a str,
}

impl<'a> Notification<'a> {
    fn read(d: &'a Delivery) -> Self {
        let h = |name| d.header(name).unwrap_or_default();
        Notification {
            channel_id: h("x-goog-channel-id"),
            token: h("x-goog-channel-token"),
            resource_state: h("x-goog-resource-state"),
            message_number: h("x-goog-message-number"),
            resource_id: h("x-goog-resource-id"),
        }
    }
}

/// Our channel ids are `<connector id>-<nonce>`; channels opened before that are a bare nonce
/// (their connector is looked up).
fn connector_in(channel_id: &str) -> Option<&str> {
    channel_id.rsplit_once('-').map(|(connector, _)| connector)
}

fn refuse(why: &str) -> PushRefusal {
    PushRefusal::NotVerified(why.to_string())
}

/// The current-channel and resource checks (the headers alone cannot tell a replaced channel).
fn check_current(
    connector: &Connector,
    channel_id: &str,
    resource_id: &str,
) -> Result<(), PushRefusal> {
    let hook = &connector.webhook;
    if hook.channel_id.as_deref() != Some(channel_id) {
        return Err(refuse("not the connector's current channel"));
    }
    if hook.resource_id.as_deref() != Some(resource_id) {
        return Err(refuse("resource id is not the channel's"));
    }
    Ok(())
}

#[async_trait]
impl Push for DriveSource {
    fn key(&self) -> &'static str {
        "drive"
    }

    fn secret_names(&self) -> &'static [&'static str] {
        &[WEBHOOK_SECRET]
    }

    async fn verify(
        &self,
        delivery: &Delivery,
        secrets: &PushSecrets,
        lookup: &dyn SubscriptionLookup,
    ) -> Result<Verified, PushRefusal> {
        let n = Notification::read(delivery);
        if n.channel_id.is_empty() || n.token.is_empty() {
            return Err(refuse("missing channel id or token"));
        }
        let key = secrets
            .get(WEBHOOK_SECRET)
            .ok_or_else(|| PushRefusal::NotConfigured(format!("no {WEBHOOK_SECRET}")))?;
        let connector_id = match connector_in(n.channel_id) {
            Some(id) => id.to_string(),
            None => {
                let connector = lookup
                    .connector_of(n.channel_id)
                    .await?
                    .ok_or_else(|| refuse("unknown channel"))?;
                check_current(&connector, n.channel_id, n.resource_id)?;
                connector.id
            }
        };
        let expected = subscription_token(key, &connector_id, n.channel_id);
        if !same_secret(&expected, n.token) {
            return Err(refuse("channel token does not match"));
        }
        let meaning = match n.resource_state {
            // The channel's first message says it is open; nothing changed.
            "sync" => Meaning::Ignore {
                reason: "channel opened".into(),
            },
            _ => Meaning::SyncHint,
        };
        let audit = BTreeMap::from([
            ("x-goog-channel-id".to_string(), n.channel_id.to_string()),
            (
                "x-goog-resource-state".to_string(),
                n.resource_state.to_string(),
            ),
            (
                "x-goog-message-number".to_string(),
                n.message_number.to_string(),
            ),
            ("x-goog-resource-id".to_string(), n.resource_id.to_string()),
        ]);
        Ok(Verified::Events(vec![PushEvent {
            event_id: format!("{}:{}", n.channel_id, n.message_number),
            event_type: n.resource_state.to_string(),
            target: Target::Subscription {
                id: n.channel_id.to_string(),
            },
            meaning,
            audit,
            payload: Value::Null,
        }]))
    }

    fn matches(&self, event: &PushEvent, connector: &Connector) -> Result<(), PushRefusal> {
        let Target::Subscription { id } = &event.target;
        if connector_in(id).is_some_and(|c| c != connector.id) {
            return Err(refuse("the channel names another connector"));
        }
        let resource = event
            .audit
            .get("x-goog-resource-id")
            .map_or("", String::as_str);
        check_current(connector, id, resource)
    }

    async fn subscribe(
        &self,
        cx: &SourceContext,
        request: &Subscribe<'_>,
    ) -> Result<Option<WebhookState>, SourceError> {
        let Some(key) = request.secrets.get(WEBHOOK_SECRET) else {
            return Ok(None);
        };
        let page_token = match request
            .cursor
            .and_then(|c| serde_json::from_str::<DriveCursor>(c).ok())
        {
            Some(DriveCursor::Changes { page_token })
            | Some(DriveCursor::Full {
                start_token: page_token,
                ..
            }) => page_token,
            None => self.start_page_token(cx).await?,
        };
        // Ours, so the token can be derived before the channel exists; it names the connector.
        let channel_id = format!("{}-{}", cx.connector.id, request.nonce);
        let token = subscription_token(key, &cx.connector.id, &channel_id);
        let expiration = (Utc::now() + CHANNEL_TTL).timestamp_millis();
        let body = json!({"id": channel_id, "type": "web_hook", "address": request.address,
            "token": token, "expiration": expiration.to_string()});
        let url = self.url("changes/watch");
        let resp = self
            .call(cx, |h| {
                h.post(&url)
                    .query(&[
                        ("pageToken", page_token.as_str()),
                        ("supportsAllDrives", "true"),
                    ])
                    .json(&body)
            })
            .await?;
        if !resp.status().is_success() {
            return Err(failure(resp, "changes.watch").await);
        }
        let v: Value = resp
            .json()
            .await
            .map_err(|e| SourceError::io("changes.watch: unreadable answer", e))?;
        let expires_at = parse_time(v["expiration"].as_str()).or_else(|| {
            v["expiration"]
                .as_i64()
                .and_then(DateTime::from_timestamp_millis)
        });
        Ok(Some(WebhookState {
            url: Some(request.address.to_string()),
            active: true,
            // Ours, not the echo: the channel's token is derived from it.
            channel_id: Some(channel_id),
            resource_id: v["resourceId"].as_str().map(str::to_string),
            expires_at,
        }))
    }

    async fn unsubscribe(
        &self,
        cx: &SourceContext,
        state: &WebhookState,
    ) -> Result<(), SourceError> {
        let (Some(id), Some(resource)) = (&state.channel_id, &state.resource_id) else {
            return Ok(());
        };
        let url = self.url("channels/stop");
        let body = json!({"id": id, "resourceId": resource});
        let resp = self.call(cx, |h| h.post(&url).json(&body)).await?;
        match resp.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(failure(resp, "channels.stop").await),
        }
    }
}
