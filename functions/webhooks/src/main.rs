//! The `webhooks` Lambda: provider webhook receivers.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let deps = deps.clone();
            async move {
                Ok::<_, Error>(
                    recorder_http_api::webhooks::handle_webhook(&deps, event.payload).await,
                )
            }
        },
    ))
    .await
}
