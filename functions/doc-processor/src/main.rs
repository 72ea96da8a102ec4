//! The `doc-processor` Lambda: SQS documents queue (S3 notifications and process_document jobs).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move {
            Ok::<_, Error>(
                recorder_jobs::doc_processor::handle_documents(&deps, event.payload).await,
            )
        }
    }))
    .await
}
