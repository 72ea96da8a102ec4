//! The `webhooks` function: provider deliveries. The raw headers and body go to the domain, which
//! has the provider verify them before anything is written, then queues the events for the
//! webhook worker and answers at once. An error answer makes the provider deliver again.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{CONTENT_TYPE, HeaderValue};
use recorder_domain::push::Delivery;
use recorder_domain::service::push::{Received, receive};
use recorder_domain::{Deps, DomainError};
use serde_json::json;

use crate::error::ApiError;
use crate::request;
use crate::route_table::{ExtraRoute, WEBHOOK_ROUTES, find_extra_route};

/// This function's route (the table lives in [`crate::route_table`]).
pub const ROUTES: &[ExtraRoute] = WEBHOOK_ROUTES;

/// The delivery as it came: header names lower-case, the body's exact bytes.
fn delivery(event: &ApiGatewayV2httpRequest) -> Result<Delivery, ApiError> {
    let headers = event
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            Some((name.as_str().to_ascii_lowercase(), value.to_string()))
        })
        .collect();
    let query = event
        .query_string_parameters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(Delivery {
        headers,
        query,
        body: request::body_bytes(event)?.into(),
    })
}

pub async fn handle_webhook(
    deps: &Deps,
    event: ApiGatewayV2httpRequest,
) -> ApiGatewayV2httpResponse {
    let (method, path) = (request::method(&event), request::path(&event));
    let Some((_, params)) = find_extra_route(ROUTES, &method, &path) else {
        return ApiError::RouteNotFound { method, path }.into_response();
    };
    let key = params.get("provider").cloned().unwrap_or_default();
    let delivery = match delivery(&event) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    match receive(deps, &key, &delivery).await {
        Ok(Received::Handshake(answer)) => {
            let mut resp = ApiGatewayV2httpResponse::default();
            resp.status_code = i64::from(answer.status);
            if let Ok(v) = HeaderValue::from_str(&answer.content_type) {
                resp.headers.insert(CONTENT_TYPE, v);
            }
            resp.body = Some(Body::Text(answer.body));
            resp
        }
        Ok(Received::Accepted { events }) => {
            crate::json_response(200, &json!({"result": "accepted", "events": events}))
        }
        Err(DomainError::NotFound(_)) => ApiError::NotImplemented(format!(
            "webhooks from '{key}' are not accepted by this version"
        ))
        .into_response(),
        // Never say which part of a forged delivery was wrong.
        Err(DomainError::Forbidden(why)) => {
            tracing::warn!(provider = %key, %why, "refused a webhook delivery");
            crate::json_response(
                403,
                &json!({"error": {"code": "forbidden", "message": "delivery not verified"}}),
            )
        }
        // Verification or the queue could not finish: a 5xx makes the provider deliver again.
        Err(e @ (DomainError::Conflict(_) | DomainError::Store(_))) => {
            tracing::warn!(provider = %key, error = %e, "a webhook delivery will be delivered again");
            crate::json_response(
                503,
                &json!({"error": {"code": "unavailable", "message": "try again shortly"}}),
            )
        }
        Err(e) => ApiError::Domain(e).into_response(),
    }
}
