//! `GET /api/connectors/{id}/webhook-events`: operators read what a connector received, newest
//! first and paged, never the payloads or headers, and never another org's or connector's events.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use chrono::{DateTime, Duration, TimeZone, Utc};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::webhook::WebhookEvent;
use recorder_http_api::handle_api;
use serde_json::{Value, json};

const ADMIN: &str = include_str!("../../../events/api-list-connectors.json");

/// A request as the org's admin; `claims` overrides some of the token's claims.
fn request(path: &str, query: &[(&str, &str)], claims: &[(&str, &str)]) -> ApiGatewayV2httpRequest {
    let mut e: ApiGatewayV2httpRequest = serde_json::from_str(ADMIN).unwrap();
    e.request_context.http.method = "GET".parse().unwrap();
    e.raw_path = Some(path.into());
    e.body = None;
    e.query_string_parameters = query
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<HashMap<_, _>>()
        .into();
    let jwt = e
        .request_context
        .authorizer
        .as_mut()
        .unwrap()
        .jwt
        .as_mut()
        .unwrap();
    for (k, v) in claims {
        jwt.claims.insert(k.to_string(), v.to_string());
    }
    e
}

fn body(resp: &ApiGatewayV2httpResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

async fn connector(m: &MemoryDeps, name: &str) -> String {
    let mut e = request("/api/connectors", &[], &[]);
    e.request_context.http.method = "POST".parse().unwrap();
    e.body = Some(json!({"connector_type": "file_upload", "name": name}).to_string());
    let resp = handle_api(&m.deps, e).await;
    assert_eq!(resp.status_code, 201, "{:?}", resp.body);
    body(&resp)["id"].as_str().unwrap().to_string()
}

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

/// Stores an event for the connector, received `minute` minutes into the test's morning, with a
/// payload and headers that must never be shown.
async fn received(m: &MemoryDeps, connector_id: &str, event_id: &str, minute: i64) {
    let event = WebhookEvent {
        source: "drive".into(),
        event_id: event_id.into(),
        event_type: "change".into(),
        connector_id: Some(connector_id.into()),
        org_id: Some("org_acme".into()),
        payload: json!({"channel_token": "s3cret-token"}),
        headers: BTreeMap::from([("x-goog-channel-token".into(), "s3cret-token".into())]),
        processed: minute % 2 == 0,
        processed_at: None,
        processing_error: (minute % 2 == 1).then(|| "the sync could not be queued".into()),
        retry_count: 1,
        received_at: at(minute),
    };
    assert!(m.deps.webhook_events.record(&event).await.unwrap());
}

fn event_ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_admin_sees_the_connectors_events_newest_first_without_payloads_or_headers() {
    let m = MemoryDeps::new();
    let id = connector(&m, "Drops").await;
    received(&m, &id, "e2", 2).await;
    received(&m, &id, "e3", 3).await;
    received(&m, &id, "e1", 1).await;

    let resp = handle_api(
        &m.deps,
        request(&format!("/api/connectors/{id}/webhook-events"), &[], &[]),
    )
    .await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    let page = body(&resp);
    assert_eq!(event_ids(&page), ["e3", "e2", "e1"]);
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(
        page["items"][0],
        json!({
            "source": "drive",
            "event_id": "e3",
            "event_type": "change",
            "processed": false,
            "processing_error": "the sync could not be queued",
            "retry_count": 1,
            "received_at": "2026-12-01T09:03:00Z",
        })
    );
    let text = match &resp.body {
        Some(Body::Text(t)) => t.clone(),
        _ => unreachable!(),
    };
    assert!(!text.contains("s3cret-token"), "{text}");
}

#[tokio::test]
async fn webhook_events_are_paged_with_limit_and_next_cursor() {
    let m = MemoryDeps::new();
    let id = connector(&m, "Drops").await;
    for minute in 1..=5 {
        received(&m, &id, &format!("e{minute}"), minute).await;
    }
    let path = format!("/api/connectors/{id}/webhook-events");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..3 {
        let mut query = vec![("limit", "2")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let resp = handle_api(&m.deps, request(&path, &query, &[])).await;
        assert_eq!(resp.status_code, 200, "{:?}", resp.body);
        let page = body(&resp);
        assert!(page["items"].as_array().unwrap().len() <= 2);
        seen.extend(event_ids(&page).into_iter().map(String::from));
        cursor = page["next_cursor"].as_str().map(String::from);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["e5", "e4", "e3", "e2", "e1"]);
    assert_eq!(cursor, None, "three pages of at most two cover five events");
}

#[tokio::test]
async fn another_orgs_connector_answers_404_even_to_its_admin() {
    let m = MemoryDeps::new();
    let id = connector(&m, "Drops").await;
    received(&m, &id, "e1", 1).await;
    let path = format!("/api/connectors/{id}/webhook-events");
    let own = handle_api(&m.deps, request(&path, &[], &[])).await;
    assert_eq!(own.status_code, 200, "its own org's admin reads it");
    let other = [("org_id", "org_globex"), ("sub", "user_07")];
    let resp = handle_api(&m.deps, request(&path, &[], &other)).await;
    assert_eq!(resp.status_code, 404, "{:?}", resp.body);
    assert_eq!(body(&resp)["error"]["code"], "not_found");
    let resp = handle_api(
        &m.deps,
        request("/api/connectors/nope/webhook-events", &[], &[]),
    )
    .await;
    assert_eq!(resp.status_code, 404, "{:?}", resp.body);
}

#[tokio::test]
async fn events_of_other_connectors_are_not_shown() {
    let m = MemoryDeps::new();
    let mine = connector(&m, "Drops").await;
    let theirs = connector(&m, "Other drops").await;
    received(&m, &mine, "mine", 1).await;
    received(&m, &theirs, "theirs", 2).await;
    let resp = handle_api(
        &m.deps,
        request(&format!("/api/connectors/{mine}/webhook-events"), &[], &[]),
    )
    .await;
    assert_eq!(event_ids(&body(&resp)), ["mine"]);
    let resp = handle_api(
        &m.deps,
        request(
            &format!("/api/connectors/{theirs}/webhook-events"),
            &[],
            &[],
        ),
    )
    .await;
    assert_eq!(event_ids(&body(&resp)), ["theirs"]);
}

#[tokio::test]
async fn a_member_may_not_read_webhook_events() {
    let m = MemoryDeps::new();
    let id = connector(&m, "Drops").await;
    let resp = handle_api(
        &m.deps,
        request(
            &format!("/api/connectors/{id}/webhook-events"),
            &[],
            &[("role", "member")],
        ),
    )
    .await;
    assert_eq!(resp.status_code, 403, "{:?}", resp.body);
}

/// The document's schema for an event is the view's: a field added to one and not the other fails.
#[tokio::test]
async fn the_openapi_document_describes_exactly_the_fields_an_event_shows() {
    let m = MemoryDeps::new();
    let id = connector(&m, "Drops").await;
    received(&m, &id, "e1", 1).await;
    let resp = handle_api(
        &m.deps,
        request(&format!("/api/connectors/{id}/webhook-events"), &[], &[]),
    )
    .await;
    let item = body(&resp)["items"][0].clone();
    let shown: Vec<&String> = item.as_object().unwrap().keys().collect();

    let doc = recorder_http_api::openapi::document();
    let op = &doc["paths"]["/api/connectors/{id}/webhook-events"]["get"];
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/WebhookEventPage"
    );
    assert!(op["responses"]["403"].is_object(), "owners and admins only");
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["id", "limit", "cursor"]);
    let page = &doc["components"]["schemas"]["WebhookEventPage"];
    assert_eq!(
        page["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/WebhookEvent"
    );
    let described: Vec<&String> = doc["components"]["schemas"]["WebhookEvent"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(shown, described);
}
