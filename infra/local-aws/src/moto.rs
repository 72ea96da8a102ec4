//! Starting and stopping a moto server (`moto[server]` from PyPI) on a free loopback port.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "moto_server was not found (looked at $MOTO_SERVER, {venv} and $PATH); run ./infra/test.sh or ./infra/run-local.sh, which install it"
    )]
    NotInstalled { venv: String },
    #[error("could not start moto_server: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("moto_server did not answer on {0} within 30 s")]
    NotReady(String),
}

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Option<Child>,
    pub endpoint: String,
}

fn find_binary() -> Result<PathBuf, MotoError> {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(p));
    }
    let venv = crate::workspace_root().join(".venv/bin/moto_server");
    if venv.exists() {
        return Ok(venv);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("moto_server"))
            .find(|p| p.exists())
    });
    on_path.ok_or(MotoError::NotInstalled {
        venv: venv.display().to_string(),
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(5000)
}

/// `moto_server.py` (next to this crate) run by moto's Python: the server with whole-table copies
/// taken out of TransactWriteItems (see the script). `MOTO_SERVER` names another server to run
/// as it is.
fn launcher(port: u16, serial: bool) -> Result<Vec<String>, MotoError> {
    let bin = find_binary()?;
    let python = bin.with_file_name("python3");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("moto_server.py");
    if std::env::var_os("MOTO_SERVER").is_some() || !python.exists() || !script.exists() {
        let mut command = vec![bin.display().to_string(), "-H".into(), "127.0.0.1".into()];
        command.extend(["-p".into(), port.to_string()]);
        return Ok(command);
    }
    let mut command = vec![python.display().to_string(), script.display().to_string()];
    command.push(port.to_string());
    if serial {
        command.push("--serial".into());
    }
    Ok(command)
}

impl Moto {
    /// Starts a fresh server on a free port (each test binary gets its own, so state never leaks).
    pub fn start() -> Result<Moto, MotoError> {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Result<Moto, MotoError> {
        Self::spawn(launcher(port, false)?, port)
    }

    /// A server that handles one request at a time. moto's threaded server updates items with an
    /// unlocked read-modify-write, so concurrent `ADD`s to one item can lose increments there
    /// (DynamoDB's are atomic); the adapter tests that check atomic counters use this one.
    pub fn start_serial() -> Result<Moto, MotoError> {
        let port = free_port();
        Self::spawn(launcher(port, true)?, port)
    }

    fn spawn(command: Vec<String>, port: u16) -> Result<Moto, MotoError> {
        // A watchdog shell stops moto when this process ends, even when Drop never runs (a server
        // shared by a whole test binary lives in a static).
        let script = format!(
            "\"$@\" >/dev/null 2>&1 & m=$!; while kill -0 {me} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; kill $m 2>/dev/null",
            me = std::process::id()
        );
        let child = Command::new("sh")
            .args(["-c", &script, "sh"])
            .args(&command)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(MotoError::Spawn)?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Moto {
            child: Some(child),
            endpoint,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(MotoError::NotReady(moto.endpoint.clone()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }

    /// SDK config pointed at this server with dummy credentials (moto checks no signatures).
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }
}

/// SDK config for any local endpoint.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    let creds = aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "local");
    // moto is one Python process: under a loaded machine it can take seconds to accept a
    // connection, longer than the SDK's 3.1 s default connect timeout.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(creds)
        .endpoint_url(endpoint)
        .timeout_config(timeouts)
        .load()
        .await
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The whole group: the watchdog shell and moto itself.
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
        }
    }
}
