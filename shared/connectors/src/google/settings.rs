//! Google's endpoints and budgets. Every URL defaults to the real host and can point at a fake
//! (tests, the local demo: `--fake-google`).

use crate::settings::{Env, SettingsError};

#[derive(Debug, Clone, PartialEq)]
pub struct GoogleSettings {
    pub auth_url: String,
    pub token_url: String,
    pub api_base_url: String,
    /// Requests per second one connector may send to Google.
    pub rate_limit_per_sec: f64,
    /// Largest Google Docs/Sheets/Slides export Google serves.
    pub export_limit_bytes: u64,
}

impl GoogleSettings {
    pub fn read(env: &Env) -> Result<Self, SettingsError> {
        Ok(GoogleSettings {
            auth_url: env.url_or(
                "GOOGLE_AUTH_URL",
                "https://accounts.google.com/o/oauth2/v2/auth",
            )?,
            token_url: env.url_or("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")?,
            api_base_url: env.url_or("GOOGLE_API_BASE_URL", "https://www.googleapis.com")?,
            rate_limit_per_sec: env.positive_or("GOOGLE_RATE_LIMIT_PER_SEC", 50.0)?,
            export_limit_bytes: env.positive_or("GOOGLE_EXPORT_LIMIT_BYTES", 10 * 1024 * 1024)?,
        })
    }

    /// The real endpoints with the defaults (tests change what they need).
    pub fn defaults() -> Self {
        Self::read(&Env::new(&|_| None)).expect("the defaults are valid")
    }
}
