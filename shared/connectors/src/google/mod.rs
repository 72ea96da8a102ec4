//! Google: what Google's providers share (OAuth, settings, error classification) and Drive.

pub mod drive;
pub mod oauth;
pub mod settings;

use recorder_domain::source::SourceError;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::http::{self, Verdict, retry_after};

/// Google's error reason (`errors[0].reason`) and message from an error body.
pub fn error_reason(body: &Value) -> (String, String) {
    let err = &body["error"];
    let reason = err["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let message = err["message"].as_str().unwrap_or_default().to_string();
    (reason, message)
}

/// The 403 reasons that mean "too fast", not "not allowed" (Drive's usage-limits guide: a quota
/// exceeded answers `403: User rate limit exceeded`; the backend may also answer 429).
const RATE_LIMIT_REASONS: [&str; 2] = ["rateLimitExceeded", "userRateLimitExceeded"];

/// Drive's documented retry rules: 429 and the 403 rate-limit reasons throttle (slow the
/// connector down and retry), 5xx retry with backoff, the rest fail. A 403 needs its body to tell.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Verdict {
    if status == StatusCode::FORBIDDEN {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        if RATE_LIMIT_REASONS.contains(&error_reason(&body).0.as_str()) {
            return Verdict::Throttled(retry_after(headers));
        }
    }
    http::classify(status, headers, body)
}

/// Maps a failed Drive response to what the sync engine should do.
pub async fn failure(resp: Response, what: &str) -> SourceError {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let (reason, message) = error_reason(&body);
    match (status.as_u16(), reason.as_str()) {
        (401, _) => SourceError::Unauthorized,
        (403, reason) if RATE_LIMIT_REASONS.contains(&reason) => {
            SourceError::Transient(format!("{what}: rate limited ({message})"))
        }
        (403, "exportSizeLimitExceeded") => SourceError::Item(
            "exceeds Google's 10 MB export limit: download it as a file instead".into(),
        ),
        (403, "fileNotDownloadable") => {
            SourceError::Item("Google does not allow downloading this file type".into())
        }
        (404, _) => SourceError::Item(format!("{what}: not found (deleted or no longer shared)")),
        (400..=499, _) => SourceError::Item(
            format!("{what}: HTTP {status} {reason} {message}")
                .trim()
                .to_string(),
        ),
        _ => SourceError::Transient(format!("{what}: HTTP {status} {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google_error(reason: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"error": {"code": 403, "message": "…",
            "errors": [{"domain": "usageLimits", "reason": reason}]}}))
        .unwrap()
    }

    #[test]
    fn drive_403_rate_limit_reasons_throttle_and_other_403s_fail() {
        let h = HeaderMap::new();
        let forbidden = StatusCode::FORBIDDEN;
        for reason in ["userRateLimitExceeded", "rateLimitExceeded"] {
            assert_eq!(
                classify(forbidden, &h, &google_error(reason)),
                Verdict::Throttled(None)
            );
        }
        for reason in ["insufficientPermissions", "exportSizeLimitExceeded", ""] {
            assert_eq!(
                classify(forbidden, &h, &google_error(reason)),
                Verdict::Fail
            );
        }
        assert_eq!(classify(forbidden, &h, b"not json"), Verdict::Fail);
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, b""),
            Verdict::Throttled(None)
        );
        assert_eq!(
            classify(StatusCode::SERVICE_UNAVAILABLE, &h, b""),
            Verdict::Retry(None)
        );
    }
}
