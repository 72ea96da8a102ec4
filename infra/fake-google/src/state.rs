//! The fake user's Drive and everything else the server remembers, plus the methods tests use to
//! change that Drive as a user would. Every mutation appends to the change feed and pokes the open
//! push channels, as Drive does.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::FakeConfig;
use crate::faults::Faults;
use crate::mime;
use crate::notify::Channels;
use crate::oauth::OAuthStore;

/// The folder Drive calls `root` (My Drive); files without parents live here.
pub const ROOT_FOLDER_ID: &str = "0AFakeRootFolderMyDrive";

/// A Drive file id (opaque to clients, like Google's).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FileId(pub String);

impl FileId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for FileId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A file to put in the fake Drive. For Google-native types (Docs, Sheets, Slides) `content` is the
/// document's text, which exports are made from; it is never downloadable as is.
#[derive(Debug, Clone, Default)]
pub struct NewFile {
    pub name: String,
    pub mime_type: String,
    /// Empty means My Drive's root (or the shared drive's root when `drive_id` is set).
    pub parents: Vec<String>,
    pub content: Vec<u8>,
    /// Set for a file in a shared drive.
    pub drive_id: Option<String>,
}

impl NewFile {
    pub fn new(
        name: impl Into<String>,
        mime_type: impl Into<String>,
        content: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            name: name.into(),
            mime_type: mime_type.into(),
            content: content.into(),
            ..Self::default()
        }
    }

    pub fn google_doc(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(name, mime::GOOGLE_DOC, text.into().into_bytes())
    }

    pub fn in_folder(mut self, folder_id: impl Into<String>) -> Self {
        self.parents.push(folder_id.into());
        self
    }
}

/// A file as the fake Drive holds it.
#[derive(Debug, Clone)]
pub struct FileRecord {
    pub id: FileId,
    pub name: String,
    pub mime_type: String,
    pub parents: Vec<String>,
    pub content: Bytes,
    pub created_time: DateTime<Utc>,
    pub modified_time: DateTime<Utc>,
    pub trashed: bool,
    pub drive_id: Option<String>,
    /// Drive's monotonically increasing file version.
    pub version: u64,
    /// Insertion order: files.list pages walk this.
    pub(crate) created_seq: u64,
    /// Kept with the content so listings need not hash every file again.
    pub(crate) md5: String,
}

impl FileRecord {
    /// Files with bytes one can download (not Google-native documents nor folders).
    pub fn is_binary(&self) -> bool {
        !self.mime_type.starts_with(mime::GOOGLE_APPS_PREFIX)
    }
}

/// One entry of the change feed; its sequence number is its index + 1.
#[derive(Debug, Clone)]
pub(crate) struct ChangeRecord {
    pub file_id: FileId,
    pub removed: bool,
    pub time: DateTime<Utc>,
    /// The file as it was right after the change; `None` when removed.
    pub file: Option<FileRecord>,
    pub drive_id: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct DriveStore {
    pub files: BTreeMap<u64, FileRecord>,
    pub by_id: HashMap<String, u64>,
    pub changes: Vec<ChangeRecord>,
    next_created_seq: u64,
}

impl DriveStore {
    pub fn get(&self, id: &str) -> Option<&FileRecord> {
        self.by_id.get(id).and_then(|seq| self.files.get(seq))
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut FileRecord> {
        let seq = *self.by_id.get(id)?;
        self.files.get_mut(&seq)
    }

    /// The token naming "after every change so far".
    pub fn start_page_token(&self) -> u64 {
        self.changes.len() as u64 + 1
    }

    fn record(&mut self, id: &str, removed: bool, now: DateTime<Utc>) {
        let file = if removed { None } else { self.get(id).cloned() };
        let drive_id = file.as_ref().and_then(|f| f.drive_id.clone());
        self.changes.push(ChangeRecord {
            file_id: FileId(id.to_string()),
            removed,
            time: now,
            file,
            drive_id,
        });
    }
}

/// What the server counted since it started (or since [`FakeState::reset_stats`]).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Calls per endpoint, e.g. `drive.files.list`, `oauth.token`, whatever their outcome.
    pub calls: BTreeMap<String, u64>,
    pub http_401_served: u64,
    pub http_429_served: u64,
    /// `403 userRateLimitExceeded` answers of the rate limit.
    pub http_403_rate_limit_served: u64,
    pub http_5xx_served: u64,
    /// Access tokens handed out for an authorization code.
    pub tokens_issued: u64,
    /// Access tokens handed out for a refresh token.
    pub tokens_refreshed: u64,
    pub refresh_tokens_issued: u64,
    pub notifications_sent: u64,
    pub notifications_failed: u64,
}

impl Stats {
    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.calls.get(endpoint).copied().unwrap_or(0)
    }

    pub(crate) fn count(&mut self, endpoint: &str) {
        *self.calls.entry(endpoint.to_string()).or_default() += 1;
    }
}

/// A change to the fake Drive that failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FakeError {
    #[error("file not found: {0}")]
    FileNotFound(String),
}

/// Everything the fake remembers. Locks are std mutexes, never held across an `.await`.
pub struct FakeState {
    pub(crate) config: FakeConfig,
    pub(crate) base_url: String,
    pub(crate) drive: Mutex<DriveStore>,
    pub(crate) oauth: Mutex<OAuthStore>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) channels: Mutex<Channels>,
    /// Shared with the notification workers, which outlive any one request.
    pub(crate) stats: Arc<Mutex<Stats>>,
    pub(crate) http: reqwest::Client,
}

/// Poisoning only follows a panic elsewhere; the data is still usable for a fake.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeState {
    pub(crate) fn new(config: FakeConfig, base_url: String) -> Self {
        let faults = Faults::new(config.rate_limit_per_sec);
        Self {
            config,
            base_url,
            drive: Mutex::default(),
            oauth: Mutex::default(),
            faults: Mutex::new(faults),
            channels: Mutex::default(),
            stats: Arc::default(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn config(&self) -> &FakeConfig {
        &self.config
    }

    /// Adds a file (a change is recorded) and returns its new id.
    pub fn add_file(&self, file: NewFile) -> FileId {
        self.add_file_with_id(file, &mut rand::rng())
    }

    pub(crate) fn add_file_with_id(&self, file: NewFile, rng: &mut impl Rng) -> FileId {
        let now = Utc::now();
        let id = {
            let mut drive = lock(&self.drive);
            let id = loop {
                let candidate = new_file_id(rng);
                if !drive.by_id.contains_key(&candidate) {
                    break candidate;
                }
            };
            let parents = if !file.parents.is_empty() {
                file.parents
            } else {
                vec![
                    file.drive_id
                        .clone()
                        .unwrap_or_else(|| ROOT_FOLDER_ID.to_string()),
                ]
            };
            let seq = drive.next_created_seq;
            drive.next_created_seq += 1;
            let record = FileRecord {
                id: FileId(id.clone()),
                name: file.name,
                mime_type: file.mime_type,
                parents,
                md5: crate::content::md5_hex(&file.content),
                content: Bytes::from(file.content),
                created_time: now,
                modified_time: now,
                trashed: false,
                drive_id: file.drive_id,
                version: 1,
                created_seq: seq,
            };
            drive.files.insert(seq, record);
            drive.by_id.insert(id.clone(), seq);
            drive.record(&id, false, now);
            id
        };
        self.notify_change();
        FileId(id)
    }

    /// Replaces a file's content (for Google-native files: the text exports are made from).
    pub fn update_content(&self, id: &str, content: impl Into<Vec<u8>>) -> Result<(), FakeError> {
        let content = Bytes::from(content.into());
        let md5 = crate::content::md5_hex(&content);
        self.mutate(id, |f| {
            f.content = content;
            f.md5 = md5;
        })
    }

    pub fn rename(&self, id: &str, name: impl Into<String>) -> Result<(), FakeError> {
        let name = name.into();
        self.mutate(id, |f| f.name = name)
    }

    /// Moves a file to the trash: it stays listable, with `trashed: true`.
    pub fn trash(&self, id: &str) -> Result<(), FakeError> {
        self.mutate(id, |f| f.trashed = true)
    }

    pub fn untrash(&self, id: &str) -> Result<(), FakeError> {
        self.mutate(id, |f| f.trashed = false)
    }

    /// Deletes a file for good: it is gone and the feed says `removed: true`.
    pub fn delete(&self, id: &str) -> Result<(), FakeError> {
        {
            let mut drive = lock(&self.drive);
            let seq = drive
                .by_id
                .remove(id)
                .ok_or_else(|| FakeError::FileNotFound(id.to_string()))?;
            drive.files.remove(&seq);
            drive.record(id, true, Utc::now());
        }
        self.notify_change();
        Ok(())
    }

    fn mutate(&self, id: &str, change: impl FnOnce(&mut FileRecord)) -> Result<(), FakeError> {
        {
            let mut drive = lock(&self.drive);
            let now = Utc::now();
            let file = drive
                .get_mut(id)
                .ok_or_else(|| FakeError::FileNotFound(id.to_string()))?;
            change(file);
            file.modified_time = now;
            file.version += 1;
            drive.record(id, false, now);
        }
        self.notify_change();
        Ok(())
    }

    /// Adds `n` files of mixed kinds, the same ones for the same seed (on the same starting Drive).
    pub fn seed(&self, n: usize, seed: u64) -> Vec<FileId> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let file = crate::content::seed_file(i, &mut rng);
                self.add_file_with_id(file, &mut rng)
            })
            .collect()
    }

    /// The file as it is now, if it exists (trashed files do).
    pub fn file(&self, id: &str) -> Option<FileRecord> {
        lock(&self.drive).get(id).cloned()
    }

    pub fn file_count(&self) -> usize {
        lock(&self.drive).files.len()
    }

    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
    }

    pub(crate) fn count_call(&self, endpoint: &str) {
        lock(&self.stats).count(endpoint);
    }
}

/// Drive ids look like 33 characters of URL-safe base64; ours have the same alphabet and length.
fn new_file_id(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = String::from("1");
    id.extend((0..32).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char));
    id
}
