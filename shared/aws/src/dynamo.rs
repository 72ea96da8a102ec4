//! DynamoDB adapter: one table for every entity (see docs/data-model.md for the key design).
//! Uniqueness rules are conditional writes or transactions; counters are `ADD` updates.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, ReturnValue, TransactWriteItem};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use recorder_domain::StoreError;
use recorder_domain::activity::ActivityEvent;
use recorder_domain::connector::{Connector, SyncProgress, WebhookState, name_key};
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::paging::{Page, PageRequest};
use recorder_domain::ports::*;
use recorder_domain::sync_log::SyncLog;
use recorder_domain::upload::{BatchStatus, UploadBatch};
use recorder_domain::webhook::{WebhookEvent, WebhookSync};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod retries;

type Item = HashMap<String, AttributeValue>;

pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
/// The partition of the scheduler's index: only scheduled, active connectors carry it.
const DUE: &str = "DUE";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Timestamps in keys: fixed width, so string order is time order.
fn key_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::backend("could not encode an item", e))
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::backend("could not decode an item", e))
}

fn backend<E, R>(context: &str) -> impl FnOnce(SdkError<E, R>) -> StoreError + '_
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    move |e| StoreError::backend(context.to_string(), e)
}

// Key layout, in one place.
fn connector_key(org_id: &str, id: &str) -> (String, String) {
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
fn sync_log_key(connector_id: &str, id: &str) -> (String, String) {
    (format!("SYNCLOGS#{connector_id}"), format!("SYNC#{id}"))
}
fn webhook_key(source: &str, event_id: &str) -> (String, String) {
    (format!("WEBHOOK#{source}#{event_id}"), "WEBHOOK".into())
}
fn batch_key(id: &str) -> (String, String) {
    (format!("BATCH#{id}"), "BATCH".into())
}
fn channel_key(channel_id: &str) -> (String, String) {
    (format!("CHANNEL#{channel_id}"), "CHANNEL".into())
}
fn lock_key(name: &str) -> (String, String) {
    (format!("LOCK#{name}"), "LOCK".into())
}
fn usage_key(org_id: &str, month: &str) -> (String, String) {
    (format!("ORG#{org_id}"), format!("USAGE#{month}"))
}
fn oauth_key(state: &str) -> (String, String) {
    (format!("OAUTH#{state}"), "OAUTH".into())
}

fn with_keys(mut item: Item, entity: &str, (pk, sk): (String, String)) -> Item {
    item.insert("pk".into(), s(pk));
    item.insert("sk".into(), s(sk));
    item.insert("entity".into(), s(entity));
    item
}

fn key_map((pk, sk): (String, String)) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// Opaque cursor: the listing's last key, base64url JSON. It must belong to the partition being
/// listed, so a cursor from another org's listing is refused rather than followed.
fn encode_cursor(key: &Item) -> Option<String> {
    let plain: HashMap<&str, &str> = key
        .iter()
        .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
        .collect();
    serde_json::to_vec(&plain)
        .ok()
        .map(|b| URL_SAFE_NO_PAD.encode(b))
}

fn decode_cursor(
    cursor: &str,
    partition_attr: &str,
    partition_value: &str,
) -> Result<Item, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::InvalidCursor)?;
    let plain: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if plain.get(partition_attr).map(String::as_str) != Some(partition_value) || plain.len() > 4 {
        return Err(StoreError::InvalidCursor);
    }
    Ok(plain.into_iter().map(|(k, v)| (k, s(v))).collect())
}

fn is_condition_failed<E: std::fmt::Debug, R>(e: &SdkError<E, R>) -> bool {
    // Typed checks per operation would need one match per error enum; the code is the same for all.
    matches!(e, SdkError::ServiceError(se) if format!("{:?}", se.err()).contains("ConditionalCheckFailed"))
}

fn is_transaction_cancelled<E: std::fmt::Debug, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if format!("{:?}", se.err()).contains("TransactionCanceled"))
}

pub struct DynamoStore {
    client: Client,
    table: String,
}

struct Listing<'a> {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition: String,
    sort_prefix: Option<(&'static str, &'a str)>,
    newest_first: bool,
}

impl DynamoStore {
    pub fn new(client: Client, table: &str) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    async fn get_item<T: DeserializeOwned>(
        &self,
        key: (String, String),
    ) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend("could not read an item"))?;
        out.item.map(from_item).transpose()
    }

    async fn put_item(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(backend("could not write an item"))?;
        Ok(())
    }

    /// Puts the item only if no item has its key; false when one exists.
    async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failed(&e) => Ok(false),
            Err(e) => Err(StoreError::backend("could not write an item", e)),
        }
    }

    fn put_if_absent(&self, item: Item) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("table, item and condition are set");
        TransactWriteItem::builder().put(put).build()
    }

    async fn transact(&self, items: Vec<TransactWriteItem>, what: &str) -> Result<(), StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_transaction_cancelled(&e) => {
                Err(StoreError::ConditionFailed(what.to_string()))
            }
            Err(e) => Err(StoreError::backend(format!("could not write: {what}"), e)),
        }
    }

    async fn query<T: DeserializeOwned>(
        &self,
        l: Listing<'_>,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        let mut expr = format!("{} = :p", l.partition_attr);
        let mut values = HashMap::from([(":p".to_string(), s(l.partition.clone()))]);
        if let Some((attr, prefix)) = l.sort_prefix {
            expr.push_str(&format!(" AND begins_with({attr}, :sp)"));
            values.insert(":sp".into(), s(prefix));
        }
        let start = page
            .cursor
            .as_deref()
            .map(|c| decode_cursor(c, l.partition_attr, &l.partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(l.index.map(str::to_string))
            .key_condition_expression(expr)
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(!l.newest_first)
            .limit(page.limit as i32)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(backend("could not list items"))?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<T>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(encode_cursor);
        Ok(Page { items, next_cursor })
    }

    /// An UpdateItem on an existing connector (the condition makes a missing one fail).
    fn connector_update(
        &self,
        org_id: &str,
        id: &str,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
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

/// Attributes a connector replace must never overwrite: counters and live progress belong to
/// workers that change them concurrently.
const CONNECTOR_WORKER_FIELDS: [&str; 4] =
    ["documents_count", "sync_progress", "sync_cursor", "webhook"];
/// The partition of GSI2 listing active push channels by expiry (for renewal).
const WEBHOOKS: &str = "WEBHOOKS";
/// The partition of GSI2 listing documents being processed by lease start (sparse).
const PROCESSING: &str = "PROCESSING";

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
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :due AND gsi1sk <= :now")
            .expression_attribute_values(":due", s(DUE))
            // '~' sorts after every id character, so connectors due exactly now are included.
            .expression_attribute_values(":now", s(format!("{}#~", key_time(now))))
            .limit(limit as i32)
            .send()
            .await
            .map_err(backend("could not list due connectors"))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
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

    async fn swap_webhook_sync(
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

    async fn set_webhook(
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

    async fn find_by_channel(&self, channel_id: &str) -> Result<Option<Connector>, StoreError> {
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

    async fn list_webhooks_expiring(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connector>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :w AND gsi2sk < :before")
            .expression_attribute_values(":w", s(WEBHOOKS))
            .expression_attribute_values(":before", s(key_time(before)))
            .limit(limit as i32)
            .send()
            .await
            .map_err(backend("could not list expiring webhooks"))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }
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
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("gsi2pk = :p AND gsi2sk < :before")
            .expression_attribute_values(":p", s(PROCESSING))
            .expression_attribute_values(":before", s(key_time(before)))
            .limit(limit as i32)
            .send()
            .await
            .map_err(backend("could not list stale documents"))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }
}

#[async_trait]
impl SyncLogStore for DynamoStore {
    async fn put(&self, log: &SyncLog) -> Result<(), StoreError> {
        self.put_item(with_keys(
            to_item(log)?,
            "sync_log",
            sync_log_key(&log.connector_id, &log.id),
        ))
        .await
    }

    async fn get(&self, connector_id: &str, id: &str) -> Result<Option<SyncLog>, StoreError> {
        self.get_item(sync_log_key(connector_id, id)).await
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncLog>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("SYNCLOGS#{connector_id}"),
            sort_prefix: Some(("sk", "SYNC#")),
            newest_first: true,
        };
        self.query(l, page).await
    }
}

#[async_trait]
impl ActivityStore for DynamoStore {
    async fn append(&self, event: &ActivityEvent) -> Result<(), StoreError> {
        let key = (format!("ACTIVITY#{}", event.org_id), event.id.clone());
        self.put_item(with_keys(to_item(event)?, "activity", key))
            .await
    }

    async fn list(
        &self,
        org_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ActivityEvent>, StoreError> {
        let l = Listing {
            index: None,
            partition_attr: "pk",
            partition: format!("ACTIVITY#{org_id}"),
            sort_prefix: None,
            newest_first: true,
        };
        self.query(l, page).await
    }
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

#[async_trait]
impl OAuthStateStore for DynamoStore {
    async fn put(&self, state: &OAuthState) -> Result<(), StoreError> {
        let mut item = with_keys(to_item(state)?, "oauth_state", oauth_key(&state.state));
        // DynamoDB TTL wants epoch seconds in a number attribute.
        item.insert(
            "expires_at".into(),
            AttributeValue::N(state.expires_at.timestamp().to_string()),
        );
        let created = self.put_new(item).await?;
        if created {
            Ok(())
        } else {
            Err(StoreError::ConditionFailed("oauth state exists".into()))
        }
    }

    async fn take(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(oauth_key(state))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend("could not take an oauth state"))?;
        out.attributes.map(oauth_state_from_item).transpose()
    }

    async fn get(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(oauth_key(state))))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend("could not read an oauth state"))?;
        out.item.map(oauth_state_from_item).transpose()
    }
}

/// The TTL attribute is epoch seconds; the entity keeps a timestamp.
fn oauth_state_from_item(mut item: Item) -> Result<OAuthState, StoreError> {
    let expires = item
        .remove("expires_at")
        .and_then(|v| v.as_n().ok().and_then(|n| n.parse::<i64>().ok()))
        .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
        .ok_or_else(|| StoreError::backend("oauth state without expiry", "missing expires_at"))?;
    item.insert("expires_at".into(), s(expires.to_rfc3339()));
    from_item(item)
}
