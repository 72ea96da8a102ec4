//! Monthly import counts: `ORG#{org_id}` / `USAGE#{yyyy-mm}`, a conditional `ADD` so concurrent
//! requests can never pass the quota together.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::Utc;
use recorder_domain::StoreError;
use recorder_domain::ports::UsageStore;

use super::{DynamoStore, is_condition_failed, key_map};

fn usage_key(org_id: &str, month: &str) -> (String, String) {
    (format!("ORG#{org_id}"), format!("USAGE#{month}"))
}

#[async_trait]
impl UsageStore for DynamoStore {
    async fn reserve_imports(
        &self,
        org_id: &str,
        month: &str,
        n: u64,
        limit: u64,
    ) -> Result<Result<u64, u64>, StoreError> {
        let Some(room) = limit.checked_sub(n) else {
            return Ok(Err(self.imports_used(org_id, month).await?));
        };
        // One conditional ADD: concurrent requests can never pass the limit together.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(usage_key(org_id, month))))
            .update_expression("ADD imports :n SET expires_at = if_not_exists(expires_at, :exp)")
            .condition_expression("attribute_not_exists(imports) OR imports <= :room")
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .expression_attribute_values(":room", AttributeValue::N(room.to_string()))
            // Kept about 13 months for reporting, then TTL removes it.
            .expression_attribute_values(
                ":exp",
                AttributeValue::N((Utc::now().timestamp() + 400 * 86_400).to_string()),
            )
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(o) => Ok(Ok(o
                .attributes
                .as_ref()
                .and_then(|a| a.get("imports"))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(n))),
            Err(e) if is_condition_failed(&e) => Ok(Err(self.imports_used(org_id, month).await?)),
            Err(e) => Err(StoreError::backend("could not count imports", e)),
        }
    }

    async fn release_imports(&self, org_id: &str, month: &str, n: u64) -> Result<(), StoreError> {
        // Only while the count covers it: a count never goes below zero.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(usage_key(org_id, month))))
            .update_expression("ADD imports :minus")
            .condition_expression("imports >= :n")
            .expression_attribute_values(":minus", AttributeValue::N(format!("-{n}")))
            .expression_attribute_values(":n", AttributeValue::N(n.to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(StoreError::backend("could not take back imports", e)),
        }
    }
}

impl DynamoStore {
    async fn imports_used(&self, org_id: &str, month: &str) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(usage_key(org_id, month))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("could not read import counts", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| i.get("imports"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}
