//! Settings, read and checked once at cold start, one way for every crate: unset or empty means
//! the default (the template passes empty strings for settings left to their defaults), and a
//! value that is present but wrong fails start-up with its name, never falls back silently.

use std::str::FromStr;

/// A setting that is present but wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name} is invalid: {reason}")]
pub struct SettingsError {
    pub name: String,
    pub reason: String,
}

pub fn invalid(name: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// The environment (or any lookup standing in for it) with typed, checked reads.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env { get }
    }

    /// The trimmed value, `None` when unset or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A number above 0, `None` when unset.
    pub fn positive<T>(&self, name: &str) -> Result<Option<T>, SettingsError>
    where
        T: FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        let Some(value) = self.text(name) else {
            return Ok(None);
        };
        let n: T = value
            .parse()
            .map_err(|e: T::Err| invalid(name, format!("'{value}': {e}")))?;
        if n <= T::default() {
            return Err(invalid(name, format!("'{value}' must be more than 0")));
        }
        Ok(Some(n))
    }

    /// A number above 0, `default` when unset.
    pub fn positive_or<T>(&self, name: &str, default: T) -> Result<T, SettingsError>
    where
        T: FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        Ok(self.positive(name)?.unwrap_or(default))
    }

    /// An absolute http(s) URL with a host, without its trailing slash; `None` when unset.
    pub fn url(&self, name: &str) -> Result<Option<String>, SettingsError> {
        let Some(value) = self.text(name) else {
            return Ok(None);
        };
        let parsed =
            url::Url::parse(&value).map_err(|e| invalid(name, format!("'{value}': {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid(
                name,
                format!("'{value}' must be an http(s) URL with a host"),
            ));
        }
        Ok(Some(value.trim_end_matches('/').to_owned()))
    }

    /// Like [`Env::url`], `default` when unset.
    pub fn url_or(&self, name: &str, default: &str) -> Result<String, SettingsError> {
        Ok(self
            .url(name)?
            .unwrap_or_else(|| default.trim_end_matches('/').to_owned()))
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
            ("E", " "),
        ]);
        let env = Env::new(&get);
        assert_eq!(env.positive_or("RATE", 50.0).unwrap_err().name, "RATE");
        assert!(env.positive_or("ZERO", 5u64).is_err());
        assert_eq!(env.url_or("URL", "https://x").unwrap_err().name, "URL");
        assert_eq!(env.positive_or("E", 7u64).unwrap(), 7);
        assert_eq!(env.positive::<u64>("UNSET").unwrap(), None);
        assert_eq!(
            env.url_or("E", "https://a.test/").unwrap(),
            "https://a.test"
        );
        assert_eq!(env.url("E").unwrap(), None);
        let ftp = env_of(&[("U", "ftp://host/x"), ("H", "https://h.test/v2/")]);
        let env = Env::new(&ftp);
        assert!(env.url("U").is_err());
        assert_eq!(env.url("H").unwrap().as_deref(), Some("https://h.test/v2"));
    }
}
