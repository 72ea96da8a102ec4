//! The one place where failures become HTTP statuses and `{"error":{"code","message"}}` bodies.
//! Internals (store errors, SDK messages) are logged, never returned.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use recorder_domain::{DomainError, StoreError};
use serde_json::json;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("missing or invalid authorization claims")]
    Unauthorized,
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// Refused for who is asking, with a code a front end can act on.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("{0}")]
    NotImplemented(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "bad_request",
            message: message.into(),
        }
    }

    fn parts(&self) -> (u16, &'static str, String) {
        match self {
            ApiError::Unauthorized => (401, "unauthorized", self.to_string()),
            ApiError::BadRequest { code, message } => (400, code, message.clone()),
            ApiError::Forbidden { code, message } => (403, code, message.clone()),
            ApiError::PayloadTooLarge { .. } => (413, "payload_too_large", self.to_string()),
            ApiError::RouteNotFound { .. } => (404, "not_found", self.to_string()),
            ApiError::NotImplemented(m) => (501, "not_implemented", m.clone()),
            ApiError::Domain(d) => match d {
                DomainError::Validation { field, message } => {
                    (422, "validation_failed", format!("{field}: {message}"))
                }
                DomainError::NotFound(_) => (404, "not_found", d.to_string()),
                DomainError::Conflict(_) => (409, "conflict", d.to_string()),
                DomainError::Forbidden(_) => (403, "forbidden", d.to_string()),
                // A provider's refusal is the state the connector is in, as before it had a variant.
                DomainError::InvalidState(_) | DomainError::Provider(_) => {
                    (409, "invalid_state", d.to_string())
                }
                DomainError::Unsupported(_) => (422, "unsupported", d.to_string()),
                DomainError::TooLarge(_) => (413, "too_large", d.to_string()),
                DomainError::QuotaExceeded { .. } => (429, "quota_exceeded", d.to_string()),
                DomainError::Store(StoreError::InvalidCursor) => (
                    400,
                    "invalid_cursor",
                    "the cursor is not valid for this listing".into(),
                ),
                DomainError::Store(_) => (
                    503,
                    "unavailable",
                    "a storage service is unavailable; try again shortly".into(),
                ),
            },
        }
    }

    pub fn status(&self) -> u16 {
        self.parts().0
    }

    pub fn into_response(self) -> ApiGatewayV2httpResponse {
        let (status, code, message) = self.parts();
        if status >= 500 {
            // The cause chain goes to the logs only.
            let chain = error_chain(&self);
            tracing::error!(status, code, error = %chain, "request failed");
        }
        let mut body = json!({"error": {"code": code, "message": message}});
        let mut retry_after = None;
        if let ApiError::Domain(DomainError::QuotaExceeded { resets_at, .. }) = &self {
            body["error"]["resets_at"] =
                json!(resets_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            retry_after = Some((*resets_at - chrono::Utc::now()).num_seconds().max(1));
        }
        let mut response = crate::json_response(status, &body);
        if let Some(secs) = retry_after {
            response.headers.insert(
                aws_lambda_events::http::header::RETRY_AFTER,
                aws_lambda_events::http::HeaderValue::from(secs),
            );
        }
        response
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
