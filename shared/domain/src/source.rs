//! Sources: what every provider implements so the sync engine can pull from it without knowing
//! the provider (see [`crate::provider`] for how a provider registers, [`crate::push`] for its
//! deliveries).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connector::{Account, Connector};
use crate::secret::{OAuthTokens, Secret};

/// One file or page at the source, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    pub external_id: String,
    pub name: String,
    pub mime_type: Option<String>,
    pub size: Option<u64>,
    /// Folder (or parent page) ids, for folder filters.
    #[serde(default)]
    pub parents: Vec<String>,
    pub external_url: Option<String>,
    /// Changes whenever the content or the metadata we keep changes (Drive: version).
    pub fingerprint: String,
    /// Author, created/modified times and other provider facts, kept on the document.
    #[serde(default)]
    pub metadata: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Upsert(SourceItem),
    /// Deleted at the source, trashed, or access lost.
    Removed {
        external_id: String,
    },
}

/// One page of changes and the cursor to resume after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    /// Where the next page (or the next sync, when `has_more` is false) starts.
    pub cursor: String,
    pub has_more: bool,
}

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, SourceError>> + Send>>;

pub struct FetchedContent {
    pub content_type: String,
    pub stream: ByteStream,
}

pub use crate::provider_error::{Cause, SourceError};

/// Counts what a sync costs at the provider.
#[derive(Debug, Default)]
pub struct Meter {
    pub api_calls: AtomicU64,
    pub bytes: AtomicU64,
}

impl Meter {
    pub fn call(&self) {
        self.api_calls.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add_bytes(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub fn calls(&self) -> u64 {
        self.api_calls.load(Ordering::Relaxed)
    }
    pub fn total_bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// What a source call gets: the connector, a valid access token, and the meter.
#[derive(Clone)]
pub struct SourceContext {
    pub connector: Connector,
    pub access_token: Secret,
    pub meter: Arc<Meter>,
}

#[async_trait]
pub trait Source: Send + Sync {
    /// The account the credentials belong to (the connection test).
    async fn account(&self, cx: &SourceContext) -> Result<Account, SourceError>;
    /// One page of changes after `cursor`; None starts from the beginning (a full listing).
    async fn list_changes(
        &self,
        cx: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<ChangePage, SourceError>;
    /// The item as it is now; None when it is gone.
    async fn get_item(
        &self,
        cx: &SourceContext,
        external_id: &str,
    ) -> Result<Option<SourceItem>, SourceError>;
    /// The item's content as a stream (never held whole in memory).
    async fn fetch(
        &self,
        cx: &SourceContext,
        item: &SourceItem,
    ) -> Result<FetchedContent, SourceError>;
}

/// The provider's OAuth endpoints.
#[async_trait]
pub trait OAuthClient: Send + Sync {
    /// Where to send the browser. The URL carries the S256 challenge of `code_verifier` (PKCE);
    /// the verifier itself stays on the server.
    async fn authorize_url(
        &self,
        state: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, SourceError>;
    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<OAuthTokens, SourceError>;
    /// A fresh access token; the returned tokens keep the old refresh token when the provider
    /// does not rotate it.
    async fn refresh(&self, tokens: &OAuthTokens) -> Result<OAuthTokens, SourceError>;
}

/// True when `mime` passes a file-type filter (exact types or `type/*` wildcards; empty = all).
pub fn mime_allowed(filters: &[String], mime: Option<&str>) -> bool {
    if filters.is_empty() {
        return true;
    }
    let Some(mime) = mime else { return false };
    filters.iter().any(|f| match f.strip_suffix("/*") {
        Some(prefix) => mime.split('/').next() == Some(prefix),
        None => f.eq_ignore_ascii_case(mime),
    })
}

/// Seconds-precision expiry check with a safety margin.
pub fn expires_soon(tokens: &OAuthTokens, now: DateTime<Utc>) -> bool {
    tokens
        .expires_at
        .is_some_and(|t| t - chrono::Duration::minutes(5) <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_filters_take_exact_types_and_wildcards() {
        let f = vec!["application/pdf".to_string(), "video/*".to_string()];
        assert!(mime_allowed(&f, Some("application/pdf")));
        assert!(mime_allowed(&f, Some("video/mp4")));
        assert!(!mime_allowed(&f, Some("text/plain")));
        assert!(!mime_allowed(&f, None));
        assert!(mime_allowed(&[], None));
    }

    #[test]
    fn a_provider_failure_keeps_its_cause_through_the_domain_error() {
        use std::error::Error;
        let reset = std::io::Error::other("connection reset by peer");
        let e: crate::DomainError = SourceError::io("files.get", reset).into();
        let mut chain = Vec::new();
        let mut next: Option<&dyn Error> = Some(&e);
        while let Some(err) = next {
            chain.push(err.to_string());
            next = err.source();
        }
        assert_eq!(
            chain,
            [
                "files.get: connection reset by peer",
                "files.get: connection reset by peer",
                "connection reset by peer",
            ]
        );
        assert!(SourceError::io("x", std::io::Error::other("y")).is_transient());
    }
}
