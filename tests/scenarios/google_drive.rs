//! Google Drive end to end on the local stack against the fake Google, as a new user would:
//! connect through OAuth (gateway → fake consent → callback), the first sync runs at once, an edit
//! and a deletion at the source arrive by webhook and sync incrementally, and disconnecting stops
//! the channel.

use std::time::{Duration, Instant};

use fake_google::NewFile;
use local_stack::{Options, start};
use serde_json::Value;

async fn token(base: &str) -> String {
    let t: Value = reqwest::get(format!(
        "{base}/_local/token?org_id=org_acme&user_id=dana&role=admin"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    t["token"].as_str().unwrap().to_string()
}

async fn get(http: &reqwest::Client, token: &str, url: String) -> Value {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until the connector's newest sync log of `sync_type` has finished, and returns it.
async fn finished_sync(
    http: &reqwest::Client,
    token: &str,
    base: &str,
    id: &str,
    sync_type: &str,
    newer_than: Option<&str>,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = get(http, token, format!("{base}/api/connectors/{id}/sync-logs")).await;
        let found = logs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sync_type"] == sync_type && Some(l["id"].as_str().unwrap()) != newer_than)
            .cloned();
        if let Some(log) = found
            && ["success", "partial", "failed"].contains(&log["status"].as_str().unwrap())
        {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "no finished {sync_type} sync: {logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_sync_edit_at_the_source_webhook_incremental_sync_and_disconnect() {
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        fake_google: Some(0),
        fake_google_port: 0,
        retry_delay: Duration::from_secs(1),
        ..Options::default()
    };
    let stack = start(options).await.expect("the local stack starts");
    let fake = stack.fake_google.as_ref().unwrap();
    let ids: Vec<_> = (0..12)
        .map(|i| {
            fake.add_file(NewFile::new(
                format!("notes-{i}.txt"),
                "text/plain",
                format!("meeting notes {i}").into_bytes(),
            ))
        })
        .collect();
    fake.add_file(NewFile::google_doc("Roadmap", "# Roadmap\n\n- ship it"));
    let base = format!("http://{}", stack.addr);
    let token = token(&base).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // 1. Start connecting: 302 to the provider's consent page (with state and PKCE).
    let start = http
        .get(format!("{base}/api/connectors/auth/google_drive"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let consent = start.headers()["location"].to_str().unwrap().to_string();
    assert!(
        consent.contains("code_challenge=") && consent.contains("access_type=offline"),
        "{consent}"
    );
    // The browser that started keeps the cookie that binds the flow to it.
    let set_cookie = start.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    // 2. The fake consents and sends the browser back to our callback.
    let back = http.get(&consent).send().await.unwrap();
    assert_eq!(back.status(), 302);
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    assert!(
        callback.starts_with(&format!("{base}/api/connectors/auth/google_drive/callback")),
        "{callback}"
    );
    // Another browser (the consent link sent to someone else) cannot finish it.
    let elsewhere = http.get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), 403);
    let connected: Value = http
        .get(&callback)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(connected["status"], "connected", "{connected}");
    let connector = &connected["connector"];
    let id = connector["id"].as_str().unwrap().to_string();
    assert_eq!(connector["account"]["email"], fake_google::USER_EMAIL);
    assert_eq!(
        connector["webhook"]["active"], true,
        "a push channel was opened"
    );
    // The state is single use.
    let replay = http.get(&callback).header("cookie", &cookie).send();
    assert_eq!(replay.await.unwrap().status(), 400);

    // 3. The first sync was queued at once and imports everything.
    let first = finished_sync(&http, &token, &base, &id, "manual", None).await;
    assert_eq!(first["status"], "success", "{first}");
    assert_eq!(first["counts"]["synced"], 13, "{first}");
    let docs = get(
        &http,
        &token,
        format!("{base}/api/connectors/{id}/documents?limit=100"),
    )
    .await;
    assert_eq!(docs["items"].as_array().unwrap().len(), 13);

    // 4. Edit one file and delete another at the source: Drive notifies our webhook.
    fake.update_content(&ids[0], b"edited notes".to_vec())
        .unwrap();
    fake.delete(&ids[1]).unwrap();
    let incremental = finished_sync(&http, &token, &base, &id, "webhook", None).await;
    assert_eq!(incremental["status"], "success", "{incremental}");
    // Notifications may arrive as one or two syncs; across them, exactly these two changes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let logs = get(
            &http,
            &token,
            format!("{base}/api/connectors/{id}/sync-logs"),
        )
        .await;
        let webhook_logs: Vec<_> = logs["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["sync_type"] == "webhook")
            .collect();
        let settled = webhook_logs.iter().all(|l| {
            ["success", "partial", "failed"].contains(&l["status"].as_str().unwrap_or(""))
        });
        let sum = |k: &str| {
            webhook_logs
                .iter()
                .map(|l| l["counts"][k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        let counts = (sum("updated"), sum("deleted"), sum("synced"));
        if settled && counts == (1, 1, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline && counts.0 <= 1 && counts.1 <= 1 && counts.2 == 0,
            "{logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let docs = get(
        &http,
        &token,
        format!("{base}/api/connectors/{id}/documents?limit=100"),
    )
    .await;
    let deleted: Vec<_> = docs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["is_deleted"] == true)
        .collect();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0]["external_id"], ids[1].to_string());

    // 5. A forged notification is refused.
    let forged = http
        .post(format!("{base}/api/connectors/webhooks/drive"))
        .header(
            "x-goog-channel-id",
            connector["webhook"]["channel_id"].as_str().unwrap(),
        )
        .header("x-goog-channel-token", "forged")
        .header("x-goog-resource-state", "change")
        .header("x-goog-message-number", "999")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // 6. The connection test talks to Drive; disconnecting stops the channel and keeps documents.
    let test: Value = http
        .post(format!("{base}/api/connectors/{id}/test"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(test["ok"], true, "{test}");
    assert!(
        test["message"]
            .as_str()
            .unwrap()
            .contains(fake_google::USER_EMAIL)
    );
    assert_eq!(fake.open_channels(), 1);
    let gone: Value = http
        .delete(format!("{base}/api/connectors/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(gone["status"], "disconnected");
    assert_eq!(fake.open_channels(), 0);
    let docs = get(
        &http,
        &token,
        format!("{base}/api/connectors/{id}/documents?limit=100"),
    )
    .await;
    assert_eq!(docs["items"].as_array().unwrap().len(), 13);
}
