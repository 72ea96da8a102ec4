//! The whole product on one machine: the template's resources on moto, an HTTP gateway serving
//! every route of template.yaml through the same handlers the Lambdas run (with a local JWT check
//! standing in for the authorizer), pollers feeding each SQS queue to its worker as Lambda would,
//! and the schedules as timers. Nothing in the product depends on this crate.

pub mod functions;
pub mod gateway;
pub mod pollers;
pub mod schedules;
pub mod token;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use local_aws::{Moto, Provisioned, Template, provision};
use tokio::task::JoinHandle;

pub use functions::Function;

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
    /// Environment values that replace the template's for every function (limits in tests).
    pub env_overrides: BTreeMap<String, String>,
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
    let mut params = BTreeMap::from([
        ("Stage".to_string(), options.stage.clone()),
        ("JwtIssuer".to_string(), token::ISSUER.to_string()),
        ("JwtAudience".to_string(), token::AUDIENCE.to_string()),
        ("PublicBaseUrl".to_string(), format!("http://{addr}")),
    ]);
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
            params.insert("GoogleAuthUrl".into(), fake.auth_url());
            params.insert("GoogleTokenUrl".into(), fake.token_url());
            params.insert("GoogleApiBaseUrl".into(), fake.api_base_url());
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
            params.insert("TranscriptionBaseUrl".into(), whisper.base_url());
            Some(whisper)
        }
    };
    let provisioned = provision(
        &sdk,
        &template,
        &format!("recorder-connectors-{}", options.stage),
        &params,
    )
    .await?;
    if fake.is_some() || whisper.is_some() {
        configure_app_secret(&sdk, &provisioned, fake.as_ref(), whisper.as_ref()).await?;
    }

    let functions = provisioned
        .functions
        .iter()
        .map(|spec| {
            let mut spec = spec.clone();
            spec.env.extend(options.env_overrides.clone());
            Function::new(&spec, &sdk).map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut tasks = vec![tokio::spawn(gateway::serve(listener, functions.clone()))];
    for f in &functions {
        if let Some(source) = &f.spec.queue {
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
        tasks,
        _moto: moto,
    })
}

/// Fills the app secret with the fakes' credentials (Google's client, the transcription API key)
/// and a webhook key, as an operator would after a deploy.
async fn configure_app_secret(
    sdk: &aws_config::SdkConfig,
    provisioned: &Provisioned,
    fake: Option<&fake_google::FakeGoogle>,
    whisper: Option<&fake_whisper::FakeWhisper>,
) -> Result<(), StackError> {
    let secret_id = provisioned
        .names
        .refs
        .get("AppSecret")
        .ok_or_else(|| StackError::AppSecret("template.yaml has no AppSecret".into()))?;
    let mut value = serde_json::json!({"drive_webhook_token": recorder_domain::ids::new_id()});
    if let Some(fake) = fake {
        value["google_client_id"] = fake.config().client_id.clone().into();
        value["google_client_secret"] = fake.config().client_secret.clone().into();
    }
    if whisper.is_some() {
        let key = fake_whisper::FakeWhisperConfig::default().api_key;
        value["whisper_api_key"] = key.unwrap_or_default().into();
    }
    aws_sdk_secretsmanager::Client::new(sdk)
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(value.to_string())
        .send()
        .await
        .map_err(|e| {
            StackError::AppSecret(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
        })?;
    Ok(())
}
