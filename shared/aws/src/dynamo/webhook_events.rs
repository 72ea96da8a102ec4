//! Webhook events: `WEBHOOK#{source}#{event_id}` / `WEBHOOK` (stored once; TTL `expires_at`),
//! and, when the event names its connector, GSI1 `WEBHOOKEVENTS#{connector_id}` /
//! `{received_at}#{source}#{event_id}` for the connector's listing, newest first.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use recorder_domain::StoreError;
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::WebhookEventStore;
use recorder_domain::webhook::WebhookEvent;

use super::{
    DynamoStore, GSI1, Listing, is_condition_failed, key_map, key_time, s, to_item, with_keys,
};

fn webhook_key(source: &str, event_id: &str) -> (String, String) {
    (format!("WEBHOOK#{source}#{event_id}"), "WEBHOOK".into())
}

fn connector_events(connector_id: &str) -> String {
    format!("WEBHOOKEVENTS#{connector_id}")
}

#[async_trait]
impl WebhookEventStore for DynamoStore {
    async fn record(&self, event: &WebhookEvent) -> Result<bool, StoreError> {
        let mut item = with_keys(
            to_item(event)?,
            "webhook_event",
            webhook_key(&event.source, &event.event_id),
        );
        // DynamoDB TTL wants epoch seconds in a number attribute.
        item.insert(
            "expires_at".into(),
            AttributeValue::N(event.expires_at().timestamp().to_string()),
        );
        // Events written before this index existed are simply not listed (TTL drops them).
        if let Some(connector_id) = &event.connector_id {
            item.insert("gsi1pk".into(), s(connector_events(connector_id)));
            item.insert(
                "gsi1sk".into(),
                s(format!(
                    "{}#{}#{}",
                    key_time(event.received_at),
                    event.source,
                    event.event_id
                )),
            );
        }
        self.put_new(item).await
    }

    async fn get(&self, source: &str, event_id: &str) -> Result<Option<WebhookEvent>, StoreError> {
        self.get_item(webhook_key(source, event_id)).await
    }

    async fn mark_processed(
        &self,
        source: &str,
        event_id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(webhook_key(source, event_id))))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", s(at.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
            .expression_attribute_values(":ok", AttributeValue::Bool(error.is_none()));
        req = match error {
            Some(e) => req
                .update_expression("SET #p = :ok, #pa = :at, #pe = :e ADD #rc :one")
                .expression_attribute_names("#rc", "retry_count")
                .expression_attribute_values(":e", s(e))
                .expression_attribute_values(":one", AttributeValue::N("1".into())),
            None => req.update_expression("SET #p = :ok, #pa = :at REMOVE #pe"),
        };
        // "processed" is a DynamoDB reserved word: every name goes through a placeholder.
        req = req
            .expression_attribute_names("#p", "processed")
            .expression_attribute_names("#pa", "processed_at")
            .expression_attribute_names("#pe", "processing_error");
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => {
                Err(StoreError::NotFound(format!("webhook event {event_id}")))
            }
            Err(e) => Err(StoreError::backend("could not mark a webhook event", e)),
        }
    }

    async fn list_for_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<WebhookEvent>, StoreError> {
        let l = Listing {
            index: Some(GSI1),
            partition_attr: "gsi1pk",
            partition: connector_events(connector_id),
            sort_prefix: None,
            newest_first: true,
        };
        self.query(l, page).await
    }
}
