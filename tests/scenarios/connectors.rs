//! A new user's first steps, through the local gateway on a real local stack: get a token, create a
//! connector, list it, sync it (the sync-worker poller runs the job from the FIFO queue), read its
//! sync log; another org cannot see any of it.

use std::time::{Duration, Instant};

use local_stack::{Options, start};
use serde_json::{Value, json};

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn new(base: &str, org: &str, role: &str) -> Client {
        let http = reqwest::Client::new();
        let t: Value = http
            .get(format!(
                "{base}/_local/token?org_id={org}&user_id=user_{role}&role={role}"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Client {
            http,
            base: base.into(),
            token: t["token"].as_str().unwrap().into(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

async fn stack() -> local_stack::Stack {
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        retry_delay: Duration::from_secs(1),
        ..Options::default()
    };
    start(options).await.expect("the local stack starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_creates_lists_syncs_and_reads_the_sync_log_and_another_org_sees_nothing() {
    let stack = stack().await;
    let base = format!("http://{}", stack.addr);
    let admin = Client::new(&base, "org_acme", "admin").await;

    let (status, types) = admin.call("GET", "/api/connectors/types", None).await;
    assert_eq!(status, 200);
    assert_eq!(types["types"].as_array().unwrap().len(), 7);

    let (status, created) = admin
        .call("POST", "/api/connectors", Some(json!({"connector_type": "file_upload", "name": "Team uploads", "description": "Files our team drops in"})))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    let (status, listed) = admin.call("GET", "/api/connectors", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"][0]["id"], created["id"]);
    assert_eq!(listed["items"][0]["active"], true);

    let (status, queued) = admin
        .call("POST", &format!("/api/connectors/{id}/sync"), None)
        .await;
    assert_eq!(status, 202, "{queued}");
    let log_id = queued["sync_log_id"].as_str().unwrap().to_string();

    // The sync-worker poller picks the job off the FIFO queue; wait for the log to finish.
    let deadline = Instant::now() + Duration::from_secs(30);
    let log = loop {
        let (status, logs) = admin
            .call("GET", &format!("/api/connectors/{id}/sync-logs"), None)
            .await;
        assert_eq!(status, 200);
        let log = logs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == log_id.as_str())
            .cloned()
            .expect("the log is listed");
        if log["status"] == "success" || log["status"] == "failed" {
            break log;
        }
        assert!(Instant::now() < deadline, "sync did not finish: {log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(log["status"], "success", "{log}");
    assert!(log["duration_ms"].is_number());

    let (_, after) = admin
        .call("GET", &format!("/api/connectors/{id}"), None)
        .await;
    assert_eq!(after["last_sync_status"], "success");

    let (_, activity) = admin.call("GET", "/api/activity", None).await;
    let kinds: Vec<_> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds[0], "connector_sync_completed", "{kinds:?}");

    // Another org: its listing is empty and every id answers 404.
    let other = Client::new(&base, "org_globex", "admin").await;
    let (_, listed) = other.call("GET", "/api/connectors", None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
    for (method, path) in [
        ("GET", format!("/api/connectors/{id}")),
        ("PATCH", format!("/api/connectors/{id}")),
        ("POST", format!("/api/connectors/{id}/sync")),
        ("GET", format!("/api/connectors/{id}/sync-logs")),
        ("DELETE", format!("/api/connectors/{id}")),
    ] {
        let body = (method == "PATCH").then(|| json!({"name": "stolen"}));
        let (status, resp) = other.call(method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {resp}");
    }

    // Members read but cannot change.
    let member = Client::new(&base, "org_acme", "member").await;
    assert_eq!(
        member
            .call("GET", &format!("/api/connectors/{id}"), None)
            .await
            .0,
        200
    );
    assert_eq!(
        member
            .call("POST", &format!("/api/connectors/{id}/disable"), None)
            .await
            .0,
        403
    );

    // Disconnect keeps the record, stops syncs.
    let (status, gone) = admin
        .call("DELETE", &format!("/api/connectors/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone["status"], "disconnected");
    assert_eq!(
        admin
            .call("POST", &format!("/api/connectors/{id}/sync"), None)
            .await
            .0,
        409
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_missing_or_forged_tokens_and_serves_the_openapi_document() {
    let stack = stack().await;
    let base = format!("http://{}", stack.addr);
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/api/connectors"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let forged = http
        .get(format!("{base}/api/connectors"))
        .bearer_auth("eyJhbGciOiJub25lIn0.e30.")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let doc: Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/connectors/{id}/sync"]["post"].is_object());
    assert_eq!(
        http.get(format!("{base}/api/unknown"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let bad_role = http
        .get(format!("{base}/_local/token?role=root"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_role.status(), 400);
}
