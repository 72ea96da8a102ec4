//! What a handler reads from an API Gateway v2 event: the caller (from authorizer claims only),
//! path parameters, paging, and a size-capped JSON body.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use base64::Engine;
use recorder_domain::paging::PageRequest;
use recorder_domain::{Caller, Role};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Bodies above this are refused with 413 (API Gateway itself allows 10 MB; ours are small JSON).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The caller, from the JWT authorizer's verified claims: `org_id`, `sub` (user) and `role`.
/// Plain headers are never trusted.
pub fn caller(event: &ApiGatewayV2httpRequest) -> Result<Caller, ApiError> {
    let claims = event
        .request_context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .map(|j| &j.claims)
        .ok_or(ApiError::Unauthorized)?;
    let get = |k: &str| {
        claims
            .get(k)
            .filter(|v| !v.is_empty() && recorder_domain::ids::is_valid_id(v))
            .cloned()
    };
    let org_id = get("org_id").ok_or(ApiError::Unauthorized)?;
    let user_id = get("sub").ok_or(ApiError::Unauthorized)?;
    let role = claims
        .get("role")
        .and_then(|r| Role::parse(r))
        .ok_or(ApiError::Unauthorized)?;
    Ok(Caller {
        org_id,
        user_id,
        role,
    })
}

pub fn method(event: &ApiGatewayV2httpRequest) -> String {
    event.request_context.http.method.as_str().to_string()
}

pub fn path(event: &ApiGatewayV2httpRequest) -> String {
    event
        .raw_path
        .clone()
        .or_else(|| event.request_context.http.path.clone())
        .unwrap_or_default()
}

pub fn query(event: &ApiGatewayV2httpRequest, name: &str) -> Option<String> {
    event
        .query_string_parameters
        .first(name)
        .map(str::to_string)
}

pub fn page(event: &ApiGatewayV2httpRequest) -> Result<PageRequest, ApiError> {
    let limit = match query(event, "limit") {
        None => None,
        Some(l) => Some(l.parse::<u32>().map_err(|_| ApiError::BadRequest {
            code: "invalid_query",
            message: "limit: must be a whole number from 1 to 200".into(),
        })?),
    };
    Ok(PageRequest::new(limit, query(event, "cursor")))
}

/// The raw body bytes, decoded from base64 when API Gateway encoded them.
pub fn body_bytes(event: &ApiGatewayV2httpRequest) -> Result<Vec<u8>, ApiError> {
    let Some(body) = &event.body else {
        return Ok(Vec::new());
    };
    if body.len() > MAX_BODY_BYTES * 4 / 3 + 4 {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let bytes = if event.is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| ApiError::bad_request("body is not valid base64"))?
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes)
}

/// Parses the JSON body; errors name the offending field where serde can tell.
pub fn json_body<T: DeserializeOwned>(event: &ApiGatewayV2httpRequest) -> Result<T, ApiError> {
    let bytes = body_bytes(event)?;
    if bytes.is_empty() {
        return Err(ApiError::BadRequest {
            code: "invalid_body",
            message: "a JSON body is required".into(),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
        code: "invalid_body",
        message: format!("invalid JSON body: {e}"),
    })
}
