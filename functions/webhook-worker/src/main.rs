//! The `webhook-worker` Lambda: SQS webhook-events queue → each verified event recorded once and
//! acted on.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let deps = deps.clone();
        async move {
            Ok::<_, Error>(
                recorder_jobs::webhook_worker::handle_webhook_events(&deps, event.payload).await,
            )
        }
    }))
    .await
}
