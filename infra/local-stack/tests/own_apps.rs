//! A newcomer's own OAuth app: the stack takes provider settings and app-secret fields from its
//! environment, and the OAuth start answers with their authorize URL and client id.

use std::time::Duration;

use local_stack::{HostEnv, Options, start};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oauth_start_uses_the_auth_url_client_id_and_public_url_from_the_environment() {
    let stack = start(Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        retry_delay: Duration::from_secs(1),
        host_env: HostEnv::from_pairs([
            (
                "GOOGLE_AUTH_URL",
                "https://auth.example.test/o/oauth2/v2/auth",
            ),
            ("GOOGLE_CLIENT_ID", "my-app.apps.example.test"),
            ("GOOGLE_CLIENT_SECRET", "shh"),
            ("PUBLIC_BASE_URL", "https://public.example.test"),
            ("ZOOM_WEBHOOK_SECRET", "zoom-shh"),
        ]),
        ..Options::default()
    })
    .await
    .expect("the local stack starts");
    assert_eq!(
        stack.sources.settings,
        ["GOOGLE_AUTH_URL", "PUBLIC_BASE_URL"]
    );
    assert_eq!(
        stack.sources.secret_fields,
        [
            "google_client_id",
            "google_client_secret",
            "zoom_webhook_secret"
        ]
    );

    let base = format!("http://{}", stack.addr);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token: Value = http
        .get(format!(
            "{base}/_local/token?org_id=org_a&user_id=user_a&role=admin"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = http
        .get(format!("{base}/api/connectors/auth/google_drive"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    let url = url::Url::parse(body["authorize_url"].as_str().unwrap()).unwrap();
    assert_eq!(
        &url[..url::Position::AfterPath],
        "https://auth.example.test/o/oauth2/v2/auth"
    );
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "my-app.apps.example.test");
    assert_eq!(
        query["redirect_uri"],
        "https://public.example.test/api/connectors/auth/google_drive/callback"
    );
}
