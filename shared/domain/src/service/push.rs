//! Deliveries from any provider, the same way: the acknowledgement verifies (the provider's
//! [`Push`]) and makes one queue send; the worker records each event once (by source and event
//! id) and acts on it: an item event has that item fetched first by a coalesced sync, a hint
//! queues a coalesced sync (see `webhook_sync`), a renewal reopens the subscription.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::connector::Connector;
use crate::error::DomainError;
use crate::ports::Deps;
use crate::push::{
    Delivery, Meaning, Push, PushEvent, PushJob, PushRefusal, PushResponse, SubscriptionLookup,
    Target, Verified,
};
use crate::service::subscriptions::{self, push_secrets};
use crate::service::sync::item_notified;
use crate::service::webhook_sync::{self, NotificationOutcome};
use crate::webhook::WebhookEvent;

/// What the acknowledgement answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Answer the provider's handshake with this.
    Handshake(PushResponse),
    /// Verified; this many events are queued for the worker.
    Accepted { events: usize },
}

struct StoreLookup<'a>(&'a Deps);

#[async_trait]
impl SubscriptionLookup for StoreLookup<'_> {
    async fn connector_of(&self, subscription_id: &str) -> Result<Option<Connector>, PushRefusal> {
        self.0
            .connectors
            .find_by_channel(subscription_id)
            .await
            .map_err(|e| PushRefusal::Unavailable(e.to_string()))
    }
}

/// The acknowledgement of a delivery to `/api/connectors/webhooks/<key>`: verified before
/// anything is written, then one queue send. Forbidden when not verified (the caller never says
/// why to the sender); NotFound for a key no provider has.
pub async fn receive(deps: &Deps, key: &str, delivery: &Delivery) -> Result<Received, DomainError> {
    let push = deps
        .providers
        .push_by_key(key)
        .ok_or_else(|| DomainError::NotFound(format!("webhook receiver '{key}'")))?;
    let secrets = push_secrets(deps, push.as_ref()).await?;
    let verified = push
        .verify(delivery, &secrets, &StoreLookup(deps))
        .await
        .map_err(|refusal| match refusal {
            PushRefusal::Unavailable(why) => DomainError::Conflict(why),
            other => DomainError::Forbidden(other.to_string()),
        })?;
    let events = match verified {
        Verified::Handshake(answer) => return Ok(Received::Handshake(answer)),
        Verified::Events(events) => events,
    };
    let count = events.len();
    if count > 0 {
        let job = PushJob {
            source: key.to_string(),
            events,
            received_at: deps.clock.now(),
        };
        deps.queue.send_push(&job).await?;
    }
    Ok(Received::Accepted { events: count })
}

/// What the worker learnt while handling one batch of deliveries, so a burst costs one connector
/// lookup and one sync decision per connector, not per event. Every event of a batch was received
/// before the batch started, so the sync the first of them queued (or the follow-up it marked)
/// reads every change the others announce.
#[derive(Default)]
pub struct Batch {
    connectors: Mutex<HashMap<String, Option<Connector>>>,
    synced: Mutex<HashMap<String, NotificationOutcome>>,
}

impl Batch {
    async fn connector(
        &self,
        deps: &Deps,
        subscription: &str,
    ) -> Result<Option<Connector>, DomainError> {
        if let Some(known) = lock(&self.connectors).get(subscription) {
            return Ok(known.clone());
        }
        let found = deps.connectors.find_by_channel(subscription).await?;
        lock(&self.connectors).insert(subscription.to_string(), found.clone());
        Ok(found)
    }

    /// A coalesced sync for the connector, decided once per batch.
    async fn sync(
        &self,
        deps: &Deps,
        connector: &Connector,
    ) -> Result<NotificationOutcome, DomainError> {
        if lock(&self.synced).contains_key(&connector.id) {
            return Ok(NotificationOutcome::Coalesced);
        }
        let outcome = webhook_sync::notified(deps, connector).await?;
        lock(&self.synced).insert(connector.id.clone(), outcome.clone());
        Ok(outcome)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The worker: every event of a queued delivery, each once. An error leaves the message to be
/// delivered again; events already handled are skipped then. `batch` is shared by the
/// deliveries of one receive.
pub async fn handle(
    deps: &Deps,
    job: &PushJob,
    batch: &Batch,
) -> Result<Vec<NotificationOutcome>, DomainError> {
    let push = deps.providers.push_by_key(&job.source).ok_or_else(|| {
        DomainError::Unsupported(format!("no provider receives '{}' any more", job.source))
    })?;
    let mut outcomes = Vec::with_capacity(job.events.len());
    let mut first_error = None;
    for event in &job.events {
        match handle_event(
            deps,
            batch,
            push.as_ref(),
            &job.source,
            event,
            job.received_at,
        )
        .await
        {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => {
                tracing::warn!(source = %job.source, event_id = %event.event_id, error = %e, "a webhook event will be handled again");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(outcomes),
    }
}

async fn handle_event(
    deps: &Deps,
    batch: &Batch,
    push: &dyn Push,
    source: &str,
    event: &PushEvent,
    received_at: DateTime<Utc>,
) -> Result<NotificationOutcome, DomainError> {
    let connector = match &event.target {
        Target::Subscription { id } => batch.connector(deps, id).await?,
    };
    let Some(connector) = connector else {
        return Ok(ignored("no connector holds this subscription any more"));
    };
    if let Err(refusal) = push.matches(event, &connector) {
        tracing::warn!(%source, connector_id = %connector.id, %refusal, "dropped a verified event");
        return Ok(ignored(&refusal.to_string()));
    }
    // Settled before anything is done (nothing to do, or already decided by this batch): the
    // event is recorded as processed in its one write.
    let settled = settled(batch, &connector, &event.meaning);
    let now = deps.clock.now();
    let record = WebhookEvent {
        source: source.to_string(),
        event_id: event.event_id.clone(),
        event_type: event.event_type.clone(),
        connector_id: Some(connector.id.clone()),
        org_id: Some(connector.org_id.clone()),
        payload: event.payload.clone(),
        headers: event.audit.clone(),
        processed: settled.is_some(),
        processed_at: settled.is_some().then_some(now),
        processing_error: None,
        retry_count: 0,
        received_at,
    };
    if !deps.webhook_events.record(&record).await? {
        let earlier = deps.webhook_events.get(source, &event.event_id).await?;
        if earlier.is_none_or(|e| e.processed) {
            return Ok(ignored("replayed notification"));
        }
    } else if let Some(outcome) = settled {
        return Ok(outcome);
    }
    let outcome = match settled {
        Some(outcome) => Ok(outcome),
        None => act(deps, batch, &connector, &event.meaning).await,
    };
    let error = outcome.as_ref().err().map(ToString::to_string);
    let marked = deps
        .webhook_events
        .mark_processed(source, &event.event_id, deps.clock.now(), error.as_deref())
        .await;
    let outcome = outcome?;
    marked?;
    Ok(outcome)
}

/// The outcome of an event that needs no action of its own: one that means nothing to do, one
/// for a connector that is not active, a hint whose sync this batch already decided.
fn settled(batch: &Batch, connector: &Connector, meaning: &Meaning) -> Option<NotificationOutcome> {
    match meaning {
        Meaning::Ignore { reason } => Some(ignored(reason)),
        _ if !connector.is_active() => Some(ignored("connector is not active")),
        Meaning::SyncHint if lock(&batch.synced).contains_key(&connector.id) => {
            Some(NotificationOutcome::Coalesced)
        }
        _ => None,
    }
}

fn ignored(why: &str) -> NotificationOutcome {
    NotificationOutcome::Ignored(why.to_string())
}

async fn act(
    deps: &Deps,
    batch: &Batch,
    connector: &Connector,
    meaning: &Meaning,
) -> Result<NotificationOutcome, DomainError> {
    match meaning {
        Meaning::Ignore { reason } => Ok(ignored(reason)),
        Meaning::SyncHint => batch.sync(deps, connector).await,
        Meaning::ItemChanged { external_id }
        | Meaning::ItemDeleted { external_id }
        | Meaning::ItemRestored { external_id } => {
            item_notified(deps, &connector.id, external_id).await?;
            batch.sync(deps, connector).await
        }
        Meaning::Renew => {
            subscriptions::open(deps, connector).await?;
            Ok(NotificationOutcome::Renewed)
        }
    }
}
