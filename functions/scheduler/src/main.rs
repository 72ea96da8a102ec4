//! The `scheduler` Lambda: an EventBridge schedule tick → one queued sync per due connector.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| {
        let deps = deps.clone();
        async move {
            let report = recorder_jobs::scheduler::handle_tick(&deps, event.payload).await?;
            Ok::<_, Error>(
                serde_json::json!({"queued": report.queued.len(), "failed": report.failed.len()}),
            )
        }
    }))
    .await
}
