//! The HTTP side of the product: API Gateway HTTP API (payload 2.0) events in, domain calls,
//! JSON responses out. One handler per function (`api`, `oauth`, `webhooks`); the route table in
//! [`routes`] is the single source of the routes, and the OpenAPI document is generated from it.

pub mod error;
pub mod oauth;
pub mod openapi;
pub mod request;
pub mod routes;
pub mod webhooks;

pub use error::ApiError;
pub use routes::handle_api;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{CONTENT_TYPE, HeaderValue};

/// A JSON response with the given status.
pub fn json_response(status: u16, body: &serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut resp = ApiGatewayV2httpResponse::default();
    resp.status_code = i64::from(status);
    resp.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.body = Some(Body::Text(body.to_string()));
    resp
}
