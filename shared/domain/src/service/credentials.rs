//! Access tokens for provider calls: refreshed before they expire, by one worker at a time per
//! connector (a lease in the lock store), so a rotated refresh token is never lost to a race.
//! A dead grant puts the connector in `error` ("reconnect needed") and stops its syncs.

use std::time::Duration;

use serde_json::json;

use crate::activity::ActivityKind;
use crate::connector::{Connector, ConnectorStatus};
use crate::error::DomainError;
use crate::ids::new_id;
use crate::ports::Deps;
use crate::secret::{OAuthTokens, Secret};
use crate::service::activity::record;
use crate::service::connector_writes::apply;
use crate::source::{SourceError, expires_soon};

const LEASE: Duration = Duration::from_secs(30);
const WAIT_STEP: Duration = Duration::from_millis(200);
const MAX_WAIT_STEPS: u32 = 75;

/// A usable access token for the connector. `force` refreshes even when the stored token looks
/// valid (the provider just refused it).
pub async fn access_token(
    deps: &Deps,
    connector: &Connector,
    force: bool,
) -> Result<Secret, SourceError> {
    let read = || async {
        deps.tokens
            .get_tokens(&connector.id)
            .await
            .map_err(|e| SourceError::io("could not read credentials", e))?
            .ok_or_else(|| SourceError::AuthRevoked("no credentials are stored".into()))
    };
    let tokens = read().await?;
    if !force && !expires_soon(&tokens, deps.clock.now()) {
        return Ok(tokens.access_token);
    }
    let lease = format!("token-refresh#{}", connector.id);
    let owner = new_id();
    for _ in 0..MAX_WAIT_STEPS {
        let got = deps
            .locks
            .try_lock(&lease, &owner, LEASE)
            .await
            .map_err(|e| SourceError::io("could not take the token refresh lease", e))?;
        if got {
            let result = refresh_holding_lease(deps, connector, &tokens, force).await;
            if let Err(e) = deps.locks.unlock(&lease, &owner).await {
                tracing::warn!(error = %e, "could not release the token refresh lease; it expires on its own");
            }
            return result;
        }
        // Someone else is refreshing: wait for their result instead of refreshing twice.
        tokio::time::sleep(WAIT_STEP).await;
        let now_stored = read().await?;
        if now_stored.access_token != tokens.access_token
            && !expires_soon(&now_stored, deps.clock.now())
        {
            return Ok(now_stored.access_token);
        }
    }
    Err(SourceError::Transient(
        "another worker held the token refresh lease for too long".into(),
    ))
}

async fn refresh_holding_lease(
    deps: &Deps,
    connector: &Connector,
    seen: &OAuthTokens,
    force: bool,
) -> Result<Secret, SourceError> {
    // Re-read under the lease: the previous holder may have refreshed already.
    let current = deps
        .tokens
        .get_tokens(&connector.id)
        .await
        .map_err(|e| SourceError::io("could not read credentials", e))?
        .ok_or_else(|| SourceError::AuthRevoked("no credentials are stored".into()))?;
    let refreshed_meanwhile = current.access_token != seen.access_token;
    if refreshed_meanwhile && !expires_soon(&current, deps.clock.now())
        || (!force && !expires_soon(&current, deps.clock.now()))
    {
        return Ok(current.access_token);
    }
    let oauth = deps
        .providers
        .oauth(connector.connector_type)
        .ok_or_else(|| {
            SourceError::Config(format!(
                "no OAuth client for {}",
                connector.connector_type.as_str()
            ))
        })?;
    match oauth.refresh(&current).await {
        Ok(fresh) => {
            // Store before use: a provider that rotates refresh tokens has already killed the old one.
            deps.tokens
                .put_tokens(&connector.id, &fresh)
                .await
                .map_err(|e| SourceError::io("could not store refreshed tokens", e))?;
            Ok(fresh.access_token)
        }
        Err(SourceError::AuthRevoked(why)) => {
            mark_reconnect_needed(deps, connector, &why).await;
            Err(SourceError::AuthRevoked(why))
        }
        Err(e) => Err(e),
    }
}

/// The connector stops syncing until the account is connected again.
pub async fn mark_reconnect_needed(deps: &Deps, connector: &Connector, why: &str) {
    let message = format!("reconnect needed: {why}");
    let result = apply(deps, &connector.org_id, &connector.id, |c, now| {
        let mut next = c.clone();
        next.status = ConnectorStatus::Error;
        next.last_error = Some(message.clone());
        next.last_error_at = Some(now);
        next.error_count += 1;
        next.next_sync_at = None;
        Ok(next)
    })
    .await;
    if let Err(e) = result {
        tracing::error!(connector_id = %connector.id, error = %e, "could not mark the connector as needing a reconnect");
    }
    record(
        deps,
        ActivityKind::ConnectorSyncFailed,
        connector,
        None,
        json!({"reason": message}),
    )
    .await;
}

impl From<SourceError> for DomainError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Config(m) => DomainError::Unsupported(m),
            other => DomainError::Provider(other),
        }
    }
}
