//! What the domain tests share: the Drive connector they sync, the queue-and-run of a sync, the
//! activity they read, and the member who uploads.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

pub mod push;

use std::sync::Arc;

use chrono::Duration;
use recorder_domain::activity::ActivityKind;
use recorder_domain::connector::{Connector, ConnectorType};
use recorder_domain::document::ImportedDocument;
use recorder_domain::jobs::SyncJob;
use recorder_domain::memory::{MemoryDeps, test_connector};
use recorder_domain::paging::PageRequest;
use recorder_domain::ports::TokenStore;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::connector_writes::queue_sync;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};
use recorder_domain::service::uploads::{self, UploadRequest, UploadTicket};
use recorder_domain::settings::{Settings, UploadLimits};
use recorder_domain::sync_log::{SyncLog, SyncType};
use recorder_domain::{Caller, Role};

/// Stores the Drive connector `c1` of `org`, with tokens that expire after `valid_for`.
pub async fn drive_connector(m: &MemoryDeps, valid_for: Duration) -> Connector {
    let now = m.deps.clock.now();
    let connector = test_connector("c1", "org", ConnectorType::GoogleDrive, "Drive", now);
    m.deps.connectors.create(&connector).await.unwrap();
    let tokens = OAuthTokens {
        access_token: Secret::new("at"),
        refresh_token: Some(Secret::new("rt")),
        expires_at: Some(now + valid_for),
        scope: None,
    };
    m.secrets.put_tokens("c1", &tokens).await.unwrap();
    connector
}

/// Queues a manual sync of `connector` and returns the job sent for it.
pub async fn queue(m: &MemoryDeps, connector: &Connector) -> SyncJob {
    queue_sync(&m.deps, connector, SyncType::Manual, None)
        .await
        .unwrap();
    m.queue.sent_sync_jobs().last().cloned().unwrap()
}

/// Queues a manual sync of `connector`, runs it, and returns how it ended and its log.
pub async fn sync(m: &MemoryDeps, connector: &Connector) -> (JobOutcome, SyncLog) {
    let job = queue(m, connector).await;
    let outcome = run_sync_job(&m.deps, &job, None).await.unwrap();
    let log = m.deps.sync_logs.get("c1", &job.sync_log_id).await.unwrap();
    (outcome, log.unwrap())
}

/// The first 200 documents of connector `c1`.
pub async fn docs(m: &MemoryDeps) -> Vec<ImportedDocument> {
    let page = PageRequest::new(Some(200), None);
    let docs = m.deps.documents.list_by_connector("c1", &page);
    docs.await.unwrap().items
}

/// The kinds of the first page of `org`'s activity, newest first.
pub async fn activity_kinds(m: &MemoryDeps, org: &str) -> Vec<ActivityKind> {
    let page = PageRequest::new(None, None);
    let events = m.deps.activity.list(org, &page).await.unwrap().items;
    events.into_iter().map(|e| e.kind).collect()
}

/// The member of `org_up` who uploads.
pub fn member() -> Caller {
    Caller {
        org_id: "org_up".into(),
        user_id: "ana".into(),
        role: Role::Member,
    }
}

/// Multipart above 10 bytes, in parts of 5 (tiny numbers: the memory store checks no minimum).
pub fn small_parts() -> MemoryDeps {
    let mut m = MemoryDeps::new();
    m.deps.settings = Arc::new(Settings {
        uploads: UploadLimits {
            multipart_threshold: 10,
            part_size: 5,
            ..UploadLimits::default()
        },
        ..Settings::default()
    });
    m
}

/// Asks for an upload URL for a text file as `member()`.
pub async fn upload(m: &MemoryDeps, name: &str, size: u64) -> UploadTicket {
    let req = UploadRequest {
        name: name.into(),
        size,
        content_type: "text/plain".into(),
        connector_id: None,
    };
    uploads::request_upload(&m.deps, &member(), req)
        .await
        .unwrap()
}
