//! Push notifications for `changes.watch`: channels, and one delivery task per channel so that its
//! messages arrive in order ("sync" first, then "change" with rising message numbers).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bytes::Bytes;
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::drive::{ApiResult, parse_change_token};
use crate::errors::ApiError;
use crate::state::{FakeState, Stats, lock};

/// Drive lets a changes channel live up to a week; without `expiration` it gets an hour.
const MAX_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
const DEFAULT_TTL_MS: i64 = 3600 * 1000;

#[derive(Debug, Default)]
pub(crate) struct Channels {
    open: HashMap<String, Channel>,
}

#[derive(Debug)]
struct Channel {
    resource_id: String,
    expiration_ms: i64,
    next_message: u64,
    outbox: mpsc::UnboundedSender<Message>,
}

#[derive(Debug)]
struct Message {
    number: u64,
    resource_state: &'static str,
}

/// What a notification says about its channel (fixed for the channel's life).
#[derive(Debug, Clone)]
struct Delivery {
    channel_id: String,
    token: Option<String>,
    address: String,
    resource_id: String,
    resource_uri: String,
    expiration_ms: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WatchRequest {
    id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    address: Option<String>,
    token: Option<String>,
    /// Google's int64 fields come as strings, but clients also send numbers.
    expiration: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopRequest {
    id: Option<String>,
    resource_id: Option<String>,
}

/// Local receivers are allowed over plain http so tests need no TLS; anything else must be https.
fn acceptable_address(address: &str) -> bool {
    match url::Url::parse(address) {
        Ok(url) if url.scheme() == "https" => url.host().is_some(),
        Ok(url) if url.scheme() == "http" => {
            matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
        }
        _ => false,
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// `POST /drive/v3/changes/watch?pageToken=…`
pub(crate) async fn watch(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult {
    state.admit("drive.changes.watch", &headers).await?;
    let page_token = query
        .get("pageToken")
        .ok_or_else(|| ApiError::required("pageToken"))?;
    parse_change_token(&lock(&state.drive), page_token)?;
    let request: WatchRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON payload received. {e}")))?;
    let id = request
        .id
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::required("id"))?;
    if !matches!(request.kind.as_deref(), Some("web_hook" | "webhook")) {
        return Err(ApiError::bad_request(format!(
            "Invalid value for type: {}",
            request.kind.unwrap_or_default()
        )));
    }
    let address = request.address.unwrap_or_default();
    if !acceptable_address(&address) {
        return Err(ApiError::bad_request(format!(
            "WebHook callback must be HTTPS: {address}"
        )));
    }
    let requested = match &request.expiration {
        Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        _ => None,
    };
    let now = now_ms();
    let expiration_ms = requested
        .unwrap_or(now + DEFAULT_TTL_MS)
        .min(now + MAX_TTL_MS);

    let resource_id = format!(
        "fake-resource-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    let resource_uri = format!(
        "{}/drive/v3/changes?alt=json&pageToken={page_token}",
        state.base_url
    );
    let delivery = Delivery {
        channel_id: id.clone(),
        token: request.token.clone(),
        address,
        resource_id: resource_id.clone(),
        resource_uri: resource_uri.clone(),
        expiration_ms,
    };
    {
        let mut channels = lock(&state.channels);
        if channels.open.contains_key(&id) {
            return Err(ApiError::channel_id_not_unique(&id));
        }
        let (outbox, inbox) = mpsc::unbounded_channel();
        tokio::spawn(deliver(
            state.http.clone(),
            state.stats.clone(),
            delivery,
            inbox,
        ));
        // Drive confirms a new channel with a "sync" message before any "change".
        let _ = outbox.send(Message {
            number: 1,
            resource_state: "sync",
        });
        channels.open.insert(
            id.clone(),
            Channel {
                resource_id: resource_id.clone(),
                expiration_ms,
                next_message: 2,
                outbox,
            },
        );
    }
    let mut body = json!({
        "kind": "api#channel",
        "id": id,
        "resourceId": resource_id,
        "resourceUri": resource_uri,
        "expiration": expiration_ms.to_string(),
    });
    if let Some(token) = request.token {
        body["token"] = json!(token);
    }
    Ok(axum::Json(body).into_response())
}

/// `POST /drive/v3/channels/stop` {id, resourceId} → 204.
pub(crate) async fn stop(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    state.admit("drive.channels.stop", &headers).await?;
    let request: StopRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON payload received. {e}")))?;
    let id = request.id.unwrap_or_default();
    let mut channels = lock(&state.channels);
    match channels.open.get(&id) {
        Some(channel) if Some(&channel.resource_id) == request.resource_id.as_ref() => {
            // Dropping the sender lets the delivery task finish what is queued, then end.
            channels.open.remove(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::channel_not_found(&id)),
    }
}

impl FakeState {
    /// Queues a "change" message on every live channel and closes the expired ones.
    pub(crate) fn notify_change(&self) {
        let now = now_ms();
        let mut channels = lock(&self.channels);
        channels.open.retain(|_, channel| {
            if channel.expiration_ms <= now {
                return false;
            }
            let number = channel.next_message;
            channel.next_message += 1;
            channel
                .outbox
                .send(Message {
                    number,
                    resource_state: "change",
                })
                .is_ok()
        });
    }

    /// How many push channels are open (not stopped, not expired as of the last change).
    pub fn open_channels(&self) -> usize {
        lock(&self.channels).open.len()
    }
}

/// Sends a channel's messages one at a time; failures are logged and counted, never retried
/// (Drive retries with backoff, but the connector must cope with lost messages anyway).
async fn deliver(
    http: reqwest::Client,
    stats: Arc<Mutex<Stats>>,
    channel: Delivery,
    mut inbox: mpsc::UnboundedReceiver<Message>,
) {
    let expiration = Utc
        .timestamp_millis_opt(channel.expiration_ms)
        .single()
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    while let Some(message) = inbox.recv().await {
        let mut request = http
            .post(&channel.address)
            .header("X-Goog-Channel-ID", &channel.channel_id)
            .header("X-Goog-Channel-Expiration", &expiration)
            .header("X-Goog-Resource-ID", &channel.resource_id)
            .header("X-Goog-Resource-URI", &channel.resource_uri)
            .header("X-Goog-Resource-State", message.resource_state)
            .header("X-Goog-Message-Number", message.number.to_string())
            .header(reqwest::header::CONTENT_LENGTH, "0");
        if let Some(token) = &channel.token {
            request = request.header("X-Goog-Channel-Token", token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => lock(&stats).notifications_sent += 1,
            Ok(response) => {
                tracing::warn!(channel = %channel.channel_id, status = %response.status(), "push notification refused");
                lock(&stats).notifications_failed += 1;
            }
            Err(error) => {
                tracing::warn!(channel = %channel.channel_id, %error, "push notification failed");
                lock(&stats).notifications_failed += 1;
            }
        }
    }
}
