//! Typed config, read from the environment once at cold start.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A provider's settings (their error names the variable).
    #[error(transparent)]
    Providers(Box<dyn std::error::Error + Send + Sync>),
}

/// What every function needs to reach its resources. Names come from `template.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub table_name: String,
    pub bucket_name: String,
    pub sync_jobs_queue_url: String,
    pub documents_queue_url: String,
    /// Where `document.processed` events go (downstream indexing).
    pub document_events_queue_url: String,
    /// Verified webhook deliveries, for the webhook worker.
    pub webhook_events_queue_url: String,
    /// Prefix of every secret this stack owns, e.g. `recorder-connectors/dev`.
    pub secrets_prefix: String,
    /// The JSON secret holding app-wide secrets (client secrets, webhook secrets).
    pub app_secret_id: String,
    pub secrets_cache_ttl: Duration,
    /// Upload limits and the import quota the domain applies.
    pub settings: recorder_domain::settings::Settings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads from any key-value source (the local stack passes each function's template environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let req = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let ttl = match get("SECRETS_CACHE_TTL_SECS").filter(|v| !v.trim().is_empty()) {
            None => 300,
            Some(v) => v.parse::<u64>().map_err(|e| ConfigError::Invalid {
                name: "SECRETS_CACHE_TTL_SECS",
                reason: e.to_string(),
            })?,
        };
        Ok(Config {
            table_name: req("TABLE_NAME")?,
            bucket_name: req("BUCKET_NAME")?,
            sync_jobs_queue_url: req("SYNC_JOBS_QUEUE_URL")?,
            documents_queue_url: req("DOCUMENTS_QUEUE_URL")?,
            document_events_queue_url: req("DOCUMENT_EVENTS_QUEUE_URL")?,
            webhook_events_queue_url: req("WEBHOOK_EVENTS_QUEUE_URL")?,
            secrets_prefix: req("SECRETS_PREFIX")?.trim_end_matches('/').to_string(),
            app_secret_id: req("APP_SECRET_ID")?,
            secrets_cache_ttl: Duration::from_secs(ttl),
            settings: recorder_domain::settings::Settings::from_lookup(&get).map_err(|reason| {
                ConfigError::Invalid {
                    name: "upload limits and quota",
                    reason,
                }
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars() -> HashMap<&'static str, &'static str> {
        HashMap::from([
            ("TABLE_NAME", "t"),
            ("BUCKET_NAME", "b"),
            ("SYNC_JOBS_QUEUE_URL", "http://q/sync.fifo"),
            ("DOCUMENTS_QUEUE_URL", "http://q/docs"),
            ("DOCUMENT_EVENTS_QUEUE_URL", "http://q/events"),
            ("WEBHOOK_EVENTS_QUEUE_URL", "http://q/webhooks"),
            ("SECRETS_PREFIX", "recorder-connectors/dev/"),
            ("APP_SECRET_ID", "recorder-connectors/dev/app"),
        ])
    }

    #[test]
    fn config_reads_every_variable_and_defaults_the_cache_ttl() {
        let v = vars();
        let c = Config::from_lookup(|k| v.get(k).map(|s| s.to_string())).unwrap();
        assert_eq!(c.secrets_prefix, "recorder-connectors/dev");
        assert_eq!(c.secrets_cache_ttl, Duration::from_secs(300));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let mut v = vars();
        v.remove("BUCKET_NAME");
        let err = Config::from_lookup(|k| v.get(k).map(|s| s.to_string())).unwrap_err();
        assert_eq!(err.to_string(), "missing environment variable BUCKET_NAME");
    }
}
