//! The Google Drive v3 source: a full listing on the first sync (after taking the change feed's
//! start token, so nothing changed during the listing is missed), then the change feed from the
//! stored page token. Shared drives included. Binary files stream via `alt=media`; Docs, Sheets and
//! Slides are exported (Markdown, XLSX, PPTX) within Google's 10 MB export limit.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use recorder_domain::connector::Account;
use recorder_domain::source::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::google::settings::GoogleSettings;
use crate::google::{classify, failure};
use crate::http::PacedClient;

const PAGE_SIZE: u32 = 1000;
const FILE_FIELDS: &str = "id,name,mimeType,parents,modifiedTime,createdTime,size,md5Checksum,version,trashed,webViewLink,driveId,owners(displayName,emailAddress)";
const FOLDER: &str = "application/vnd.google-apps.folder";

/// Google-native types and what we export them as.
pub fn export_format(mime: &str) -> Option<&'static str> {
    match mime {
        "application/vnd.google-apps.document" => Some("text/markdown"),
        "application/vnd.google-apps.spreadsheet" => {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        }
        "application/vnd.google-apps.presentation" => {
            Some("application/vnd.openxmlformats-officedocument.presentationml.presentation")
        }
        _ => None,
    }
}

/// True for files we can import: binary files and the exportable native types (not folders,
/// shortcuts, forms, maps…).
fn importable(mime: &str) -> bool {
    !mime.starts_with("application/vnd.google-apps.") || export_format(mime).is_some()
}

/// Where a Drive sync stands; stored (as JSON) inside the engine's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum DriveCursor {
    /// Listing every file; `start_token` was taken before the listing began.
    Full {
        start_token: String,
        page_token: Option<String>,
    },
    /// Following the change feed.
    Changes { page_token: String },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriveFile {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    mime_type: String,
    #[serde(default)]
    parents: Vec<String>,
    modified_time: Option<String>,
    created_time: Option<String>,
    size: Option<String>,
    md5_checksum: Option<String>,
    version: Option<String>,
    #[serde(default)]
    trashed: bool,
    web_view_link: Option<String>,
    drive_id: Option<String>,
    #[serde(default)]
    owners: Vec<Value>,
}

impl DriveFile {
    fn into_item(self) -> SourceItem {
        // `version` moves on every change to the file; md5 + modified time where it is missing.
        let fingerprint = self.version.clone().unwrap_or_else(|| {
            format!(
                "{}:{}",
                self.md5_checksum.as_deref().unwrap_or(""),
                self.modified_time.as_deref().unwrap_or("")
            )
        });
        let owner = self.owners.first();
        SourceItem {
            metadata: json!({
                "author": owner.and_then(|o| o["displayName"].as_str()),
                "author_email": owner.and_then(|o| o["emailAddress"].as_str()),
                "created_time": self.created_time,
                "modified_time": self.modified_time,
                "drive_id": self.drive_id,
                "source_mime_type": self.mime_type,
            }),
            external_id: self.id,
            name: self.name,
            size: self.size.and_then(|s| s.parse().ok()),
            mime_type: Some(self.mime_type),
            parents: self.parents,
            external_url: self.web_view_link,
            fingerprint,
        }
    }
}

pub struct DriveSource {
    pub(super) settings: GoogleSettings,
    client: Arc<PacedClient>,
}

impl DriveSource {
    pub fn new(settings: GoogleSettings) -> Self {
        let client = Arc::new(PacedClient::new(settings.rate_limit_per_sec));
        DriveSource { settings, client }
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/drive/v3/{path}", self.settings.api_base_url)
    }

    /// One metered, authorised, paced call (retries per Drive's rules); `build` adds the method,
    /// URL and parameters.
    pub(super) async fn call(
        &self,
        cx: &SourceContext,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, SourceError> {
        cx.meter.call();
        self.client
            .send(
                &cx.connector.id,
                |h| build(h).bearer_auth(cx.access_token.expose()),
                classify,
            )
            .await
    }

    async fn get_json(
        &self,
        cx: &SourceContext,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Value, SourceError> {
        let url = self.url(path);
        let resp = self.call(cx, |h| h.get(&url).query(query)).await?;
        if !resp.status().is_success() {
            return Err(failure(resp, what).await);
        }
        resp.json()
            .await
            .map_err(|e| SourceError::io(format!("{what}: unreadable response"), e))
    }

    pub(super) async fn start_page_token(&self, cx: &SourceContext) -> Result<String, SourceError> {
        let v = self
            .get_json(
                cx,
                "changes/startPageToken",
                &[("supportsAllDrives", "true".into())],
                "changes.getStartPageToken",
            )
            .await?;
        v["startPageToken"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| SourceError::Transient("no startPageToken in the answer".into()))
    }

    async fn list_files(
        &self,
        cx: &SourceContext,
        start_token: String,
        page_token: Option<String>,
    ) -> Result<ChangePage, SourceError> {
        let mut q = vec![
            ("q", "trashed = false".to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
            ("supportsAllDrives", "true".into()),
            ("includeItemsFromAllDrives", "true".into()),
            ("corpora", "allDrives".into()),
            ("fields", format!("nextPageToken,files({FILE_FIELDS})")),
        ];
        if let Some(p) = &page_token {
            q.push(("pageToken", p.clone()));
        }
        let v = self.get_json(cx, "files", &q, "files.list").await?;
        let files: Vec<DriveFile> = serde_json::from_value(v["files"].clone()).unwrap_or_default();
        let changes = files
            .into_iter()
            .filter(|f| importable(&f.mime_type) && !f.trashed)
            .map(|f| Change::Upsert(f.into_item()))
            .collect();
        // After the last page, continue straight into the change feed from the token taken first.
        let next = match v["nextPageToken"].as_str() {
            Some(p) => DriveCursor::Full {
                start_token,
                page_token: Some(p.to_string()),
            },
            None => DriveCursor::Changes {
                page_token: start_token,
            },
        };
        Ok(ChangePage {
            changes,
            cursor: encode(&next),
            has_more: true,
        })
    }

    async fn list_feed(
        &self,
        cx: &SourceContext,
        page_token: String,
    ) -> Result<ChangePage, SourceError> {
        let q = vec![
            ("pageToken", page_token),
            ("pageSize", PAGE_SIZE.to_string()),
            ("includeRemoved", "true".into()),
            ("supportsAllDrives", "true".into()),
            ("includeItemsFromAllDrives", "true".into()),
            ("spaces", "drive".into()),
            (
                "fields",
                format!(
                    "nextPageToken,newStartPageToken,changes(changeType,fileId,removed,time,driveId,file({FILE_FIELDS}))"
                ),
            ),
        ];
        let v = self.get_json(cx, "changes", &q, "changes.list").await?;
        let mut changes = Vec::new();
        for c in v["changes"].as_array().cloned().unwrap_or_default() {
            if c["changeType"].as_str() == Some("drive") {
                continue;
            }
            let Some(file_id) = c["fileId"].as_str() else {
                continue;
            };
            let file: Option<DriveFile> = serde_json::from_value(c["file"].clone()).ok();
            match file {
                _ if c["removed"].as_bool() == Some(true) => changes.push(Change::Removed {
                    external_id: file_id.into(),
                }),
                Some(f) if f.trashed => changes.push(Change::Removed { external_id: f.id }),
                Some(f) if f.mime_type == FOLDER || !importable(&f.mime_type) => {}
                Some(f) => changes.push(Change::Upsert(f.into_item())),
                None => {}
            }
        }
        let (cursor, has_more) =
            match (v["nextPageToken"].as_str(), v["newStartPageToken"].as_str()) {
                (Some(next), _) => (
                    DriveCursor::Changes {
                        page_token: next.into(),
                    },
                    true,
                ),
                (None, Some(new_start)) => (
                    DriveCursor::Changes {
                        page_token: new_start.into(),
                    },
                    false,
                ),
                (None, None) => {
                    return Err(SourceError::Transient(
                        "changes.list answered neither nextPageToken nor newStartPageToken".into(),
                    ));
                }
            };
        Ok(ChangePage {
            changes,
            cursor: encode(&cursor),
            has_more,
        })
    }
}

fn encode(c: &DriveCursor) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

pub(super) fn parse_time(ms: Option<&str>) -> Option<DateTime<Utc>> {
    let ms: i64 = ms?.parse().ok()?;
    DateTime::from_timestamp_millis(ms)
}

#[async_trait]
impl Source for DriveSource {
    async fn account(&self, cx: &SourceContext) -> Result<Account, SourceError> {
        let v = self
            .get_json(cx, "about", &[("fields", "user".into())], "about.get")
            .await?;
        let user = &v["user"];
        Ok(Account {
            id: user["permissionId"].as_str().map(str::to_string),
            display_name: user["displayName"].as_str().map(str::to_string),
            email: user["emailAddress"].as_str().map(str::to_string),
        })
    }

    async fn list_changes(
        &self,
        cx: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        let cursor = match cursor.map(serde_json::from_str::<DriveCursor>) {
            None => DriveCursor::Full {
                start_token: self.start_page_token(cx).await?,
                page_token: None,
            },
            Some(Ok(c)) => c,
            Some(Err(_)) => {
                return Err(SourceError::Config(
                    "the stored Drive cursor is unreadable; reset the connector's sync".into(),
                ));
            }
        };
        match cursor {
            DriveCursor::Full {
                start_token,
                page_token,
            } => self.list_files(cx, start_token, page_token).await,
            DriveCursor::Changes { page_token } => self.list_feed(cx, page_token).await,
        }
    }

    async fn get_item(
        &self,
        cx: &SourceContext,
        external_id: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        let q = [
            ("supportsAllDrives", "true".to_string()),
            ("fields", FILE_FIELDS.to_string()),
        ];
        match self
            .get_json(cx, &format!("files/{external_id}"), &q, "files.get")
            .await
        {
            Ok(v) => {
                let f: DriveFile =
                    serde_json::from_value(v).map_err(|e| SourceError::io("files.get", e))?;
                Ok((!f.trashed).then(|| f.into_item()))
            }
            Err(SourceError::Item(m)) if m.contains("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn fetch(
        &self,
        cx: &SourceContext,
        item: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        let source_mime = item.mime_type.clone().unwrap_or_default();
        let (url, query, content_type) = match export_format(&source_mime) {
            Some(format) => (
                self.url(&format!("files/{}/export", item.external_id)),
                vec![("mimeType", format.to_string())],
                format.to_string(),
            ),
            None => (
                self.url(&format!("files/{}", item.external_id)),
                vec![
                    ("alt", "media".to_string()),
                    ("supportsAllDrives", "true".to_string()),
                ],
                if source_mime.is_empty() {
                    "application/octet-stream".into()
                } else {
                    source_mime.clone()
                },
            ),
        };
        let resp = self.call(cx, |h| h.get(&url).query(&query)).await?;
        if !resp.status().is_success() {
            return Err(failure(resp, "download").await);
        }
        let limit = self.settings.export_limit_bytes;
        let exported = export_format(&source_mime).is_some();
        let mut seen: u64 = 0;
        let stream = resp.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| SourceError::io("download interrupted", e))?;
            seen += chunk.len() as u64;
            if exported && seen > limit {
                return Err(SourceError::Item(
                    "exceeds Google's 10 MB export limit: download it as a file instead".into(),
                ));
            }
            Ok(chunk)
        });
        Ok(FetchedContent {
            content_type,
            stream: Box::pin(stream),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_google_files_are_exported_and_folders_skipped() {
        assert_eq!(
            export_format("application/vnd.google-apps.document"),
            Some("text/markdown")
        );
        assert!(importable("application/pdf"));
        assert!(!importable(FOLDER));
        assert!(!importable("application/vnd.google-apps.form"));
    }

    #[test]
    fn cursors_round_trip() {
        let c = DriveCursor::Full {
            start_token: "10".into(),
            page_token: Some("p2".into()),
        };
        assert_eq!(serde_json::from_str::<DriveCursor>(&encode(&c)).unwrap(), c);
    }
}
