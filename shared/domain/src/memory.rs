//! In-memory adapters for every port: fast domain and handler tests, same rules as the AWS
//! adapters (conditional writes, single-use states, newest-first listings).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::activity::ActivityEvent;
use crate::connector::{Connector, ConnectorType, SyncProgress, WebhookState, name_key};
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::error::StoreError;
use crate::jobs::{DocumentJob, DocumentProcessed, SyncJob};
use crate::paging::{Page, PageRequest};
use crate::ports::*;
use crate::ports::{PutStreamError, StoredBlob, StreamDigest, UploadedPart};
use crate::source::{ByteStream, OAuthClient, Providers, Source};
use crate::sync_log::SyncLog;
use crate::upload::{BatchStatus, UploadBatch};
use crate::webhook::{WebhookEvent, WebhookSync};

mod retries;
pub use retries::MemoryRetries;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not poison every later assertion.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Pages a sorted list by position; the cursor is the position of the next item.
fn page_of<T: Clone>(items: Vec<T>, page: &PageRequest) -> Result<Page<T>, StoreError> {
    let start = match &page.cursor {
        None => 0,
        Some(c) => c
            .strip_prefix("mem:")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or(StoreError::InvalidCursor)?,
    };
    let end = (start + page.limit as usize).min(items.len());
    let slice = items.get(start..end).map(<[T]>::to_vec).unwrap_or_default();
    let next_cursor = (end < items.len()).then(|| format!("mem:{end}"));
    Ok(Page {
        items: slice,
        next_cursor,
    })
}

#[derive(Default)]
pub struct MemoryStore {
    connectors: Mutex<BTreeMap<(String, String), Connector>>,
    names: Mutex<HashMap<(String, String, String), String>>,
    documents: Mutex<BTreeMap<String, ImportedDocument>>,
    external_ids: Mutex<HashMap<(String, String), String>>,
    sync_logs: Mutex<BTreeMap<(String, String), SyncLog>>,
    activity: Mutex<Vec<ActivityEvent>>,
    webhooks: Mutex<HashMap<(String, String), WebhookEvent>>,
    webhook_syncs: Mutex<HashMap<(String, String), WebhookSync>>,
    batches: Mutex<HashMap<String, UploadBatch>>,
    oauth: Mutex<HashMap<String, OAuthState>>,
    channels: Mutex<HashMap<String, (String, String)>>,
    locks: Mutex<HashMap<String, (String, std::time::Instant)>>,
    usage: Mutex<HashMap<(String, String), u64>>,
    racing_writes: Mutex<Vec<RacingWrite>>,
}

type RacingWrite = Box<dyn FnOnce(&mut ImportedDocument) + Send>;

impl MemoryStore {
    /// Another writer's change, applied to the stored document just before the next
    /// conditional write of it is checked: how tests make a sync and a worker race.
    pub fn race_next_write(&self, change: impl FnOnce(&mut ImportedDocument) + Send + 'static) {
        lock(&self.racing_writes).push(Box::new(change));
    }

    /// The version check of `update` and `finish`, after any racing write.
    fn is_current(
        &self,
        docs: &mut BTreeMap<String, ImportedDocument>,
        doc: &ImportedDocument,
    ) -> bool {
        let racing = std::mem::take(&mut *lock(&self.racing_writes));
        if let Some(stored) = docs.get_mut(&doc.id) {
            for change in racing {
                change(stored);
                stored.version += 1;
            }
        }
        docs.get(&doc.id).map(|d| d.version) == Some(doc.version)
    }
}

#[async_trait]
impl UsageStore for MemoryStore {
    async fn reserve_imports(
        &self,
        org_id: &str,
        month: &str,
        n: u64,
        limit: u64,
    ) -> Result<Result<u64, u64>, StoreError> {
        let mut usage = lock(&self.usage);
        let count = usage
            .entry((org_id.to_owned(), month.to_owned()))
            .or_default();
        if *count + n > limit {
            return Ok(Err(*count));
        }
        *count += n;
        Ok(Ok(*count))
    }

    async fn release_imports(&self, org_id: &str, month: &str, n: u64) -> Result<(), StoreError> {
        let mut usage = lock(&self.usage);
        if let Some(count) = usage.get_mut(&(org_id.to_owned(), month.to_owned())) {
            *count = count.saturating_sub(n);
        }
        Ok(())
    }
}

#[async_trait]
impl LockStore for MemoryStore {
    async fn try_lock(&self, name: &str, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut locks = lock(&self.locks);
        let now = std::time::Instant::now();
        match locks.get(name) {
            Some((holder, until)) if holder != owner && *until > now => Ok(false),
            _ => {
                locks.insert(name.to_string(), (owner.to_string(), now + ttl));
                Ok(true)
            }
        }
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let mut locks = lock(&self.locks);
        if locks.get(name).is_some_and(|(h, _)| h == owner) {
            locks.remove(name);
        }
        Ok(())
    }
}

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

#[async_trait]
impl DocumentStore for MemoryStore {
    async fn create(&self, doc: &ImportedDocument) -> Result<(), StoreError> {
        let mut ext = lock(&self.external_ids);
        let key = (
            doc.connector_id.clone().unwrap_or_default(),
            doc.external_id.clone(),
        );
        if ext.contains_key(&key) {
            return Err(StoreError::ConditionFailed(format!(
                "external id {} exists",
                doc.external_id
            )));
        }
        ext.insert(key, doc.id.clone());
        lock(&self.documents).insert(doc.id.clone(), doc.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<ImportedDocument>, StoreError> {
        Ok(lock(&self.documents).get(id).cloned())
    }

    async fn update(&self, doc: &mut ImportedDocument) -> Result<bool, StoreError> {
        let mut docs = lock(&self.documents);
        if !self.is_current(&mut docs, doc) {
            return Ok(false);
        }
        doc.version += 1;
        docs.insert(doc.id.clone(), doc.clone());
        Ok(true)
    }

    async fn find_by_external_id(
        &self,
        connector_id: &str,
        external_id: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        let id = lock(&self.external_ids)
            .get(&(connector_id.to_string(), external_id.to_string()))
            .cloned();
        Ok(id.and_then(|id| lock(&self.documents).get(&id).cloned()))
    }

    async fn list_by_connector(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ImportedDocument>, StoreError> {
        let items: Vec<_> = lock(&self.documents)
            .values()
            .filter(|d| d.connector_id.as_deref() == Some(connector_id))
            .cloned()
            .collect();
        page_of(items, page)
    }

    async fn finish(&self, doc: &ImportedDocument) -> Result<bool, StoreError> {
        let mut docs = lock(&self.documents);
        if !self.is_current(&mut docs, doc) {
            return Ok(false);
        }
        if let Some(batch_id) = &doc.batch_id {
            let mut batches = lock(&self.batches);
            let b = batches
                .get_mut(batch_id)
                .ok_or_else(|| StoreError::NotFound(format!("batch {batch_id}")))?;
            if doc.processing_status == ProcessingStatus::Failed {
                b.failed_files += 1;
            } else {
                b.processed_files += 1;
            }
        }
        let mut stored = doc.clone();
        stored.version += 1;
        docs.insert(doc.id.clone(), stored);
        Ok(true)
    }

    async fn find_completed_by_hash(
        &self,
        org_id: &str,
        hash: &str,
    ) -> Result<Option<ImportedDocument>, StoreError> {
        Ok(lock(&self.documents)
            .values()
            .find(|d| {
                d.org_id == org_id
                    && d.content_hash.as_deref() == Some(hash)
                    && d.processing_status == ProcessingStatus::Completed
                    && d.duplicate_of.is_none()
            })
            .cloned())
    }

    async fn list_stale_processing(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<ImportedDocument>, StoreError> {
        let mut stale: Vec<_> = lock(&self.documents)
            .values()
            .filter(|d| d.processing_status == ProcessingStatus::Processing)
            .filter(|d| {
                d.processing_lease
                    .as_ref()
                    .is_some_and(|l| l.started_at < before)
            })
            .cloned()
            .collect();
        stale.sort_by_key(|d| d.processing_lease.as_ref().map(|l| l.started_at));
        stale.truncate(limit as usize);
        Ok(stale)
    }
}

#[async_trait]
impl SyncLogStore for MemoryStore {
    async fn put(&self, log: &SyncLog) -> Result<(), StoreError> {
        lock(&self.sync_logs).insert((log.connector_id.clone(), log.id.clone()), log.clone());
        Ok(())
    }

    async fn get(&self, connector_id: &str, id: &str) -> Result<Option<SyncLog>, StoreError> {
        Ok(lock(&self.sync_logs)
            .get(&(connector_id.to_string(), id.to_string()))
            .cloned())
    }

    async fn list(
        &self,
        connector_id: &str,
        page: &PageRequest,
    ) -> Result<Page<SyncLog>, StoreError> {
        let items: Vec<_> = lock(&self.sync_logs)
            .values()
            .rev()
            .filter(|l| l.connector_id == connector_id)
            .cloned()
            .collect();
        page_of(items, page)
    }
}

#[async_trait]
impl ActivityStore for MemoryStore {
    async fn append(&self, event: &ActivityEvent) -> Result<(), StoreError> {
        lock(&self.activity).push(event.clone());
        Ok(())
    }

    async fn list(
        &self,
        org_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ActivityEvent>, StoreError> {
        let mut items: Vec<_> = lock(&self.activity)
            .iter()
            .filter(|e| e.org_id == org_id)
            .cloned()
            .collect();
        items.sort_by(|a, b| b.id.cmp(&a.id));
        page_of(items, page)
    }
}

#[async_trait]
impl WebhookEventStore for MemoryStore {
    async fn record(&self, event: &WebhookEvent) -> Result<bool, StoreError> {
        let mut map = lock(&self.webhooks);
        let key = (event.source.clone(), event.event_id.clone());
        if map.contains_key(&key) {
            return Ok(false);
        }
        map.insert(key, event.clone());
        Ok(true)
    }

    async fn get(&self, source: &str, event_id: &str) -> Result<Option<WebhookEvent>, StoreError> {
        Ok(lock(&self.webhooks)
            .get(&(source.to_string(), event_id.to_string()))
            .cloned())
    }

    async fn mark_processed(
        &self,
        source: &str,
        event_id: &str,
        at: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut map = lock(&self.webhooks);
        let e = map
            .get_mut(&(source.to_string(), event_id.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("webhook event {event_id}")))?;
        e.processed = error.is_none();
        e.processed_at = Some(at);
        e.processing_error = error.map(str::to_string);
        if error.is_some() {
            e.retry_count += 1;
        }
        Ok(())
    }
}

#[async_trait]
impl UploadBatchStore for MemoryStore {
    async fn create(&self, batch: &UploadBatch) -> Result<(), StoreError> {
        lock(&self.batches).insert(batch.id.clone(), batch.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<UploadBatch>, StoreError> {
        Ok(lock(&self.batches).get(id).cloned())
    }

    async fn add_counts(
        &self,
        id: &str,
        processed: i64,
        failed: i64,
    ) -> Result<UploadBatch, StoreError> {
        let mut map = lock(&self.batches);
        let b = map
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
        b.processed_files = b.processed_files.saturating_add_signed(processed);
        b.failed_files = b.failed_files.saturating_add_signed(failed);
        Ok(b.clone())
    }

    async fn set_status(
        &self,
        id: &str,
        status: BatchStatus,
        completed_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut map = lock(&self.batches);
        let b = map
            .get_mut(id)
            .ok_or_else(|| StoreError::NotFound(format!("batch {id}")))?;
        b.status = status;
        b.completed_at = completed_at;
        Ok(())
    }
}

#[async_trait]
impl OAuthStateStore for MemoryStore {
    async fn put(&self, state: &OAuthState) -> Result<(), StoreError> {
        lock(&self.oauth).insert(state.state.clone(), state.clone());
        Ok(())
    }

    async fn get(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        Ok(lock(&self.oauth).get(state).cloned())
    }

    async fn take(&self, state: &str) -> Result<Option<OAuthState>, StoreError> {
        Ok(lock(&self.oauth).remove(state))
    }
}

#[derive(Default)]
pub struct MemoryBlobs {
    pub objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// Every range read (key, start, len), so tests can see how much was read at once.
    pub range_reads: Mutex<Vec<(String, u64, u64)>>,
    /// Parts of unfinished multipart uploads, by upload id then part number.
    pub parts: Mutex<HashMap<String, BTreeMap<u32, Vec<u8>>>>,
}

/// The ETag the in-memory store gives an object: derived from its bytes, as S3's is for a
/// single PUT (the same bytes stored again keep it), unquoted as in S3's notifications.
pub fn etag_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(bytes)[..16])
}

impl MemoryBlobs {
    /// The current version's ETag, or `ConditionFailed` when it is not `if_match`.
    fn matching(&self, key: &str, if_match: Option<&str>) -> Result<Option<String>, StoreError> {
        let Some(etag) = lock(&self.objects).get(key).map(|(b, _)| etag_of(b)) else {
            return Ok(None);
        };
        match if_match {
            Some(want) if want.trim_matches('"') != etag => Err(StoreError::ConditionFailed(
                format!("{key} is no longer version {want}"),
            )),
            _ => Ok(Some(etag)),
        }
    }

    /// What a client's PUT to a part URL does (no length is enforced here, as on moto).
    pub fn upload_part(&self, upload_id: &str, part_number: u32, bytes: Vec<u8>) {
        lock(&self.parts)
            .entry(upload_id.to_owned())
            .or_default()
            .insert(part_number, bytes);
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        lock(&self.objects).insert(key.to_string(), (bytes, content_type.to_string()));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.objects).get(key).map(|(b, _)| b.clone()))
    }

    async fn get_range(
        &self,
        key: &str,
        start: u64,
        len: u64,
    ) -> Result<Option<RangeRead>, StoreError> {
        lock(&self.range_reads).push((key.to_owned(), start, len));
        Ok(lock(&self.objects).get(key).map(|(b, _)| {
            let from = (start as usize).min(b.len());
            let to = (start.saturating_add(len) as usize).min(b.len());
            RangeRead {
                bytes: b[from..to].to_vec(),
                total: b.len() as u64,
            }
        }))
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        Ok(format!(
            "memory://get/{key}?expires={}",
            expires_in.as_secs()
        ))
    }

    async fn start_multipart(&self, key: &str, _content_type: &str) -> Result<String, StoreError> {
        Ok(format!("mpu-{key}"))
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        _parts: &[UploadedPart],
    ) -> Result<u64, StoreError> {
        // Completion only creates, as S3 does with If-None-Match: * (the upload stays).
        if lock(&self.parts).contains_key(upload_id) && lock(&self.objects).contains_key(key) {
            return Err(StoreError::ConditionFailed(format!(
                "an object exists at {key}"
            )));
        }
        if let Some(parts) = lock(&self.parts).remove(upload_id) {
            let bytes = parts.into_values().flatten().collect::<Vec<u8>>();
            let size = bytes.len() as u64;
            lock(&self.objects).insert(key.to_owned(), (bytes, String::new()));
            return Ok(size);
        }
        // Otherwise tests put the bytes under the key directly, as if the parts were uploaded.
        lock(&self.objects)
            .get(key)
            .map(|(b, _)| b.len() as u64)
            .ok_or_else(|| StoreError::NotFound(format!("no parts for {key}")))
    }

    async fn put_stream(
        &self,
        key: &str,
        content_type: &str,
        mut stream: ByteStream,
    ) -> Result<StoredBlob, PutStreamError> {
        use futures::StreamExt;
        let mut digest = StreamDigest::default();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            digest.update(&chunk);
            buf.extend_from_slice(&chunk);
        }
        lock(&self.objects).insert(key.to_string(), (buf, content_type.to_string()));
        Ok(digest.finish())
    }

    async fn presign_put(
        &self,
        key: &str,
        _ct: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        Ok(format!(
            "memory://put/{key}?content-length={content_length}&expires={}",
            expires_in.as_secs()
        ))
    }

    async fn presign_part(
        &self,
        key: &str,
        upload_id: &str,
        part: u32,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        Ok(format!(
            "memory://part/{key}?upload_id={upload_id}&part={part}\
             &content-length={content_length}&expires={}",
            expires_in.as_secs()
        ))
    }

    async fn list_parts(&self, _key: &str, upload_id: &str) -> Result<Vec<StoredPart>, StoreError> {
        Ok(lock(&self.parts)
            .get(upload_id)
            .into_iter()
            .flatten()
            .map(|(n, b)| StoredPart {
                part_number: *n,
                size: b.len() as u64,
                etag: format!("\"{n}-{}\"", b.len()),
            })
            .collect())
    }

    async fn abort_multipart(&self, _key: &str, upload_id: &str) -> Result<(), StoreError> {
        lock(&self.parts).remove(upload_id);
        Ok(())
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        Ok(lock(&self.objects).get(key).map(|(b, _)| b.len() as u64))
    }

    async fn get_range_version(
        &self,
        key: &str,
        start: u64,
        len: u64,
        if_match: Option<&str>,
    ) -> Result<Option<VersionRead>, StoreError> {
        let Some(etag) = self.matching(key, if_match)? else {
            return Ok(None);
        };
        let read = self.get_range(key, start, len).await?;
        Ok(read.map(|read| VersionRead { read, etag }))
    }

    async fn get_version(&self, key: &str, etag: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if self.matching(key, Some(etag))?.is_none() {
            return Ok(None);
        }
        self.get(key).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.objects).remove(key);
        Ok(())
    }

    async fn presign_download(
        &self,
        key: &str,
        expires_in: Duration,
        download: &crate::download::DownloadAs,
    ) -> Result<String, StoreError> {
        // Unencoded, for tests to read back.
        Ok(format!(
            "memory://get/{key}?expires={}&response-content-disposition={}\
             &response-content-type={}",
            expires_in.as_secs(),
            download.content_disposition,
            download.content_type
        ))
    }
}

/// Providers registered by hand (tests register fake sources).
#[derive(Default)]
pub struct StaticProviders {
    pub sources: Mutex<HashMap<ConnectorType, Arc<dyn Source>>>,
    pub oauth: Mutex<HashMap<ConnectorType, Arc<dyn OAuthClient>>>,
    pub base_url: String,
}

impl StaticProviders {
    pub fn register(&self, t: ConnectorType, source: Arc<dyn Source>) {
        lock(&self.sources).insert(t, source);
    }
    pub fn register_oauth(&self, t: ConnectorType, client: Arc<dyn OAuthClient>) {
        lock(&self.oauth).insert(t, client);
    }
}

impl Providers for StaticProviders {
    fn source(&self, t: ConnectorType) -> Option<Arc<dyn Source>> {
        lock(&self.sources).get(&t).cloned()
    }
    fn oauth(&self, t: ConnectorType) -> Option<Arc<dyn OAuthClient>> {
        lock(&self.oauth).get(&t).cloned()
    }
    fn public_base_url(&self) -> &str {
        &self.base_url
    }
}

/// Records what was sent; `fail` makes every send fail, to test how callers cope.
#[derive(Default)]
pub struct MemoryQueue {
    pub sync_jobs: Mutex<Vec<SyncJob>>,
    pub document_jobs: Mutex<Vec<DocumentJob>>,
    pub processed_events: Mutex<Vec<DocumentProcessed>>,
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryQueue {
    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::backend("queue unavailable", "injected failure"));
        }
        Ok(())
    }
    pub fn sent_sync_jobs(&self) -> Vec<SyncJob> {
        lock(&self.sync_jobs).clone()
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn send_sync(&self, job: &SyncJob) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.sync_jobs).push(job.clone());
        Ok(())
    }

    async fn send_document(&self, job: &DocumentJob) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.document_jobs).push(job.clone());
        Ok(())
    }

    async fn send_processed(&self, event: &DocumentProcessed) -> Result<(), StoreError> {
        self.check()?;
        lock(&self.processed_events).push(event.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemorySecrets {
    pub tokens: Mutex<HashMap<String, OAuthTokens>>,
    pub app: Mutex<HashMap<String, String>>,
}

#[async_trait]
impl TokenStore for MemorySecrets {
    async fn put_tokens(&self, connector_id: &str, tokens: &OAuthTokens) -> Result<(), StoreError> {
        lock(&self.tokens).insert(connector_id.to_string(), tokens.clone());
        Ok(())
    }

    async fn get_tokens(&self, connector_id: &str) -> Result<Option<OAuthTokens>, StoreError> {
        Ok(lock(&self.tokens).get(connector_id).cloned())
    }

    async fn delete_tokens(&self, connector_id: &str) -> Result<(), StoreError> {
        lock(&self.tokens).remove(connector_id);
        Ok(())
    }
}

#[async_trait]
impl AppSecrets for MemorySecrets {
    async fn get(&self, name: &str) -> Result<Option<Secret>, StoreError> {
        Ok(lock(&self.app).get(name).cloned().map(Secret::new))
    }
}

/// A clock tests can move.
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = lock(&self.0);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

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
