//! Leases: one holder until released or expired.

use std::time::Duration;

use async_trait::async_trait;

use super::{MemoryStore, lock};
use crate::error::StoreError;
use crate::ports::LockStore;

#[async_trait]
impl LockStore for MemoryStore {
    async fn try_lock(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut locks = lock(&self.locks);
        let now = std::time::Instant::now();
        match locks.get(name) {
            Some((holder, until)) if holder != owner && *until > now => Ok(false),
            _ => {
                locks.insert(name.to_string(), (owner.to_string(), now + ttl));
                Ok(true)
            }
        }
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let mut locks = lock(&self.locks);
        if locks.get(name).is_some_and(|(h, _)| h == owner) {
            locks.remove(name);
        }
        Ok(())
    }
}
