//! The `sync-worker` Lambda: SQS sync-jobs queue → one connector sync per message.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        // The invocation's deadline: the engine hands the rest to a follow-up message before it.
        let deadline = chrono::DateTime::from_timestamp_millis(event.context.deadline as i64);
        async move {
            Ok::<_, Error>(
                recorder_jobs::sync_worker::handle_sync_jobs(&deps, event.payload, deadline).await,
            )
        }
    }))
    .await
}
