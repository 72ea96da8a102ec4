//! The whole product on one machine: the template's resources on moto, an HTTP gateway serving
//! every route of template.yaml through the same handlers the Lambdas run (with a local JWT check
//! standing in for the authorizer), pollers feeding each SQS event's queue to its function as
//! Lambda would (the doc-processor also drains the documents dead-letter queue), and the
//! schedules as timers. Nothing in the product depends on this crate.

pub mod functions;
pub mod gateway;
pub mod host_env;
pub mod pollers;
pub mod schedules;
pub mod token;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use local_aws::{Moto, Provisioned, Template, provision};
use recorder_connectors::google::drive::WEBHOOK_SECRET as DRIVE_WEBHOOK_SECRET;
use recorder_domain::secret::Secret;
use tokio::task::JoinHandle;

pub use functions::Function;
pub use host_env::{HostEnv, Sources};

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the gateway listens (`127.0.0.1:3000`; port 0 picks a free one).
    pub listen: SocketAddr,
    /// An already running AWS endpoint to use; None starts a moto server.
    pub aws_endpoint: Option<String>,
    /// Port for the moto server this stack starts (0 picks a free one).
    pub moto_port: u16,
    pub template: std::path::PathBuf,
    pub stage: String,
    /// Run schedules this often instead of their template rate (demos, tests).
    pub schedule_override: Option<Duration>,
    /// How long a failed message waits before SQS offers it again (Lambda waits the queue's full
    /// visibility timeout; locally that would be an hour and a half).
    pub retry_delay: Duration,
    /// Start the fake Google in-process and point the Google connector at it, seeded with this
    /// many files.
    pub fake_google: Option<usize>,
    /// Port of the fake Google (0 picks a free one).
    pub fake_google_port: u16,
    /// Start a fake Whisper-compatible transcription endpoint on this port (0 picks a free one)
    /// and transcribe audio and video through it.
    pub fake_whisper: Option<u16>,
    /// Pollers per queue (Lambda runs several for a standard queue; 1 keeps counters exact on
    /// moto's threaded server, which can lose concurrent ADDs to one item).
    pub pollers_per_queue: usize,
    /// Environment values that replace the template's for every function (limits in tests,
    /// `--import-quota`, `--allow-url-host`).
    pub env_overrides: BTreeMap<String, String>,
    /// The stack's own environment: provider settings and app-secret fields are taken from it
    /// (see `host_env`). Empty by default; the binary passes the process environment.
    pub host_env: HostEnv,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: ([127, 0, 0, 1], 3000).into(),
            aws_endpoint: None,
            moto_port: 4566,
            template: local_aws::workspace_root().join("template.yaml"),
            stage: "local".into(),
            schedule_override: None,
            retry_delay: Duration::from_secs(5),
            fake_google: None,
            fake_google_port: 4444,
            fake_whisper: None,
            pollers_per_queue: 1,
            env_overrides: BTreeMap::new(),
            host_env: HostEnv::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Moto(#[from] local_aws::moto::MotoError),
    #[error(transparent)]
    Template(#[from] local_aws::template::TemplateError),
    #[error(transparent)]
    Provision(#[from] local_aws::provision::ProvisionError),
    #[error("function {function}: {source}")]
    Config {
        function: String,
        #[source]
        source: recorder_aws::ConfigError,
    },
    #[error("function {function}: {source}")]
    Providers {
        function: String,
        #[source]
        source: recorder_connectors::SettingsError,
    },
    #[error("function {function}: {source}")]
    Processing {
        function: String,
        #[source]
        source: recorder_processing::SettingsError,
    },
    #[error("function {0}: no local handler for this binary")]
    UnknownBinary(String),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not start the fake Google: {0}")]
    FakeGoogle(std::io::Error),
    #[error("could not configure the app secret: {0}")]
    AppSecret(String),
}

/// A running stack; dropping it stops the tasks and the moto server it started.
pub struct Stack {
    pub addr: SocketAddr,
    pub aws_endpoint: String,
    pub provisioned: Provisioned,
    pub functions: Vec<Arc<Function>>,
    pub fake_google: Option<fake_google::FakeGoogle>,
    pub fake_whisper: Option<fake_whisper::FakeWhisper>,
    /// Which settings and app-secret fields came from the environment or an option (names only).
    pub sources: Sources,
    /// Every function's settings laid over the template's (values are not secret).
    pub settings: BTreeMap<String, String>,
    tasks: Vec<JoinHandle<()>>,
    _moto: Option<Moto>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub async fn start(options: Options) -> Result<Stack, StackError> {
    let (moto, endpoint) = match &options.aws_endpoint {
        Some(e) => (None, e.clone()),
        None => {
            let moto = if options.moto_port == 0 {
                Moto::start()?
            } else {
                Moto::start_on(options.moto_port)?
            };
            let endpoint = moto.endpoint.clone();
            (Some(moto), endpoint)
        }
    };
    let sdk = local_aws::moto::sdk_config_for(&endpoint).await;
    // Bind first: the public base URL (OAuth redirects, webhook addresses) needs the real port.
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| StackError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StackError::Listen {
        addr: options.listen,
        source,
    })?;
    let template = Template::load(&options.template)?;
    let secret_fields = host_env::app_secret_fields(&template).map_err(StackError::AppSecret)?;
    let params = BTreeMap::from([
        ("Stage".to_string(), options.stage.clone()),
        ("JwtIssuer".to_string(), token::ISSUER.to_string()),
        ("JwtAudience".to_string(), token::AUDIENCE.to_string()),
        ("PublicBaseUrl".to_string(), format!("http://{addr}")),
    ]);
    // What the options set, laid over the environment's values (see host_env).
    let mut option_settings: Vec<(String, String, &'static str)> = Vec::new();
    let mut option_secrets: Vec<(&'static str, Secret, &'static str)> = Vec::new();
    let fake = match options.fake_google {
        None => None,
        Some(seed_files) => {
            let config = fake_google::FakeConfig::default();
            let fake = fake_google::FakeGoogle::start_on(
                ([127, 0, 0, 1], options.fake_google_port).into(),
                config,
            )
            .await
            .map_err(StackError::FakeGoogle)?;
            if seed_files > 0 {
                fake.seed(seed_files, 42);
            }
            for (name, url) in [
                ("GOOGLE_AUTH_URL", fake.auth_url()),
                ("GOOGLE_TOKEN_URL", fake.token_url()),
                ("GOOGLE_API_BASE_URL", fake.api_base_url()),
            ] {
                option_settings.push((name.into(), url, "--fake-google"));
            }
            let client = fake.config();
            option_secrets.push((
                "google_client_id",
                Secret::new(client.client_id.clone()),
                "--fake-google",
            ));
            option_secrets.push((
                "google_client_secret",
                Secret::new(client.client_secret.clone()),
                "--fake-google",
            ));
            Some(fake)
        }
    };
    let whisper = match options.fake_whisper {
        None => None,
        Some(port) => {
            let whisper = fake_whisper::FakeWhisper::start_on(
                ([127, 0, 0, 1], port).into(),
                fake_whisper::FakeWhisperConfig::default(),
            )
            .await
            .map_err(StackError::FakeGoogle)?;
            option_settings.push((
                "TRANSCRIPTION_BASE_URL".into(),
                whisper.base_url(),
                "--fake-whisper",
            ));
            let key = fake_whisper::FakeWhisperConfig::default().api_key;
            option_secrets.push((
                "whisper_api_key",
                Secret::new(key.unwrap_or_default()),
                "--fake-whisper",
            ));
            Some(whisper)
        }
    };
    for (name, value) in &options.env_overrides {
        option_settings.push((name.clone(), value.clone(), "a command-line option"));
    }
    let get = |k: &str| options.host_env.get(k);
    let mut sources = Sources::default();
    let overlay = host_env::overlay(host_env::settings_from(&get), option_settings, &mut sources);
    let secret = host_env::app_secret(
        &secret_fields,
        host_env::secret_fields_from(&secret_fields, &get),
        option_secrets,
        // Drive channel tokens are derived from it: it must not be empty.
        &[(
            DRIVE_WEBHOOK_SECRET,
            Secret::new(recorder_domain::ids::new_id()),
        )],
        &mut sources,
    );
    let provisioned = provision(
        &sdk,
        &template,
        &format!("recorder-connectors-{}", options.stage),
        &params,
    )
    .await?;
    put_app_secret(&sdk, &provisioned, secret).await?;

    let functions = provisioned
        .functions
        .iter()
        .map(|spec| {
            let mut spec = spec.clone();
            spec.env.extend(overlay.clone());
            Function::new(&spec, &sdk).map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut tasks = vec![tokio::spawn(gateway::serve(listener, functions.clone()))];
    for f in &functions {
        for source in &f.spec.queues {
            for _ in 0..options.pollers_per_queue.max(1) {
                tasks.push(tokio::spawn(pollers::poll(
                    f.clone(),
                    source.clone(),
                    sdk.clone(),
                    options.retry_delay,
                )));
            }
        }
        for expr in &f.spec.schedules {
            let every = options
                .schedule_override
                .or_else(|| schedules::parse_rate(expr));
            match every {
                Some(every) => tasks.push(tokio::spawn(schedules::run(f.clone(), every))),
                None => {
                    tracing::warn!(function = %f.spec.logical_id, %expr, "schedule not understood locally; not started")
                }
            }
        }
    }
    Ok(Stack {
        addr,
        aws_endpoint: endpoint,
        provisioned,
        functions,
        fake_google: fake,
        fake_whisper: whisper,
        sources,
        settings: overlay,
        tasks,
        _moto: moto,
    })
}

/// Writes the app secret, as an operator would after a deploy.
async fn put_app_secret(
    sdk: &aws_config::SdkConfig,
    provisioned: &Provisioned,
    value: serde_json::Map<String, serde_json::Value>,
) -> Result<(), StackError> {
    let secret_id = provisioned
        .names
        .refs
        .get("AppSecret")
        .ok_or_else(|| StackError::AppSecret("template.yaml has no AppSecret".into()))?;
    aws_sdk_secretsmanager::Client::new(sdk)
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(serde_json::Value::Object(value).to_string())
        .send()
        .await
        .map_err(|e| {
            StackError::AppSecret(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
        })?;
    Ok(())
}
