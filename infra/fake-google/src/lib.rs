//! A fake Google for tests, benchmarks and the local demo: OAuth 2.0 (authorize, token, revoke)
//! and the Drive v3 calls the Drive connector makes, following Google's documented shapes, paging
//! and errors (see `docs/providers.md`). One fake user, "Dana Demo", owns one Drive that tests
//! change through [`FakeState`] (or `/_fake/...` over HTTP); every change feeds `changes.list` and
//! the open push channels. Faults (429, 503, latency, rate limits, revoked tokens) are switchable.

mod admin;
mod content;
mod drive;
mod errors;
mod faults;
mod formats;
mod notify;
mod oauth;
mod query;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, patch, post};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use drive::{USER_EMAIL, USER_NAME};
pub use faults::FaultSettings;
pub use state::{FakeError, FakeState, FileId, FileRecord, NewFile, ROOT_FOLDER_ID, Stats};

/// MIME types and scopes Drive uses.
pub mod mime {
    pub const GOOGLE_APPS_PREFIX: &str = "application/vnd.google-apps.";
    pub const GOOGLE_DOC: &str = "application/vnd.google-apps.document";
    pub const GOOGLE_SHEET: &str = "application/vnd.google-apps.spreadsheet";
    pub const GOOGLE_SLIDES: &str = "application/vnd.google-apps.presentation";
    pub const GOOGLE_FOLDER: &str = "application/vnd.google-apps.folder";
    pub const DOCX: &str =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    pub const PPTX: &str =
        "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    pub const DRIVE_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/drive.readonly";
}

/// How the fake behaves. `Default` is Google's usual numbers and the local demo's client.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub client_id: String,
    pub client_secret: String,
    pub access_token_ttl_secs: u64,
    /// Token bucket per access token; `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    pub export_limit_bytes: u64,
    pub max_page_size: u32,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            client_id: "local-client-id".into(),
            client_secret: "local-client-secret".into(),
            access_token_ttl_secs: 3600,
            rate_limit_per_sec: None,
            export_limit_bytes: 10 * 1024 * 1024,
            max_page_size: 1000,
        }
    }
}

/// A running fake. Derefs to its [`FakeState`], so `fake.add_file(...)`, `fake.inject_429(2)` and
/// `fake.stats()` work on the handle. The server stops when the handle is dropped.
pub struct FakeGoogle {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    pub state: Arc<FakeState>,
    server: JoinHandle<()>,
}

impl FakeGoogle {
    /// Starts on a free loopback port.
    pub async fn start(config: FakeConfig) -> std::io::Result<FakeGoogle> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: FakeConfig) -> std::io::Result<FakeGoogle> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let base_url = format!("http://{local}");
        let state = Arc::new(FakeState::new(config, base_url.clone()));
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake-google server stopped");
            }
        });
        Ok(FakeGoogle {
            base_url,
            state,
            server,
        })
    }

    /// `GOOGLE_AUTH_URL`
    pub fn auth_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.base_url)
    }

    /// `GOOGLE_TOKEN_URL`
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }

    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url)
    }

    /// `GOOGLE_API_BASE_URL` (Drive lives under `{api_base_url}/drive/v3/`).
    pub fn api_base_url(&self) -> String {
        self.base_url.clone()
    }

    pub fn drive_url(&self, path: &str) -> String {
        format!(
            "{}/drive/v3/{}",
            self.base_url,
            path.trim_start_matches('/')
        )
    }

    /// Waits until the server task ends (it only ends on a serve error).
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }
}

impl std::ops::Deref for FakeGoogle {
    type Target = FakeState;
    fn deref(&self) -> &FakeState {
        &self.state
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Every route the fake serves.
pub fn router(state: Arc<FakeState>) -> Router {
    Router::new()
        .route("/o/oauth2/v2/auth", get(oauth::authorize))
        .route("/token", post(oauth::token))
        .route("/revoke", post(oauth::revoke))
        .route("/drive/v3/about", get(drive::about))
        .route("/drive/v3/files", get(drive::list_files))
        .route("/drive/v3/files/{id}", get(drive::get_file))
        .route("/drive/v3/files/{id}/export", get(drive::export_file))
        .route("/drive/v3/changes", get(drive::list_changes))
        .route(
            "/drive/v3/changes/startPageToken",
            get(drive::start_page_token),
        )
        .route("/drive/v3/changes/watch", post(notify::watch))
        .route("/drive/v3/channels/stop", post(notify::stop))
        .route("/_fake/files", post(admin::add_file))
        .route(
            "/_fake/files/{id}",
            patch(admin::patch_file).delete(admin::delete_file),
        )
        .route("/_fake/files/{id}/trash", post(admin::trash_file))
        .route("/_fake/files/{id}/untrash", post(admin::untrash_file))
        .route("/_fake/seed", post(admin::seed))
        .route(
            "/_fake/faults",
            post(admin::set_faults).get(admin::get_faults),
        )
        .route("/_fake/stats", get(admin::stats))
        .route("/_fake/tokens", post(admin::issue_token))
        .with_state(state)
}
