//! What the benchmarks do on the local stack as a user would: a token from the local gateway, and
//! connecting Google Drive through OAuth (the fake Google consents at once).

use serde_json::Value;

/// A client that does not follow redirects (the OAuth steps are read one by one).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()
        .unwrap()
}

/// A local token for an admin of `org`.
pub async fn admin_token(http: &reqwest::Client, base: &str, org: &str) -> String {
    let t: Value = http
        .get(format!(
            "{base}/_local/token?org_id={org}&user_id=u&role=admin"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    t["token"].as_str().unwrap().to_string()
}

/// Starts connecting Drive and passes the fake's consent: the callback URL and the cookie of the
/// browser that started (the callback finishes only with it).
pub async fn consented(http: &reqwest::Client, base: &str, token: &str) -> (String, String) {
    let started = http
        .get(format!("{base}/api/connectors/auth/google_drive"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let consent = started.headers()["location"].to_str().unwrap().to_string();
    let cookie = started.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let back = http.get(&consent).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    (callback, cookie)
}

/// The callback: the connector is created (its first sync queued, its channel opened).
pub async fn connect(http: &reqwest::Client, callback: &str, cookie: &str) -> Value {
    http.get(callback)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
