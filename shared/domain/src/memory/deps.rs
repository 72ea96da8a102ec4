//! Every port wired to its in-memory adapter, and the connector tests start from.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{
    FixedClock, MemoryBlobs, MemoryQueue, MemoryRetries, MemorySecrets, MemoryStore,
    StaticProviders,
};
use crate::connector::{Connector, ConnectorType, WebhookState};
use crate::ports::Deps;

/// Deps wired to in-memory adapters, with handles on each for assertions.
pub struct MemoryDeps {
    pub deps: Deps,
    pub store: Arc<MemoryStore>,
    pub blobs: Arc<MemoryBlobs>,
    pub queue: Arc<MemoryQueue>,
    pub secrets: Arc<MemorySecrets>,
    pub clock: Arc<FixedClock>,
    pub providers: Arc<StaticProviders>,
}

impl MemoryDeps {
    pub fn new() -> Self {
        let store = Arc::new(MemoryStore::default());
        let blobs = Arc::new(MemoryBlobs::default());
        let queue = Arc::new(MemoryQueue::default());
        let secrets = Arc::new(MemorySecrets::default());
        let clock = Arc::new(FixedClock::new(Utc::now()));
        let providers = Arc::new(StaticProviders {
            base_url: "https://api.example.test".into(),
            ..Default::default()
        });
        let deps = Deps {
            connectors: store.clone(),
            documents: store.clone(),
            sync_logs: store.clone(),
            activity: store.clone(),
            webhook_events: store.clone(),
            batches: store.clone(),
            oauth_states: store.clone(),
            blobs: blobs.clone(),
            queue: queue.clone(),
            tokens: secrets.clone(),
            app_secrets: secrets.clone(),
            locks: store.clone(),
            usage: store.clone(),
            retries: Arc::new(MemoryRetries::default()),
            providers: providers.clone(),
            settings: Arc::new(crate::settings::Settings::default()),
            clock: clock.clone(),
        };
        MemoryDeps {
            deps,
            store,
            blobs,
            queue,
            secrets,
            clock,
            providers,
        }
    }
}

impl Default for MemoryDeps {
    fn default() -> Self {
        Self::new()
    }
}

/// An active, manually synced connector with nothing synced yet, as tests start from.
pub fn test_connector(
    id: &str,
    org_id: &str,
    connector_type: ConnectorType,
    name: &str,
    now: DateTime<Utc>,
) -> Connector {
    Connector {
        id: id.into(),
        org_id: org_id.into(),
        connector_type,
        name: name.into(),
        description: None,
        status: crate::connector::ConnectorStatus::Active,
        account: Default::default(),
        settings: serde_json::Value::Null,
        filters: Default::default(),
        sync_frequency: crate::connector::SyncFrequency::Manual,
        next_sync_at: None,
        last_sync_at: None,
        last_sync_status: None,
        error_count: 0,
        last_error: None,
        last_error_at: None,
        webhook: WebhookState::default(),
        sync_cursor: None,
        sync_progress: None,
        documents_count: 0,
        created_by: "u".into(),
        created_at: now,
        updated_at: now,
    }
}
