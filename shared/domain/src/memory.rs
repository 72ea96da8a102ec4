//! In-memory adapters for every port: fast domain and handler tests, same rules as the AWS
//! adapters (conditional writes, single-use states, newest-first listings). One file per port
//! below `memory/`; compiled only for tests (the `test-support` feature), never into a Lambda.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::activity::ActivityEvent;
use crate::connector::Connector;
use crate::document::ImportedDocument;
use crate::error::StoreError;
use crate::paging::{Page, PageRequest};
use crate::ports::OAuthState;
use crate::sync_log::SyncLog;
use crate::upload::UploadBatch;
use crate::webhook::{WebhookEvent, WebhookSync};

mod activity;
mod batches;
mod blobs;
mod clock;
mod connectors;
mod deps;
mod documents;
mod locks;
mod oauth_states;
mod providers;
mod queue;
mod retries;
mod secrets;
mod sync_logs;
mod usage;
mod webhook_events;

pub use blobs::{MemoryBlobs, etag_of};
pub use clock::FixedClock;
pub use deps::{MemoryDeps, test_connector};
pub use providers::StaticProviders;
pub use queue::MemoryQueue;
pub use retries::MemoryRetries;
pub use secrets::MemorySecrets;

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

/// Every store port in one value, like the one DynamoDB table; each port's impl is in its file.
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
