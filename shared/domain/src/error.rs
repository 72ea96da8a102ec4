//! The two error types of the domain boundary: what a port can fail with ([`StoreError`]) and
//! what a domain operation answers ([`DomainError`]). The HTTP layer maps the latter to status
//! codes in one place.

use thiserror::Error;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a port (store, queue, blob store, secret store) can fail with.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A conditional write found the condition false (a uniqueness rule or a state check).
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// A cursor that this store did not hand out, or for another listing.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The backend failed (network, throttling, permissions). Retrying may help.
    #[error("{context}")]
    Backend {
        context: String,
        #[source]
        source: Source,
    },
}

impl StoreError {
    pub fn backend(context: impl Into<String>, source: impl Into<Source>) -> Self {
        StoreError::Backend {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// What a domain operation answers. Messages are meant for the person calling the API.
#[derive(Debug, Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// The request is valid but not possible in the current state (e.g. syncing a disconnected connector).
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    Unsupported(String),
    /// Over a size or count limit.
    #[error("{0}")]
    TooLarge(String),
    /// The org's monthly import quota would be passed; it resets at `resets_at`.
    #[error("{message}")]
    QuotaExceeded {
        message: String,
        resets_at: chrono::DateTime<chrono::Utc>,
    },
    /// A provider call failed (its message is meant for people; the cause is kept).
    #[error("{0}")]
    Provider(#[source] crate::provider_error::SourceError),
    /// Storage or a queue failed; the cause is kept for logs, never shown to callers.
    #[error("a storage service failed")]
    Store(#[from] StoreError),
}

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation {
            field: field.into(),
            message: message.into(),
        }
    }
}
