//! Settings, read and checked once at cold start. Each provider reads its own (in its folder)
//! through [`Env`]; a value that does not parse fails start-up with its name, never falls back.

use std::str::FromStr;

/// A setting that is present but wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct SettingsError {
    pub name: String,
    pub reason: String,
}

/// The environment (or any lookup standing in for it) with typed, checked reads. Empty counts
/// as unset: the template passes empty strings for settings left to their defaults.
pub struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env { get }
    }

    fn raw(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn invalid(name: &str, reason: impl Into<String>) -> SettingsError {
        SettingsError {
            name: name.to_string(),
            reason: reason.into(),
        }
    }

    /// An absolute http(s) URL, without a trailing slash.
    pub fn url(&self, name: &str, default: &str) -> Result<String, SettingsError> {
        let value = self.raw(name).unwrap_or_else(|| default.to_string());
        let parsed = url::Url::parse(&value).map_err(|e| Self::invalid(name, e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Self::invalid(name, "must be an http(s) URL with a host"));
        }
        Ok(value.trim_end_matches('/').to_string())
    }

    /// Like [`Env::url`], but unset means none.
    pub fn optional_url(&self, name: &str) -> Result<Option<String>, SettingsError> {
        match self.raw(name) {
            None => Ok(None),
            Some(_) => self.url(name, "").map(Some),
        }
    }

    /// A positive number.
    pub fn positive<T>(&self, name: &str, default: T) -> Result<T, SettingsError>
    where
        T: FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        let Some(value) = self.raw(name) else {
            return Ok(default);
        };
        let n: T = value
            .parse()
            .map_err(|e: T::Err| Self::invalid(name, format!("'{value}': {e}")))?;
        if n <= T::default() {
            return Err(Self::invalid(
                name,
                format!("'{value}' must be more than 0"),
            ));
        }
        Ok(n)
    }
}

/// Settings every provider shares.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonSettings {
    /// Public base URL of this API: OAuth redirects and webhook addresses hang off it; none turns
    /// both off.
    pub public_base_url: String,
}

impl CommonSettings {
    pub fn read(env: &Env) -> Result<Self, SettingsError> {
        Ok(CommonSettings {
            public_base_url: env.optional_url("PUBLIC_BASE_URL")?.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_bad_value_is_refused_with_its_name_and_empty_means_the_default() {
        let get = env_of(&[
            ("RATE", "fast"),
            ("ZERO", "0"),
            ("URL", "not a url"),
            ("E", ""),
        ]);
        let env = Env::new(&get);
        assert_eq!(env.positive("RATE", 50.0).unwrap_err().name, "RATE");
        assert!(env.positive("ZERO", 5u64).is_err());
        assert_eq!(env.url("URL", "https://x").unwrap_err().name, "URL");
        assert_eq!(env.positive("E", 7u64).unwrap(), 7);
        assert_eq!(env.positive("UNSET", 7u64).unwrap(), 7);
        assert_eq!(env.url("E", "https://a.test/").unwrap(), "https://a.test");
        assert_eq!(env.optional_url("E").unwrap(), None);
    }
}
