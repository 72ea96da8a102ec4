//! Push subscriptions of connectors: opened on connect, renewed before they expire (the scheduler
//! asks every tick), replaced without a gap, closed on disconnect. Which provider, and how its
//! subscription works, is the provider's [`Push`](crate::push::Push); this is the same for all.

use std::sync::Arc;

use crate::connector::{Connector, ConnectorStatus, WebhookState};
use crate::error::DomainError;
use crate::ids::new_id;
use crate::ports::Deps;
use crate::push::{Push, PushSecrets, Subscribe};
use crate::service::credentials;
use crate::service::sync::source_cursor;
use crate::source::{Meter, SourceContext};

/// Where a provider's deliveries arrive.
pub fn webhook_path(key: &str) -> String {
    format!("/api/connectors/webhooks/{key}")
}

/// The app-secret fields `push` asked for (read through the app secret's cache).
pub async fn push_secrets(deps: &Deps, push: &dyn Push) -> Result<PushSecrets, DomainError> {
    let mut secrets = PushSecrets::default();
    for &name in push.secret_names() {
        if let Some(value) = deps.app_secrets.get(name).await? {
            secrets.0.insert(name, value);
        }
    }
    Ok(secrets)
}

async fn context(deps: &Deps, connector: &Connector) -> Result<SourceContext, DomainError> {
    let token = credentials::access_token(deps, connector, false).await?;
    Ok(SourceContext {
        connector: connector.clone(),
        access_token: token,
        meter: Arc::new(Meter::default()),
    })
}

/// Opens a subscription for the connector (replacing an older one). Ok(false) when its provider
/// has no push, or push is not configured here (no public address, no secrets).
pub async fn open(deps: &Deps, connector: &Connector) -> Result<bool, DomainError> {
    let Some(push) = deps.providers.push(connector.connector_type) else {
        return Ok(false);
    };
    if deps.providers.public_base_url().is_empty() {
        tracing::info!(connector_id = %connector.id, "no PUBLIC_BASE_URL: push subscriptions are off");
        return Ok(false);
    }
    let secrets = push_secrets(deps, push.as_ref()).await?;
    if let Some(missing) = push
        .secret_names()
        .iter()
        .find(|n| secrets.get(n).is_none())
    {
        tracing::info!(connector_id = %connector.id, "no {missing} in the app secret: push subscriptions are off");
        return Ok(false);
    }
    let cx = context(deps, connector).await?;
    let address = format!(
        "{}{}",
        deps.providers.public_base_url(),
        webhook_path(push.key())
    );
    let nonce = new_id().to_ascii_lowercase();
    let cursor = source_cursor(connector);
    let request = Subscribe {
        address: &address,
        nonce: &nonce,
        cursor: cursor.as_deref(),
        secrets: &secrets,
    };
    let Some(opened) = push.subscribe(&cx, &request).await? else {
        return Ok(false);
    };
    let previous = connector.webhook.clone();
    deps.connectors
        .set_webhook(connector, &opened, Some(&previous))
        .await?;
    if previous.active && previous.channel_id != opened.channel_id {
        // Open the new one first, then close the old one: no gap without deliveries.
        if let Err(e) = push.unsubscribe(&cx, &previous).await {
            tracing::warn!(connector_id = %connector.id, error = %e, "could not close the previous subscription; it expires on its own");
        }
    }
    Ok(true)
}

/// Closes the connector's subscription (disconnect). Best effort at the provider; always
/// forgotten here.
pub async fn close(deps: &Deps, connector: &Connector) -> Result<(), DomainError> {
    if !connector.webhook.active {
        return Ok(());
    }
    if let Some(push) = deps.providers.push(connector.connector_type) {
        match context(deps, connector).await {
            Ok(cx) => {
                if let Err(e) = push.unsubscribe(&cx, &connector.webhook).await {
                    tracing::warn!(connector_id = %connector.id, error = %e, "could not close the subscription at the provider; it expires on its own");
                }
            }
            Err(e) => {
                tracing::warn!(connector_id = %connector.id, error = %e, "no credentials to close the subscription; it expires on its own")
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

/// Renews subscriptions expiring before `before` (the scheduler calls this every tick); a
/// connector no longer active has its subscription closed instead.
pub async fn renew_expiring(
    deps: &Deps,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, Result<(), String>)>, DomainError> {
    let mut report = Vec::new();
    for connector in deps.connectors.list_webhooks_expiring(before, 200).await? {
        let result = if connector.status == ConnectorStatus::Active {
            open(deps, &connector)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            close(deps, &connector).await.map_err(|e| e.to_string())
        };
        report.push((connector.id.clone(), result));
    }
    Ok(report)
}
