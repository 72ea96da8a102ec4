//! Providers registered by hand: tests register fake sources, OAuth clients and pushes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::lock;
use crate::connector::{ConnectorType, ConnectorTypeInfo};
use crate::provider::{Provider, Providers};
use crate::push::Push;
use crate::source::{OAuthClient, Source};

/// Providers registered by hand (tests register fake sources).
#[derive(Default)]
pub struct StaticProviders {
    pub sources: Mutex<HashMap<ConnectorType, Arc<dyn Source>>>,
    pub oauth: Mutex<HashMap<ConnectorType, Arc<dyn OAuthClient>>>,
    pub pushes: Mutex<HashMap<ConnectorType, Arc<dyn Push>>>,
    pub base_url: String,
}

impl StaticProviders {
    pub fn register(&self, t: ConnectorType, source: Arc<dyn Source>) {
        lock(&self.sources).insert(t, source);
    }
    pub fn register_oauth(&self, t: ConnectorType, client: Arc<dyn OAuthClient>) {
        lock(&self.oauth).insert(t, client);
    }
    pub fn register_push(&self, t: ConnectorType, push: Arc<dyn Push>) {
        lock(&self.pushes).insert(t, push);
    }
}

/// What was registered for one type, as a provider with the type's built-in description.
struct Registered {
    connector_type: ConnectorType,
    source: Arc<dyn Source>,
    oauth: Option<Arc<dyn OAuthClient>>,
    push: Option<Arc<dyn Push>>,
}

impl Provider for Registered {
    fn info(&self) -> ConnectorTypeInfo {
        self.connector_type.builtin_info()
    }
    fn source(&self) -> Arc<dyn Source> {
        self.source.clone()
    }
    fn oauth(&self) -> Option<Arc<dyn OAuthClient>> {
        self.oauth.clone()
    }
    fn push(&self) -> Option<Arc<dyn Push>> {
        self.push.clone()
    }
}

impl Providers for StaticProviders {
    fn provider(&self, t: ConnectorType) -> Option<Arc<dyn Provider>> {
        let source = lock(&self.sources).get(&t).cloned()?;
        Some(Arc::new(Registered {
            connector_type: t,
            source,
            oauth: lock(&self.oauth).get(&t).cloned(),
            push: lock(&self.pushes).get(&t).cloned(),
        }))
    }
    fn push_by_key(&self, key: &str) -> Option<Arc<dyn Push>> {
        lock(&self.pushes)
            .values()
            .find(|p| p.key() == key)
            .cloned()
    }
    fn public_base_url(&self) -> &str {
        &self.base_url
    }
    // What was registered, even without a source (tests of the OAuth flow alone).
    fn source(&self, t: ConnectorType) -> Option<Arc<dyn Source>> {
        lock(&self.sources).get(&t).cloned()
    }
    fn oauth(&self, t: ConnectorType) -> Option<Arc<dyn OAuthClient>> {
        lock(&self.oauth).get(&t).cloned()
    }
}
