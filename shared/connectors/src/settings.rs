//! Settings every provider shares. Each provider reads its own (in its folder) through
//! [`recorder_settings::Env`]: a bad value fails start-up with its name.

pub use recorder_settings::{Env, SettingsError};

#[derive(Debug, Clone, PartialEq)]
pub struct CommonSettings {
    /// Public base URL of this API: OAuth redirects and webhook addresses hang off it; none turns
    /// both off.
    pub public_base_url: String,
}

impl CommonSettings {
    pub fn read(env: &Env) -> Result<Self, SettingsError> {
        Ok(CommonSettings {
            public_base_url: env.url("PUBLIC_BASE_URL")?.unwrap_or_default(),
        })
    }
}
