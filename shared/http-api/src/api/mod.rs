//! The `api` function: finds the route in [`API_ROUTES`], reads the caller, and hands the request
//! to the handler its id names, one module per resource. Handlers translate: a domain call in,
//! a view out.

mod activity;
mod connectors;
mod documents;
mod uploads;
mod url_import;
mod webhook_events;

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use recorder_domain::paging::PageRequest;
use recorder_domain::{Caller, Deps};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::json_response;
use crate::request;
use crate::route_table::{API_ROUTES, Op, find_route};

/// One authenticated request on its way to a handler.
pub(crate) struct Call<'a> {
    pub deps: &'a Deps,
    pub event: &'a ApiGatewayV2httpRequest,
    pub who: Caller,
    params: HashMap<String, String>,
}

impl Call<'_> {
    /// A path parameter; empty when the route has none of that name.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The `{id}` path parameter.
    pub fn id(&self) -> &str {
        self.param("id")
    }

    pub fn page(&self) -> Result<PageRequest, ApiError> {
        request::page(self.event)
    }

    pub fn body<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        request::json_body(self.event)
    }
}

/// The `api` function's handler.
#[tracing::instrument(skip_all, fields(method, path))]
pub async fn handle_api(deps: &Deps, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let (method, path) = (request::method(&event), request::path(&event));
    tracing::Span::current()
        .record("method", method.as_str())
        .record("path", path.as_str());
    match dispatch(deps, &event, &method, &path).await {
        Ok((status, body)) => json_response(status, &body),
        Err(e) => e.into_response(),
    }
}

async fn dispatch(
    deps: &Deps,
    event: &ApiGatewayV2httpRequest,
    method: &str,
    path: &str,
) -> Result<(u16, Value), ApiError> {
    let (route, params) =
        find_route(API_ROUTES, method, path).ok_or_else(|| ApiError::RouteNotFound {
            method: method.into(),
            path: path.into(),
        })?;
    if route.op == Op::OpenApi {
        return Ok((200, crate::openapi::document()));
    }
    let c = Call {
        deps,
        event,
        who: request::caller(event)?,
        params,
    };
    let body = match route.op {
        Op::ListTypes => connectors::list_types(&c),
        Op::ListConnectors => connectors::list(&c).await?,
        Op::CreateConnector => connectors::create(&c).await?,
        Op::GetConnector => connectors::get(&c).await?,
        Op::UpdateConnector => connectors::update(&c).await?,
        Op::DeleteConnector => connectors::disconnect(&c).await?,
        Op::DisableConnector => connectors::disable(&c).await?,
        Op::EnableConnector => connectors::enable(&c).await?,
        Op::SyncConnector => connectors::request_sync(&c).await?,
        Op::TestConnector => connectors::test_connection(&c).await?,
        Op::ListSyncLogs => connectors::list_sync_logs(&c).await?,
        Op::ListWebhookEvents => webhook_events::list(&c).await?,
        Op::ListDocuments => documents::list_for_connector(&c).await?,
        Op::GetDocument => documents::get(&c).await?,
        Op::DownloadArtifact => documents::download(&c).await?,
        Op::ListActivity => activity::list(&c).await?,
        Op::Upload => uploads::request_upload(&c).await?,
        Op::UploadBatch => uploads::request_batch(&c).await?,
        Op::GetUploadBatch => uploads::batch_status(&c).await?,
        Op::RetryUploadBatch => uploads::retry_batch(&c).await?,
        Op::CompleteUpload => uploads::complete(&c).await?,
        Op::UrlImport => url_import::import(&c).await?,
        Op::OpenApi => unreachable!("answered above"),
    };
    Ok((route.success, body))
}
