//! The template's functions, each bound to the handler its binary runs in Lambda.

use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use local_aws::FunctionSpec;
use std::sync::Arc;

use recorder_aws::{Config, build_deps};
use recorder_connectors::Registry;
use recorder_domain::Deps;

use crate::StackError;

pub struct Function {
    pub spec: FunctionSpec,
    deps: Deps,
    processing: recorder_processing::Options,
}

impl Function {
    /// Reads the function's config from its template environment, as the Lambda reads its own.
    pub fn new(spec: &FunctionSpec, sdk: &SdkConfig) -> Result<Function, StackError> {
        if !matches!(
            spec.binary.as_str(),
            "api"
                | "oauth"
                | "webhooks"
                | "webhook-worker"
                | "scheduler"
                | "sync-worker"
                | "doc-processor"
        ) {
            return Err(StackError::UnknownBinary(spec.binary.clone()));
        }
        let config = Config::from_lookup(|k| spec.env.get(k).cloned()).map_err(|source| {
            StackError::Config {
                function: spec.logical_id.clone(),
                source,
            }
        })?;
        let deps = build_deps(&config, sdk, |secrets| {
            Registry::from_lookup(&|k| spec.env.get(k).cloned(), secrets).map(|r| Arc::new(r) as _)
        })
        .map_err(|source| StackError::Providers {
            function: spec.logical_id.clone(),
            source,
        })?;
        let processing = recorder_processing::Options::from_lookup(&|k| spec.env.get(k).cloned())
            .map_err(|source| StackError::Processing {
            function: spec.logical_id.clone(),
            source,
        })?;
        Ok(Function {
            spec: spec.clone(),
            deps,
            processing,
        })
    }

    pub async fn http(&self, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        match self.spec.binary.as_str() {
            "api" => recorder_http_api::handle_api(&self.deps, event).await,
            "oauth" => recorder_http_api::oauth::handle_oauth(&self.deps, event).await,
            "webhooks" => recorder_http_api::webhooks::handle_webhook(&self.deps, event).await,
            other => {
                recorder_http_api::ApiError::NotImplemented(format!("{other} has no HTTP handler"))
                    .into_response()
            }
        }
    }

    pub async fn sqs(&self, event: SqsEvent) -> SqsBatchResponse {
        match self.spec.binary.as_str() {
            // Locally there is no Lambda time limit: syncs run to the end.
            "sync-worker" => {
                recorder_jobs::sync_worker::handle_sync_jobs(&self.deps, event, None).await
            }
            "webhook-worker" => {
                recorder_jobs::webhook_worker::handle_webhook_events(&self.deps, event).await
            }
            "doc-processor" => {
                recorder_jobs::doc_processor::handle_documents(
                    &self.deps,
                    &self.processing,
                    event,
                    None,
                )
                .await
            }
            other => {
                tracing::error!(binary = other, "no SQS handler; every message fails");
                let mut resp = SqsBatchResponse::default();
                for r in event.records {
                    let mut f = aws_lambda_events::event::sqs::BatchItemFailure::default();
                    f.item_identifier = r.message_id.unwrap_or_default();
                    resp.batch_item_failures.push(f);
                }
                resp
            }
        }
    }

    pub async fn scheduled(&self, event: EventBridgeEvent) {
        if self.spec.binary == "scheduler"
            && let Err(e) = recorder_jobs::scheduler::handle_tick(&self.deps, event).await
        {
            tracing::error!(error = %e, "scheduler tick failed");
        }
    }
}
