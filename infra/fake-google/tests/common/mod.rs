//! Helpers shared by the integration tests: a started fake, a client that does not follow
//! redirects, and the OAuth dance with PKCE.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_google::{FakeConfig, FakeGoogle};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const SCOPE: &str = "https://www.googleapis.com/auth/drive.readonly";
pub const REDIRECT: &str = "http://127.0.0.1:9/oauth/callback";

pub async fn fake() -> FakeGoogle {
    fake_with(FakeConfig::default()).await
}

pub async fn fake_with(config: FakeConfig) -> FakeGoogle {
    FakeGoogle::start(config).await.expect("fake starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn challenge_for(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Runs the authorize step and returns the query of the redirect it answers with.
pub async fn authorize(fake: &FakeGoogle, extra: &[(&str, &str)]) -> url::Url {
    let mut params = vec![
        ("client_id", "local-client-id"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", SCOPE),
        ("state", "xyz-state"),
    ];
    params.extend_from_slice(extra);
    let response = client()
        .get(fake.auth_url())
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302, "authorize redirects");
    let location = response.headers()["location"].to_str().unwrap();
    url::Url::parse(location).unwrap()
}

pub fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A code for an offline grant with PKCE, as the connector asks for one.
pub async fn code_with_pkce(fake: &FakeGoogle, verifier: &str) -> String {
    let challenge = challenge_for(verifier);
    let redirect = authorize(
        fake,
        &[
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    query_param(&redirect, "code").expect("a code")
}

pub async fn exchange(fake: &FakeGoogle, code: &str, verifier: &str) -> reqwest::Response {
    client()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "local-client-id"),
            ("client_secret", "local-client-secret"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
}

pub async fn refresh(fake: &FakeGoogle, refresh_token: &str) -> reqwest::Response {
    client()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "local-client-id"),
            ("client_secret", "local-client-secret"),
        ])
        .send()
        .await
        .unwrap()
}

/// GET on Drive with a bearer token; returns status and JSON body (Null when not JSON).
pub async fn drive_get(
    fake: &FakeGoogle,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> (u16, Value) {
    let response = client()
        .get(fake.drive_url(path))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub fn reason(body: &Value) -> &str {
    body["error"]["errors"][0]["reason"].as_str().unwrap_or("")
}
