//! Google Drive: the provider registered for `google_drive` (its description, the Drive v3
//! source, Google's OAuth client with Drive's scopes, and the `changes.watch` push).

mod push;
pub mod source;

use std::sync::Arc;

use recorder_domain::connector::{ConnectorType, ConnectorTypeInfo};
use recorder_domain::ports::AppSecrets;
use recorder_domain::provider::Provider;
use recorder_domain::push::Push;
use recorder_domain::source::{OAuthClient, Source};

pub use push::WEBHOOK_SECRET;
pub use source::{DriveCursor, DriveSource, export_format};

use crate::google::oauth::GoogleOAuth;
use crate::google::settings::GoogleSettings;
use crate::settings::{Env, SettingsError};

/// Read-only Drive access plus who the account is.
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/drive.readonly",
    "openid",
    "email",
    "profile",
];

pub struct Drive {
    source: Arc<DriveSource>,
    oauth: Arc<GoogleOAuth>,
}

impl Drive {
    pub fn new(settings: GoogleSettings, secrets: Arc<dyn AppSecrets>) -> Self {
        Drive {
            oauth: Arc::new(GoogleOAuth::new(settings.clone(), secrets, SCOPES)),
            source: Arc::new(DriveSource::new(settings)),
        }
    }
}

/// The registration: Drive with its settings from `env`.
pub fn provider(
    env: &Env,
    secrets: Arc<dyn AppSecrets>,
) -> Result<Arc<dyn Provider>, SettingsError> {
    Ok(Arc::new(Drive::new(GoogleSettings::read(env)?, secrets)))
}

impl Provider for Drive {
    fn info(&self) -> ConnectorTypeInfo {
        ConnectorTypeInfo {
            connector_type: ConnectorType::GoogleDrive,
            name: "Google Drive",
            description: "Files, Docs, Sheets and Slides from My Drive and shared drives",
            requires_oauth: true,
            supports_webhooks: true,
        }
    }

    fn source(&self) -> Arc<dyn Source> {
        self.source.clone()
    }

    fn oauth(&self) -> Option<Arc<dyn OAuthClient>> {
        Some(self.oauth.clone())
    }

    fn push(&self) -> Option<Arc<dyn Push>> {
        Some(self.source.clone())
    }
}
