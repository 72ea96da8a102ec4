//! Ports: the narrow traits through which the domain reaches the outside. Each has an AWS adapter
//! (crate `recorder-aws`) and an in-memory one ([`crate::memory`]).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::activity::ActivityEvent;
use crate::connector::{Connector, SyncProgress, WebhookState};
use crate::document::ImportedDocument;
use crate::error::StoreError;
use crate::jobs::{DocumentJob, DocumentProcessed, SyncJob};
use crate::paging::{Page, PageRequest};
use crate::provider::Providers;
use crate::secret::{OAuthTokens, Secret};
use crate::source::ByteStream;
use crate::sync_log::{RetryItem, SyncLog};
use crate::upload::{BatchStatus, UploadBatch};
use crate::webhook::{WebhookEvent, WebhookSync};

#[async_trait]
pub trait ConnectorStore: Send + Sync {
    /// Creates the connector; `ConditionFailed` when its name is taken in the org for its type.
    async fn create(&self, connector: &Connector) -> Result<(), StoreError>;
    /// None when absent or owned by another org (callers answer 404 either way).
    async fn get(&self, org_id: &str, id: &str) -> Result<Option<Connector>, StoreError>;
    async fn list(&self, org_id: &str, page: &PageRequest) -> Result<Page<Connector>, StoreError>;
    /// Replaces `previous` with `next` if nobody changed it meanwhile (same `updated_at`); a rename
    /// moves the name guard in the same transaction. `ConditionFailed` on a lost race or a taken name.
    async fn replace(&self, previous: &Connector, next: &Connector) -> Result<(), StoreError>;
    /// Frees the connector's name (after a disconnect) so it can be used again.
    async fn release_name(&self, connector: &Connector) -> Result<(), StoreError>;
    /// Sets or clears only the live progress (workers write it often; it must not race edits).
    async fn set_progress(
        &self,
        org_id: &str,
        id: &str,
        progress: Option<&SyncProgress>,
    ) -> Result<(), StoreError>;
    /// Active, scheduled connectors whose next sync is due at `now`, oldest due first.
    async fn list_due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Connector>, StoreError>;
    /// Atomically adds to the imported-documents counter.
    async fn add_documents_count(
        &self,
        org_id: &str,
        id: &str,
        delta: i64,
    ) -> Result<(), StoreError>;
    /// Checkpoints the sync state (engine-owned; edits never overwrite it).
    async fn set_cursor(
        &self,
        org_id: &str,
        id: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError>;
    /// The connector's webhook-sync mark (the default when never set); NotFound without the
    /// connector.
    async fn webhook_sync(&self, org_id: &str, id: &str) -> Result<WebhookSync, StoreError>;
    /// Stores `next` only if the stored mark is still at revision `read_rev`; false when another
    /// writer changed it first (read it again and decide again).
    async fn swap_webhook_sync(
        &self,
        org_id: &str,
        id: &str,
        read_rev: u64,
        next: &WebhookSync,
    ) -> Result<bool, StoreError>;
    /// Records an opened push channel (and its id → connector lookup), replacing `previous`.
    async fn set_webhook(
        &self,
        connector: &Connector,
        webhook: &WebhookState,
        previous: Option<&WebhookState>,
    ) -> Result<(), StoreError>;
    /// The connector a push channel belongs to.
    async fn find_by_channel(&self, channel_id: &str) -> Result<Option<Connector>, StoreError>;
    /// Connectors whose active push channel expires before `before`.
    async fn list_webhooks_expiring(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Connector>, StoreError>;
}

#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Creates the document; `ConditionFailed` when (connector, external id) already exists.
    async fn create(&self, doc: &ImportedDocument) -> Result<(), StoreError>;
    async fn get(&self, id: &str) -> Result<Option<ImportedDocument>, StoreError>;
    /// Writes `doc` only if the stored record is still at `doc.version` (the one it was read
    /// at), and advances `doc.version` to the stored one. False when another writer changed the
    /// record in between: read it again and decide again (see `service::documents::modify`).
    async fn update(&self, doc: &mut ImportedDocument) -> Result<bool, StoreError>;
    async fn find_by_external_id(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<ImportedDocument>, StoreError>;
    /// Documents of a connector, oldest first.
    async fn list_by_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ImportedDocument>, StoreError>;
    /// Writes the document in its final state (completed or failed) only if the stored record
    /// is still at `doc.version`, and in the same transaction counts it on its upload batch.
    /// False when another writer changed it first (another delivery finishing it, or a sync):
    /// nothing is counted twice.
    async fn finish(&self, doc: &ImportedDocument) -> Result<bool, StoreError>;
    /// A completed document of the org with these bytes, if any (for dedup).
    async fn find_completed_by_hash(
        &self,
        org_id: &str,
        content_hash: &str,
    ) -> Result<Option<ImportedDocument>, StoreError>;
    /// Documents `processing` under a lease taken before `before`, oldest lease first: work
    /// whose worker is gone (the scheduler's sweep).
    async fn list_stale_processing(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ImportedDocument>, StoreError>;
}

#[async_trait]
pub trait SyncLogStore: Send + Sync {
    async fn put(&self, log: &SyncLog) -> Result<(), StoreError>;
    async fn get(&self, connector_id: &str, id: &str) -> Result<Option<SyncLog>, StoreError>;
    /// Newest first.
    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncLog>, StoreError>;
}

/// Items a connector's syncs could not import, one record each (never inside the sync cursor).
#[async_trait]
pub trait RetryStore: Send + Sync {
    /// Creates or replaces the item.
    async fn put(&self, item: &RetryItem) -> Result<(), StoreError>;
    async fn get(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<RetryItem>, StoreError>;
    /// Ok when there was none.
    async fn delete(&self, connector_id: &str, external_id: &str) -> Result<(), StoreError>;
    /// Items that are not permanent and are due at `now`, earliest first. The cursor is a
    /// position in that order, so items handled meanwhile (deleted or moved later) do not make
    /// the next page skip any.
    async fn list_due(
        &self,
        connector_id: &str,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError>;
    /// Every item of the connector, by external id.
    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<RetryItem>, StoreError>;
}

#[async_trait]
pub trait ActivityStore: Send + Sync {
    async fn append(&self, event: &ActivityEvent) -> Result<(), StoreError>;
    /// Newest first.
    async fn list(
        &self,
        org_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ActivityEvent>, StoreError>;
}

#[async_trait]
pub trait WebhookEventStore: Send + Sync {
    /// Stores the event once; false when this (source, event id) was already stored (a replay).
    async fn record(&self, event: &WebhookEvent) -> Result<bool, StoreError>;
    async fn get(&self, source: &str, event_id: &str) -> Result<Option<WebhookEvent>, StoreError>;
    async fn mark_processed(
        &self,
        source: &str,
        event_id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;
    /// A connector's stored events, newest first (for operators).
    async fn list_for_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<WebhookEvent>, StoreError>;
}

#[async_trait]
pub trait UploadBatchStore: Send + Sync {
    async fn create(&self, batch: &UploadBatch) -> Result<(), StoreError>;
    async fn get(&self, id: &str) -> Result<Option<UploadBatch>, StoreError>;
    /// Atomically adds to the counters and returns the batch as it is after the change.
    async fn add_counts(
        &self,
        id: &str,
        processed: i64,
        failed: i64,
    ) -> Result<UploadBatch, StoreError>;
    /// Sets the status only, so it never overwrites counters moved by other workers.
    async fn set_status(
        &self,
        id: &str,
        status: BatchStatus,
        completed_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;
}

/// The short-lived record of an OAuth round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthState {
    pub state: String,
    pub org_id: String,
    pub user_id: String,
    pub provider: String,
    /// PKCE verifier; kept server-side only.
    pub code_verifier: Option<String>,
    pub redirect_after: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// SHA-256 (hex) of the nonce given to the browser that started the flow; the nonce itself
    /// is never stored. Records without it are from before the binding and are refused.
    #[serde(default)]
    pub browser_nonce_hash: Option<String>,
}

#[async_trait]
pub trait OAuthStateStore: Send + Sync {
    async fn put(&self, state: &OAuthState) -> Result<(), StoreError>;
    /// Reads the state without using it up (a refused callback must leave it to its browser).
    async fn get(&self, state: &str) -> Result<Option<OAuthState>, StoreError>;
    /// Removes and returns the state: a second take of the same state finds nothing.
    async fn take(&self, state: &str) -> Result<Option<OAuthState>, StoreError>;
}

/// Part of a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRead {
    pub bytes: Vec<u8>,
    /// The whole object's size.
    pub total: u64,
}

/// A range of one version of a stored object, and which version it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRead {
    pub read: RangeRead,
    /// The version's ETag as the store names it (S3 quotes it; its notifications do not).
    pub etag: String,
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `len` bytes from `start`, and the object's whole size: how files too big to hold
    /// are read (a start at or past the end gives no bytes).
    async fn get_range(
        &self,
        key: &str,
        start: u64,
        len: u64,
    ) -> Result<Option<RangeRead>, StoreError>;
    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError>;
    /// Starts a multipart upload a client will fill through presigned part URLs.
    async fn start_multipart(&self, key: &str, content_type: &str) -> Result<String, StoreError>;
    /// Completes a multipart upload from the parts the client sent (part number, ETag); returns
    /// the object's size. It only creates: `ConditionFailed` when an object exists at `key`.
    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<u64, StoreError>;
    /// Streams content to `key` in bounded memory (multipart above one part), hashing as it goes.
    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        stream: ByteStream,
    ) -> Result<StoredBlob, PutStreamError>;

    // Client uploads and downloads with their limits signed in.

    /// A presigned PUT S3 accepts only with exactly `content_length` bytes (the length is signed),
    /// and only while nothing is stored at `key` (`If-None-Match: *` is signed: the URL creates
    /// the original, it never replaces it).
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError>;
    /// A presigned part PUT that accepts only exactly `content_length` bytes.
    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError>;
    /// The parts the store holds for an unfinished multipart upload, by part number.
    async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<StoredPart>, StoreError>;
    /// Drops an unfinished multipart upload and its parts.
    async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StoreError>;
    /// `get_range` of one version: with `if_match` (an ETag, quoted or not) `ConditionFailed`
    /// when the object is another version now (S3's 412); without, the current version. The
    /// answer names the version it read.
    async fn get_range_version(
        &self,
        key: &str,
        start: u64,
        len: u64,
        if_match: Option<&str>,
    ) -> Result<Option<VersionRead>, StoreError>;
    /// The whole object if it is still the version `etag`; `ConditionFailed` when it is not.
    async fn get_version(&self, key: &str, etag: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// The stored object's size; None when there is no such object.
    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError>;
    /// Deletes the object; Ok when there was none.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// A presigned GET whose response carries `download`'s headers, whatever the object was
    /// stored with.
    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
        download: &crate::download::DownloadAs,
    ) -> Result<String, StoreError>;
}

pub use crate::upload::StoredPart;

/// A part a client uploaded: its number and the ETag S3 answered for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    pub part_number: u32,
    pub etag: String,
}

/// What a streamed put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    pub size: u64,
    pub sha256: String,
}

/// A streamed put fails either on the source side (the download) or on the store side.
#[derive(Debug, thiserror::Error)]
pub enum PutStreamError {
    #[error("download failed: {0}")]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashes and counts a stream while it is copied.
#[derive(Default)]
pub struct StreamDigest {
    hasher: sha2::Sha256,
    size: u64,
}

impl StreamDigest {
    pub fn update(&mut self, chunk: &[u8]) {
        use sha2::Digest;
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn finish(self) -> StoredBlob {
        use sha2::Digest;
        StoredBlob {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
        }
    }
}

/// Per-org import counts per calendar month, for the optional monthly quota.
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Adds `n` to the org's count for `month` ("2026-11") unless the total would pass `limit`.
    /// `Ok(total)` after adding; `Err(current)` when refused (nothing added).
    async fn reserve_imports(
        &self,
        org_id: &str,
        month: &str,
        n: u64,
        limit: u64,
    ) -> Result<Result<u64, u64>, StoreError>;
    /// Takes back `n` admitted for `month` that were never imported (never below zero).
    async fn release_imports(&self, org_id: &str, month: &str, n: u64) -> Result<(), StoreError>;
}

/// Short leases (token refresh, coalescing): one holder at a time, expiring on their own.
#[async_trait]
pub trait LockStore: Send + Sync {
    /// True when `owner` now holds `name` for `ttl`.
    async fn try_lock(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError>;
    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError>;
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn send_sync(&self, job: &SyncJob) -> Result<(), StoreError>;
    async fn send_document(&self, job: &DocumentJob) -> Result<(), StoreError>;
    async fn send_processed(&self, event: &DocumentProcessed) -> Result<(), StoreError>;
    /// A verified delivery's events, for the webhook worker.
    async fn send_push(&self, job: &crate::push::PushJob) -> Result<(), StoreError>;
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn put_tokens(&self, connector_id: &str, tokens: &OAuthTokens) -> Result<(), StoreError>;
    async fn get_tokens(&self, connector_id: &str) -> Result<Option<OAuthTokens>, StoreError>;
    /// Deletes the connector's secret; Ok when there was none.
    async fn delete_tokens(&self, connector_id: &str) -> Result<(), StoreError>;
}

/// App-wide secrets (client secrets, webhook secrets), read by name.
#[async_trait]
pub trait AppSecrets: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<Secret>, StoreError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Everything a domain operation may reach, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    pub connectors: Arc<dyn ConnectorStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub sync_logs: Arc<dyn SyncLogStore>,
    pub activity: Arc<dyn ActivityStore>,
    pub webhook_events: Arc<dyn WebhookEventStore>,
    pub batches: Arc<dyn UploadBatchStore>,
    pub oauth_states: Arc<dyn OAuthStateStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub queue: Arc<dyn JobQueue>,
    pub tokens: Arc<dyn TokenStore>,
    pub app_secrets: Arc<dyn AppSecrets>,
    pub locks: Arc<dyn LockStore>,
    pub usage: Arc<dyn UsageStore>,
    pub retries: Arc<dyn RetryStore>,
    pub providers: Arc<dyn Providers>,
    pub settings: Arc<crate::settings::Settings>,
    pub clock: Arc<dyn Clock>,
}
