//! DynamoDB adapter: one table for every entity (see docs/data-model.md for the key design).
//! Uniqueness rules are conditional writes or transactions; counters are `ADD` updates.
//!
//! This file holds what every port shares (the client, key and item helpers, cursors, the
//! generic reads and writes); each port's adapter is in its own file below `dynamo/`.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use recorder_domain::StoreError;
use recorder_domain::paging::{Page, PageRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

mod activity;
mod batches;
mod connector_push;
mod connectors;
mod documents;
mod errors;
mod locks;
mod oauth_states;
mod retries;
mod sync_logs;
mod usage;
mod webhook_events;

use errors::{is_condition_failed, transaction_error};

type Item = HashMap<String, AttributeValue>;

pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";

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

    /// Up to `limit` items of an overloaded index's partition `pk` whose sort key is below
    /// `below`, oldest first (due connectors, expiring channels, stale documents).
    async fn oldest_below<T: DeserializeOwned>(
        &self,
        index: &str,
        pk: &str,
        below: String,
        limit: u32,
        what: &'static str,
    ) -> Result<Vec<T>, StoreError> {
        let (pk_attr, sk_attr) = if index == GSI1 {
            ("gsi1pk", "gsi1sk")
        } else {
            ("gsi2pk", "gsi2sk")
        };
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(format!("{pk_attr} = :p AND {sk_attr} < :below"))
            .expression_attribute_values(":p", s(pk))
            .expression_attribute_values(":below", s(below))
            .limit(limit as i32)
            .send()
            .await
            .map_err(backend(what))?;
        out.items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
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
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, what))
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
}
