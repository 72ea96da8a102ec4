//! The `webhooks` function: provider notification receivers. Each provider's signature check and
//! handling come with its connector; until then deliveries answer a clear 501 and nothing is stored.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use recorder_domain::Deps;

use crate::error::ApiError;
use crate::openapi::ExtraRoute;
use crate::request;
use crate::routes::match_path;

pub const ROUTES: &[ExtraRoute] = &[ExtraRoute {
    method: "POST",
    path: "/api/connectors/webhooks/{provider}",
    summary: "Provider notifications (signature-verified per provider)",
    public: true,
}];

pub async fn handle_webhook(_deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let (method, path) = (request::method(&event), request::path(&event));
    let err = match ROUTES.iter().filter(|r| r.method == method).find_map(|r| match_path(r.path, &path)) {
        None => ApiError::RouteNotFound { method, path },
        Some(p) => {
            let provider = p.get("provider").cloned().unwrap_or_default();
            ApiError::NotImplemented(format!("webhooks from '{provider}' are not accepted by this version"))
        }
    };
    err.into_response()
}
