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

use local_aws::{provision, Moto, Provisioned, Template};
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
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A running stack; dropping it stops the tasks and the moto server it started.
pub struct Stack {
    pub addr: SocketAddr,
    pub aws_endpoint: String,
    pub provisioned: Provisioned,
    pub functions: Vec<Arc<Function>>,
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
            let moto = if options.moto_port == 0 { Moto::start()? } else { Moto::start_on(options.moto_port)? };
            let endpoint = moto.endpoint.clone();
            (Some(moto), endpoint)
        }
    };
    let sdk = local_aws::moto::sdk_config_for(&endpoint).await;
    let template = Template::load(&options.template)?;
    let params = BTreeMap::from([
        ("Stage".to_string(), options.stage.clone()),
        ("JwtIssuer".to_string(), token::ISSUER.to_string()),
        ("JwtAudience".to_string(), token::AUDIENCE.to_string()),
    ]);
    let provisioned = provision(&sdk, &template, &format!("recorder-connectors-{}", options.stage), &params).await?;

    let functions = provisioned
        .functions
        .iter()
        .map(|spec| Function::new(spec, &sdk).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;

    let listener = tokio::net::TcpListener::bind(options.listen).await.map_err(|source| StackError::Listen { addr: options.listen, source })?;
    let addr = listener.local_addr().map_err(|source| StackError::Listen { addr: options.listen, source })?;
    let mut tasks = vec![tokio::spawn(gateway::serve(listener, functions.clone()))];
    for f in &functions {
        if let Some(source) = &f.spec.queue {
            tasks.push(tokio::spawn(pollers::poll(f.clone(), source.clone(), sdk.clone(), options.retry_delay)));
        }
        for expr in &f.spec.schedules {
            let every = options.schedule_override.or_else(|| schedules::parse_rate(expr));
            match every {
                Some(every) => tasks.push(tokio::spawn(schedules::run(f.clone(), every))),
                None => tracing::warn!(function = %f.spec.logical_id, %expr, "schedule not understood locally; not started"),
            }
        }
    }
    Ok(Stack { addr, aws_endpoint: endpoint, provisioned, functions, tasks, _moto: moto })
}
