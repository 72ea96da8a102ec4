//! The monthly import counts: admitted only while the month's count stays within the quota.

use async_trait::async_trait;

use super::{MemoryStore, lock};
use crate::error::StoreError;
use crate::ports::UsageStore;

#[async_trait]
impl UsageStore for MemoryStore {
    async fn reserve_imports(
        &self,
        org_id: &str,
        month: &str,
        n: u64,
        limit: u64,
    ) -> Result<Result<u64, u64>, StoreError> {
        let mut usage = lock(&self.usage);
        let count = usage
            .entry((org_id.to_owned(), month.to_owned()))
            .or_default();
        if *count + n > limit {
            return Ok(Err(*count));
        }
        *count += n;
        Ok(Ok(*count))
    }

    async fn release_imports(&self, org_id: &str, month: &str, n: u64) -> Result<(), StoreError> {
        let mut usage = lock(&self.usage);
        if let Some(count) = usage.get_mut(&(org_id.to_owned(), month.to_owned())) {
            *count = count.saturating_sub(n);
        }
        Ok(())
    }
}
