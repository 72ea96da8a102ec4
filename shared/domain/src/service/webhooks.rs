//! Push channels and the notifications they deliver. Drive: a `changes.watch` channel per connector,
//! its secret token derived from an app secret and the channel (nothing more to store), renewed
//! before it expires, stopped on disconnect. A notification is verified before anything is written,
//! and is only a hint: it queues an incremental sync, coalesced (see `webhook_sync`).

use std::collections::BTreeMap;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::connector::{Connector, ConnectorStatus, WebhookState};
use crate::error::DomainError;
use crate::ports::Deps;
use crate::service::credentials;
use crate::service::webhook_sync;
use crate::source::{Meter, SourceContext};
use crate::webhook::WebhookEvent;

/// App secret holding the key that derives every Drive channel token.
pub const DRIVE_WEBHOOK_SECRET: &str = "drive_webhook_token";

pub fn webhook_path(provider: &str) -> String {
    format!("/api/connectors/webhooks/{provider}")
}

/// The token of one channel: HMAC-SHA256(app secret, connector id and channel id), hex. Per
/// channel, so a token seen on one channel is refused on every other.
pub fn channel_token(key: &str, connector_id: &str, channel_id: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    // Length-prefixed, so no other (connector, channel) pair gives the same input.
    for part in [connector_id, channel_id] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex_lower(&mac.finalize().into_bytes())
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison, so a forged token learns nothing from timing (the length is not
/// secret: every token of a kind has the same one).
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

async fn webhook_key(deps: &Deps) -> Result<Option<String>, DomainError> {
    Ok(deps
        .app_secrets
        .get(DRIVE_WEBHOOK_SECRET)
        .await?
        .map(|s| s.expose().to_string()))
}

async fn context(deps: &Deps, connector: &Connector) -> Result<SourceContext, DomainError> {
    let token = credentials::access_token(deps, connector, false).await?;
    Ok(SourceContext {
        connector: connector.clone(),
        access_token: token,
        meter: Arc::new(Meter::default()),
    })
}

/// Opens a push channel for the connector (replacing an older one). Ok(false) when the source has
/// no push or webhooks are not configured.
pub async fn open_channel(deps: &Deps, connector: &Connector) -> Result<bool, DomainError> {
    let Some(source) = deps.providers.source(connector.connector_type) else {
        return Ok(false);
    };
    if !connector.connector_type.info().supports_webhooks {
        return Ok(false);
    }
    if deps.providers.public_base_url().is_empty() {
        tracing::info!(connector_id = %connector.id, "no PUBLIC_BASE_URL: push channels are off");
        return Ok(false);
    }
    let Some(key) = webhook_key(deps).await? else {
        tracing::info!(connector_id = %connector.id, "no {DRIVE_WEBHOOK_SECRET} in the app secret: push channels are off");
        return Ok(false);
    };
    let cx = context(deps, connector).await?;
    let address = format!(
        "{}{}",
        deps.providers.public_base_url(),
        webhook_path("drive")
    );
    // Our id for the channel, so its token can be derived from it before the channel exists.
    let channel_id = crate::ids::new_id().to_ascii_lowercase();
    let token = channel_token(&key, &connector.id, &channel_id);
    let Some(opened) = source
        .open_webhook(
            &cx,
            &address,
            &channel_id,
            &token,
            connector
                .sync_cursor
                .as_deref()
                .and_then(provider_cursor)
                .as_deref(),
        )
        .await?
    else {
        return Ok(false);
    };
    let previous = connector.webhook.clone();
    deps.connectors
        .set_webhook(connector, &opened.state, Some(&previous))
        .await?;
    if previous.active && previous.channel_id != opened.state.channel_id {
        // Open the new channel first, then stop the old one: no gap without notifications.
        if let Err(e) = source.close_webhook(&cx, &previous).await {
            tracing::warn!(connector_id = %connector.id, error = %e, "could not stop the previous channel; it expires on its own");
        }
    }
    Ok(true)
}

/// The provider's own cursor inside the engine's checkpoint.
fn provider_cursor(raw: &str) -> Option<String> {
    serde_json::from_str::<Value>(raw)
        .ok()?
        .get("cursor")?
        .as_str()
        .map(str::to_string)
}

/// Stops the connector's channel (disconnect). Best effort at the provider; always forgotten here.
pub async fn close_channel(deps: &Deps, connector: &Connector) -> Result<(), DomainError> {
    if !connector.webhook.active {
        return Ok(());
    }
    if let Some(source) = deps.providers.source(connector.connector_type) {
        match context(deps, connector).await {
            Ok(cx) => {
                if let Err(e) = source.close_webhook(&cx, &connector.webhook).await {
                    tracing::warn!(connector_id = %connector.id, error = %e, "could not stop the channel at the provider; it expires on its own");
                }
            }
            Err(e) => {
                tracing::warn!(connector_id = %connector.id, error = %e, "no credentials to stop the channel; it expires on its own")
            }
        }
    }
    let closed = WebhookState {
        active: false,
        ..connector.webhook.clone()
    };
    deps.connectors
        .set_webhook(connector, &closed, Some(&connector.webhook))
        .await?;
    Ok(())
}

/// What the Drive receiver got: the X-Goog-* headers (the body is empty).
#[derive(Debug, Clone, Default)]
pub struct DriveNotification {
    pub channel_id: String,
    pub token: String,
    pub resource_state: String,
    pub message_number: String,
    pub resource_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationOutcome {
    /// An incremental sync was queued.
    SyncQueued,
    /// A sync is already queued: this notification is folded into it.
    Coalesced,
    /// A sync is running: one follow-up sync runs when it ends.
    FollowUp,
    /// The channel's first "sync" message, a replay, or a connector that is not active.
    Ignored(&'static str),
}

/// Verifies a delivery (token of the channel it names, the resource that channel watches) before
/// any write, then records it and queues or folds a sync. A delivery is deduplicated only once it
/// was handled: a retry after a failure is handled again.
pub async fn drive_notification(
    deps: &Deps,
    n: &DriveNotification,
) -> Result<NotificationOutcome, DomainError> {
    let connector = verify(deps, n).await?;
    let event = WebhookEvent {
        source: "drive".into(),
        event_id: format!("{}:{}", n.channel_id, n.message_number),
        event_type: n.resource_state.clone(),
        connector_id: Some(connector.id.clone()),
        org_id: Some(connector.org_id.clone()),
        payload: Value::Null,
        headers: BTreeMap::from([
            ("x-goog-channel-id".to_string(), n.channel_id.clone()),
            (
                "x-goog-resource-state".to_string(),
                n.resource_state.clone(),
            ),
            (
                "x-goog-message-number".to_string(),
                n.message_number.clone(),
            ),
            ("x-goog-resource-id".to_string(), n.resource_id.clone()),
        ]),
        processed: false,
        processed_at: None,
        processing_error: None,
        retry_count: 0,
        received_at: deps.clock.now(),
    };
    if !deps.webhook_events.record(&event).await? {
        let earlier = deps.webhook_events.get("drive", &event.event_id).await?;
        if earlier.is_none_or(|e| e.processed) {
            return Ok(NotificationOutcome::Ignored("replayed notification"));
        }
    }
    let outcome = if n.resource_state == "sync" {
        Ok(NotificationOutcome::Ignored("channel opened"))
    } else if connector.status != ConnectorStatus::Active {
        Ok(NotificationOutcome::Ignored("connector is not active"))
    } else {
        webhook_sync::notified(deps, &connector).await
    };
    let error = outcome.as_ref().err().map(ToString::to_string);
    let marked = deps
        .webhook_events
        .mark_processed("drive", &event.event_id, deps.clock.now(), error.as_deref())
        .await;
    let outcome = outcome?;
    marked?;
    Ok(outcome)
}

/// The connector whose channel sent `n`, when the delivery carries that channel's token and names
/// the resource the channel was opened on. Reads only.
async fn verify(deps: &Deps, n: &DriveNotification) -> Result<Connector, DomainError> {
    if n.channel_id.is_empty() || n.token.is_empty() {
        return Err(DomainError::Forbidden("missing channel id or token".into()));
    }
    let Some(connector) = deps.connectors.find_by_channel(&n.channel_id).await? else {
        return Err(DomainError::NotFound("channel".into()));
    };
    let key = webhook_key(deps)
        .await?
        .ok_or_else(|| DomainError::Forbidden("webhooks are not configured".into()))?;
    if !same_secret(&channel_token(&key, &connector.id, &n.channel_id), &n.token) {
        return Err(DomainError::Forbidden(
            "channel token does not match".into(),
        ));
    }
    let hook = &connector.webhook;
    if hook.channel_id.as_deref() != Some(n.channel_id.as_str()) {
        return Err(DomainError::Forbidden(
            "not the connector's current channel".into(),
        ));
    }
    if hook.resource_id.as_deref() != Some(n.resource_id.as_str()) {
        return Err(DomainError::Forbidden(
            "resource id is not the channel's".into(),
        ));
    }
    Ok(connector)
}

/// Renews channels expiring before `before` (the scheduler calls this every tick).
pub async fn renew_expiring(
    deps: &Deps,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, Result<(), String>)>, DomainError> {
    let mut report = Vec::new();
    for connector in deps.connectors.list_webhooks_expiring(before, 200).await? {
        let result = if connector.status == ConnectorStatus::Active {
            open_channel(deps, &connector)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            close_channel(deps, &connector)
                .await
                .map_err(|e| e.to_string())
        };
        report.push((connector.id.clone(), result));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_tokens_are_per_connector_and_channel_and_compare_in_constant_time() {
        let a = channel_token("k", "c1", "ch1");
        assert_eq!(a.len(), 64);
        assert_ne!(a, channel_token("k", "c2", "ch1"));
        assert_ne!(a, channel_token("k", "c1", "ch2"));
        assert_ne!(a, channel_token("other", "c1", "ch1"));
        assert_ne!(
            channel_token("k", "c1c", "h1"),
            channel_token("k", "c1", "ch1")
        );
        assert!(same_secret(&a, &channel_token("k", "c1", "ch1")));
        assert!(!same_secret(&a, &a[..63]));
    }
}
