//! Documents: `DOC#{id}` / `DOC`, the external-id guard, GSI1 `CONNDOCS#{owner}` for a
//! connector's listing, GSI2 `HASH#…` for dedup and `PROCESSING` for the sweep, and versioned
//! writes (docs/data-model.md).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use recorder_domain::StoreError;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::DocumentStore;

use super::batches::batch_key;
use super::{
    DynamoStore, GSI1, GSI2, Item, Listing, is_condition_failed, key_map, key_time, s, to_item,
    with_keys,
};

/// The partition of GSI2 listing documents being processed by lease start (sparse).
const PROCESSING: &str = "PROCESSING";

fn document_key(id: &str) -> (String, String) {
    (format!("DOC#{id}"), "DOC".into())
}
fn documents_owner(doc: &ImportedDocument) -> String {
    match &doc.connector_id {
        Some(c) => c.clone(),
        None => format!("upload:{}", doc.org_id),
    }
}
fn external_id_key(owner: &str, external_id: &str) -> (String, String) {
    (format!("EXT#{owner}#{external_id}"), "EXT".into())
}

impl DynamoStore {
    /// The document at its next version, and the condition that writes it only over the version
    /// it was read at.
    fn versioned(
        doc: &ImportedDocument,
    ) -> Result<(Item, &'static str, AttributeValue), StoreError> {
        let mut item = Self::document_item(doc)?;
        item.insert(
            "version".into(),
            AttributeValue::N((doc.version + 1).to_string()),
        );
        // Records written before versions existed read as version 0.
        let condition = if doc.version == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(#v) OR #v = :v)"
        } else {
            "#v = :v"
        };
        Ok((item, condition, AttributeValue::N(doc.version.to_string())))
    }

    /// `versioned` as one write of a transaction.
    fn versioned_put(&self, doc: &ImportedDocument) -> Result<TransactWriteItem, StoreError> {
        let (item, condition, version) = Self::versioned(doc)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", version)
            .build()
            .map_err(|e| StoreError::backend("could not build a put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn document_item(d: &ImportedDocument) -> Result<Item, StoreError> {
        let mut item = with_keys(to_item(d)?, "document", document_key(&d.id));
        item.insert(
            "gsi1pk".into(),
            s(format!("CONNDOCS#{}", documents_owner(d))),
        );
        item.insert("gsi1sk".into(), s(d.id.clone()));
        if let (ProcessingStatus::Completed, Some(hash), None) =
            (d.processing_status, &d.content_hash, &d.duplicate_of)
        {
            item.insert("gsi2pk".into(), s(format!("HASH#{}#{hash}", d.org_id)));
            item.insert("gsi2sk".into(), s(d.id.clone()));
        }
        // Listed by lease age while processing, for the sweep of work whose worker is gone.
        if let (ProcessingStatus::Processing, Some(lease)) =
            (d.processing_status, &d.processing_lease)
        {
            item.insert("gsi2pk".into(), s(PROCESSING));
            item.insert(
                "gsi2sk".into(),
                s(format!("{}#{}", key_time(lease.started_at), d.id)),
            );
        }
        Ok(item)
    }
}

#[async_trait]
impl DocumentStore for DynamoStore {
    async fn create(&self, doc: &ImportedDocument) -> Result<(), StoreError> {
        let guard = with_keys(
            HashMap::from([("document_id".to_string(), s(doc.id.clone()))]),
            "external_id",
            external_id_key(&documents_owner(doc), &doc.external_id),
        );
        let items = vec![
            self.put_if_absent(Self::document_item(doc)?),
            self.put_if_absent(guard),
        ];
        self.transact(
            items,
            &format!("external id {} already imported", doc.external_id),
        )
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<ImportedDocument>, StoreError> {
        self.get_item(document_key(id)).await
    }

    async fn update(&self, doc: &mut ImportedDocument) -> Result<bool, StoreError> {
        // A conditional put, not a transaction: half the write capacity, and documents are
        // written two or three times each.
        let (item, condition, version) = Self::versioned(doc)?;
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", version)
            .send()
            .await;
        match out {
            Ok(_) => {
                doc.version += 1;
                Ok(true)
            }
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(StoreError::backend("could not write a document", e)),
        }
    }

    async fn find_by_external_id(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Guard {
            document_id: String,
        }
        let guard: Option<Guard> = self
            .get_item(external_id_key(connector_id, external_id))
            .await?;
        match guard {
            Some(g) => DocumentStore::get(self, &g.document_id).await,
            None => Ok(None),
        }
    }

    async fn list_by_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ImportedDocument>, StoreError> {
        let l = Listing {
            index: Some(GSI1),
            partition_attr: "gsi1pk",
            partition: format!("CONNDOCS#{connector_id}"),
            sort_prefix: None,
            newest_first: false,
        };
        self.query(l, page).await
    }

    async fn finish(&self, doc: &ImportedDocument) -> Result<bool, StoreError> {
        let Some(batch_id) = &doc.batch_id else {
            // Nothing to count with it: one conditional write.
            return DocumentStore::update(self, &mut doc.clone()).await;
        };
        let counter = if doc.processing_status == ProcessingStatus::Failed {
            "failed_files"
        } else {
            "processed_files"
        };
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(batch_key(batch_id))))
            .update_expression(format!("ADD {counter} :one"))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .map_err(|e| StoreError::backend("could not build an update", e))?;
        let items = vec![
            self.versioned_put(doc)?,
            TransactWriteItem::builder().update(update).build(),
        ];
        match self.transact(items, "document already finished").await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn find_completed_by_hash(
        &self,
        org_id: &str,
        hash: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        let l = Listing {
            index: Some(GSI2),
            partition_attr: "gsi2pk",
            partition: format!("HASH#{org_id}#{hash}"),
            sort_prefix: None,
            newest_first: false,
        };
        let page = self
            .query::<ImportedDocument>(l, &PageRequest::new(Some(1), None))
            .await?;
        Ok(page.items.into_iter().next())
    }

    async fn list_stale_processing(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ImportedDocument>, StoreError> {
        let before = key_time(before);
        self.oldest_below(
            GSI2,
            PROCESSING,
            before,
            limit,
            "could not list stale documents",
        )
        .await
    }
}
