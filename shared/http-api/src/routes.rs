//! The API function's routes: one table that drives dispatch, the OpenAPI document and the check
//! against template.yaml, so the three cannot drift apart.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use recorder_domain::connector::Connector;
use recorder_domain::service::{activity, connectors, uploads, url_import};
use recorder_domain::{Caller, Deps};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json_response;
use crate::request::{self, caller, json_body, page};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No JWT (the route opts out of the authorizer).
    Public,
    /// Any member of the org.
    Member,
    /// Owners and admins only (checked in the domain).
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListTypes,
    ListConnectors,
    CreateConnector,
    GetConnector,
    UpdateConnector,
    DeleteConnector,
    DisableConnector,
    EnableConnector,
    SyncConnector,
    TestConnector,
    ListDocuments,
    ListSyncLogs,
    GetDocument,
    DownloadArtifact,
    ListActivity,
    Upload,
    UploadBatch,
    GetUploadBatch,
    RetryUploadBatch,
    CompleteUpload,
    UrlImport,
    OpenApi,
}

#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub op: Op,
    pub summary: &'static str,
    pub access: Access,
    /// Name of the request body schema in the OpenAPI document.
    pub body: Option<&'static str>,
    /// Takes `limit` and `cursor` and answers a page.
    pub paged: bool,
    pub success: u16,
}

const fn route(
    method: &'static str,
    path: &'static str,
    op: Op,
    summary: &'static str,
    access: Access,
) -> Route {
    Route {
        method,
        path,
        op,
        summary,
        access,
        body: None,
        paged: false,
        success: 200,
    }
}

pub const API_ROUTES: &[Route] = &[
    route(
        "GET",
        "/api/connectors/types",
        Op::ListTypes,
        "List connector types and what each can do",
        Access::Member,
    ),
    Route {
        paged: true,
        ..route(
            "GET",
            "/api/connectors",
            Op::ListConnectors,
            "List the org's connectors with their sync state",
            Access::Member,
        )
    },
    Route {
        body: Some("NewConnector"),
        success: 201,
        ..route(
            "POST",
            "/api/connectors",
            Op::CreateConnector,
            "Create a connector of a type that needs no OAuth",
            Access::Admin,
        )
    },
    route(
        "GET",
        "/api/connectors/{id}",
        Op::GetConnector,
        "Get one connector",
        Access::Member,
    ),
    Route {
        body: Some("ConnectorPatch"),
        ..route(
            "PATCH",
            "/api/connectors/{id}",
            Op::UpdateConnector,
            "Change name, description, settings, filters or frequency",
            Access::Admin,
        )
    },
    route(
        "DELETE",
        "/api/connectors/{id}",
        Op::DeleteConnector,
        "Disconnect: stop syncs, delete credentials, keep documents",
        Access::Admin,
    ),
    route(
        "POST",
        "/api/connectors/{id}/disable",
        Op::DisableConnector,
        "Pause scheduled and webhook syncs",
        Access::Admin,
    ),
    route(
        "POST",
        "/api/connectors/{id}/enable",
        Op::EnableConnector,
        "Resume a paused connector",
        Access::Admin,
    ),
    Route {
        success: 202,
        ..route(
            "POST",
            "/api/connectors/{id}/sync",
            Op::SyncConnector,
            "Queue a manual sync; answers the sync log id",
            Access::Admin,
        )
    },
    route(
        "POST",
        "/api/connectors/{id}/test",
        Op::TestConnector,
        "Check the connector's state and credentials",
        Access::Admin,
    ),
    Route {
        paged: true,
        ..route(
            "GET",
            "/api/connectors/{id}/documents",
            Op::ListDocuments,
            "List the connector's imported documents",
            Access::Member,
        )
    },
    Route {
        paged: true,
        ..route(
            "GET",
            "/api/connectors/{id}/sync-logs",
            Op::ListSyncLogs,
            "List the connector's syncs, newest first",
            Access::Member,
        )
    },
    route(
        "GET",
        "/api/documents/{id}",
        Op::GetDocument,
        "Get one imported document",
        Access::Member,
    ),
    route(
        "GET",
        "/api/documents/{id}/download/{artifact}",
        Op::DownloadArtifact,
        "A short-lived download URL for the original, extracted (Markdown), chunks (JSON Lines) or transcript (WebVTT)",
        Access::Member,
    ),
    Route {
        paged: true,
        ..route(
            "GET",
            "/api/activity",
            Op::ListActivity,
            "List the org's connector activity, newest first",
            Access::Member,
        )
    },
    Route {
        body: Some("UploadRequest"),
        success: 201,
        ..route(
            "POST",
            "/api/connectors/upload",
            Op::Upload,
            "Upload one file: a presigned PUT signed for the declared size (send the ticket's headers, If-None-Match: * among them), or part URLs each signed for its part size above the multipart threshold",
            Access::Member,
        )
    },
    Route {
        body: Some("BatchRequest"),
        success: 201,
        ..route(
            "POST",
            "/api/connectors/upload/batch",
            Op::UploadBatch,
            "Upload many files: a batch id and per-file upload instructions (each PUT sends its file's headers)",
            Access::Member,
        )
    },
    route(
        "GET",
        "/api/connectors/upload/batch/{id}",
        Op::GetUploadBatch,
        "A batch's progress, status and failed files with reasons",
        Access::Member,
    ),
    route(
        "POST",
        "/api/connectors/upload/batch/{id}/retry",
        Op::RetryUploadBatch,
        "Queue a batch's failed files again",
        Access::Member,
    ),
    Route {
        body: Some("CompleteUpload"),
        ..route(
            "POST",
            "/api/connectors/upload/{id}/complete",
            Op::CompleteUpload,
            "Finish a multipart upload: checked against the parts S3 holds (409 naming a missing or short part, 413 when more than declared was uploaded, 409 when already completed)",
            Access::Member,
        )
    },
    Route {
        body: Some("UrlImport"),
        success: 202,
        ..route(
            "POST",
            "/api/connectors/url-import",
            Op::UrlImport,
            "Import web pages or files by URL (fetched by a worker); answers the document ids",
            Access::Member,
        )
    },
    route(
        "GET",
        "/api/openapi.json",
        Op::OpenApi,
        "This API's OpenAPI document",
        Access::Public,
    ),
];

/// Path parameters when `path` fits the route template `pattern` (`/a/{id}/b`).
pub fn match_path(pattern: &str, path: &str) -> Option<HashMap<String, String>> {
    let (p, a): (Vec<_>, Vec<_>) = (
        pattern.trim_end_matches('/').split('/').collect(),
        path.trim_end_matches('/').split('/').collect(),
    );
    if p.len() != a.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (ps, s) in p.iter().zip(&a) {
        match ps.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
            Some(name) if !s.is_empty() => {
                let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
                params.insert(name.to_string(), decoded.into_owned());
            }
            Some(_) => return None,
            None if ps == s => {}
            None => return None,
        }
    }
    Some(params)
}

/// How specific a route template is: API Gateway prefers literal segments over variables.
pub fn specificity(pattern: &str) -> usize {
    pattern.split('/').filter(|s| !s.starts_with('{')).count()
}

/// The best route for a request, with its path parameters.
pub fn find_route<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
) -> Option<(&'a Route, HashMap<String, String>)> {
    routes
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| match_path(r.path, path).map(|p| (r, p)))
        .max_by_key(|(r, _)| specificity(r.path))
}

/// What the API shows of a connector: everything but the provider cursor, plus the dashboard's
/// `active` flag.
pub fn connector_view(c: &Connector) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_else(|_| json!({}));
    if let Some(m) = v.as_object_mut() {
        m.remove("sync_cursor");
        m.insert("active".into(), json!(c.is_active()));
    }
    v
}

fn page_view<T: serde::Serialize>(
    p: recorder_domain::paging::Page<T>,
    f: impl Fn(&T) -> Value,
) -> Value {
    json!({"items": p.items.iter().map(f).collect::<Vec<_>>(), "next_cursor": p.next_cursor})
}

fn to_json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
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
    let who: Caller = caller(event)?;
    let id = params.get("id").map(String::as_str).unwrap_or_default();
    let body = match route.op {
        Op::ListTypes => json!({"types": connectors::list_types(deps.providers.as_ref())}),
        Op::ListConnectors => page_view(
            connectors::list(deps, &who, &page(event)?).await?,
            connector_view,
        ),
        Op::CreateConnector => {
            connector_view(&connectors::create(deps, &who, json_body(event)?).await?)
        }
        Op::GetConnector => connector_view(&connectors::get(deps, &who, id).await?),
        Op::UpdateConnector => {
            connector_view(&connectors::update(deps, &who, id, json_body(event)?).await?)
        }
        Op::DeleteConnector => connector_view(&connectors::disconnect(deps, &who, id).await?),
        Op::DisableConnector => connector_view(&connectors::disable(deps, &who, id).await?),
        Op::EnableConnector => connector_view(&connectors::enable(deps, &who, id).await?),
        Op::SyncConnector => {
            let log = connectors::request_sync(deps, &who, id).await?;
            json!({"sync_log_id": log.id, "status": log.status, "sync_log": log})
        }
        Op::TestConnector => to_json(&connectors::test_connection(deps, &who, id).await?),
        Op::ListDocuments => page_view(
            connectors::list_documents(deps, &who, id, &page(event)?).await?,
            to_json,
        ),
        Op::ListSyncLogs => page_view(
            connectors::list_sync_logs(deps, &who, id, &page(event)?).await?,
            to_json,
        ),
        Op::GetDocument => to_json(&connectors::get_document(deps, &who, id).await?),
        Op::DownloadArtifact => {
            let artifact = params
                .get("artifact")
                .map(String::as_str)
                .unwrap_or_default();
            let (url, ttl) = connectors::artifact_url(deps, &who, id, artifact).await?;
            json!({"document_id": id, "artifact": artifact, "url": url, "expires_in_secs": ttl.as_secs()})
        }
        Op::ListActivity => page_view(activity::list(deps, &who, &page(event)?).await?, to_json),
        Op::Upload => to_json(&uploads::request_upload(deps, &who, json_body(event)?).await?),
        Op::UploadBatch => {
            let (batch, files) = uploads::request_batch(deps, &who, json_body(event)?).await?;
            json!({"batch": batch, "files": files})
        }
        Op::GetUploadBatch => to_json(&uploads::batch_status(deps, &who, id).await?),
        Op::RetryUploadBatch => to_json(&uploads::retry_batch(deps, &who, id).await?),
        Op::UrlImport => {
            let docs = url_import::import(deps, &who, json_body(event)?).await?;
            json!({"documents": docs.iter().map(|d| json!({"document_id": d.id, "url": d.external_url, "status": d.processing_status, "sync_count": d.sync_count})).collect::<Vec<_>>()})
        }
        Op::CompleteUpload => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Complete {
                upload_id: String,
                parts: Vec<recorder_domain::ports::UploadedPart>,
            }
            let body: Complete = json_body(event)?;
            to_json(&uploads::complete_upload(deps, &who, id, &body.upload_id, &body.parts).await?)
        }
        Op::OpenApi => unreachable!("answered above"),
    };
    Ok((route.success, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_over_variables() {
        let extra = [route(
            "GET",
            "/api/connectors/{id}/{rest}",
            Op::GetConnector,
            "",
            Access::Member,
        )];
        let (r, _) = find_route(API_ROUTES, "GET", "/api/connectors/types").unwrap();
        assert_eq!(r.op, Op::ListTypes);
        let (r, p) = find_route(API_ROUTES, "GET", "/api/connectors/abc/documents").unwrap();
        assert_eq!((r.op, p["id"].as_str()), (Op::ListDocuments, "abc"));
        assert!(find_route(&extra, "GET", "/api/connectors/a/b").is_some());
        assert!(find_route(API_ROUTES, "PUT", "/api/connectors").is_none());
        assert!(find_route(API_ROUTES, "GET", "/api/connectors//documents").is_none());
    }
}
