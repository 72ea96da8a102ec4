//! A provider written here, in a few lines, plugs into the registry and works end to end without
//! a change to the domain, the HTTP layer or the engine: listed as available, its deliveries
//! verified (a signature over the body), its handshake answered, its item events recorded once
//! and the item fetched first by the coalesced sync it queues.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use bytes::Bytes;
use recorder_connectors::Registry;
use recorder_connectors::push_token::subscription_token;
use recorder_domain::connector::*;
use recorder_domain::memory::{MemoryDeps, test_connector};
use recorder_domain::ports::TokenStore;
use recorder_domain::provider::Provider;
use recorder_domain::push::*;
use recorder_domain::secret::{OAuthTokens, Secret, same_secret};
use recorder_domain::service::connectors::list_types;
use recorder_domain::service::sync::{JobOutcome, run_sync_job};
use recorder_domain::source::*;
use recorder_domain::sync_log::{SyncStatus, SyncType};

// ---- the provider: a description, a source, a push -----------------------------------------

struct Pages {
    fetched: Mutex<Vec<String>>,
}

struct Tiny(Arc<Pages>);

#[async_trait]
impl Source for Pages {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        Ok(Account::default())
    }
    async fn list_changes(
        &self,
        _: &SourceContext,
        _: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        Ok(ChangePage {
            changes: vec![],
            cursor: "0".into(),
            has_more: false,
        })
    }
    async fn get_item(
        &self,
        _: &SourceContext,
        id: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        self.fetched.lock().unwrap().push(id.to_string());
        Ok(Some(SourceItem {
            external_id: id.into(),
            name: format!("{id}.md"),
            mime_type: Some("text/markdown".into()),
            size: Some(5),
            parents: vec![],
            external_url: None,
            fingerprint: "v1".into(),
            metadata: serde_json::Value::Null,
        }))
    }
    async fn fetch(
        &self,
        _: &SourceContext,
        _: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        let body = futures::stream::iter([Ok(Bytes::from_static(b"hello"))]);
        Ok(FetchedContent {
            content_type: "text/markdown".into(),
            stream: Box::pin(body),
        })
    }
}

#[async_trait]
impl Push for Tiny {
    fn key(&self) -> &'static str {
        "tiny"
    }
    fn secret_names(&self) -> &'static [&'static str] {
        &["tiny_signing_key"]
    }
    async fn verify(
        &self,
        d: &Delivery,
        s: &PushSecrets,
        _: &dyn SubscriptionLookup,
    ) -> Result<Verified, PushRefusal> {
        let key = s
            .get("tiny_signing_key")
            .ok_or(PushRefusal::NotConfigured("key".into()))?;
        let body =
            std::str::from_utf8(&d.body).map_err(|e| PushRefusal::Malformed(e.to_string()))?;
        let signed = subscription_token(key, "tiny", body);
        if !same_secret(&signed, d.header("x-tiny-signature").unwrap_or_default()) {
            return Err(PushRefusal::NotVerified("signature".into()));
        }
        let v: serde_json::Value =
            serde_json::from_str(body).map_err(|e| PushRefusal::Malformed(e.to_string()))?;
        if let Some(challenge) = v["challenge"].as_str() {
            let body = challenge.to_string();
            return Ok(Verified::Handshake(PushResponse {
                status: 200,
                content_type: "text/plain".into(),
                body,
            }));
        }
        let page = v["page"].as_str().unwrap_or_default().to_string();
        Ok(Verified::Events(vec![PushEvent {
            event_id: v["id"].as_str().unwrap_or_default().into(),
            event_type: "page.updated".into(),
            target: Target::Subscription {
                id: v["subscription"].as_str().unwrap_or_default().into(),
            },
            meaning: Meaning::ItemChanged { external_id: page },
            audit: BTreeMap::new(),
            payload: v,
        }]))
    }
    async fn subscribe(
        &self,
        _: &SourceContext,
        r: &Subscribe<'_>,
    ) -> Result<Option<WebhookState>, SourceError> {
        Ok(Some(WebhookState {
            channel_id: Some(r.nonce.into()),
            active: true,
            ..Default::default()
        }))
    }
    async fn unsubscribe(&self, _: &SourceContext, _: &WebhookState) -> Result<(), SourceError> {
        Ok(())
    }
}

impl Provider for Tiny {
    fn info(&self) -> ConnectorTypeInfo {
        ConnectorTypeInfo {
            connector_type: ConnectorType::Notion,
            name: "Tiny pages",
            description: "Pages from a provider written in a test",
            requires_oauth: true,
            supports_webhooks: true,
        }
    }
    fn source(&self) -> Arc<dyn Source> {
        self.0.clone()
    }
    fn oauth(&self) -> Option<Arc<dyn OAuthClient>> {
        None
    }
    fn push(&self) -> Option<Arc<dyn Push>> {
        Some(Arc::new(Tiny(self.0.clone())))
    }
}

// ---- the product, with that provider registered ------------------------------------------

const KEY: &str = "tiny-key";

fn request(body: &str, signature: &str) -> ApiGatewayV2httpRequest {
    let mut e = ApiGatewayV2httpRequest::default();
    e.raw_path = Some("/api/connectors/webhooks/tiny".into());
    e.request_context.http.method = aws_lambda_events::http::Method::POST;
    e.headers
        .insert("x-tiny-signature", signature.parse().unwrap());
    e.body = Some(body.to_string());
    e
}

fn signed(body: &str) -> ApiGatewayV2httpRequest {
    request(body, &subscription_token(KEY, "tiny", body))
}

#[tokio::test]
async fn a_provider_written_in_a_test_is_listed_verified_and_synced_through_the_real_handlers() {
    let mut m = MemoryDeps::new();
    let pages = Arc::new(Pages {
        fetched: Mutex::new(vec![]),
    });
    let registry = Registry::of(
        "https://api.example.test",
        vec![Arc::new(Tiny(pages.clone()))],
    );
    m.deps.providers = Arc::new(registry);
    m.secrets
        .app
        .lock()
        .unwrap()
        .insert("tiny_signing_key".into(), KEY.into());

    let types = list_types(m.deps.providers.as_ref());
    let tiny = types
        .iter()
        .find(|t| t.info.connector_type == ConnectorType::Notion)
        .unwrap();
    assert!(tiny.available && tiny.info.name == "Tiny pages" && tiny.info.supports_webhooks);

    // A connector holding subscription "sub-1".
    let now = m.deps.clock.now();
    let connector = test_connector("c1", "org", ConnectorType::Notion, "Tiny", now);
    m.deps.connectors.create(&connector).await.unwrap();
    let hook = WebhookState {
        channel_id: Some("sub-1".into()),
        active: true,
        ..Default::default()
    };
    m.deps
        .connectors
        .set_webhook(&connector, &hook, None)
        .await
        .unwrap();
    let tokens = OAuthTokens {
        access_token: Secret::new("at"),
        refresh_token: None,
        expires_at: None,
        scope: None,
    };
    m.secrets.put_tokens("c1", &tokens).await.unwrap();

    // The handshake is answered as the provider asked; a forgery is refused with nothing queued.
    let handshake =
        recorder_http_api::webhooks::handle_webhook(&m.deps, signed(r#"{"challenge":"c-42"}"#))
            .await;
    assert_eq!(
        (handshake.status_code, format!("{:?}", handshake.body)),
        (200, "Some(Text(\"c-42\"))".into())
    );
    let body = r#"{"id":"ev-1","subscription":"sub-1","page":"page-7"}"#;
    let forged = recorder_http_api::webhooks::handle_webhook(&m.deps, request(body, "bad")).await;
    assert_eq!(forged.status_code, 403);
    assert!(m.queue.push_jobs.lock().unwrap().is_empty());

    // Accepted twice (a provider's retry); the worker records it once and queues one sync.
    for _ in 0..2 {
        let ok = recorder_http_api::webhooks::handle_webhook(&m.deps, signed(body)).await;
        assert_eq!(ok.status_code, 200);
    }
    let records = m
        .queue
        .push_jobs
        .lock()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let mut r = SqsMessage::default();
            r.message_id = Some(format!("m{i}"));
            r.body = Some(serde_json::to_string(job).unwrap());
            r
        })
        .collect();
    let mut sqs = SqsEvent::default();
    sqs.records = records;
    let resp = recorder_jobs::webhook_worker::handle_webhook_events(&m.deps, sqs).await;
    assert!(resp.batch_item_failures.is_empty());
    let event = m
        .deps
        .webhook_events
        .get("tiny", "ev-1")
        .await
        .unwrap()
        .unwrap();
    assert!(event.processed && event.connector_id.as_deref() == Some("c1"));

    // The sync fetches the notified page first, though the change feed is empty.
    let jobs: Vec<_> = m
        .queue
        .sent_sync_jobs()
        .into_iter()
        .filter(|j| j.sync_type == SyncType::Webhook)
        .collect();
    assert_eq!(jobs.len(), 1);
    let outcome = run_sync_job(&m.deps, &jobs[0], None).await.unwrap();
    assert_eq!(outcome, JobOutcome::Finished(SyncStatus::Success));
    assert_eq!(*pages.fetched.lock().unwrap(), ["page-7"]);
    let doc = m
        .deps
        .documents
        .find_by_external_id("c1", "page-7")
        .await
        .unwrap();
    assert!(doc.is_some(), "the page was imported");
}
