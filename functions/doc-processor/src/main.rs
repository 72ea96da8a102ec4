//! The `doc-processor` Lambda: SQS documents queue (S3 notifications and process_document jobs).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    // Read and checked once: a bad setting fails the cold start with its name.
    let options = std::sync::Arc::new(recorder_processing::Options::from_lookup(&|k| {
        std::env::var(k).ok()
    })?);
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (deps, options) = (deps.clone(), options.clone());
        // The invocation's deadline: no message is started that could not finish before it.
        let deadline = chrono::DateTime::from_timestamp_millis(event.context.deadline as i64);
        async move {
            Ok::<_, Error>(
                recorder_jobs::doc_processor::handle_documents(
                    &deps,
                    &options,
                    event.payload,
                    deadline,
                )
                .await,
            )
        }
    }))
    .await
}
