//! Connectors' tokens and the app's secrets.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ports::{AppSecrets, TokenStore};
use crate::secret::{OAuthTokens, Secret};

#[derive(Default)]
pub struct MemorySecrets {
    pub tokens: Mutex<HashMap<String, OAuthTokens>>,
    pub app: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl TokenStore for MemorySecrets {
    async fn put_tokens(&self, connector_id: &str, tokens: &OAuthTokens) -> Result<(), StoreError> {
        lock(&self.tokens).insert(connector_id.to_string(), tokens.clone());
        Ok(())
    }

    async fn get_tokens(&self, connector_id: &str) -> Result<Option<OAuthTokens>, StoreError> {
        Ok(lock(&self.tokens).get(connector_id).cloned())
    }

    async fn delete_tokens(&self, connector_id: &str) -> Result<(), StoreError> {
        lock(&self.tokens).remove(connector_id);
        Ok(())
    }
}

#[async_trait]
impl AppSecrets for MemorySecrets {
    async fn get(&self, name: &str) -> Result<Option<Secret>, StoreError> {
        Ok(lock(&self.app).get(name).cloned().map(Secret::new))
    }
}
