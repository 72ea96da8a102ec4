//! The `oauth` function: `GET /api/connectors/auth/{provider}` (an owner or admin starts
//! connecting: 302 to the provider) and `GET /api/connectors/auth/{provider}/callback` (the
//! provider sends the browser back: the connector is created and its first sync queued).

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::header::{HeaderValue, LOCATION};
use recorder_domain::Deps;
use recorder_domain::service::oauth::{self, CallbackParams};
use serde_json::json;

use crate::error::ApiError;
use crate::openapi::ExtraRoute;
use crate::request::{self, query};
use crate::routes::{connector_view, match_path};

pub const ROUTES: &[ExtraRoute] = &[
    ExtraRoute {
        method: "GET",
        path: "/api/connectors/auth/{provider}",
        summary: "Start connecting a provider account (302 to the provider's consent page)",
        public: false,
    },
    ExtraRoute {
        method: "GET",
        path: "/api/connectors/auth/{provider}/callback",
        summary: "The provider's redirect back after consent: creates or re-activates the connector",
        public: true,
    },
];

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
    let (route, params) = ROUTES
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| match_path(r.path, &path).map(|p| (r, p)))
        .ok_or_else(|| ApiError::RouteNotFound {
            method: method.clone(),
            path: path.clone(),
        })?;
    let provider = params.get("provider").cloned().unwrap_or_default();
    if !route.public {
        let caller = request::caller(event)?;
        let url = oauth::start(deps, &caller, &provider).await?;
        // A browser follows the redirect; a script reads the URL from the body.
        let mut resp = crate::json_response(302, &json!({"authorize_url": url}));
        if let Ok(v) = HeaderValue::from_str(&url) {
            resp.headers.insert(LOCATION, v);
        }
        return Ok(resp);
    }
    let params = CallbackParams {
        code: query(event, "code"),
        state: query(event, "state"),
        error: query(event, "error"),
        error_description: query(event, "error_description"),
    };
    let connector = oauth::callback(deps, &provider, params)
        .await
        .map_err(|e| match e {
            // Every refusal of a callback is the caller's request being unusable: 400, never 5xx.
            recorder_domain::DomainError::InvalidState(m)
            | recorder_domain::DomainError::Validation { message: m, .. } => ApiError::BadRequest {
                code: "oauth_failed",
                message: m,
            },
            other => ApiError::Domain(other),
        })?;
    Ok(crate::json_response(
        200,
        &json!({"status": "connected", "connector": connector_view(&connector)}),
    ))
}
