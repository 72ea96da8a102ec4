//! Google's OAuth 2.0 endpoints for a web server app: authorize (auto-consent, no real user), token
//! (code exchange with PKCE, refresh) and revoke.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::errors::OAuthError;
use crate::state::{FakeState, lock};

/// Google's authorization codes are short-lived; 10 minutes is the documented ceiling.
const CODE_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub(crate) struct OAuthStore {
    codes: HashMap<String, PendingCode>,
    redeemed: HashSet<String>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    /// Clients the (single) fake user has already given a refresh token to: Google hands one out on
    /// first consent only, unless `prompt=consent` asks again.
    consented: HashSet<String>,
}

#[derive(Debug)]
struct PendingCode {
    client_id: String,
    redirect_uri: String,
    scope: String,
    challenge: Option<(String, String)>,
    offline: bool,
    prompt_consent: bool,
    expires_at: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub scope: String,
    expires_at: Instant,
    refresh_token: Option<String>,
}

#[derive(Debug)]
struct RefreshGrant {
    client_id: String,
    scope: String,
    revoked: bool,
}

impl OAuthStore {
    /// The grant behind a live access token.
    pub fn check_access(&self, token: &str) -> Option<AccessGrant> {
        self.access
            .get(token)
            .filter(|g| g.expires_at > Instant::now())
            .cloned()
    }

    pub fn revoke_all_refresh_tokens(&mut self) {
        self.refresh.values_mut().for_each(|r| r.revoked = true);
    }

    /// Makes every access token stale, as if an hour had passed.
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        self.access.values_mut().for_each(|g| g.expires_at = now);
    }

    fn issue_access(
        &mut self,
        scope: &str,
        refresh_token: Option<String>,
        ttl: Duration,
    ) -> String {
        let token = format!("ya29.fake-{}", random_string(40));
        self.access.insert(
            token.clone(),
            AccessGrant {
                scope: scope.to_string(),
                expires_at: Instant::now() + ttl,
                refresh_token,
            },
        );
        token
    }
}

fn random_string(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// `GET /o/oauth2/v2/auth`: consents at once for the fake user and redirects back with a code.
pub(crate) async fn authorize(
    State(state): State<Arc<FakeState>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    state.count_call("oauth.authorize");
    // Like Google, never redirect before the client and redirect URI are known to be good: an error
    // page (here a JSON body) is shown instead.
    if param(&params, "client_id") != Some(state.config.client_id.as_str()) {
        return OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "The OAuth client was not found.",
        )
        .into_response();
    }
    let Some(redirect) = param(&params, "redirect_uri").and_then(|r| url::Url::parse(r).ok())
    else {
        return OAuthError::invalid_request("Missing required parameter: redirect_uri")
            .into_response();
    };
    let state_param = param(&params, "state");
    let back = |pairs: &[(&str, &str)]| -> Response {
        let mut url = redirect.clone();
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in pairs {
                query.append_pair(k, v);
            }
            if let Some(s) = state_param {
                query.append_pair("state", s);
            }
        }
        (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
    };
    if param(&params, "response_type") != Some("code") {
        return back(&[("error", "unsupported_response_type")]);
    }
    let Some(scope) = param(&params, "scope") else {
        return OAuthError::invalid_request("Missing required parameter: scope").into_response();
    };
    let challenge = match (
        param(&params, "code_challenge"),
        param(&params, "code_challenge_method"),
    ) {
        (None, _) => None,
        (Some(c), None | Some("plain")) => Some(("plain".to_string(), c.to_string())),
        (Some(c), Some("S256")) => Some(("S256".to_string(), c.to_string())),
        (Some(_), Some(_)) => {
            return OAuthError::invalid_request("Invalid code_challenge_method").into_response();
        }
    };
    if std::mem::take(&mut lock(&state.faults).deny_next_consent) {
        return back(&[("error", "access_denied")]);
    }
    let code = format!("4/0Afake-{}", random_string(40));
    lock(&state.oauth).codes.insert(
        code.clone(),
        PendingCode {
            client_id: state.config.client_id.clone(),
            redirect_uri: redirect.to_string(),
            scope: scope.to_string(),
            challenge,
            offline: param(&params, "access_type") == Some("offline"),
            prompt_consent: param(&params, "prompt")
                .is_some_and(|p| p.split(' ').any(|p| p == "consent")),
            expires_at: Instant::now() + CODE_TTL,
        },
    );
    back(&[("code", &code), ("scope", scope)])
}

/// `POST /token`: form-encoded code exchange or refresh.
pub(crate) async fn token(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.count_call("oauth.token");
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match exchange(&state, &headers, &form) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn exchange(
    state: &FakeState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, OAuthError> {
    let (client_id, client_secret) = client_credentials(headers, form);
    if client_id.as_deref() != Some(state.config.client_id.as_str())
        || client_secret.as_deref() != Some(state.config.client_secret.as_str())
    {
        return Err(OAuthError::invalid_client());
    }
    let client_id = state.config.client_id.as_str();
    let ttl = Duration::from_secs(state.config.access_token_ttl_secs);
    match param(form, "grant_type") {
        Some("authorization_code") => {
            let code = param(form, "code")
                .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code"))?;
            let mut store = lock(&state.oauth);
            // A code is spent by any attempt to redeem it, successful or not.
            let Some(pending) = store.codes.remove(code) else {
                let why = if store.redeemed.contains(code) {
                    "Bad Request"
                } else {
                    "Malformed auth code."
                };
                return Err(OAuthError::invalid_grant(why));
            };
            store.redeemed.insert(code.to_string());
            if pending.expires_at <= Instant::now() || pending.client_id != client_id {
                return Err(OAuthError::invalid_grant("Bad Request"));
            }
            if param(form, "redirect_uri") != Some(pending.redirect_uri.as_str()) {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "redirect_uri_mismatch",
                    "Bad Request",
                ));
            }
            if let Some((method, challenge)) = &pending.challenge {
                let verifier = param(form, "code_verifier")
                    .ok_or_else(|| OAuthError::invalid_grant("Missing code verifier."))?;
                let derived = if method == "S256" {
                    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
                } else {
                    verifier.to_string()
                };
                if &derived != challenge {
                    return Err(OAuthError::invalid_grant("Invalid code verifier."));
                }
            }
            let refresh_token = (pending.offline
                && (pending.prompt_consent || !store.consented.contains(client_id)))
            .then(|| {
                let token = format!("1//fake-{}", random_string(48));
                store.refresh.insert(
                    token.clone(),
                    RefreshGrant {
                        client_id: client_id.to_string(),
                        scope: pending.scope.clone(),
                        revoked: false,
                    },
                );
                store.consented.insert(client_id.to_string());
                token
            });
            let access_token = store.issue_access(&pending.scope, refresh_token.clone(), ttl);
            drop(store);
            let mut stats = lock(&state.stats);
            stats.tokens_issued += 1;
            let mut body = json!({ "access_token": access_token, "expires_in": ttl.as_secs(), "scope": pending.scope, "token_type": "Bearer" });
            if let Some(r) = refresh_token {
                stats.refresh_tokens_issued += 1;
                body["refresh_token"] = json!(r);
            }
            Ok(body)
        }
        Some("refresh_token") => {
            let token = param(form, "refresh_token").ok_or_else(|| {
                OAuthError::invalid_request("Missing required parameter: refresh_token")
            })?;
            let mut store = lock(&state.oauth);
            let scope = match store.refresh.get(token) {
                Some(grant) if !grant.revoked && grant.client_id == client_id => {
                    grant.scope.clone()
                }
                Some(grant) if !grant.revoked => {
                    return Err(OAuthError::new(
                        StatusCode::BAD_REQUEST,
                        "unauthorized_client",
                        "Unauthorized",
                    ));
                }
                _ => {
                    return Err(OAuthError::invalid_grant(
                        "Token has been expired or revoked.",
                    ));
                }
            };
            let access_token = store.issue_access(&scope, Some(token.to_string()), ttl);
            drop(store);
            lock(&state.stats).tokens_refreshed += 1;
            Ok(
                json!({ "access_token": access_token, "expires_in": ttl.as_secs(), "scope": scope, "token_type": "Bearer" }),
            )
        }
        other => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Invalid grant_type: {}", other.unwrap_or("")),
        )),
    }
}

/// Client credentials from the form body or, as Google also accepts, HTTP Basic.
fn client_credentials(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (id.to_string(), secret.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            param(form, "client_id").map(str::to_string),
            param(form, "client_secret").map(str::to_string),
        ),
    }
}

/// `POST /revoke?token=…` (or the token in a form body). Revoking either token of a grant ends both,
/// as Google documents.
pub(crate) async fn revoke(
    State(state): State<Arc<FakeState>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    state.count_call("oauth.revoke");
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(token) = param(&query, "token").or_else(|| param(&form, "token")) else {
        return OAuthError::invalid_request("Missing required parameter: token").into_response();
    };
    let mut store = lock(&state.oauth);
    let refresh = if store.refresh.contains_key(token) {
        Some(token.to_string())
    } else if let Some(grant) = store.access.remove(token) {
        grant.refresh_token
    } else {
        return OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        )
        .into_response();
    };
    if let Some(refresh) = refresh {
        if let Some(grant) = store.refresh.get_mut(&refresh) {
            grant.revoked = true;
        }
        store
            .access
            .retain(|_, g| g.refresh_token.as_deref() != Some(refresh.as_str()));
    }
    StatusCode::OK.into_response()
}

impl FakeState {
    /// From now on every refresh answers `invalid_grant` (the user revoked access, say).
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.oauth).revoke_all_refresh_tokens();
    }

    /// Every access token issued so far is now expired (Drive answers 401 until a refresh).
    pub fn expire_access_tokens(&self) {
        lock(&self.oauth).expire_access_tokens();
    }

    /// Issues an access token without the consent dance, for tests that only exercise Drive.
    pub fn issue_access_token(&self, scope: &str) -> String {
        let ttl = Duration::from_secs(self.config.access_token_ttl_secs);
        let token = lock(&self.oauth).issue_access(scope, None, ttl);
        lock(&self.stats).tokens_issued += 1;
        token
    }
}
