//! The HTTP side of the product: API Gateway HTTP API (payload 2.0) events in, domain calls,
//! JSON responses out. One handler per function ([`api`], [`oauth`], [`webhooks`]).
//!
//! Two leaves hold what the handlers and the OpenAPI generator ([`openapi`]) share:
//! [`route_table`] (every route: method, path, summary, access, handler id) and [`views`] (the
//! JSON each response carries). Neither imports a handler.

pub mod api;
pub mod error;
pub mod oauth;
pub mod openapi;
pub mod request;
pub mod route_table;
pub mod views;
pub mod webhooks;

pub use api::handle_api;
pub use error::ApiError;

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
