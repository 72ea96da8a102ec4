//! Secrets Manager adapters: one secret per connector for OAuth tokens, and the app secret (a JSON
//! object of client and webhook secrets) cached with a TTL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use recorder_domain::StoreError;
use recorder_domain::ports::{AppSecrets, TokenStore};
use recorder_domain::secret::{OAuthTokens, Secret};
use tokio::sync::Mutex;

use crate::config::Config;

#[derive(Clone)]
pub struct SecretsManager {
    client: Client,
    prefix: String,
    app_secret_id: String,
    ttl: Duration,
}

impl SecretsManager {
    pub fn new(client: Client, config: &Config) -> Self {
        SecretsManager {
            client,
            prefix: config.secrets_prefix.clone(),
            app_secret_id: config.app_secret_id.clone(),
            ttl: config.secrets_cache_ttl,
        }
    }

    pub fn tokens(&self) -> ConnectorTokens {
        ConnectorTokens { sm: self.clone() }
    }

    pub fn app_secrets(&self) -> CachedAppSecrets {
        CachedAppSecrets {
            sm: self.clone(),
            cache: Arc::new(Mutex::new(None)),
        }
    }

    /// The secret's string, or None when it does not exist.
    async fn read(&self, id: &str) -> Result<Option<String>, StoreError> {
        match self.client.get_secret_value().secret_id(id).send().await {
            Ok(out) => Ok(out.secret_string().map(str::to_string)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(StoreError::backend(
                format!("could not read secret {id}"),
                e,
            )),
        }
    }
}

/// OAuth tokens, one secret per connector: `{prefix}/connectors/{connector_id}/oauth`.
pub struct ConnectorTokens {
    sm: SecretsManager,
}

impl ConnectorTokens {
    pub fn secret_name(&self, connector_id: &str) -> String {
        format!("{}/connectors/{connector_id}/oauth", self.sm.prefix)
    }
}

#[async_trait]
impl TokenStore for ConnectorTokens {
    async fn put_tokens(&self, connector_id: &str, tokens: &OAuthTokens) -> Result<(), StoreError> {
        let name = self.secret_name(connector_id);
        let value = serde_json::to_string(tokens)
            .map_err(|e| StoreError::backend("could not encode tokens", e))?;
        let put = self
            .sm
            .client
            .put_secret_value()
            .secret_id(&name)
            .secret_string(&value)
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.sm
                    .client
                    .create_secret()
                    .name(&name)
                    .description("OAuth tokens of one recorder-connectors connector")
                    .secret_string(value)
                    .send()
                    .await
                    .map_err(|e| {
                        StoreError::backend(format!("could not create secret {name}"), e)
                    })?;
                Ok(())
            }
            Err(e) => Err(StoreError::backend(
                format!("could not store secret {name}"),
                e,
            )),
        }
    }

    async fn get_tokens(&self, connector_id: &str) -> Result<Option<OAuthTokens>, StoreError> {
        let name = self.secret_name(connector_id);
        let Some(raw) = self.sm.read(&name).await? else {
            return Ok(None);
        };
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(|e| StoreError::backend(format!("secret {name} is not valid token JSON"), e))
    }

    async fn delete_tokens(&self, connector_id: &str) -> Result<(), StoreError> {
        let name = self.secret_name(connector_id);
        let out = self
            .sm
            .client
            .delete_secret()
            .secret_id(&name)
            .force_delete_without_recovery(true)
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::backend(
                format!("could not delete secret {name}"),
                e,
            )),
        }
    }
}

type Cache = Option<(Instant, HashMap<String, String>)>;

/// The app secret's keys, read at most once per TTL per function instance.
pub struct CachedAppSecrets {
    sm: SecretsManager,
    cache: Arc<Mutex<Cache>>,
}

#[async_trait]
impl AppSecrets for CachedAppSecrets {
    async fn get(&self, name: &str) -> Result<Option<Secret>, StoreError> {
        let mut cache = self.cache.lock().await;
        let fresh = cache
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < self.sm.ttl);
        if !fresh {
            let id = &self.sm.app_secret_id;
            let raw = self.sm.read(id).await?.unwrap_or_else(|| "{}".into());
            let map: HashMap<String, String> = serde_json::from_str(&raw).map_err(|e| {
                StoreError::backend(format!("secret {id} is not a JSON object of strings"), e)
            })?;
            *cache = Some((Instant::now(), map));
        }
        let value = cache
            .as_ref()
            .and_then(|(_, m)| m.get(name))
            .filter(|v| !v.is_empty());
        Ok(value.map(|v| Secret::new(v.clone())))
    }
}
