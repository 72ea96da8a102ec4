//! Leases: `LOCK#{name}` / `LOCK`, one holder until released or expired.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use recorder_domain::StoreError;
use recorder_domain::ports::LockStore;

use super::{DynamoStore, is_condition_failed, key_map, s, with_keys};

fn lock_key(name: &str) -> (String, String) {
    (format!("LOCK#{name}"), "LOCK".into())
}

#[async_trait]
impl LockStore for DynamoStore {
    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(30));
        let item = with_keys(
            HashMap::from([
                ("owner".to_string(), s(owner)),
                (
                    "lease_until_ms".to_string(),
                    AttributeValue::N(until.timestamp_millis().to_string()),
                ),
                // TTL cleans up leases nobody released.
                (
                    "expires_at".to_string(),
                    AttributeValue::N((until.timestamp() + 3600).to_string()),
                ),
            ]),
            "lock",
            lock_key(name),
        );
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR lease_until_ms < :now OR #o = :me")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(StoreError::backend("could not take a lease", e)),
        }
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(lock_key(name))))
            .condition_expression("#o = :me")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(StoreError::backend("could not release a lease", e)),
        }
    }
}
