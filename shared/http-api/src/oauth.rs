//! The `oauth` function: the OAuth start and callback routes. The provider round trip comes with
//! the connector framework; until then both routes answer a clear 501 (after checking the caller
//! on the authenticated one).

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use recorder_domain::connector::ConnectorType;
use recorder_domain::Deps;

use crate::error::ApiError;
use crate::openapi::ExtraRoute;
use crate::request;
use crate::routes::match_path;

pub const ROUTES: &[ExtraRoute] = &[
    ExtraRoute { method: "GET", path: "/api/connectors/auth/{provider}", summary: "Start connecting a provider account (302 to the provider)", public: false },
    ExtraRoute { method: "GET", path: "/api/connectors/auth/{provider}/callback", summary: "The provider's redirect back after consent", public: true },
];

pub async fn handle_oauth(_deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let (method, path) = (request::method(&event), request::path(&event));
    let result: Result<(), ApiError> = (|| {
        let params = ROUTES
            .iter()
            .filter(|r| r.method == method)
            .find_map(|r| match_path(r.path, &path).map(|p| (r, p)))
            .ok_or_else(|| ApiError::RouteNotFound { method: method.clone(), path: path.clone() })?;
        let (route, params) = params;
        if !route.public {
            request::caller(&event)?;
        }
        let provider = params.get("provider").cloned().unwrap_or_default();
        let Some(t) = ConnectorType::parse(&provider).filter(|t| t.requires_oauth()) else {
            return Err(ApiError::BadRequest { code: "unknown_provider", message: format!("provider: '{provider}' is not an OAuth connector type") });
        };
        Err(ApiError::NotImplemented(format!("connecting {} through OAuth is not available in this version", t.info().name)))
    })();
    match result {
        Ok(()) => crate::json_response(204, &serde_json::Value::Null),
        Err(e) => e.into_response(),
    }
}
