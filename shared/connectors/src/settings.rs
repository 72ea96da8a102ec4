//! Provider endpoints and budgets, read once from the environment. Every URL defaults to the real
//! host and can point at a fake (tests, the local demo).

/// Provider settings (no secrets: client ids and secrets come from the app secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSettings {
    /// Public base URL of this API: OAuth redirects and webhook addresses hang off it.
    pub public_base_url: String,
    pub google_auth_url: String,
    pub google_token_url: String,
    pub google_api_base_url: String,
    /// Requests per second one connector may send to Google.
    pub google_rate_limit_per_sec: f64,
    /// Largest Google Docs/Sheets/Slides export Google serves.
    pub google_export_limit_bytes: u64,
}

impl ProviderSettings {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let or = |k: &str, d: &str| {
            get(k)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.to_string())
        };
        ProviderSettings {
            public_base_url: or("PUBLIC_BASE_URL", "").trim_end_matches('/').to_string(),
            google_auth_url: or(
                "GOOGLE_AUTH_URL",
                "https://accounts.google.com/o/oauth2/v2/auth",
            ),
            google_token_url: or("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"),
            google_api_base_url: or("GOOGLE_API_BASE_URL", "https://www.googleapis.com")
                .trim_end_matches('/')
                .to_string(),
            google_rate_limit_per_sec: or("GOOGLE_RATE_LIMIT_PER_SEC", "50")
                .parse()
                .unwrap_or(50.0),
            google_export_limit_bytes: or("GOOGLE_EXPORT_LIMIT_BYTES", "10485760")
                .parse()
                .unwrap_or(10 * 1024 * 1024),
        }
    }
}
