//! A fake of OpenAI's Whisper transcription endpoint (`POST /v1/audio/transcriptions`) for tests
//! and the local demo. It follows OpenAI's request fields, error bodies, size limit and response
//! formats; the "recognition" is deterministic (see [`audio`]) so tests can check how a client
//! stitches segments. Faults (429/5xx with `Retry-After`) and latency are switchable.

pub mod audio;
mod render;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use audio::{AudioError, Segment, Transcript};

/// OpenAI's upload limit for this endpoint.
pub const OPENAI_MAX_BYTES: usize = 26_214_400;

/// How the fake behaves. `Default` is OpenAI's limit and the local demo's key.
#[derive(Debug, Clone)]
pub struct FakeWhisperConfig {
    /// Expected bearer key; `None` accepts any request.
    pub api_key: Option<String>,
    /// Largest accepted `file`, in bytes.
    pub max_bytes: usize,
    /// Delay before every answer.
    pub latency: Option<Duration>,
}

impl Default for FakeWhisperConfig {
    fn default() -> Self {
        Self {
            api_key: Some("local-whisper-key".into()),
            max_bytes: OPENAI_MAX_BYTES,
            latency: None,
        }
    }
}

/// What the fake saw of one request, and how it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub model: Option<String>,
    pub file_name: Option<String>,
    pub file_bytes: usize,
    pub response_format: Option<String>,
    pub status: u16,
}

struct Fault {
    remaining: u32,
    status: StatusCode,
    retry_after_secs: Option<u64>,
}

struct Shared {
    config: FakeWhisperConfig,
    requests: Mutex<Vec<ReceivedRequest>>,
    fault: Mutex<Option<Fault>>,
}

/// A running fake. The server stops when the handle is dropped.
pub struct FakeWhisper {
    base_url: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeWhisper {
    /// Starts on a free loopback port.
    pub async fn start(config: FakeWhisperConfig) -> std::io::Result<FakeWhisper> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(
        addr: SocketAddr,
        config: FakeWhisperConfig,
    ) -> std::io::Result<FakeWhisper> {
        let listener = TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            config,
            requests: Mutex::default(),
            fault: Mutex::default(),
        });
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake-whisper server stopped");
            }
        });
        Ok(FakeWhisper {
            base_url,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`: no trailing slash, no `/v1`.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Every request so far, refused ones included, oldest first.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The next `n` authenticated requests answer `status` (429 as a rate limit, others as a
    /// server error), with `Retry-After` when given. `n == 0` clears a pending fault.
    pub fn fail_next(&self, n: u32, status: u16, retry_after_secs: Option<u64>) {
        let status = StatusCode::from_u16(status).expect("fail_next: not an HTTP status");
        *self.shared.fault.lock().unwrap() = (n > 0).then_some(Fault {
            remaining: n,
            status,
            retry_after_secs,
        });
    }
}

impl Drop for FakeWhisper {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn router(shared: Arc<Shared>) -> Router {
    // Well above `max_bytes`, so an oversized file reaches our own 413 (OpenAI's body) instead
    // of axum's plain-text one.
    let body_limit = shared
        .config
        .max_bytes
        .saturating_mul(2)
        .saturating_add(1 << 20);
    Router::new()
        .route("/v1/audio/transcriptions", post(transcriptions))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(shared)
}

#[derive(Default)]
struct Form {
    model: Option<String>,
    file_name: Option<String>,
    /// Kept only up to `max_bytes`; `file_bytes` counts everything read.
    file: Option<Vec<u8>>,
    file_bytes: usize,
    response_format: Option<String>,
    broken: Option<StatusCode>,
}

async fn read_form(multipart: Result<Multipart, MultipartRejection>, max_bytes: usize) -> Form {
    let mut form = Form::default();
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => {
            form.broken = Some(rejection.status());
            return form;
        }
    };
    if let Err(error) = read_fields(&mut multipart, &mut form, max_bytes).await {
        form.broken = Some(error.status());
    }
    form
}

async fn read_fields(
    multipart: &mut Multipart,
    form: &mut Form,
    max_bytes: usize,
) -> Result<(), MultipartError> {
    while let Some(mut field) = multipart.next_field().await? {
        let slot = match field.name() {
            Some("file") => {
                form.file_name = field.file_name().map(str::to_owned);
                let file = form.file.insert(Vec::new());
                while let Some(chunk) = field.chunk().await? {
                    form.file_bytes += chunk.len();
                    if form.file_bytes <= max_bytes {
                        file.extend_from_slice(&chunk);
                    }
                }
                continue;
            }
            Some("model") => &mut form.model,
            Some("response_format") => &mut form.response_format,
            // language, prompt, temperature, timestamp_granularities[]: accepted, not used.
            _ => continue,
        };
        *slot = Some(field.text().await?).filter(|text| !text.is_empty());
    }
    Ok(())
}

async fn transcriptions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(latency) = shared.config.latency {
        tokio::time::sleep(latency).await;
    }
    let form = read_form(multipart, shared.config.max_bytes).await;
    let mut record = ReceivedRequest {
        model: form.model.clone(),
        file_name: form.file_name.clone(),
        file_bytes: form.file_bytes,
        response_format: form.response_format.clone(),
        status: 0,
    };
    let response = answer(&shared, &headers, form);
    record.status = response.status().as_u16();
    shared.requests.lock().unwrap().push(record);
    response
}

/// OpenAI's checks in OpenAI's order: key, rate limit, size, form, content.
fn answer(shared: &Shared, headers: &HeaderMap, form: Form) -> Response {
    if let Some(expected) = &shared.config.api_key {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let message = match given {
            Some(key) if key == expected => None,
            Some(key) => Some(format!(
                "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
                mask(key)
            )),
            None => Some("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).".to_owned()),
        };
        if let Some(message) = message {
            let code = Some("invalid_api_key");
            return error(
                StatusCode::UNAUTHORIZED,
                &message,
                "invalid_request_error",
                code,
            );
        }
    }
    if let Some(response) = take_fault(shared) {
        return response;
    }
    let max = shared.config.max_bytes;
    if form.file_bytes > max || form.broken == Some(StatusCode::PAYLOAD_TOO_LARGE) {
        let message = format!(
            "Maximum content size limit ({max}) exceeded ({} bytes read)",
            form.file_bytes
        );
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &message,
            "server_error",
            None,
        );
    }
    let invalid = |message: &str| {
        error(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            None,
        )
    };
    if form.broken.is_some() {
        return invalid("Could not parse multipart form");
    }
    if form.model.is_none() {
        return invalid("you must provide a model parameter");
    }
    let Some(file) = form.file else {
        return invalid("you must provide a file parameter");
    };
    if form.file_name.is_none() {
        return invalid("the file parameter must be uploaded with a filename");
    }
    let format = form.response_format.as_deref().unwrap_or("json");
    if !render::FORMATS.contains(&format) {
        let message = format!(
            "'{format}' is not one of {:?} - 'response_format'",
            render::FORMATS
        );
        return invalid(&message);
    }
    match audio::transcribe(&file) {
        Ok(transcript) => render::render(&transcript, format),
        Err(AudioError::NotAudio) => invalid(
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
        ),
        Err(AudioError::Corrupt) => {
            invalid("Audio file could not be decoded or its format is not supported.")
        }
    }
}

fn take_fault(shared: &Shared) -> Option<Response> {
    let mut slot = shared.fault.lock().unwrap();
    let fault = slot.as_mut()?;
    let (status, retry_after) = (fault.status, fault.retry_after_secs);
    fault.remaining -= 1;
    if fault.remaining == 0 {
        *slot = None;
    }
    let mut response = if status == StatusCode::TOO_MANY_REQUESTS {
        error(
            status,
            "Rate limit reached for whisper-1 on requests per min (RPM). Please try again later.",
            "requests",
            Some("rate_limit_exceeded"),
        )
    } else {
        error(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        )
    };
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, secs.into());
    }
    Some(response)
}

/// OpenAI echoes only the ends of a wrong key; so do we, so a test log never holds a whole one.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

fn error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}
