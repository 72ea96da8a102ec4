//! OAuth states, single use.

use async_trait::async_trait;

use super::{MemoryStore, lock};
use crate::error::StoreError;
use crate::ports::{OAuthState, OAuthStateStore};

#[async_trait]
impl OAuthStateStore for MemoryStore {
    async fn put(&self, state: &OAuthState) -> Result<(), StoreError> {
        lock(&self.oauth).insert(state.state.clone(), state.clone());
        Ok(())
    }

    async fn get(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        Ok(lock(&self.oauth).get(state).cloned())
    }

    async fn take(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        Ok(lock(&self.oauth).remove(state))
    }
}
