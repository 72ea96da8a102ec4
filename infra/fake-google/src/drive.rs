//! Drive v3 endpoints the connector uses: about, files (list, get, download, export) and changes
//! (start token, list). Push channels are in `notify`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::mime;
use crate::query;
use crate::state::{DriveStore, FakeState, FileRecord, lock};

pub(crate) type ApiResult = Result<Response, ApiError>;
type Params = Query<HashMap<String, String>>;

pub const USER_NAME: &str = "Dana Demo";
pub const USER_EMAIL: &str = "dana@example.com";
const USER_PERMISSION_ID: &str = "04857153820196523485";
const DEFAULT_PAGE_SIZE: u32 = 100;

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn flag(params: &HashMap<String, String>, name: &str, default: bool) -> bool {
    params.get(name).map(|v| v == "true").unwrap_or(default)
}

fn user() -> Value {
    json!({ "kind": "drive#user", "displayName": USER_NAME, "emailAddress": USER_EMAIL, "permissionId": USER_PERMISSION_ID, "me": true })
}

fn web_view_link(f: &FileRecord) -> String {
    let id = &f.id;
    match f.mime_type.as_str() {
        mime::GOOGLE_DOC => format!("https://docs.google.com/document/d/{id}/edit?usp=drivesdk"),
        mime::GOOGLE_SHEET => {
            format!("https://docs.google.com/spreadsheets/d/{id}/edit?usp=drivesdk")
        }
        mime::GOOGLE_SLIDES => {
            format!("https://docs.google.com/presentation/d/{id}/edit?usp=drivesdk")
        }
        mime::GOOGLE_FOLDER => format!("https://drive.google.com/drive/folders/{id}"),
        _ => format!("https://drive.google.com/file/d/{id}/view?usp=drivesdk"),
    }
}

/// A file resource. `fields` is ignored: this is the connector's usual selection, always. Drive
/// sends int64 fields (size, version) as strings.
pub(crate) fn file_json(f: &FileRecord) -> Value {
    let mut v = json!({
        "kind": "drive#file",
        "id": f.id,
        "name": f.name,
        "mimeType": f.mime_type,
        "parents": f.parents,
        "createdTime": time(&f.created_time),
        "modifiedTime": time(&f.modified_time),
        "trashed": f.trashed,
        "version": f.version.to_string(),
        "webViewLink": web_view_link(f),
    });
    if f.is_binary() {
        v["size"] = json!(f.content.len().to_string());
        v["md5Checksum"] = json!(f.md5);
    }
    match &f.drive_id {
        Some(drive_id) => v["driveId"] = json!(drive_id),
        // Shared drives own their files; only My Drive files have owners.
        None => v["owners"] = json!([user()]),
    }
    v
}

fn page_size(params: &HashMap<String, String>, max: u32) -> Result<usize, ApiError> {
    match params.get("pageSize") {
        None => Ok(DEFAULT_PAGE_SIZE.min(max) as usize),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n as usize),
            _ => Err(ApiError::invalid_parameter("pageSize")),
        },
    }
}

/// Shared-drive items only show up when the caller says it can handle them, as in Drive.
fn visible(f_drive: Option<&String>, params: &HashMap<String, String>) -> bool {
    match params.get("driveId") {
        Some(drive_id) => f_drive == Some(drive_id),
        None => f_drive.is_none() || flag(params, "includeItemsFromAllDrives", false),
    }
}

/// `GET /drive/v3/about`
pub(crate) async fn about(State(state): State<Arc<FakeState>>, headers: HeaderMap) -> ApiResult {
    state.admit("drive.about.get", &headers).await?;
    Ok(axum::Json(json!({ "kind": "drive#about", "user": user() })).into_response())
}

/// `GET /drive/v3/files`: pages walk files in creation order; the token names the last file seen,
/// so files added between pages are picked up and none is repeated.
pub(crate) async fn list_files(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> ApiResult {
    state.admit("drive.files.list", &headers).await?;
    let size = page_size(&params, state.config.max_page_size)?;
    let terms = match params.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) {
        Some(q) => query::parse(q).ok_or_else(|| ApiError::invalid_parameter("q"))?,
        None => Vec::new(),
    };
    let after = match params.get("pageToken").filter(|t| !t.is_empty()) {
        Some(token) => Some(
            decode_files_token(token).ok_or_else(|| ApiError::invalid_parameter("pageToken"))?,
        ),
        None => None,
    };
    let drive = lock(&state.drive);
    let range = match after {
        Some(seq) => drive.files.range(seq + 1..),
        None => drive.files.range(0..),
    };
    let mut matching = range
        .map(|(_, f)| f)
        .filter(|f| visible(f.drive_id.as_ref(), &params) && terms.iter().all(|t| t.matches(f)));
    let page: Vec<&FileRecord> = matching.by_ref().take(size).collect();
    let more = matching.next().is_some();
    let mut body = json!({ "kind": "drive#fileList", "incompleteSearch": false, "files": page.iter().map(|f| file_json(f)).collect::<Vec<_>>() });
    if let (true, Some(last)) = (more, page.last()) {
        body["nextPageToken"] = json!(encode_files_token(last.created_seq));
    }
    Ok(axum::Json(body).into_response())
}

fn encode_files_token(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("files-after:{seq}"))
}

fn decode_files_token(token: &str) -> Option<u64> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    raw.strip_prefix("files-after:")?.parse().ok()
}

/// `GET /drive/v3/files/{id}` (metadata) and `?alt=media` (content, binary files only).
pub(crate) async fn get_file(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Params,
) -> ApiResult {
    let download = params.get("alt").map(String::as_str) == Some("media");
    state
        .admit(
            if download {
                "drive.files.download"
            } else {
                "drive.files.get"
            },
            &headers,
        )
        .await?;
    let file = lock(&state.drive)
        .get(&id)
        .filter(|f| visible(f.drive_id.as_ref(), &with_all_drives(&params)))
        .cloned();
    let file = file.ok_or_else(|| ApiError::file_not_found(&id))?;
    if !download {
        return Ok(axum::Json(file_json(&file)).into_response());
    }
    if !file.is_binary() {
        return Err(ApiError::not_downloadable());
    }
    Ok((
        [(header::CONTENT_TYPE, file.mime_type.clone())],
        file.content.clone(),
    )
        .into_response())
}

/// files.get finds shared-drive files when `supportsAllDrives=true`, not only with includeItems….
fn with_all_drives(params: &HashMap<String, String>) -> HashMap<String, String> {
    let mut p = params.clone();
    if flag(params, "supportsAllDrives", false) {
        p.insert("includeItemsFromAllDrives".into(), "true".into());
    }
    p
}

/// `GET /drive/v3/files/{id}/export?mimeType=…` for Docs, Sheets and Slides.
pub(crate) async fn export_file(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Params,
) -> ApiResult {
    state.admit("drive.files.export", &headers).await?;
    let target = params
        .get("mimeType")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| ApiError::required("mimeType"))?;
    let file = lock(&state.drive)
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::file_not_found(&id))?;
    let bytes = crate::content::export(&file, target)?;
    if bytes.len() as u64 > state.config.export_limit_bytes {
        return Err(ApiError::export_too_large());
    }
    Ok(([(header::CONTENT_TYPE, target.clone())], bytes).into_response())
}

/// Change page tokens are the sequence number of the first change they cover; any number up to
/// "just after the last change" is valid forever.
pub(crate) fn parse_change_token(drive: &DriveStore, token: &str) -> Result<u64, ApiError> {
    match token.parse::<u64>() {
        Ok(n) if n >= 1 && n <= drive.start_page_token() => Ok(n),
        _ => Err(ApiError::invalid_parameter("pageToken")),
    }
}

/// `GET /drive/v3/changes/startPageToken`
pub(crate) async fn start_page_token(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
) -> ApiResult {
    state
        .admit("drive.changes.getStartPageToken", &headers)
        .await?;
    let token = lock(&state.drive).start_page_token();
    Ok(
        axum::Json(json!({ "kind": "drive#startPageToken", "startPageToken": token.to_string() }))
            .into_response(),
    )
}

/// `GET /drive/v3/changes?pageToken=…`: one entry per mutation, oldest first, ending with
/// `newStartPageToken` once the feed is drained.
pub(crate) async fn list_changes(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Query(params): Params,
) -> ApiResult {
    state.admit("drive.changes.list", &headers).await?;
    let token = params
        .get("pageToken")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::required("pageToken"))?;
    let size = page_size(&params, state.config.max_page_size)?;
    let include_removed = flag(&params, "includeRemoved", true);
    let drive = lock(&state.drive);
    let start = parse_change_token(&drive, token)?;
    let mut changes = Vec::new();
    let mut next = None;
    for (i, change) in drive.changes.iter().enumerate().skip(start as usize - 1) {
        if !visible(change.drive_id.as_ref(), &params) || (change.removed && !include_removed) {
            continue;
        }
        if changes.len() == size {
            next = Some(i as u64 + 1);
            break;
        }
        let mut v = json!({
            "kind": "drive#change",
            "changeType": "file",
            "fileId": change.file_id,
            "removed": change.removed,
            "time": time(&change.time),
        });
        if let Some(file) = &change.file {
            v["file"] = file_json(file);
        }
        if let Some(drive_id) = &change.drive_id {
            v["driveId"] = json!(drive_id);
        }
        changes.push(v);
    }
    let mut body = json!({ "kind": "drive#changeList", "changes": changes });
    match next {
        Some(n) => body["nextPageToken"] = json!(n.to_string()),
        None => body["newStartPageToken"] = json!(drive.start_page_token().to_string()),
    }
    Ok(axum::Json(body).into_response())
}
