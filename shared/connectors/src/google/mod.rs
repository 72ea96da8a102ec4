//! Google: OAuth (shared by Drive and Gmail) and the Drive v3 source.

pub mod drive;
pub mod oauth;

use recorder_domain::source::SourceError;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::http::{Verdict, retry_after};

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

/// Drive's documented retry rules: 429, 5xx, and 403 rate-limit reasons back off and retry.
/// (A 403 needs its body to tell; rate-limit 403s from Drive carry Retry-After rarely, so they
/// back off exponentially.)
pub fn classify(status: StatusCode, resp: &Response) -> Verdict {
    match status.as_u16() {
        200..=299 => Verdict::Ok,
        429 | 500 | 502 | 503 | 504 => Verdict::Retry(retry_after(resp)),
        _ => Verdict::Fail,
    }
}

/// Maps a failed Drive response to what the sync engine should do.
pub async fn failure(resp: Response, what: &str) -> SourceError {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let (reason, message) = error_reason(&body);
    match (status.as_u16(), reason.as_str()) {
        (401, _) => SourceError::Unauthorized,
        (403, "rateLimitExceeded" | "userRateLimitExceeded") => {
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
