//! Which connector types this build can sync, and with what.

use std::sync::Arc;

use recorder_domain::connector::ConnectorType;
use recorder_domain::ports::AppSecrets;
use recorder_domain::source::{OAuthClient, Providers, Source};

use crate::google::drive::DriveSource;
use crate::google::oauth::{DRIVE_SCOPES, GoogleOAuth};
use crate::settings::ProviderSettings;

pub struct Registry {
    settings: ProviderSettings,
    drive: Arc<DriveSource>,
    google_oauth: Arc<GoogleOAuth>,
}

impl Registry {
    /// The registry of a Lambda: settings from the environment.
    pub fn from_env(secrets: Arc<dyn AppSecrets>) -> Arc<dyn Providers> {
        Arc::new(Registry::new(
            ProviderSettings::from_lookup(&|k| std::env::var(k).ok()),
            secrets,
        ))
    }

    pub fn new(settings: ProviderSettings, secrets: Arc<dyn AppSecrets>) -> Self {
        Registry {
            drive: Arc::new(DriveSource::new(settings.clone())),
            google_oauth: Arc::new(GoogleOAuth::new(settings.clone(), secrets, DRIVE_SCOPES)),
            settings,
        }
    }
}

impl Providers for Registry {
    fn source(&self, t: ConnectorType) -> Option<Arc<dyn Source>> {
        match t {
            ConnectorType::GoogleDrive => Some(self.drive.clone()),
            _ => None,
        }
    }

    fn oauth(&self, t: ConnectorType) -> Option<Arc<dyn OAuthClient>> {
        match t {
            ConnectorType::GoogleDrive => Some(self.google_oauth.clone()),
            _ => None,
        }
    }

    fn public_base_url(&self) -> &str {
        &self.settings.public_base_url
    }
}
