//! The fetch policy's settings, read and checked once at cold start: a value that is present but
//! wrong fails start-up with its name instead of quietly becoming the default.

use std::time::Duration;

use recorder_settings::{Env, SettingsError, invalid};

use crate::FetchPolicy;

impl FetchPolicy {
    /// Reads `URL_IMPORT_TIMEOUT` (seconds), `URL_IMPORT_MAX_SIZE` (bytes), `USER_AGENT` and
    /// `URL_IMPORT_ALLOW_HOSTS` (comma-separated) through `get` (usually `std::env::var(..).ok()`).
    /// Unset or empty keeps the default; a value that does not parse is an error.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let env = Env::new(get);
        let mut policy = Self::default();
        if let Some(secs) = env.positive::<u64>("URL_IMPORT_TIMEOUT")? {
            policy.timeout = Duration::from_secs(secs);
        }
        if let Some(bytes) = env.positive::<u64>("URL_IMPORT_MAX_SIZE")? {
            policy.max_bytes = bytes;
        }
        if let Some(agent) = env.text("USER_AGENT") {
            // Checked here: a value reqwest cannot send would fail every fetch instead.
            reqwest::header::HeaderValue::from_str(&agent)
                .map_err(|e| invalid("USER_AGENT", format!("not a valid header value: {e}")))?;
            policy.user_agent = agent;
        }
        if let Some(hosts) = get("URL_IMPORT_ALLOW_HOSTS") {
            policy.allow_hosts = hosts
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
        }
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn refused(name: &'static str, value: &'static str) -> SettingsError {
        let get = move |k: &str| (k == name).then(|| value.to_string());
        FetchPolicy::from_lookup(&get).expect_err(&format!("{name}={value:?} was accepted"))
    }

    #[test]
    fn the_policy_is_read_from_the_environment_with_defaults_for_the_rest() {
        let get = lookup(&[
            ("URL_IMPORT_TIMEOUT", " 7 "),
            ("URL_IMPORT_MAX_SIZE", "1048576"),
            ("USER_AGENT", " probe/1.0 "),
            ("URL_IMPORT_ALLOW_HOSTS", " 127.0.0.1:8080, ,LocalHost "),
        ]);
        let policy = FetchPolicy::from_lookup(&get).unwrap();
        assert_eq!(policy.timeout, Duration::from_secs(7));
        assert_eq!(policy.max_bytes, 1024 * 1024);
        assert_eq!(policy.max_redirects, 5);
        assert_eq!(policy.user_agent, "probe/1.0");
        assert_eq!(policy.allow_hosts, vec!["127.0.0.1:8080", "localhost"]);
    }

    #[test]
    fn unset_or_empty_settings_keep_the_defaults() {
        assert_eq!(
            FetchPolicy::from_lookup(&|_| None).unwrap(),
            FetchPolicy::default()
        );
        let empty = |_: &str| Some("  ".to_string());
        assert_eq!(
            FetchPolicy::from_lookup(&empty).unwrap(),
            FetchPolicy::default()
        );
    }

    #[test]
    fn a_timeout_or_size_that_is_not_a_positive_number_is_refused_with_its_name() {
        for (name, value) in [
            ("URL_IMPORT_TIMEOUT", "30s"),
            ("URL_IMPORT_TIMEOUT", "0"),
            ("URL_IMPORT_TIMEOUT", "-1"),
            ("URL_IMPORT_MAX_SIZE", "10MB"),
            ("URL_IMPORT_MAX_SIZE", "0"),
        ] {
            let err = refused(name, value);
            assert_eq!(err.name, name);
            assert!(err.reason.contains(value), "{name}={value}: {err}");
        }
    }

    #[test]
    fn a_user_agent_that_cannot_be_a_header_is_refused_with_its_name() {
        assert_eq!(refused("USER_AGENT", "probe\n/1.0").name, "USER_AGENT");
    }
}
