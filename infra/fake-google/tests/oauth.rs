//! The OAuth round trip as the connector drives it: authorize with PKCE, exchange, refresh, revoke.

mod common;

use common::*;
use serde_json::Value;

#[tokio::test]
async fn a_pkce_round_trip_yields_tokens_that_open_drive_and_refresh() {
    let fake = fake().await;
    let verifier = "a-verifier-with-enough-entropy-0123456789abcdefghijklmnop";
    let redirect = authorize(
        &fake,
        &[
            ("access_type", "offline"),
            ("code_challenge", &challenge_for(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(redirect.path(), "/oauth/callback");
    assert_eq!(
        query_param(&redirect, "state").as_deref(),
        Some("xyz-state")
    );
    let code = query_param(&redirect, "code").unwrap();

    let response = exchange(&fake, &code, verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], SCOPE);
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("first offline consent gives a refresh token");

    let (status, about) = drive_get(&fake, access, "about", &[("fields", "user")]).await;
    assert_eq!(status, 200);
    assert_eq!(about["user"]["emailAddress"], "dana@example.com");
    assert_eq!(about["user"]["displayName"], "Dana Demo");
    assert_eq!(about["user"]["kind"], "drive#user");

    let response = refresh(&fake, refresh_token).await;
    assert_eq!(response.status(), 200);
    let refreshed: Value = response.json().await.unwrap();
    assert!(
        refreshed.get("refresh_token").is_none(),
        "Google keeps the old refresh token"
    );
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(drive_get(&fake, new_access, "about", &[]).await.0, 200);

    let stats = fake.stats();
    assert_eq!(
        (
            stats.tokens_issued,
            stats.tokens_refreshed,
            stats.refresh_tokens_issued
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_wrong_code_verifier_is_an_invalid_grant() {
    let fake = fake().await;
    let code = code_with_pkce(
        &fake,
        "the-right-verifier-0123456789abcdefghijklmnopqrstuvwxyz",
    )
    .await;
    let response = exchange(
        &fake,
        &code,
        "a-wrong-verifier-0123456789abcdefghijklmnopqrstuvwxyz",
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_code_works_only_once() {
    let fake = fake().await;
    let verifier = "verifier-0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    let code = code_with_pkce(&fake, verifier).await;
    assert_eq!(exchange(&fake, &code, verifier).await.status(), 200);
    let again = exchange(&fake, &code, verifier).await;
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_refresh_token_comes_only_with_the_first_consent_unless_consent_is_prompted() {
    let fake = fake().await;
    let verifier = "verifier-0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    let first = code_with_pkce(&fake, verifier).await;
    assert!(
        exchange(&fake, &first, verifier)
            .await
            .json::<Value>()
            .await
            .unwrap()
            .get("refresh_token")
            .is_some()
    );

    let redirect = authorize(
        &fake,
        &[
            ("access_type", "offline"),
            ("code_challenge", &challenge_for(verifier)),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let second = query_param(&redirect, "code").unwrap();
    let tokens: Value = exchange(&fake, &second, verifier)
        .await
        .json()
        .await
        .unwrap();
    assert!(tokens.get("access_token").is_some());
    assert!(
        tokens.get("refresh_token").is_none(),
        "no refresh token on a repeat consent without prompt=consent"
    );
}

#[tokio::test]
async fn bad_client_credentials_are_an_invalid_client() {
    let fake = fake().await;
    let response = client()
        .post(fake.token_url())
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "local-client-id"),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn revoked_refresh_tokens_answer_invalid_grant() {
    let fake = fake().await;
    let verifier = "verifier-0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    let code = code_with_pkce(&fake, verifier).await;
    let tokens: Value = exchange(&fake, &code, verifier).await.json().await.unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();

    fake.revoke_refresh_tokens();
    let response = refresh(&fake, refresh_token).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(
        body["error_description"],
        "Token has been expired or revoked."
    );
}

#[tokio::test]
async fn the_revoke_endpoint_ends_the_grant() {
    let fake = fake().await;
    let verifier = "verifier-0123456789abcdefghijklmnopqrstuvwxyz0123456789";
    let code = code_with_pkce(&fake, verifier).await;
    let tokens: Value = exchange(&fake, &code, verifier).await.json().await.unwrap();
    let (access, refresh_token) = (
        tokens["access_token"].as_str().unwrap(),
        tokens["refresh_token"].as_str().unwrap(),
    );

    let response = client()
        .post(fake.revoke_url())
        .query(&[("token", refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(refresh(&fake, refresh_token).await.status(), 400);
    assert_eq!(
        drive_get(&fake, access, "about", &[]).await.0,
        401,
        "the grant's access tokens die with it"
    );
}

#[tokio::test]
async fn a_denied_consent_redirects_with_access_denied_and_the_state() {
    let fake = fake().await;
    fake.deny_next_consent();
    let redirect = authorize(&fake, &[]).await;
    assert_eq!(
        query_param(&redirect, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(
        query_param(&redirect, "state").as_deref(),
        Some("xyz-state")
    );
    assert!(query_param(&redirect, "code").is_none());
    // Only the next one.
    assert!(query_param(&authorize(&fake, &[]).await, "code").is_some());
}

#[tokio::test]
async fn an_unknown_client_gets_an_error_not_a_redirect() {
    let fake = fake().await;
    let response = client()
        .get(fake.auth_url())
        .query(&[
            ("client_id", "someone-else"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", SCOPE),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refused_with_google_401_body() {
    let fake = fake().await;
    let token = fake.issue_access_token(SCOPE);
    fake.expire_access_tokens();
    let (status, body) = drive_get(&fake, &token, "files", &[]).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(reason(&body), "authError");
}
