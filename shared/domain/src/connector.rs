//! The Connector entity: one source of documents an org has connected.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorType {
    GoogleDrive,
    Gmail,
    Notion,
    Zoom,
    MicrosoftTeams,
    FileUpload,
    UrlImport,
}

/// What the front end shows for a connector type, and what it can do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorTypeInfo {
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
    pub name: &'static str,
    pub description: &'static str,
    pub requires_oauth: bool,
    pub supports_webhooks: bool,
}

/// A type as `GET /api/connectors/types` lists it: what it is, and whether this build can
/// connect and sync it (derived from the provider registry, never kept by hand).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorTypeListing {
    #[serde(flatten)]
    pub info: ConnectorTypeInfo,
    pub available: bool,
    /// Why not, when `available` is false; null otherwise.
    pub unavailable_reason: Option<String>,
}

impl ConnectorType {
    pub const ALL: [ConnectorType; 7] = [
        ConnectorType::GoogleDrive,
        ConnectorType::Gmail,
        ConnectorType::Notion,
        ConnectorType::Zoom,
        ConnectorType::MicrosoftTeams,
        ConnectorType::FileUpload,
        ConnectorType::UrlImport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::GoogleDrive => "google_drive",
            ConnectorType::Gmail => "gmail",
            ConnectorType::Notion => "notion",
            ConnectorType::Zoom => "zoom",
            ConnectorType::MicrosoftTeams => "microsoft_teams",
            ConnectorType::FileUpload => "file_upload",
            ConnectorType::UrlImport => "url_import",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectorType> {
        ConnectorType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The description of a type no provider describes: uploads and URL imports (domain
    /// features), and provider types this build has no provider for (a name only). A
    /// registered provider describes its own type (`Providers::info`).
    pub fn builtin_info(self) -> ConnectorTypeInfo {
        let (name, description) = match self {
            ConnectorType::FileUpload => (
                "File upload",
                "Files uploaded directly, one at a time or in batches",
            ),
            ConnectorType::UrlImport => ("URL import", "Web pages and files fetched from a URL"),
            ConnectorType::GoogleDrive => ("Google Drive", ""),
            ConnectorType::Gmail => ("Gmail", ""),
            ConnectorType::Notion => ("Notion", ""),
            ConnectorType::Zoom => ("Zoom", ""),
            ConnectorType::MicrosoftTeams => ("Microsoft Teams", ""),
        };
        ConnectorTypeInfo {
            connector_type: self,
            name,
            description,
            requires_oauth: self.requires_oauth(),
            supports_webhooks: false,
        }
    }

    /// Every type but the built-in ones (uploads, URL imports) connects to a provider.
    pub fn requires_oauth(self) -> bool {
        !matches!(self, ConnectorType::FileUpload | ConnectorType::UrlImport)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    Active,
    Paused,
    Error,
    Disconnected,
}

impl ConnectorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorStatus::Active => "active",
            ConnectorStatus::Paused => "paused",
            ConnectorStatus::Error => "error",
            ConnectorStatus::Disconnected => "disconnected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncFrequency {
    Manual,
    Hourly,
    Daily,
    Weekly,
}

impl SyncFrequency {
    pub fn interval(self) -> Option<Duration> {
        match self {
            SyncFrequency::Manual => None,
            SyncFrequency::Hourly => Some(Duration::hours(1)),
            SyncFrequency::Daily => Some(Duration::days(1)),
            SyncFrequency::Weekly => Some(Duration::weeks(1)),
        }
    }

    /// When the next scheduled sync is due, counted from `from`; none for manual connectors.
    pub fn next_after(self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.interval().map(|d| from + d)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LastSyncStatus {
    Success,
    Partial,
    Failed,
}

/// The provider account a connector is linked to (shown on the dashboard).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// MIME types or wildcards (`application/pdf`, `video/*`) to import; empty means all.
    #[serde(default)]
    pub file_types: Vec<String>,
    /// Folder ids or paths to import from; empty means all.
    #[serde(default)]
    pub folders: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookState {
    pub url: Option<String>,
    pub active: bool,
    /// Drive channel id or Graph subscription id.
    pub channel_id: Option<String>,
    pub resource_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Live progress of the running sync, for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub sync_log_id: String,
    pub current: u64,
    pub total: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub id: String,
    pub org_id: String,
    pub connector_type: ConnectorType,
    pub name: String,
    pub description: Option<String>,
    pub status: ConnectorStatus,
    #[serde(default)]
    pub account: Account,
    #[serde(default)]
    pub settings: Value,
    #[serde(default)]
    pub filters: Filters,
    pub sync_frequency: SyncFrequency,
    pub next_sync_at: Option<DateTime<Utc>>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub last_sync_status: Option<LastSyncStatus>,
    #[serde(default)]
    pub error_count: u32,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub webhook: WebhookState,
    /// Provider cursor (page token, delta link): where the next incremental sync starts.
    pub sync_cursor: Option<String>,
    /// Present while a sync runs.
    pub sync_progress: Option<SyncProgress>,
    /// Documents imported and not deleted; kept by atomic counters.
    #[serde(default)]
    pub documents_count: u64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Connector {
    /// A connector syncs on schedule only while it is active and not manual.
    pub fn is_scheduled(&self) -> bool {
        self.status == ConnectorStatus::Active && self.sync_frequency != SyncFrequency::Manual
    }

    pub fn is_active(&self) -> bool {
        self.status == ConnectorStatus::Active
    }
}

/// The maximum sizes the API accepts for free-form connector fields.
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_DESCRIPTION_LEN: usize = 1000;
pub const MAX_SETTINGS_BYTES: usize = 16 * 1024;
pub const MAX_FILTER_ENTRIES: usize = 100;

/// Trims and checks a connector name.
pub fn validate_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::validation("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(DomainError::validation(
            "name",
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::validation(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// The key under which a name is unique: names differing only in case collide.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn validate_description(d: Option<String>) -> Result<Option<String>, DomainError> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => Err(DomainError::validation(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        other => Ok(other),
    }
}

pub fn validate_settings(settings: &Value) -> Result<(), DomainError> {
    if !settings.is_object() && !settings.is_null() {
        return Err(DomainError::validation("settings", "must be a JSON object"));
    }
    if serde_json::to_vec(settings)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
        > MAX_SETTINGS_BYTES
    {
        return Err(DomainError::validation(
            "settings",
            format!("must be at most {MAX_SETTINGS_BYTES} bytes"),
        ));
    }
    Ok(())
}

pub fn validate_filters(filters: &Filters) -> Result<(), DomainError> {
    if filters.file_types.len() > MAX_FILTER_ENTRIES || filters.folders.len() > MAX_FILTER_ENTRIES {
        return Err(DomainError::validation(
            "filters",
            format!("at most {MAX_FILTER_ENTRIES} entries each"),
        ));
    }
    for t in &filters.file_types {
        let ok = t.split_once('/').is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && !a.contains('*') && (b == "*" || !b.contains('*'))
        });
        if !ok {
            return Err(DomainError::validation(
                "filters.file_types",
                format!("'{t}' is not a MIME type or a wildcard like video/*"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connector_types_round_trip_through_their_names() {
        for t in ConnectorType::ALL {
            assert_eq!(ConnectorType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(ConnectorType::parse("dropbox"), None);
    }

    #[test]
    fn only_upload_and_url_import_need_no_oauth() {
        let no_oauth: Vec<_> = ConnectorType::ALL
            .into_iter()
            .filter(|t| !t.requires_oauth())
            .collect();
        assert_eq!(
            no_oauth,
            vec![ConnectorType::FileUpload, ConnectorType::UrlImport]
        );
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(validate_name("  Team files ").unwrap(), "Team files");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(101)).is_err());
        assert!(validate_name("bad\u{7}name").is_err());
        assert_eq!(name_key(" Team Files"), "team files");
    }

    #[test]
    fn file_type_filters_accept_mime_types_and_wildcards_only() {
        let ok = Filters {
            file_types: vec!["application/pdf".into(), "video/*".into()],
            folders: vec![],
        };
        assert!(validate_filters(&ok).is_ok());
        for bad in ["pdf", "*/*", "video/*x", "/x"] {
            let f = Filters {
                file_types: vec![bad.into()],
                folders: vec![],
            };
            assert!(validate_filters(&f).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn manual_connectors_have_no_next_sync() {
        let now = Utc::now();
        assert_eq!(SyncFrequency::Manual.next_after(now), None);
        assert_eq!(
            SyncFrequency::Hourly.next_after(now),
            Some(now + Duration::hours(1))
        );
    }
}
