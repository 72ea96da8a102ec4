//! `GET /api/connectors/types` says which types this build has; the others are refused clearly.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use recorder_domain::memory::MemoryDeps;
use recorder_http_api::handle_api;
use serde_json::{Value, json};

const LIST: &str = include_str!("../../../events/api-list-connectors.json");

fn request(method: &str, path: &str, body: Option<Value>) -> ApiGatewayV2httpRequest {
    let mut e: ApiGatewayV2httpRequest = serde_json::from_str(LIST).unwrap();
    e.request_context.http.method = method.parse().unwrap();
    e.raw_path = Some(path.into());
    e.body = body.map(|b| b.to_string());
    e.is_base64_encoded = false;
    e.query_string_parameters = Default::default();
    e
}

fn body(resp: &ApiGatewayV2httpResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

#[tokio::test]
async fn the_types_list_marks_provider_types_without_a_connector_unavailable() {
    // No provider is registered: only the types fed through the API itself are available.
    let m = MemoryDeps::new();
    let resp = handle_api(&m.deps, request("GET", "/api/connectors/types", None)).await;
    assert_eq!(resp.status_code, 200);
    let types = body(&resp)["types"].as_array().unwrap().clone();
    assert_eq!(types.len(), 7);
    for t in &types {
        let api_fed = matches!(t["type"].as_str(), Some("file_upload" | "url_import"));
        assert_eq!(t["available"], api_fed, "{t}");
        assert_eq!(t["unavailable_reason"].is_string(), !api_fed, "{t}");
    }
}

#[tokio::test]
async fn creating_an_unavailable_type_answers_422_naming_it() {
    let m = MemoryDeps::new();
    let resp = handle_api(
        &m.deps,
        request(
            "POST",
            "/api/connectors",
            Some(json!({"connector_type": "zoom", "name": "Calls"})),
        ),
    )
    .await;
    assert_eq!(resp.status_code, 422, "{:?}", resp.body);
    let err = &body(&resp)["error"];
    assert_eq!(err["code"], "unsupported");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("not available in this build"),
        "{err}"
    );
}
