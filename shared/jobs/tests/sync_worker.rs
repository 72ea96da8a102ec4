//! The sync worker on a job's last receive: a sync that keeps failing is closed `failed` with
//! the reason before SQS dead-letters its message, so no log stays `running`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Duration;
use recorder_domain::connector::{Account, Connector, ConnectorType, LastSyncStatus};
use recorder_domain::memory::{MemoryDeps, test_connector};
use recorder_domain::ports::TokenStore;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::service::connector_writes::queue_sync;
use recorder_domain::source::*;
use recorder_domain::sync_log::{SyncStatus, SyncType};
use recorder_jobs::sync_worker::{MAX_RECEIVES, handle_sync_jobs};

/// A source whose change feed is always down.
struct Down;

#[async_trait]
impl Source for Down {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account::default())
    }
    async fn list_changes(
        &self,
        _: &SourceContext,
        _: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        Err(SourceError::Transient("HTTP 503 backendError".into()))
    }
    async fn get_item(
        &self,
        _: &SourceContext,
        _: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        Err(SourceError::Transient("HTTP 503 backendError".into()))
    }
    async fn fetch(
        &self,
        _: &SourceContext,
        _: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        Err(SourceError::Transient("HTTP 503 backendError".into()))
    }
}

async fn drive_connector(m: &MemoryDeps) -> Connector {
    m.providers
        .register(ConnectorType::GoogleDrive, Arc::new(Down));
    let now = m.deps.clock.now();
    let connector = test_connector("c1", "org", ConnectorType::GoogleDrive, "Drive", now);
    m.deps.connectors.create(&connector).await.unwrap();
    let tokens = OAuthTokens {
        access_token: Secret::new("at"),
        refresh_token: None,
        expires_at: Some(now + Duration::hours(1)),
        scope: None,
    };
    m.secrets.put_tokens("c1", &tokens).await.unwrap();
    connector
}

fn delivery(body: &str, receive_count: u32) -> SqsEvent {
    serde_json::from_value(serde_json::json!({"Records": [{
        "messageId": format!("m{receive_count}"),
        "body": body,
        "attributes": {"ApproximateReceiveCount": receive_count.to_string()},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:SyncJobsQueue.fifo",
    }]}))
    .unwrap()
}

#[tokio::test]
async fn a_sync_failing_on_its_last_receive_is_closed_failed_before_the_dead_letter_queue() {
    let m = MemoryDeps::new();
    let connector = drive_connector(&m).await;
    let log = queue_sync(&m.deps, &connector, SyncType::Manual, None)
        .await
        .unwrap();
    let body = serde_json::to_string(&m.queue.sent_sync_jobs()[0]).unwrap();
    for receive in 1..MAX_RECEIVES {
        let resp = handle_sync_jobs(&m.deps, delivery(&body, receive), None).await;
        assert_eq!(resp.batch_item_failures.len(), 1, "SQS retries it");
        let stored = m.deps.sync_logs.get("c1", &log.id).await.unwrap().unwrap();
        assert_eq!(stored.status, SyncStatus::Running, "receive {receive}");
    }
    let resp = handle_sync_jobs(&m.deps, delivery(&body, MAX_RECEIVES), None).await;
    assert_eq!(resp.batch_item_failures.len(), 1, "still dead-lettered");
    let stored = m.deps.sync_logs.get("c1", &log.id).await.unwrap().unwrap();
    assert_eq!(stored.status, SyncStatus::Failed);
    let why = stored.error_message.unwrap();
    assert!(
        why.contains("failed 5 times") && why.contains("503"),
        "{why}"
    );
    assert!(stored.completed_at.is_some());
    let c = m.deps.connectors.get("org", "c1").await.unwrap().unwrap();
    assert_eq!(c.last_sync_status, Some(LastSyncStatus::Failed));
    assert!(c.sync_progress.is_none());
}

#[test]
fn max_receives_is_the_sync_queue_redrive_setting_in_the_template() {
    let template = include_str!("../../../template.yaml");
    let queue = template
        .split("\n  SyncJobsQueue:")
        .nth(1)
        .expect("SyncJobsQueue in template.yaml");
    let queue = queue.split("\n  SyncJobsDeadLetterQueue:").next().unwrap();
    assert!(
        queue.contains(&format!("maxReceiveCount: {MAX_RECEIVES}")),
        "{queue}"
    );
}
