//! The `oauth` function: `GET /api/connectors/auth/{provider}` (an owner or admin starts
//! connecting: 302 to the provider) and `GET /api/connectors/auth/{provider}/callback` (the
//! provider sends the browser back: the connector is created and its first sync queued).
//!
//! The start gives the starting browser a cookie holding a nonce; the callback reads it back and
//! hands it to the domain, which refuses any other browser. The cookie is per state, so connects
//! started in two tabs do not overwrite each other's.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::header::{COOKIE, HeaderValue, LOCATION};
use recorder_domain::service::oauth::{self, CallbackParams};
use recorder_domain::{Deps, DomainError};
use serde_json::json;

use crate::error::ApiError;
use crate::request::{self, query};
use crate::route_table::{ExtraRoute, OAUTH_ROUTES, find_extra_route};
use crate::views::connector_view;

/// This function's routes (the table lives in [`crate::route_table`]).
pub const ROUTES: &[ExtraRoute] = OAUTH_ROUTES;

pub async fn handle_oauth(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    match dispatch(deps, &event).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(
    deps: &Deps,
    event: &ApiGatewayV2httpRequest,
) -> Result<ApiGatewayV2httpResponse, ApiError> {
    let (method, path) = (request::method(event), request::path(event));
    let (route, params) =
        find_extra_route(ROUTES, &method, &path).ok_or_else(|| ApiError::RouteNotFound {
            method: method.clone(),
            path: path.clone(),
        })?;
    let provider = params.get("provider").cloned().unwrap_or_default();
    if route.public {
        return Ok(callback(deps, event, &provider).await);
    }
    let caller = request::caller(event)?;
    let started = oauth::start(deps, &caller, &provider).await?;
    // A browser follows the redirect; a script reads the URL from the body.
    let mut resp = crate::json_response(302, &json!({"authorize_url": started.authorize_url}));
    if let Ok(v) = HeaderValue::from_str(&started.authorize_url) {
        resp.headers.insert(LOCATION, v);
    }
    resp.cookies.push(set_cookie(
        &format!("{COOKIE_PREFIX}{}", started.state),
        started.browser_nonce.expose(),
        started.lifetime.num_seconds(),
    ));
    Ok(resp)
}

async fn callback(
    deps: &Deps,
    event: &ApiGatewayV2httpRequest,
    provider: &str,
) -> ApiGatewayV2httpResponse {
    let params = CallbackParams {
        code: query(event, "code"),
        state: query(event, "state"),
        error: query(event, "error"),
        error_description: query(event, "error_description"),
    };
    let name = params.state.as_deref().and_then(cookie_name);
    let nonce = name.as_deref().and_then(|n| cookie(event, n));
    let mut resp = match oauth::callback(deps, provider, params, nonce.as_deref()).await {
        Ok(connector) => crate::json_response(
            200,
            &json!({"status": "connected", "connector": connector_view(&connector)}),
        ),
        Err(e) => callback_error(e).into_response(),
    };
    // Used, or not this browser's: either way the browser has no further use for it.
    if let Some(name) = name {
        resp.cookies.push(set_cookie(&name, "", 0));
    }
    resp
}

fn callback_error(e: DomainError) -> ApiError {
    match e {
        DomainError::Forbidden(message) => ApiError::Forbidden {
            code: "oauth_other_browser",
            message,
        },
        // Every other refusal of a callback is the caller's request being unusable: 400, never 5xx.
        DomainError::InvalidState(m) | DomainError::Validation { message: m, .. } => {
            ApiError::BadRequest {
                code: "oauth_failed",
                message: m,
            }
        }
        DomainError::Provider(e) => ApiError::BadRequest {
            code: "oauth_failed",
            message: e.to_string(),
        },
        other => ApiError::Domain(other),
    }
}

const COOKIE_PREFIX: &str = "oauth_";
const COOKIE_PATH: &str = "/api/connectors/auth";

/// The cookie of the flow `state` names; the state comes from the query, so only a plain token
/// may become part of a cookie name.
fn cookie_name(state: &str) -> Option<String> {
    let plain =
        !state.is_empty() && state.len() <= 128 && state.bytes().all(|b| b.is_ascii_alphanumeric());
    plain.then(|| format!("{COOKIE_PREFIX}{state}"))
}

/// Sent back only to the connect routes, on the provider's top-level redirect (Lax), over TLS,
/// and never readable by scripts.
fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> String {
    format!(
        "{name}={value}; Max-Age={max_age_secs}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax"
    )
}

/// A cookie the browser sent: API Gateway v2 lists them in `cookies`; other front doors pass a
/// `Cookie` header (several joined with ',' by some proxies).
fn cookie(event: &ApiGatewayV2httpRequest, name: &str) -> Option<String> {
    let from_header = event
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']));
    event
        .cookies
        .iter()
        .flatten()
        .map(String::as_str)
        .chain(from_header)
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim().to_string())
}
