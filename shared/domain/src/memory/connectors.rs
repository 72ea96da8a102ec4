//! Connectors: a name unique per (org, type), optimistic replaces that keep worker-owned
//! fields, the schedule, push channels and the webhook-sync mark.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, lock, page_of};
use crate::connector::{Connector, SyncProgress, WebhookState, name_key};
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::ConnectorStore;
use crate::webhook::WebhookSync;

impl MemoryStore {
    fn name_guard(c: &Connector) -> (String, String, String) {
        (
            c.org_id.clone(),
            c.connector_type.as_str().to_string(),
            name_key(&c.name),
        )
    }
}

#[async_trait]
impl ConnectorStore for MemoryStore {
    async fn create(&self, c: &Connector) -> Result<(), StoreError> {
        let mut names = lock(&self.names);
        let guard = Self::name_guard(c);
        if names.contains_key(&guard) {
            return Err(StoreError::ConditionFailed(format!(
                "name '{}' is taken",
                c.name
            )));
        }
        names.insert(guard, c.id.clone());
        lock(&self.connectors).insert((c.org_id.clone(), c.id.clone()), c.clone());
        Ok(())
    }

    async fn get(&self, org_id: &str, id: &str) -> Result<Option<Connector>, StoreError> {
        Ok(lock(&self.connectors)
            .get(&(org_id.to_string(), id.to_string()))
            .cloned())
    }

    async fn list(&self, org_id: &str, page: &PageRequest) -> Result<Page<Connector>, StoreError> {
        let items: Vec<_> = lock(&self.connectors)
            .values()
            .filter(|c| c.org_id == org_id)
            .cloned()
            .collect();
        page_of(items, page)
    }

    async fn replace(&self, previous: &Connector, next: &Connector) -> Result<(), StoreError> {
        let mut names = lock(&self.names);
        let mut connectors = lock(&self.connectors);
        let key = (previous.org_id.clone(), previous.id.clone());
        match connectors.get(&key) {
            Some(cur) if cur.updated_at == previous.updated_at => {}
            _ => {
                return Err(StoreError::ConditionFailed(
                    "connector changed meanwhile".into(),
                ));
            }
        }
        let (old, new) = (Self::name_guard(previous), Self::name_guard(next));
        if old != new {
            if names.contains_key(&new) {
                return Err(StoreError::ConditionFailed(format!(
                    "name '{}' is taken",
                    next.name
                )));
            }
            names.remove(&old);
            names.insert(new, next.id.clone());
        }
        let mut stored = next.clone();
        if let Some(cur) = connectors.get(&key) {
            // Worker-owned fields are never overwritten by a replace (same rule as DynamoDB).
            stored.documents_count = cur.documents_count;
            stored.sync_progress = cur.sync_progress.clone();
            stored.sync_cursor = cur.sync_cursor.clone();
            stored.webhook = cur.webhook.clone();
        }
        connectors.insert(key, stored);
        Ok(())
    }

    async fn release_name(&self, c: &Connector) -> Result<(), StoreError> {
        let mut names = lock(&self.names);
        let guard = Self::name_guard(c);
        if names.get(&guard) == Some(&c.id) {
            names.remove(&guard);
        }
        Ok(())
    }

    async fn set_progress(
        &self,
        org_id: &str,
        id: &str,
        progress: Option<&SyncProgress>,
    ) -> Result<(), StoreError> {
        self.with_connector(org_id, id, |c| c.sync_progress = progress.cloned())
    }

    async fn list_due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Connector>, StoreError> {
        let mut due: Vec<_> = lock(&self.connectors)
            .values()
            .filter(|c| c.is_scheduled() && c.next_sync_at.is_some_and(|t| t <= now))
            .cloned()
            .collect();
        due.sort_by_key(|c| c.next_sync_at);
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn add_documents_count(
        &self,
        org_id: &str,
        id: &str,
        delta: i64,
    ) -> Result<(), StoreError> {
        self.with_connector(org_id, id, |c| {
            c.documents_count = c.documents_count.saturating_add_signed(delta)
        })
    }

    async fn set_cursor(
        &self,
        org_id: &str,
        id: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with_connector(org_id, id, |c| c.sync_cursor = cursor.map(str::to_string))
    }

    async fn webhook_sync(&self, org_id: &str, id: &str) -> Result<WebhookSync, StoreError> {
        self.with_connector(org_id, id, |_| ())?;
        let key = (org_id.to_string(), id.to_string());
        Ok(lock(&self.webhook_syncs)
            .get(&key)
            .cloned()
            .unwrap_or_default())
    }

    async fn swap_webhook_sync(
        &self,
        org_id: &str,
        id: &str,
        read_rev: u64,
        next: &WebhookSync,
    ) -> Result<bool, StoreError> {
        if self.with_connector(org_id, id, |_| ()).is_err() {
            return Ok(false);
        }
        let mut marks = lock(&self.webhook_syncs);
        let key = (org_id.to_string(), id.to_string());
        if marks.get(&key).map_or(0, |m| m.rev) != read_rev {
            return Ok(false);
        }
        marks.insert(key, next.clone());
        Ok(true)
    }

    async fn set_webhook(
        &self,
        connector: &Connector,
        webhook: &WebhookState,
        previous: Option<&WebhookState>,
    ) -> Result<(), StoreError> {
        let mut channels = lock(&self.channels);
        if let Some(old) = previous.and_then(|p| p.channel_id.as_ref()) {
            channels.remove(old);
        }
        if let Some(new) = &webhook.channel_id {
            channels.insert(
                new.clone(),
                (connector.org_id.clone(), connector.id.clone()),
            );
        }
        drop(channels);
        self.with_connector(&connector.org_id, &connector.id, |c| {
            c.webhook = webhook.clone()
        })
    }

    async fn find_by_channel(&self, channel_id: &str) -> Result<Option<Connector>, StoreError> {
        let key = lock(&self.channels).get(channel_id).cloned();
        Ok(key.and_then(|k| lock(&self.connectors).get(&k).cloned()))
    }

    async fn list_webhooks_expiring(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connector>, StoreError> {
        let mut out: Vec<_> = lock(&self.connectors)
            .values()
            .filter(|c| c.webhook.active && c.webhook.expires_at.is_some_and(|t| t < before))
            .cloned()
            .collect();
        out.truncate(limit as usize);
        Ok(out)
    }
}

impl MemoryStore {
    fn with_connector<R>(
        &self,
        org_id: &str,
        id: &str,
        f: impl FnOnce(&mut Connector) -> R,
    ) -> Result<R, StoreError> {
        let mut connectors = lock(&self.connectors);
        let c = connectors
            .get_mut(&(org_id.to_string(), id.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("connector {id}")))?;
        Ok(f(c))
    }
}
