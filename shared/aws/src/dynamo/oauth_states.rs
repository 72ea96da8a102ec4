//! OAuth states: `OAUTH#{state}` / `OAUTH`, single use, with the table's TTL attribute.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{TimeZone, Utc};
use recorder_domain::StoreError;
use recorder_domain::ports::{OAuthState, OAuthStateStore};

use super::{DynamoStore, Item, backend, from_item, key_map, s, to_item, with_keys};

fn oauth_key(state: &str) -> (String, String) {
    (format!("OAUTH#{state}"), "OAUTH".into())
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
