//! Connectors: `ORG#{org_id}` / `CONNECTOR#{id}`, a name guard per (org, type, name), and the
//! scheduler's sparse GSI1 partition `DUE` (docs/data-model.md). Push channels are in
//! `connector_push.rs`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::{DateTime, Utc};
use recorder_domain::StoreError;
use recorder_domain::connector::{Connector, SyncProgress, WebhookState, name_key};
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::ConnectorStore;
use recorder_domain::webhook::WebhookSync;

use super::{
    DynamoStore, GSI1, Item, Listing, is_condition_failed, key_map, key_time, s, to_item, with_keys,
};

/// The partition of the scheduler's index: only scheduled, active connectors carry it.
const DUE: &str = "DUE";
/// Attributes a connector replace must never overwrite: counters and live progress belong to
/// workers that change them concurrently.
const CONNECTOR_WORKER_FIELDS: [&str; 4] =
    ["documents_count", "sync_progress", "sync_cursor", "webhook"];

pub(super) fn connector_key(org_id: &str, id: &str) -> (String, String) {
    (format!("ORG#{org_id}"), format!("CONNECTOR#{id}"))
}
fn connector_name_key(c: &Connector) -> (String, String) {
    (
        format!("ORG#{}", c.org_id),
        format!(
            "CONNNAME#{}#{}",
            c.connector_type.as_str(),
            name_key(&c.name)
        ),
    )
}

impl DynamoStore {
    /// An UpdateItem on an existing connector (the condition makes a missing one fail).
    fn connector_update(&self, org_id: &str, id: &str) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(org_id, id))))
            .condition_expression("attribute_exists(pk)")
    }

    fn connector_item(c: &Connector) -> Result<Item, StoreError> {
        let mut item = with_keys(to_item(c)?, "connector", connector_key(&c.org_id, &c.id));
        if let (true, Some(at)) = (c.is_scheduled(), c.next_sync_at) {
            item.insert("gsi1pk".into(), s(DUE));
            item.insert("gsi1sk".into(), s(format!("{}#{}", key_time(at), c.id)));
        }
        Ok(item)
    }
}

#[async_trait]
impl ConnectorStore for DynamoStore {
    async fn create(&self, c: &Connector) -> Result<(), StoreError> {
        let (pk, sk) = connector_name_key(c);
        let guard = with_keys(
            HashMap::from([("connector_id".to_string(), s(c.id.clone()))]),
            "connector_name",
            (pk, sk),
        );
        let items = vec![
            self.put_if_absent(Self::connector_item(c)?),
            self.put_if_absent(guard),
        ];
        self.transact(items, &format!("connector name '{}' is taken", c.name))
            .await
    }

    async fn get(&self, org_id: &str, id: &str) -> Result<Option<Connector>, StoreError> {
        self.get_item(connector_key(org_id, id)).await
    }

    async fn list(&self, org_id: &str, page: &PageRequest) -> Result<Page<Connector>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("ORG#{org_id}"),
            sort_prefix: Some(("sk", "CONNECTOR#")),
            newest_first: false,
        };
        self.query(l, page).await
    }

    async fn replace(&self, previous: &Connector, next: &Connector) -> Result<(), StoreError> {
        // An update of every attribute but the worker-owned ones, guarded by the version read.
        let item = Self::connector_item(next)?;
        let mut names = HashMap::new();
        let prev = serde_dynamo::to_attribute_value(previous.updated_at)
            .map_err(|e| StoreError::backend("could not encode a version", e))?;
        let mut values = HashMap::from([(":prev".to_string(), prev)]);
        let mut sets = Vec::new();
        for (i, (k, v)) in item.into_iter().enumerate() {
            if k == "pk" || k == "sk" || CONNECTOR_WORKER_FIELDS.contains(&k.as_str()) {
                continue;
            }
            names.insert(format!("#a{i}"), k);
            values.insert(format!(":v{i}"), v);
            sets.push(format!("#a{i} = :v{i}"));
        }
        let mut expr = format!("SET {}", sets.join(", "));
        if !(next.is_scheduled() && next.next_sync_at.is_some()) {
            expr.push_str(" REMOVE gsi1pk, gsi1sk");
        }
        names.insert("#updated".into(), "updated_at".into());
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(&previous.org_id, &previous.id))))
            .update_expression(expr)
            .condition_expression("attribute_exists(pk) AND #updated = :prev")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| StoreError::backend("could not build an update", e))?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        let (old_guard, new_guard) = (connector_name_key(previous), connector_name_key(next));
        if old_guard != new_guard {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key_map(old_guard)))
                .build()
                .map_err(|e| StoreError::backend("could not build a delete", e))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
            let guard = with_keys(
                HashMap::from([("connector_id".to_string(), s(next.id.clone()))]),
                "connector_name",
                new_guard,
            );
            items.push(self.put_if_absent(guard));
        }
        self.transact(items, "connector changed meanwhile or name taken")
            .await
    }

    async fn release_name(&self, c: &Connector) -> Result<(), StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_name_key(c))))
            .condition_expression("connector_id = :id")
            .expression_attribute_values(":id", s(c.id.clone()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Held by another connector (or already free): nothing of ours to release.
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(StoreError::backend("could not release a connector name", e)),
        }
    }

    async fn set_progress(
        &self,
        org_id: &str,
        id: &str,
        progress: Option<&SyncProgress>,
    ) -> Result<(), StoreError> {
        let req = self.connector_update(org_id, id);
        let req = match progress {
            Some(p) => {
                let value = serde_dynamo::to_attribute_value(p)
                    .map_err(|e| StoreError::backend("could not encode progress", e))?;
                req.update_expression("SET sync_progress = :p")
                    .expression_attribute_values(":p", value)
            }
            None => req.update_expression("REMOVE sync_progress"),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::NotFound(format!("connector {id}")))
            }
            Err(e) => Err(StoreError::backend("could not record sync progress", e)),
        }
    }

    async fn list_due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Connector>, StoreError> {
        // '~' sorts after every id character, so connectors due exactly now are included.
        let below = format!("{}#~", key_time(now));
        self.oldest_below(GSI1, DUE, below, limit, "could not list due connectors")
            .await
    }

    async fn add_documents_count(
        &self,
        org_id: &str,
        id: &str,
        delta: i64,
    ) -> Result<(), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(org_id, id))))
            .update_expression("ADD documents_count :d")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::NotFound(format!("connector {id}")))
            }
            Err(e) => Err(StoreError::backend("could not count a document", e)),
        }
    }

    async fn set_cursor(
        &self,
        org_id: &str,
        id: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        let req = self.connector_update(org_id, id);
        let req = match cursor {
            Some(c) => req
                .update_expression("SET sync_cursor = :c")
                .expression_attribute_values(":c", s(c)),
            None => req.update_expression("REMOVE sync_cursor"),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::NotFound(format!("connector {id}")))
            }
            Err(e) => Err(StoreError::backend("could not checkpoint a sync", e)),
        }
    }

    async fn webhook_sync(&self, org_id: &str, id: &str) -> Result<WebhookSync, StoreError> {
        self.read_webhook_sync(org_id, id).await
    }

    async fn swap_webhook_sync(
        &self,
        org_id: &str,
        id: &str,
        read_rev: u64,
        next: &WebhookSync,
    ) -> Result<bool, StoreError> {
        self.write_webhook_sync(org_id, id, read_rev, next).await
    }

    async fn set_webhook(
        &self,
        c: &Connector,
        webhook: &WebhookState,
        previous: Option<&WebhookState>,
    ) -> Result<(), StoreError> {
        self.write_webhook(c, webhook, previous).await
    }

    async fn find_by_channel(&self, channel_id: &str) -> Result<Option<Connector>, StoreError> {
        self.connector_by_channel(channel_id).await
    }

    async fn list_webhooks_expiring(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connector>, StoreError> {
        self.webhooks_expiring(before, limit).await
    }
}
