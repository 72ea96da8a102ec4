//! A connect is finished only by the browser that started it: the start route hands that browser a
//! cookie, and the public callback refuses a valid code and state brought by any other browser
//! (a consent link sent to someone else), before any token exchange or write.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use recorder_domain::connector::ConnectorType;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::paging::PageRequest;
use recorder_domain::secret::{OAuthTokens, Secret};
use recorder_domain::source::{OAuthClient, SourceError};
use recorder_domain::{Caller, Role};
use recorder_http_api::oauth;
use serde_json::Value;

const START: &str = include_str!("../../../events/oauth-start.json");
const CALLBACK: &str = include_str!("../../../events/oauth-callback.json");

/// Counts code exchanges, so a test can see that a refused callback never reached the provider.
#[derive(Default)]
struct CountingOAuth {
    exchanges: AtomicU32,
}

#[async_trait]
impl OAuthClient for CountingOAuth {
    async fn authorize_url(&self, state: &str, _: &str, _: &str) -> Result<String, SourceError> {
        Ok(format!("https://consent.example/?state={state}"))
    }
    async fn exchange_code(&self, _: &str, _: &str, _: &str) -> Result<OAuthTokens, SourceError> {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        Ok(OAuthTokens {
            access_token: Secret::new("victim-access-token"),
            refresh_token: Some(Secret::new("victim-refresh-token")),
            expires_at: None,
            scope: None,
        })
    }
    async fn refresh(&self, _: &OAuthTokens) -> Result<OAuthTokens, SourceError> {
        Err(SourceError::AuthRevoked("not in this test".into()))
    }
}

fn setup() -> (MemoryDeps, Arc<CountingOAuth>) {
    let m = MemoryDeps::new();
    let client = Arc::new(CountingOAuth::default());
    m.providers
        .register_oauth(ConnectorType::GoogleDrive, client.clone());
    (m, client)
}

fn body(resp: &ApiGatewayV2httpResponse) -> Value {
    match &resp.body {
        Some(Body::Text(t)) => serde_json::from_str(t).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

/// The admin of org_acme (the sample event's claims) starts connecting: the state, and the
/// Set-Cookie lines the start answered with.
async fn start(m: &MemoryDeps) -> (String, Vec<String>) {
    let resp = oauth::handle_oauth(&m.deps, serde_json::from_str(START).unwrap()).await;
    assert_eq!(resp.status_code, 302, "{:?}", resp.body);
    let url = body(&resp)["authorize_url"].as_str().unwrap().to_string();
    let state = url.split("state=").nth(1).unwrap().to_string();
    (state, resp.cookies.clone())
}

/// The provider's redirect back, as the sample callback event but with this state and code, and
/// with whatever cookies the calling browser holds (none by default).
fn callback(state: &str) -> ApiGatewayV2httpRequest {
    let mut e: ApiGatewayV2httpRequest = serde_json::from_str(CALLBACK).unwrap();
    e.query_string_parameters = HashMap::from([
        ("code".to_string(), "4/0AVG7fiQ8nX2pLk".to_string()),
        ("state".to_string(), state.to_string()),
    ])
    .into();
    e.cookies = None;
    e
}

/// `name=value` of a Set-Cookie line, as a browser would send it back.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_string()
}

async fn connectors_of_acme(m: &MemoryDeps) -> usize {
    let caller = Caller {
        org_id: "org_acme".into(),
        user_id: "user_01".into(),
        role: Role::Admin,
    };
    recorder_domain::service::connectors::list(&m.deps, &caller, &PageRequest::new(None, None))
        .await
        .unwrap()
        .items
        .len()
}

fn assert_clears_the_cookie(resp: &ApiGatewayV2httpResponse, state: &str) {
    assert!(
        resp.cookies
            .iter()
            .any(|c| c.starts_with(&format!("oauth_{state}="))
                && c.contains("Max-Age=0")
                && c.contains("Path=/api/connectors/auth")),
        "{:?}",
        resp.cookies
    );
}

#[tokio::test]
async fn a_consent_link_finished_in_another_browser_is_refused_and_creates_nothing() {
    let (m, provider) = setup();
    let (state, _admins_cookie) = start(&m).await;

    // The victim's browser holds no cookie for this flow, or another one.
    let mut with_other_cookie = callback(&state);
    with_other_cookie.cookies = Some(vec![format!("oauth_{state}=not-the-admins-nonce")]);
    let mut with_other_header = callback(&state);
    with_other_header.headers.insert(
        "cookie",
        HeaderValue::from_str(&format!("theme=dark; oauth_{state}=guessed")).unwrap(),
    );
    for victim in [callback(&state), with_other_cookie, with_other_header] {
        let resp = oauth::handle_oauth(&m.deps, victim).await;
        assert_eq!(resp.status_code, 403, "{:?}", resp.body);
        let error = &body(&resp)["error"];
        assert_eq!(error["code"], "oauth_other_browser");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("started in another browser; start connecting again from the app"),
            "{error}"
        );
        assert_clears_the_cookie(&resp, &state);
    }

    assert_eq!(
        connectors_of_acme(&m).await,
        0,
        "no connector filed under org_acme"
    );
    assert!(
        m.secrets.tokens.lock().unwrap().is_empty(),
        "no token secret written"
    );
    assert_eq!(
        provider.exchanges.load(Ordering::SeqCst),
        0,
        "the code was never exchanged"
    );
}

#[tokio::test]
async fn the_browser_that_started_finishes_connecting_and_its_cookie_is_cleared() {
    let (m, provider) = setup();
    let (state, set_cookies) = start(&m).await;
    assert_eq!(set_cookies.len(), 1, "{set_cookies:?}");
    let set_cookie = &set_cookies[0];
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/api/connectors/auth",
        "Max-Age=600",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    assert!(
        set_cookie.starts_with(&format!("oauth_{state}=")),
        "{set_cookie}"
    );

    // Someone else's attempt first: refused, and it does not use up the admin's state.
    assert_eq!(
        oauth::handle_oauth(&m.deps, callback(&state))
            .await
            .status_code,
        403
    );

    // API Gateway v2 hands the browser's cookies over in `cookies`.
    let mut own = callback(&state);
    own.cookies = Some(vec!["theme=dark".into(), pair(set_cookie)]);
    let resp = oauth::handle_oauth(&m.deps, own).await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    assert_eq!(body(&resp)["status"], "connected");
    assert_clears_the_cookie(&resp, &state);
    assert_eq!(connectors_of_acme(&m).await, 1);
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 1);

    // Other gateways pass a plain Cookie header.
    let (state, set_cookies) = start(&m).await;
    let mut own = callback(&state);
    own.headers.insert(
        "cookie",
        HeaderValue::from_str(&format!("theme=dark; {}", pair(&set_cookies[0]))).unwrap(),
    );
    let resp = oauth::handle_oauth(&m.deps, own).await;
    assert_eq!(resp.status_code, 200, "{:?}", resp.body);
    assert_eq!(provider.exchanges.load(Ordering::SeqCst), 2);
}
