//! Every HTTP route of the product in one table per function: method, path, summary, who may
//! call it and the handler id. Dispatch, the OpenAPI document and the check against template.yaml
//! all read these tables, so the three cannot drift apart.
//!
//! A leaf: it names handlers by id ([`Op`]) and imports none of them.

use std::collections::HashMap;

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

/// The handler id of an `api` route; `crate::api` maps each to its handler.
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
    ListWebhookEvents,
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

/// A route of the `api` function.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub op: Op,
    pub summary: &'static str,
    pub access: Access,
    /// Name of the request body schema in the OpenAPI document.
    pub body: Option<&'static str>,
    /// Name of the success response schema (one of `crate::views::schemas`); a plain object
    /// when absent.
    pub response: Option<&'static str>,
    /// Takes `limit` and `cursor` and answers a page.
    pub paged: bool,
    pub success: u16,
}

/// A route served by another function (`oauth`, `webhooks`): dispatched there, described in the
/// OpenAPI document by its summary.
#[derive(Debug, Clone, Copy)]
pub struct ExtraRoute {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub public: bool,
}

pub const fn route(
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
        response: None,
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
    Route {
        paged: true,
        response: Some("WebhookEventPage"),
        ..route(
            "GET",
            "/api/connectors/{id}/webhook-events",
            Op::ListWebhookEvents,
            "List the provider events received for the connector, newest first, with how their processing went (for operators; no payloads or headers)",
            Access::Admin,
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

/// The `oauth` function's routes (dispatched by `crate::oauth`).
pub const OAUTH_ROUTES: &[ExtraRoute] = &[
    ExtraRoute {
        method: "GET",
        path: "/api/connectors/auth/{provider}",
        summary: "Start connecting a provider account (302 to the provider's consent page; sets the cookie the callback needs)",
        public: false,
    },
    ExtraRoute {
        method: "GET",
        path: "/api/connectors/auth/{provider}/callback",
        summary: "The provider's redirect back after consent: creates or re-activates the connector (only in the browser that started; 403 oauth_other_browser elsewhere)",
        public: true,
    },
];

/// The `webhooks` function's route (dispatched by `crate::webhooks`).
pub const WEBHOOK_ROUTES: &[ExtraRoute] = &[ExtraRoute {
    method: "POST",
    path: "/api/connectors/webhooks/{provider}",
    summary: "Provider deliveries (drive: changes.watch channel notifications, verified by the channel's token); verified, queued for the webhook worker and answered at once",
    public: true,
}];

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

/// The extra route a request is for, with its path parameters.
pub fn find_extra_route<'a>(
    routes: &'a [ExtraRoute],
    method: &str,
    path: &str,
) -> Option<(&'a ExtraRoute, HashMap<String, String>)> {
    routes
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| match_path(r.path, path).map(|p| (r, p)))
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
