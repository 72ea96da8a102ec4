//! The `doc-processor` Lambda: SQS documents queue (S3 notifications and process_document jobs).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Wired like every function so the processing work plugs in without touching the binary.
    let _deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(recorder_jobs::doc_processor::handle_documents(event.payload).await)
    }))
    .await
}
