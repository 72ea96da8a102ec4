//! The API handlers driven by the sample events in events/ (the same files `sam local invoke -e`
//! takes), against in-memory ports.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use recorder_domain::memory::MemoryDeps;
use recorder_http_api::route_table::{API_ROUTES, Access};
use recorder_http_api::{handle_api, oauth, webhooks};
use serde_json::{Value, json};

fn event(json_text: &str) -> ApiGatewayV2httpRequest {
    serde_json::from_str(json_text).expect("sample event parses as an API Gateway v2 request")
}

fn body(resp: &ApiGatewayV2httpResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

fn with(
    mut e: ApiGatewayV2httpRequest,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> ApiGatewayV2httpRequest {
    e.request_context.http.method = method.parse().unwrap();
    e.raw_path = Some(path.into());
    e.body = body.map(|b| b.to_string());
    e.is_base64_encoded = false;
    e.query_string_parameters = Default::default();
    e
}

const CREATE: &str = include_str!("../../../events/api-create-connector.json");
const LIST: &str = include_str!("../../../events/api-list-connectors.json");
const OTHER_ORG: &str = include_str!("../../../events/api-get-connector-other-org.json");
const NO_CLAIMS: &str = include_str!("../../../events/api-missing-claims.json");

#[tokio::test]
async fn the_sample_create_event_creates_a_connector_and_the_list_event_shows_it() {
    let m = MemoryDeps::new();
    let resp = handle_api(&m.deps, event(CREATE)).await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    let created = body(&resp);
    assert_eq!(created["connector_type"], "file_upload");
    assert_eq!(created["active"], true);
    assert!(created.get("sync_cursor").is_none());

    let resp = handle_api(&m.deps, event(LIST)).await;
    assert_eq!(resp.status_code, 200);
    let listed = body(&resp);
    assert_eq!(listed["items"][0]["id"], created["id"]);
    assert_eq!(listed["items"][0]["documents_count"], 0);
}

#[tokio::test]
async fn another_orgs_id_answers_404_and_missing_claims_answer_401() {
    let m = MemoryDeps::new();
    let created = body(&handle_api(&m.deps, event(CREATE)).await);
    let mut e = event(OTHER_ORG);
    e.raw_path = Some(format!(
        "/api/connectors/{}",
        created["id"].as_str().unwrap()
    ));
    let resp = handle_api(&m.deps, e).await;
    assert_eq!(resp.status_code, 404);
    assert_eq!(body(&resp)["error"]["code"], "not_found");

    let resp = handle_api(&m.deps, event(NO_CLAIMS)).await;
    assert_eq!(resp.status_code, 401);
    assert_eq!(body(&resp)["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn a_duplicate_name_answers_409_and_a_bad_field_422_naming_it() {
    let m = MemoryDeps::new();
    assert_eq!(handle_api(&m.deps, event(CREATE)).await.status_code, 201);
    let resp = handle_api(&m.deps, event(CREATE)).await;
    assert_eq!(resp.status_code, 409);
    assert!(
        body(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );

    let bad = with(
        event(CREATE),
        "POST",
        "/api/connectors",
        Some(json!({"connector_type": "file_upload", "name": "  "})),
    );
    let resp = handle_api(&m.deps, bad).await;
    assert_eq!(resp.status_code, 422);
    assert!(
        body(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("name:")
    );

    let unknown = with(
        event(CREATE),
        "POST",
        "/api/connectors",
        Some(json!({"connector_type": "file_upload", "name": "x", "colour": "red"})),
    );
    let resp = handle_api(&m.deps, unknown).await;
    assert_eq!(resp.status_code, 400);
    assert!(
        body(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );

    let broken = with(event(CREATE), "POST", "/api/connectors", None);
    let mut broken = broken;
    broken.body = Some("{not json".into());
    assert_eq!(handle_api(&m.deps, broken).await.status_code, 400);
}

#[tokio::test]
async fn an_oversize_body_answers_413() {
    let m = MemoryDeps::new();
    let mut e = event(CREATE);
    e.body = Some(format!("{{\"name\":\"{}\"}}", "x".repeat(200_000)));
    let resp = handle_api(&m.deps, e).await;
    assert_eq!(resp.status_code, 413);
    assert_eq!(body(&resp)["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn a_member_can_read_but_not_sync() {
    let m = MemoryDeps::new();
    let created = body(&handle_api(&m.deps, event(CREATE)).await);
    let id = created["id"].as_str().unwrap();
    let mut member = event(LIST);
    member
        .request_context
        .authorizer
        .as_mut()
        .unwrap()
        .jwt
        .as_mut()
        .unwrap()
        .claims
        .insert("role".into(), "member".into());
    let read = with(
        member.clone(),
        "GET",
        &format!("/api/connectors/{id}"),
        None,
    );
    assert_eq!(handle_api(&m.deps, read).await.status_code, 200);
    let sync = with(member, "POST", &format!("/api/connectors/{id}/sync"), None);
    assert_eq!(handle_api(&m.deps, sync).await.status_code, 403);
}

#[tokio::test]
async fn a_manual_sync_answers_202_with_the_sync_log_id() {
    let m = MemoryDeps::new();
    let created = body(&handle_api(&m.deps, event(CREATE)).await);
    let id = created["id"].as_str().unwrap();
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            &format!("/api/connectors/{id}/sync"),
            None,
        ),
    )
    .await;
    assert_eq!(resp.status_code, 202);
    let b = body(&resp);
    assert_eq!(b["status"], "queued");
    assert_eq!(
        m.queue.sent_sync_jobs()[0].sync_log_id,
        b["sync_log_id"].as_str().unwrap()
    );
    let logs = body(
        &handle_api(
            &m.deps,
            with(
                event(LIST),
                "GET",
                &format!("/api/connectors/{id}/sync-logs"),
                None,
            ),
        )
        .await,
    );
    assert_eq!(logs["items"][0]["id"], b["sync_log_id"]);
}

#[tokio::test]
async fn an_invalid_limit_or_cursor_answers_400() {
    let m = MemoryDeps::new();
    let mut e = event(LIST);
    e.query_string_parameters = [("limit".to_string(), "many".to_string())]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
        .into();
    assert_eq!(handle_api(&m.deps, e).await.status_code, 400);
    let mut e = event(LIST);
    e.query_string_parameters = [("cursor".to_string(), "forged".to_string())]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>()
        .into();
    let resp = handle_api(&m.deps, e).await;
    assert_eq!(resp.status_code, 400);
    assert_eq!(body(&resp)["error"]["code"], "invalid_cursor");
}

#[tokio::test]
async fn unknown_routes_answer_404_in_json() {
    let m = MemoryDeps::new();
    let resp = handle_api(&m.deps, with(event(LIST), "GET", "/api/nothing-here", None)).await;
    assert_eq!(resp.status_code, 404);
    assert_eq!(body(&resp)["error"]["code"], "not_found");
}

#[tokio::test]
async fn oauth_without_a_configured_provider_answers_422_and_anonymous_starts_401() {
    let m = MemoryDeps::new();
    let resp = oauth::handle_oauth(
        &m.deps,
        event(include_str!("../../../events/oauth-start.json")),
    )
    .await;
    assert_eq!(resp.status_code, 422);
    assert!(
        body(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Google Drive")
    );
    let mut anonymous = event(include_str!("../../../events/oauth-start.json"));
    anonymous.request_context.authorizer = None;
    assert_eq!(
        oauth::handle_oauth(&m.deps, anonymous).await.status_code,
        401
    );
}

#[tokio::test]
async fn a_callback_with_an_unknown_state_answers_400_and_creates_nothing() {
    let m = MemoryDeps::new();
    let mut e = event(include_str!("../../../events/oauth-start.json"));
    e.raw_path = Some("/api/connectors/auth/google_drive/callback".into());
    e.request_context.authorizer = None;
    e.query_string_parameters = [
        ("code".to_string(), "c".to_string()),
        ("state".to_string(), "forged".to_string()),
    ]
    .into_iter()
    .collect::<std::collections::HashMap<_, _>>()
    .into();
    let resp = oauth::handle_oauth(&m.deps, e).await;
    assert_eq!(resp.status_code, 400);
    assert!(
        body(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown or was already used")
    );
    let caller = recorder_domain::Caller {
        org_id: "org_acme".into(),
        user_id: "u".into(),
        role: recorder_domain::Role::Admin,
    };
    let listed = recorder_domain::service::connectors::list(
        &m.deps,
        &caller,
        &recorder_domain::paging::PageRequest::new(None, None),
    )
    .await
    .unwrap();
    assert!(listed.items.is_empty());
}

#[tokio::test]
async fn a_delivery_for_a_provider_this_build_has_no_push_for_answers_501() {
    // No provider registered: neither Drive's delivery nor another provider's is accepted.
    let m = MemoryDeps::new();
    for path in [
        "/api/connectors/webhooks/drive",
        "/api/connectors/webhooks/zoom",
    ] {
        let mut e = event(include_str!("../../../events/webhooks-drive.json"));
        e.raw_path = Some(path.into());
        let resp = webhooks::handle_webhook(&m.deps, e).await;
        assert_eq!(resp.status_code, 501, "{path}");
    }
    assert!(m.queue.push_jobs.lock().unwrap().is_empty());
}

/// Every route in the code is declared in template.yaml for its function, and nothing else is.
#[test]
fn template_routes_match_the_route_tables() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
    let routes_of = |function: &str| -> Vec<(String, String, bool)> {
        let events = template["Resources"][function]["Properties"]["Events"]
            .as_mapping()
            .unwrap();
        let mut v: Vec<_> = events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
            .map(|e| {
                let p = &e["Properties"];
                (
                    p["Method"].as_str().unwrap().to_uppercase(),
                    p["Path"].as_str().unwrap().to_string(),
                    p["Auth"]["Authorizer"].as_str() == Some("NONE"),
                )
            })
            .collect();
        v.sort();
        v
    };
    let mut api: Vec<_> = API_ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.path.to_string(),
                r.access == Access::Public,
            )
        })
        .collect();
    api.sort();
    assert_eq!(routes_of("ApiFunction"), api);
    let mut o: Vec<_> = oauth::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.public))
        .collect();
    o.sort();
    assert_eq!(routes_of("OAuthFunction"), o);
    let w: Vec<_> = webhooks::ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.public))
        .collect();
    assert_eq!(routes_of("WebhooksFunction"), w);
}

#[test]
fn the_openapi_document_lists_every_route() {
    let doc = recorder_http_api::openapi::document();
    for r in API_ROUTES {
        assert!(
            doc["paths"][r.path][r.method.to_lowercase()].is_object(),
            "{} {}",
            r.method,
            r.path
        );
    }
    assert!(doc["paths"]["/api/connectors/auth/{provider}/callback"]["get"].is_object());
}

#[test]
fn every_response_schema_a_route_names_is_in_the_openapi_document() {
    let doc = recorder_http_api::openapi::document();
    for name in API_ROUTES.iter().filter_map(|r| r.response) {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
}

#[tokio::test]
async fn past_the_monthly_import_quota_uploads_and_url_imports_answer_429_with_the_reset() {
    let mut m = MemoryDeps::new();
    m.deps.settings = std::sync::Arc::new(recorder_domain::settings::Settings {
        monthly_import_quota: Some(3),
        ..Default::default()
    });
    let file = |n: &str| json!({"name": n, "size": 10, "content_type": "text/plain"});
    let batch = json!({"files": [file("a.txt"), file("b.txt")]});
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            "/api/connectors/upload/batch",
            Some(batch),
        ),
    )
    .await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);

    let too_many = json!({"files": [file("c.txt"), file("d.txt")]});
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            "/api/connectors/upload/batch",
            Some(too_many),
        ),
    )
    .await;
    assert_eq!(resp.status_code, 429, "{:?}", resp.body);
    let err = body(&resp)["error"].clone();
    assert_eq!(err["code"], "quota_exceeded");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("(2 used, 1 left, 2 requested)")
    );
    let resets_at: chrono::DateTime<chrono::Utc> =
        err["resets_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        resets_at,
        recorder_domain::service::quota::next_month(chrono::Utc::now())
    );
    let retry_after: i64 = resp.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 31 * 86_400);

    let one = json!({"url": "https://example.com/a"});
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            "/api/connectors/url-import",
            Some(one.clone()),
        ),
    )
    .await;
    assert!(resp.status_code < 300, "the last one fits: {:?}", resp.body);
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            "/api/connectors/url-import",
            Some(one),
        ),
    )
    .await;
    assert!(
        resp.status_code < 300,
        "a re-import is an update, not counted: {:?}",
        resp.body
    );
    let resp = handle_api(
        &m.deps,
        with(
            event(CREATE),
            "POST",
            "/api/connectors/upload",
            Some(file("e.txt")),
        ),
    )
    .await;
    assert_eq!(resp.status_code, 429, "{:?}", resp.body);
}

#[tokio::test]
async fn artifacts_download_through_short_lived_urls_for_their_own_org_only() {
    let m = MemoryDeps::new();
    let file = json!({"name": "notes.md", "size": 10, "content_type": "text/markdown"});
    let resp = handle_api(
        &m.deps,
        with(event(CREATE), "POST", "/api/connectors/upload", Some(file)),
    )
    .await;
    let id = body(&resp)["document_id"].as_str().unwrap().to_string();
    let get = |path: String, e: &str| handle_api(&m.deps, with(event(e), "GET", &path, None));

    let resp = get(format!("/api/documents/{id}/download/original"), CREATE).await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    let b = body(&resp);
    let key = m
        .deps
        .documents
        .get(&id)
        .await
        .unwrap()
        .unwrap()
        .original_key
        .unwrap();
    // An original is handed out as an attachment (see recorder_domain::download).
    let url = b["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!(
            "memory://get/{key}?expires=900&response-content-disposition=attachment;"
        )),
        "{url}"
    );
    assert_eq!(b["expires_in_secs"], 900);

    let resp = get(format!("/api/documents/{id}/download/transcript"), CREATE).await;
    assert_eq!(resp.status_code, 404, "not produced: {:?}", resp.body);
    let resp = get(format!("/api/documents/{id}/download/secrets"), CREATE).await;
    assert_eq!(resp.status_code, 422);
    let resp = get(format!("/api/documents/{id}/download/original"), OTHER_ORG).await;
    assert_eq!(resp.status_code, 404, "another org's document is not there");
}
