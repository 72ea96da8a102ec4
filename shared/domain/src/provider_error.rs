//! How a provider call failed, by what the sync engine should do about it. A leaf: the domain's
//! error type keeps it as a cause without depending on the source module.

use std::sync::Arc;

/// How a source call failed, by what the engine should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The grant is dead (revoked, expired): the connector needs reconnecting; retrying won't help.
    #[error("the provider refused our credentials ({0}): reconnect the account")]
    AuthRevoked(String),
    /// The access token was refused; a refresh may fix it.
    #[error("the access token was refused")]
    Unauthorized,
    /// This one item cannot be imported (too large to export, gone, not downloadable).
    #[error("{0}")]
    Item(String),
    /// Worth retrying later (rate limits beyond our patience, 5xx).
    #[error("{0}")]
    Transient(String),
    /// Worth retrying later, with the error underneath (network, a body that did not parse).
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        cause: Cause,
    },
    /// Misconfiguration on our side (client id missing, unsupported provider).
    #[error("{0}")]
    Config(String),
}

impl SourceError {
    /// A retryable failure of `context`, keeping `cause` as its source.
    pub fn io(
        context: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SourceError::Io {
            context: format!("{}: {cause}", context.into()),
            cause: Cause(Arc::new(cause)),
        }
    }

    /// True when retrying later may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Transient(_) | SourceError::Io { .. })
    }
}

/// The error under a [`SourceError::Io`], shared so the error stays `Clone`. Two causes are
/// equal when they read the same.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for Cause {}
