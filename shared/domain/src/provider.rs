//! Providers: what one connector type brings (its description, pull source, OAuth client and
//! push), and the registry the domain asks for them. The domain names no provider; a build
//! registers its providers in one list (`recorder-connectors`' registry).

use std::sync::Arc;

use crate::connector::{ConnectorType, ConnectorTypeInfo};
use crate::push::Push;
use crate::source::{OAuthClient, Source};

/// One provider, registered for one connector type.
pub trait Provider: Send + Sync {
    /// What `GET /api/connectors/types` shows for it.
    fn info(&self) -> ConnectorTypeInfo;
    fn source(&self) -> Arc<dyn Source>;
    fn oauth(&self) -> Option<Arc<dyn OAuthClient>>;
    /// Deliveries it pushes (webhooks); None when it has none.
    fn push(&self) -> Option<Arc<dyn Push>> {
        None
    }
}

/// The providers this build has.
pub trait Providers: Send + Sync {
    fn provider(&self, connector_type: ConnectorType) -> Option<Arc<dyn Provider>>;
    /// The push whose deliveries arrive under `/api/connectors/webhooks/<key>`.
    fn push_by_key(&self, key: &str) -> Option<Arc<dyn Push>>;
    /// Public base URL of the API (for OAuth redirects and webhook addresses).
    fn public_base_url(&self) -> &str;

    fn source(&self, connector_type: ConnectorType) -> Option<Arc<dyn Source>> {
        self.provider(connector_type).map(|p| p.source())
    }
    fn oauth(&self, connector_type: ConnectorType) -> Option<Arc<dyn OAuthClient>> {
        self.provider(connector_type).and_then(|p| p.oauth())
    }
    fn push(&self, connector_type: ConnectorType) -> Option<Arc<dyn Push>> {
        self.provider(connector_type).and_then(|p| p.push())
    }
    /// The type's description: its provider's, or the built-in one (uploads, URL imports, and
    /// types this build has no provider for).
    fn info(&self, connector_type: ConnectorType) -> ConnectorTypeInfo {
        self.provider(connector_type)
            .map(|p| p.info())
            .unwrap_or_else(|| connector_type.builtin_info())
    }
    /// True when this build can connect and sync `connector_type`: a provider type needs its
    /// provider registered; uploads and URL imports arrive through the API and need none.
    fn available(&self, connector_type: ConnectorType) -> bool {
        !connector_type.requires_oauth() || self.provider(connector_type).is_some()
    }
}
