//! A connector's push side: its channel (`webhook`, and GSI2 `WEBHOOKS` / `{expires_at}#{id}`
//! while active, for renewal), the channel guard `CHANNEL#{channel_id}` that finds the connector
//! of a delivery, and the webhook-sync mark (a compare-and-set on `webhook_sync.rev`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use recorder_domain::StoreError;
use recorder_domain::connector::{Connector, WebhookState};
use recorder_domain::ports::ConnectorStore;
use recorder_domain::webhook::WebhookSync;

use super::connectors::connector_key;
use super::{DynamoStore, GSI2, backend, is_condition_failed, key_map, key_time, s, with_keys};

/// The partition of GSI2 listing active push channels by expiry (for renewal).
const WEBHOOKS: &str = "WEBHOOKS";

fn channel_key(channel_id: &str) -> (String, String) {
    (format!("CHANNEL#{channel_id}"), "CHANNEL".into())
}

impl DynamoStore {
    pub(super) async fn read_webhook_sync(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<WebhookSync, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(org_id, id))))
            .projection_expression("pk, #ws")
            .expression_attribute_names("#ws", "webhook_sync")
            .consistent_read(true)
            .send()
            .await
            .map_err(backend("could not read a webhook sync mark"))?;
        let Some(mut item) = out.item else {
            return Err(StoreError::NotFound(format!("connector {id}")));
        };
        match item.remove("webhook_sync") {
            Some(v) => serde_dynamo::from_attribute_value(v)
                .map_err(|e| StoreError::backend("could not decode a webhook sync mark", e)),
            None => Ok(WebhookSync::default()),
        }
    }

    pub(super) async fn write_webhook_sync(
        &self,
        org_id: &str,
        id: &str,
        read_rev: u64,
        next: &WebhookSync,
    ) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(next)
            .map_err(|e| StoreError::backend("could not encode a webhook sync mark", e))?;
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(org_id, id))))
            .update_expression("SET #ws = :ws")
            .expression_attribute_names("#ws", "webhook_sync")
            .expression_attribute_values(":ws", value);
        // A mark is written with revision 1 first, so revision 0 means "never written".
        let req = if read_rev == 0 {
            req.condition_expression("attribute_exists(pk) AND attribute_not_exists(#ws)")
        } else {
            req.condition_expression("attribute_exists(pk) AND #ws.#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", AttributeValue::N(read_rev.to_string()))
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(StoreError::backend(
                "could not write a webhook sync mark",
                e,
            )),
        }
    }

    pub(super) async fn write_webhook(
        &self,
        c: &Connector,
        webhook: &WebhookState,
        previous: Option<&WebhookState>,
    ) -> Result<(), StoreError> {
        let value = serde_dynamo::to_attribute_value(webhook)
            .map_err(|e| StoreError::backend("could not encode a webhook", e))?;
        let mut update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_map(connector_key(&c.org_id, &c.id))))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#w", "webhook")
            .expression_attribute_values(":w", value);
        update = match (webhook.active, webhook.expires_at) {
            (true, Some(at)) => update
                .update_expression("SET #w = :w, gsi2pk = :g, gsi2sk = :gs")
                .expression_attribute_values(":g", s(WEBHOOKS))
                .expression_attribute_values(":gs", s(format!("{}#{}", key_time(at), c.id))),
            _ => update.update_expression("SET #w = :w REMOVE gsi2pk, gsi2sk"),
        };
        let mut items = vec![
            TransactWriteItem::builder()
                .update(
                    update
                        .build()
                        .map_err(|e| StoreError::backend("could not build an update", e))?,
                )
                .build(),
        ];
        let old = previous.and_then(|p| p.channel_id.clone());
        if let Some(old) = old.filter(|o| Some(o) != webhook.channel_id.as_ref()) {
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key_map(channel_key(&old))))
                .build()
                .map_err(|e| StoreError::backend("could not build a delete", e))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        if let Some(new) = &webhook.channel_id {
            let guard = with_keys(
                HashMap::from([
                    ("org_id".to_string(), s(c.org_id.clone())),
                    ("connector_id".to_string(), s(c.id.clone())),
                ]),
                "channel",
                channel_key(new),
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(guard))
                .build()
                .map_err(|e| StoreError::backend("could not build a put", e))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        self.transact(items, "connector vanished while recording its webhook")
            .await
    }

    pub(super) async fn connector_by_channel(
        &self,
        channel_id: &str,
    ) -> Result<Option<Connector>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Guard {
            org_id: String,
            connector_id: String,
        }
        match self.get_item::<Guard>(channel_key(channel_id)).await? {
            Some(g) => ConnectorStore::get(self, &g.org_id, &g.connector_id).await,
            None => Ok(None),
        }
    }

    pub(super) async fn webhooks_expiring(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connector>, StoreError> {
        let before = key_time(before);
        self.oldest_below(
            GSI2,
            WEBHOOKS,
            before,
            limit,
            "could not list expiring webhooks",
        )
        .await
    }
}
