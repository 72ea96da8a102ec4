//! Values that must never be printed, and the OAuth tokens made of them. A leaf: it imports
//! nothing from the crate, so ports, sources and adapters can all use it without a cycle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A value that must never be printed: Debug shows a placeholder and there is no Display.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// OAuth tokens of one connector; stored only in the secret store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
}

/// Constant-time comparison, so a forged secret learns nothing from timing (the length is not
/// secret: every token of a kind has the same one).
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_its_value_in_debug_output() {
        let tokens = OAuthTokens {
            access_token: Secret::new("ya29.live-token"),
            refresh_token: Some(Secret::new("1//refresh")),
            expires_at: None,
            scope: None,
        };
        let printed = format!("{tokens:?}");
        assert!(
            !printed.contains("ya29") && !printed.contains("1//"),
            "{printed}"
        );
        assert!(printed.contains("Secret(***)"));
    }
}
