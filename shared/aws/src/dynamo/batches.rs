//! Upload batches: `BATCH#{id}` / `BATCH`, with counters that concurrent workers `ADD` to.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, SecondsFormat, Utc};
use recorder_domain::StoreError;
use recorder_domain::ports::UploadBatchStore;
use recorder_domain::upload::{BatchStatus, UploadBatch};

use super::{DynamoStore, from_item, is_condition_failed, key_map, s, to_item, with_keys};

pub(super) fn batch_key(id: &str) -> (String, String) {
    (format!("BATCH#{id}"), "BATCH".into())
}

#[async_trait]
impl UploadBatchStore for DynamoStore {
    async fn create(&self, batch: &UploadBatch) -> Result<(), StoreError> {
        let created = self
            .put_new(with_keys(
                to_item(batch)?,
                "upload_batch",
                batch_key(&batch.id),
            ))
            .await?;
        if created {
            Ok(())
        } else {
            Err(StoreError::ConditionFailed(format!(
                "batch {} exists",
                batch.id
            )))
        }
    }

    async fn get(&self, id: &str) -> Result<Option<UploadBatch>, StoreError> {
        self.get_item(batch_key(id)).await
    }

    async fn add_counts(
        &self,
        id: &str,
        processed: i64,
        failed: i64,
    ) -> Result<UploadBatch, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(batch_key(id))))
            .update_expression("ADD processed_files :p, failed_files :f")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":p", AttributeValue::N(processed.to_string()))
            .expression_attribute_values(":f", AttributeValue::N(failed.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => from_item(out.attributes.unwrap_or_default()),
            Err(e) if is_condition_failed(&e) => Err(StoreError::NotFound(format!("batch {id}"))),
            Err(e) => Err(StoreError::backend("could not count batch progress", e)),
        }
    }

    async fn set_status(
        &self,
        id: &str,
        status: BatchStatus,
        completed_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let status = serde_dynamo::to_attribute_value(status)
            .map_err(|e| StoreError::backend("could not encode a status", e))?;
        let completed = match completed_at {
            Some(t) => s(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => AttributeValue::Null(true),
        };
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(batch_key(id))))
            .update_expression("SET #s = :s, completed_at = :c")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", status)
            .expression_attribute_values(":c", completed)
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Err(StoreError::NotFound(format!("batch {id}"))),
            Err(e) => Err(StoreError::backend("could not set a batch status", e)),
        }
    }
}
