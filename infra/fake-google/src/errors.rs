//! The three error shapes the fake answers with: Google's JSON API errors (Drive), the OAuth token
//! endpoint's flat errors, and our own `{"error":{"code","message"}}` for the `/_fake` controls.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error as Google's JSON APIs (Drive v3) return it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub domain: &'static str,
    pub reason: &'static str,
    /// Where the fault is (`parameter`/`header` and its name), when Google says so.
    pub location: Option<(&'static str, &'static str)>,
    /// The canonical gRPC-style status some Google errors carry (`UNAUTHENTICATED`, ...).
    pub grpc_status: Option<&'static str>,
    /// Sent on rate limiting so clients that honour it wait a second.
    pub retry_after_secs: Option<u32>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        domain: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            domain,
            reason,
            location: None,
            grpc_status: None,
            retry_after_secs: None,
        }
    }

    fn at(mut self, location_type: &'static str, location: &'static str) -> Self {
        self.location = Some((location_type, location));
        self
    }

    pub fn unauthenticated() -> Self {
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "global",
            "authError",
            "Request had invalid authentication credentials.",
        )
        .at("header", "Authorization");
        e.grpc_status = Some("UNAUTHENTICATED");
        e
    }

    pub fn insufficient_scopes() -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "global",
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        );
        e.grpc_status = Some("PERMISSION_DENIED");
        e
    }

    pub fn rate_limited() -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "usageLimits",
            "rateLimitExceeded",
            "Rate Limit Exceeded",
        );
        e.retry_after_secs = Some(1);
        e
    }

    /// Drive's per-user quota refusal (usage-limits guide: "403: User rate limit exceeded").
    pub fn user_rate_limited() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "usageLimits",
            "userRateLimitExceeded",
            "User Rate Limit Exceeded",
        )
    }

    pub fn backend_error() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "global",
            "backendError",
            "Backend Error",
        )
    }

    pub fn file_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "global",
            "notFound",
            format!("File not found: {id}."),
        )
        .at("parameter", "fileId")
    }

    pub fn invalid_parameter(location: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "invalid",
            "Invalid Value",
        )
        .at("parameter", location)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "global", "badRequest", message)
    }

    pub fn required(location: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "required",
            format!("Required parameter: {location}"),
        )
        .at("parameter", location)
    }

    pub fn not_downloadable() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "global",
            "fileNotDownloadable",
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
        )
        .at("parameter", "alt")
    }

    pub fn not_exportable() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "global",
            "fileNotExportable",
            "Export only supports Docs Editors files.",
        )
    }

    pub fn conversion_not_supported() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "global",
            "badRequest",
            "The requested conversion is not supported.",
        )
        .at("parameter", "mimeType")
    }

    pub fn export_too_large() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "global",
            "exportSizeLimitExceeded",
            "This file is too large to be exported.",
        )
    }

    pub fn channel_id_not_unique(id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "push",
            "channelIdNotUnique",
            format!("Channel id {id} not unique"),
        )
    }

    pub fn channel_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "global",
            "notFound",
            format!("Channel '{id}' not found for project"),
        )
    }

    pub fn body(&self) -> Value {
        let mut detail = json!({ "domain": self.domain, "reason": self.reason, "message": self.message_for_detail() });
        if let Some((kind, name)) = self.location {
            detail["locationType"] = json!(kind);
            detail["location"] = json!(name);
        }
        let mut error =
            json!({ "code": self.status.as_u16(), "message": self.message, "errors": [detail] });
        if let Some(status) = self.grpc_status {
            error["status"] = json!(status);
        }
        json!({ "error": error })
    }

    /// Google's 401 says "Invalid Credentials" in the detail and a longer sentence at the top.
    fn message_for_detail(&self) -> &str {
        if self.reason == "authError" {
            "Invalid Credentials"
        } else {
            &self.message
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
            );
        }
        response
    }
}

/// An error of the OAuth endpoints: `{"error":"invalid_grant","error_description":"..."}`.
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_client() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized")
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response()
    }
}

/// An error of the `/_fake` control API, in the project's own error shape.
#[derive(Debug, Clone)]
pub(crate) struct AdminError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AdminError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
}

impl From<crate::state::FakeError> for AdminError {
    fn from(e: crate::state::FakeError) -> Self {
        match e {
            crate::state::FakeError::FileNotFound(_) => Self {
                status: StatusCode::NOT_FOUND,
                code: "not_found",
                message: e.to_string(),
            },
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}
