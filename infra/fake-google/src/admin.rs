//! `/_fake/...`: the same controls tests have on the handle, over HTTP (JSON), for the local demo
//! and for tests in other processes. Not subject to auth, faults or rate limits.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::drive::file_json;
use crate::errors::AdminError;
use crate::state::{FakeError, FakeState, NewFile, lock};

type AdminResult = Result<Response, AdminError>;

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    let body: &[u8] = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body)
        .map_err(|e| AdminError::bad_request(format!("invalid JSON body: {e}")))
}

/// Content as base64 (any bytes) or as text.
#[derive(Debug, Default, Deserialize)]
struct Content {
    content_base64: Option<String>,
    content_text: Option<String>,
}

impl Content {
    fn bytes(self) -> Result<Option<Vec<u8>>, AdminError> {
        match (self.content_base64, self.content_text) {
            (Some(b64), _) => STANDARD
                .decode(b64)
                .map(Some)
                .map_err(|e| AdminError::bad_request(format!("content_base64 is not base64: {e}"))),
            (None, Some(text)) => Ok(Some(text.into_bytes())),
            (None, None) => Ok(None),
        }
    }
}

#[derive(Debug, Deserialize)]
struct NewFileBody {
    name: String,
    #[serde(alias = "mimeType")]
    mime_type: String,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(alias = "driveId")]
    drive_id: Option<String>,
    #[serde(flatten)]
    content: Content,
}

#[derive(Debug, Deserialize)]
struct PatchFileBody {
    name: Option<String>,
    #[serde(flatten)]
    content: Content,
}

#[derive(Debug, Deserialize)]
struct SeedBody {
    n: usize,
    #[serde(default)]
    seed: u64,
}

#[derive(Debug, Default, Deserialize)]
struct FaultsBody {
    http_429: Option<u32>,
    http_5xx: Option<u32>,
    latency_ms: Option<u64>,
    /// Absent: unchanged; `null` or 0: unlimited.
    #[serde(default, deserialize_with = "present")]
    rate_limit_per_sec: Option<Option<u32>>,
    #[serde(default)]
    revoke_refresh_tokens: bool,
    #[serde(default)]
    expire_access_tokens: bool,
    deny_next_consent: Option<bool>,
}

/// Tells "field absent" (outer None) from "field null" (Some(None)).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<u32>>, D::Error> {
    Option::<u32>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize)]
struct TokenBody {
    scope: Option<String>,
}

fn file_response(state: &FakeState, id: &str, status: StatusCode) -> AdminResult {
    let file = state
        .file(id)
        .ok_or_else(|| FakeError::FileNotFound(id.to_string()))?;
    Ok((status, axum::Json(file_json(&file))).into_response())
}

/// `POST /_fake/files`
pub(crate) async fn add_file(State(state): State<Arc<FakeState>>, body: Bytes) -> AdminResult {
    let body: NewFileBody = parse(&body)?;
    let content = body.content.bytes()?.unwrap_or_default();
    let id = state.add_file(NewFile {
        name: body.name,
        mime_type: body.mime_type,
        parents: body.parents,
        content,
        drive_id: body.drive_id,
    });
    file_response(&state, &id, StatusCode::CREATED)
}

/// `PATCH /_fake/files/{id}`: each given field is its own change, as separate user edits would be.
pub(crate) async fn patch_file(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> AdminResult {
    let body: PatchFileBody = parse(&body)?;
    if let Some(content) = body.content.bytes()? {
        state.update_content(&id, content)?;
    }
    if let Some(name) = body.name {
        state.rename(&id, name)?;
    }
    file_response(&state, &id, StatusCode::OK)
}

/// `POST /_fake/files/{id}/trash`
pub(crate) async fn trash_file(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
) -> AdminResult {
    state.trash(&id)?;
    file_response(&state, &id, StatusCode::OK)
}

/// `POST /_fake/files/{id}/untrash`
pub(crate) async fn untrash_file(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
) -> AdminResult {
    state.untrash(&id)?;
    file_response(&state, &id, StatusCode::OK)
}

/// `DELETE /_fake/files/{id}`: permanent.
pub(crate) async fn delete_file(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
) -> AdminResult {
    state.delete(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /_fake/seed {n, seed}`
pub(crate) async fn seed(State(state): State<Arc<FakeState>>, body: Bytes) -> AdminResult {
    let body: SeedBody = parse(&body)?;
    let ids = state.seed(body.n, body.seed);
    Ok(axum::Json(json!({ "ids": ids })).into_response())
}

/// `POST /_fake/faults`: sets what is given, answers the settings now in force.
pub(crate) async fn set_faults(State(state): State<Arc<FakeState>>, body: Bytes) -> AdminResult {
    let body: FaultsBody = parse(&body)?;
    if let Some(n) = body.http_429 {
        state.inject_429(n);
    }
    if let Some(n) = body.http_5xx {
        state.inject_5xx(n);
    }
    if let Some(ms) = body.latency_ms {
        state.set_latency(ms);
    }
    if let Some(limit) = body.rate_limit_per_sec {
        state.set_rate_limit(limit);
    }
    if body.revoke_refresh_tokens {
        state.revoke_refresh_tokens();
    }
    if body.expire_access_tokens {
        state.expire_access_tokens();
    }
    if let Some(deny) = body.deny_next_consent {
        lock(&state.faults).deny_next_consent = deny;
    }
    Ok(axum::Json(state.fault_settings()).into_response())
}

/// `GET /_fake/faults`
pub(crate) async fn get_faults(State(state): State<Arc<FakeState>>) -> Response {
    axum::Json(state.fault_settings()).into_response()
}

/// `GET /_fake/stats`
pub(crate) async fn stats(State(state): State<Arc<FakeState>>) -> Response {
    axum::Json(state.stats()).into_response()
}

/// `POST /_fake/tokens {scope?}`: an access token without the consent dance.
pub(crate) async fn issue_token(State(state): State<Arc<FakeState>>, body: Bytes) -> AdminResult {
    let body: TokenBody = parse(&body)?;
    let scope = body
        .scope
        .unwrap_or_else(|| crate::mime::DRIVE_READONLY_SCOPE.to_string());
    let token = state.issue_access_token(&scope);
    Ok(axum::Json(json!({ "access_token": token, "expires_in": state.config.access_token_ttl_secs, "scope": scope, "token_type": "Bearer" })).into_response())
}
