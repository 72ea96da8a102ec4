//! The local stand-in for API Gateway: every HttpApi route of template.yaml, a JWT check on the
//! routes that require it, and the same v2 event the Lambda receives. Also `GET /_local/token`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body as LambdaBody;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use base64::Engine;
use local_aws::HttpRoute;
use recorder_http_api::route_table::{match_path, specificity};
use serde_json::{Value, json};

use crate::{Function, token};

/// API Gateway's own payload limit.
const MAX_PAYLOAD: usize = 10 * 1024 * 1024;

struct Gateway {
    routes: Vec<(HttpRoute, Arc<Function>)>,
}

pub async fn serve(listener: tokio::net::TcpListener, functions: Vec<Arc<Function>>) {
    let routes = functions
        .iter()
        .flat_map(|f| f.spec.routes.iter().map(move |r| (r.clone(), f.clone())))
        .collect();
    let app = Router::new()
        .fallback(handle)
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
        .with_state(Arc::new(Gateway { routes }));
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "gateway stopped");
    }
}

fn respond(status: u16, body: Value) -> Response<Body> {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn with_cors(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("authorization,content-type"),
    );
    h.insert(
        "access-control-allow-methods",
        HeaderValue::from_static("GET,POST,PATCH,DELETE,OPTIONS"),
    );
    r
}

fn query_map(q: &str) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::new();
    for (k, v) in url_pairs(q) {
        out.entry(k)
            .and_modify(|e| {
                e.push(',');
            })
            .or_default()
            .push_str(&v);
    }
    out
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

async fn handle(
    State(gw): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    if method == Method::OPTIONS {
        return with_cors(respond(204, Value::Null));
    }
    if method == Method::GET && path == "/_local/token" {
        return with_cors(local_token(&query));
    }
    let Some((route, function, params)) = gw
        .routes
        .iter()
        .filter(|(r, _)| r.method == method.as_str())
        .filter_map(|(r, f)| match_path(&r.path, &path).map(|p| (r, f, p)))
        .max_by_key(|(r, _, _)| specificity(&r.path))
    else {
        return with_cors(respond(404, json!({"message": "Not Found"})));
    };
    let claims = if route.public {
        None
    } else {
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match bearer.and_then(token::verify) {
            Some(c) => Some(c),
            None => return with_cors(respond(401, json!({"message": "Unauthorized"}))),
        }
    };
    let event = build_event(
        &method, &path, &query, &headers, &body, route, params, claims,
    );
    let response = match serde_json::from_value(event) {
        Ok(event) => function.http(event).await,
        Err(e) => {
            tracing::error!(error = %e, "could not build an API Gateway event");
            return respond(500, json!({"message": "Internal Server Error"}));
        }
    };
    with_cors(to_http(response))
}

#[allow(clippy::too_many_arguments)]
fn build_event(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    route: &HttpRoute,
    params: HashMap<String, String>,
    claims: Option<HashMap<String, String>>,
) -> Value {
    let mut hdrs: HashMap<String, String> = HashMap::new();
    // Like API Gateway's v2 payload: the browser's cookies go in `cookies`, not in the headers.
    let mut cookies: Vec<String> = Vec::new();
    for (k, v) in headers {
        let v = v.to_str().unwrap_or_default();
        if *k == axum::http::header::COOKIE {
            let pairs = v.split(';').map(str::trim).filter(|c| !c.is_empty());
            cookies.extend(pairs.map(str::to_string));
            continue;
        }
        hdrs.entry(k.as_str().to_string())
            .and_modify(|e| {
                e.push(',');
                e.push_str(v);
            })
            .or_insert_with(|| v.to_string());
    }
    let route_key = format!("{} {}", route.method, route.path);
    let now = chrono::Utc::now();
    let (body, b64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let mut context = json!({
        "accountId": local_aws::provision::ACCOUNT_ID, "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "local",
        "http": {"method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": hdrs.get("user-agent").cloned().unwrap_or_default()},
        "requestId": recorder_domain::ids::new_id(), "routeKey": route_key, "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(), "timeEpoch": now.timestamp_millis()
    });
    if let Some(claims) = claims {
        context["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    let mut event = json!({
        "version": "2.0", "routeKey": route_key, "rawPath": path, "rawQueryString": query,
        "headers": hdrs, "queryStringParameters": query_map(query), "pathParameters": params,
        "requestContext": context, "body": body, "isBase64Encoded": b64
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    event
}

fn to_http(resp: ApiGatewayV2httpResponse) -> Response<Body> {
    let bytes = match resp.body {
        Some(LambdaBody::Text(t)) if resp.is_base64_encoded => {
            base64::engine::general_purpose::STANDARD
                .decode(t)
                .unwrap_or_default()
        }
        Some(LambdaBody::Text(t)) => t.into_bytes(),
        Some(LambdaBody::Binary(b)) => b,
        _ => Vec::new(),
    };
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() =
        StatusCode::from_u16(resp.status_code as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in resp.headers.iter() {
        r.headers_mut().insert(k.clone(), v.clone());
    }
    // API Gateway turns the v2 response's `cookies` into one Set-Cookie header each.
    for c in &resp.cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(axum::http::header::SET_COOKIE, v);
        }
    }
    r
}

fn local_token(query: &str) -> Response<Body> {
    let q = query_map(query);
    let get = |k: &str, default: &str| q.get(k).cloned().unwrap_or_else(|| default.to_string());
    let (org_id, user_id, role) = (
        get("org_id", "org_demo"),
        get("user_id", "user_demo"),
        get("role", "admin"),
    );
    if !["owner", "admin", "member"].contains(&role.as_str()) {
        return respond(
            400,
            json!({"error": {"code": "bad_request", "message": "role: must be owner, admin or member"}}),
        );
    }
    for (field, v) in [("org_id", &org_id), ("user_id", &user_id)] {
        if !recorder_domain::ids::is_valid_id(v) {
            return respond(
                400,
                json!({"error": {"code": "bad_request", "message": format!("{field}: letters, digits, '_', '-' and '.' only")}}),
            );
        }
    }
    let token = token::issue(&org_id, &user_id, &role, chrono::Utc::now().timestamp());
    respond(
        200,
        json!({"token": token, "token_type": "Bearer", "expires_in": 3600, "org_id": org_id, "user_id": user_id, "role": role}),
    )
}
