//! AWS adapters for the domain's ports, the typed config every function reads once, and the
//! telemetry setup. Handlers never touch an SDK client directly: they get a [`Deps`] from here.

pub mod config;
pub mod dynamo;
pub mod s3;
pub mod secrets;
pub mod sqs;
pub mod telemetry;

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use recorder_domain::ports::{AppSecrets, Deps, SystemClock};
use recorder_domain::provider::Providers;

pub use config::{Config, ConfigError};

/// Loads the AWS SDK config once (region, credentials, and `AWS_ENDPOINT_URL` for local runs).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// Builds every port's AWS adapter from one SDK config; `providers` makes the connectors this
/// function can reach (they read client secrets from the app secret).
pub fn build_deps<E>(
    config: &Config,
    sdk: &SdkConfig,
    providers: impl FnOnce(Arc<dyn AppSecrets>) -> Result<Arc<dyn Providers>, E>,
) -> Result<Deps, E> {
    let store = Arc::new(dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        &config.table_name,
    ));
    let secrets = secrets::SecretsManager::new(aws_sdk_secretsmanager::Client::new(sdk), config);
    let app_secrets: Arc<dyn AppSecrets> = Arc::new(secrets.app_secrets());
    Ok(Deps {
        connectors: store.clone(),
        documents: store.clone(),
        sync_logs: store.clone(),
        activity: store.clone(),
        webhook_events: store.clone(),
        batches: store.clone(),
        oauth_states: store.clone(),
        usage: store.clone(),
        retries: store.clone(),
        locks: store,
        blobs: Arc::new(s3::S3Blobs::new(s3::client(sdk), &config.bucket_name)),
        queue: Arc::new(sqs::SqsQueue::new(
            aws_sdk_sqs::Client::new(sdk),
            sqs::QueueUrls {
                sync_jobs: &config.sync_jobs_queue_url,
                documents: &config.documents_queue_url,
                document_events: &config.document_events_queue_url,
                webhook_events: &config.webhook_events_queue_url,
            },
        )),
        tokens: Arc::new(secrets.tokens()),
        providers: providers(app_secrets.clone())?,
        settings: Arc::new(config.settings.clone()),
        app_secrets,
        clock: Arc::new(SystemClock),
    })
}

/// A function's cold start: tracing, typed config from the environment (the providers' too: a
/// bad setting fails here, with its name), one SDK config, the adapters. Every binary calls
/// this once.
pub async fn bootstrap<E>(
    providers: impl FnOnce(Arc<dyn AppSecrets>) -> Result<Arc<dyn Providers>, E>,
) -> Result<Deps, ConfigError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    telemetry::init();
    let config = Config::from_env()?;
    let sdk = load_sdk_config().await;
    build_deps(&config, &sdk, providers).map_err(|e| ConfigError::Providers(Box::new(e)))
}
