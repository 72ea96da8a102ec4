//! The `api` Lambda: the HTTP API (API Gateway HTTP API, payload 2.0).

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = recorder_aws::bootstrap(recorder_connectors::Registry::from_env).await?;
    run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2httpRequest>| {
            let deps = deps.clone();
            async move { Ok::<_, Error>(recorder_http_api::handle_api(&deps, event.payload).await) }
        },
    ))
    .await
}
