//! Connecting an account: the OAuth start (state + PKCE) and the provider's callback (single-use
//! state, code exchange, tokens to the secret store, connector created or re-activated, push
//! channel opened, first sync queued at once).

use rand::distr::{Alphanumeric, SampleString};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::activity::ActivityKind;
use crate::caller::Caller;
use crate::connector::*;
use crate::error::DomainError;
use crate::ids::new_id;
use crate::paging::PageRequest;
use crate::ports::{Deps, OAuthState};
use crate::secret::Secret;
use crate::secret::same_secret;
use crate::service::activity::{record, record_for_org};
use crate::service::connector_writes::{apply, queue_sync};
use crate::service::subscriptions;
use crate::source::{Meter, SourceContext, SourceError};
use crate::sync_log::SyncType;

/// How long the user has to finish consenting.
const STATE_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// What a callback from a browser other than the one that started the flow is told.
pub const OTHER_BROWSER: &str =
    "this sign-in was started in another browser; start connecting again from the app";

/// A started connect: where to send the browser, and the nonce only that browser may hold.
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    pub state: String,
    /// Handed to the starting browser only; the state record keeps its hash. The callback must
    /// bring it back, so a consent link sent to someone else cannot be finished by them.
    pub browser_nonce: Secret,
    /// How long the state (and so the nonce) is good for.
    pub lifetime: chrono::Duration,
}

fn nonce_hash(nonce: &str) -> String {
    hex::encode(Sha256::digest(nonce.as_bytes()))
}

/// True when `nonce` is the one the state was started with (compared in constant time).
fn same_browser(state: &OAuthState, nonce: Option<&str>) -> bool {
    match (&state.browser_nonce_hash, nonce.filter(|n| !n.is_empty())) {
        (Some(expected), Some(nonce)) => same_secret(expected, &nonce_hash(nonce)),
        _ => false,
    }
}

pub fn callback_path(provider: &str) -> String {
    format!("/api/connectors/auth/{provider}/callback")
}

fn oauth_type(provider: &str) -> Result<ConnectorType, DomainError> {
    ConnectorType::parse(provider)
        .filter(|t| t.requires_oauth())
        .ok_or_else(|| {
            DomainError::validation(
                "provider",
                format!("'{provider}' is not an OAuth connector type"),
            )
        })
}

/// Where to send the browser to connect `provider`, and the nonce that binds the flow to it.
pub async fn start(deps: &Deps, caller: &Caller, provider: &str) -> Result<Started, DomainError> {
    caller.require_admin()?;
    let connector_type = oauth_type(provider)?;
    let client = deps.providers.oauth(connector_type).ok_or_else(|| {
        DomainError::Unsupported(format!(
            "connecting {} is not available in this version",
            connector_type.builtin_info().name
        ))
    })?;
    if deps.providers.public_base_url().is_empty() {
        return Err(DomainError::Unsupported(
            "connecting accounts needs the API's public URL: set PUBLIC_BASE_URL (the PublicBaseUrl parameter)".into(),
        ));
    }
    let state = Alphanumeric.sample_string(&mut rand::rng(), 40);
    // RFC 7636: 43–128 unreserved characters.
    let verifier = Alphanumeric.sample_string(&mut rand::rng(), 64);
    let browser_nonce = Alphanumeric.sample_string(&mut rand::rng(), 43);
    let record_state = OAuthState {
        state: state.clone(),
        org_id: caller.org_id.clone(),
        user_id: caller.user_id.clone(),
        provider: provider.to_string(),
        code_verifier: Some(verifier.clone()),
        redirect_after: None,
        expires_at: deps.clock.now() + STATE_TTL,
        browser_nonce_hash: Some(nonce_hash(&browser_nonce)),
    };
    deps.oauth_states.put(&record_state).await?;
    let redirect_uri = format!(
        "{}{}",
        deps.providers.public_base_url(),
        callback_path(provider)
    );
    let url = client
        .authorize_url(&state, &verifier, &redirect_uri)
        .await?;
    record_for_org(
        deps,
        &caller.org_id,
        ActivityKind::ConnectorConnectStarted,
        provider,
        Some(&caller.user_id),
        json!({}),
    )
    .await;
    Ok(Started {
        authorize_url: url,
        state,
        browser_nonce: Secret::new(browser_nonce),
        lifetime: STATE_TTL,
    })
}

/// The query string the provider redirects back with.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes connecting. `browser_nonce` is what the calling browser holds from the start (`None`
/// when it holds nothing): any other browser is refused with [`OTHER_BROWSER`] before anything is
/// exchanged or written, and the state is left for the browser that started it (so whoever sees a
/// consent link cannot use it up). Once the right browser calls, the state is used up whatever
/// happens next: the code is single-use at the provider, so a retry needs a new start anyway.
pub async fn callback(
    deps: &Deps,
    provider: &str,
    params: CallbackParams,
    browser_nonce: Option<&str>,
) -> Result<Connector, DomainError> {
    let connector_type = oauth_type(provider)?;
    let state_value = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DomainError::validation("state", "is missing"))?;
    let unknown = || {
        DomainError::validation(
            "state",
            "is unknown or was already used; start connecting again",
        )
    };
    // Checked before anything is used up or written; none of these refusals consumes the state.
    let pending = deps
        .oauth_states
        .get(state_value)
        .await?
        .ok_or_else(unknown)?;
    if pending.provider != provider {
        return Err(DomainError::validation(
            "state",
            "belongs to another provider",
        ));
    }
    // Expiry first: a browser whose cookie lapsed with the state learns the real reason.
    if pending.expires_at <= deps.clock.now() {
        return Err(DomainError::validation(
            "state",
            "has expired; start connecting again",
        ));
    }
    if !same_browser(&pending, browser_nonce) {
        tracing::warn!(
            provider,
            org_id = %pending.org_id,
            "refused an OAuth callback from a browser that did not start it"
        );
        return Err(DomainError::Forbidden(OTHER_BROWSER.into()));
    }
    // Taking the state deletes it: a second use of the same state finds nothing (also when a
    // concurrent callback of the same browser took it since it was read).
    let state = deps
        .oauth_states
        .take(state_value)
        .await?
        .ok_or_else(unknown)?;
    let (org_id, user_id) = (state.org_id.clone(), state.user_id.clone());
    let fail = |reason: String| {
        let (org_id, user_id) = (org_id.clone(), user_id.clone());
        async move {
            record_for_org(
                deps,
                &org_id,
                ActivityKind::ConnectorConnectFailed,
                provider,
                Some(&user_id),
                json!({"reason": &reason}),
            )
            .await;
            DomainError::InvalidState(reason)
        }
    };
    if let Some(error) = &params.error {
        let why = match error.as_str() {
            "access_denied" => "the account owner declined access".to_string(),
            other => format!(
                "the provider answered {other}: {}",
                params.error_description.as_deref().unwrap_or("")
            ),
        };
        return Err(fail(why).await);
    }
    let code = match params.code.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c,
        None => return Err(fail("the provider sent no authorization code".into()).await),
    };
    let client = deps.providers.oauth(connector_type).ok_or_else(|| {
        DomainError::Unsupported(format!("connecting {provider} is not available"))
    })?;
    let redirect_uri = format!(
        "{}{}",
        deps.providers.public_base_url(),
        callback_path(provider)
    );
    let tokens = match client
        .exchange_code(
            code,
            state.code_verifier.as_deref().unwrap_or_default(),
            &redirect_uri,
        )
        .await
    {
        Ok(t) => t,
        Err(SourceError::AuthRevoked(why)) => {
            return Err(fail(format!(
                "the authorization code was refused ({why}); start connecting again"
            ))
            .await);
        }
        Err(e) => return Err(fail(format!("could not finish connecting: {e}")).await),
    };

    // Who the account is, with the fresh token.
    let source = deps.providers.source(connector_type);
    let now = deps.clock.now();
    let name = deps.providers.info(connector_type).name;
    let mut probe = new_connector(connector_type, name, &state, now);
    let account = match &source {
        Some(src) => {
            let cx = SourceContext {
                connector: probe.clone(),
                access_token: tokens.access_token.clone(),
                meter: std::sync::Arc::new(Meter::default()),
            };
            match src.account(&cx).await {
                Ok(a) => a,
                Err(e) => {
                    return Err(
                        fail(format!("connected, but the account could not be read: {e}")).await,
                    );
                }
            }
        }
        None => Account::default(),
    };
    probe.account = account.clone();

    let connector = match find_same_account(deps, &state.org_id, connector_type, &account).await? {
        Some(existing) => reactivate(deps, &existing, &account).await?,
        None => create_unique(deps, probe).await?,
    };
    deps.tokens.put_tokens(&connector.id, &tokens).await?;
    if let Err(e) = subscriptions::open(deps, &connector).await {
        // Webhooks speed things up; scheduled syncs still run without them.
        tracing::warn!(connector_id = %connector.id, error = %e, "could not open a push channel");
    }
    record(
        deps,
        ActivityKind::ConnectorConnectSucceeded,
        &connector,
        Some(&state.user_id),
        json!({"account": account}),
    )
    .await;
    queue_sync(deps, &connector, SyncType::Manual, Some(&state.user_id)).await?;
    Ok(deps
        .connectors
        .get(&connector.org_id, &connector.id)
        .await?
        .unwrap_or(connector))
}

fn new_connector(
    connector_type: ConnectorType,
    name: &str,
    state: &OAuthState,
    now: chrono::DateTime<chrono::Utc>,
) -> Connector {
    let frequency = SyncFrequency::Hourly;
    Connector {
        id: new_id(),
        org_id: state.org_id.clone(),
        connector_type,
        name: name.to_string(),
        description: None,
        status: ConnectorStatus::Active,
        account: Account::default(),
        settings: json!({}),
        filters: Filters::default(),
        sync_frequency: frequency,
        next_sync_at: frequency.next_after(now),
        last_sync_at: None,
        last_sync_status: None,
        error_count: 0,
        last_error: None,
        last_error_at: None,
        webhook: WebhookState::default(),
        sync_cursor: None,
        sync_progress: None,
        documents_count: 0,
        created_by: state.user_id.clone(),
        created_at: now,
        updated_at: now,
    }
}

async fn find_same_account(
    deps: &Deps,
    org_id: &str,
    t: ConnectorType,
    account: &Account,
) -> Result<Option<Connector>, DomainError> {
    let Some(account_id) = &account.id else {
        return Ok(None);
    };
    let mut page = PageRequest::new(Some(200), None);
    loop {
        let p = deps.connectors.list(org_id, &page).await?;
        if let Some(c) = p
            .items
            .into_iter()
            .find(|c| c.connector_type == t && c.account.id.as_ref() == Some(account_id))
        {
            return Ok(Some(c));
        }
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(200), Some(c)),
            None => return Ok(None),
        }
    }
}

async fn reactivate(
    deps: &Deps,
    existing: &Connector,
    account: &Account,
) -> Result<Connector, DomainError> {
    let updated = apply(deps, &existing.org_id, &existing.id, |c, now| {
        let mut next = c.clone();
        next.status = ConnectorStatus::Active;
        next.account = account.clone();
        next.last_error = None;
        next.error_count = 0;
        next.next_sync_at = next.sync_frequency.next_after(now);
        Ok(next)
    })
    .await?;
    updated.ok_or_else(|| DomainError::NotFound(format!("connector {}", existing.id)))
}

/// Creates the connector, naming it after the account; a taken name gets a number.
async fn create_unique(deps: &Deps, mut connector: Connector) -> Result<Connector, DomainError> {
    let base = match connector
        .account
        .email
        .as_deref()
        .or(connector.account.display_name.as_deref())
    {
        Some(who) => format!(
            "{} ({who})",
            deps.providers.info(connector.connector_type).name
        ),
        None => deps
            .providers
            .info(connector.connector_type)
            .name
            .to_string(),
    };
    for n in 1..=20 {
        connector.name = if n == 1 {
            base.clone()
        } else {
            format!("{base} {n}")
        };
        connector.name = connector.name.chars().take(MAX_NAME_LEN).collect();
        match deps.connectors.create(&connector).await {
            Ok(()) => return Ok(connector),
            Err(crate::StoreError::ConditionFailed(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(DomainError::Conflict(format!(
        "too many connectors named '{base}'"
    )))
}
