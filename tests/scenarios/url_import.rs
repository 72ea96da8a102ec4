//! URL import on the local stack: the API queues, the doc-processor fetches (SSRF-checked, here
//! through the allowlist for a page served on loopback), keeps the article's main content, and the
//! same URL imported again updates its document. A URL into private space fails with a reason.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::response::{Html, Redirect};
use axum::routing::get;
use local_stack::{Options, start};
use serde_json::{Value, json};

const ARTICLE: &str = r#"<!doctype html><html lang="en"><head><title>Shipping the importer | Eng Blog</title>
<meta property="og:site_name" content="Eng Blog"><meta name="author" content="Dana Demo">
<meta property="article:published_time" content="2026-11-20T10:00:00Z"></head><body>
<nav class="menu"><a href="/">Home</a><a href="/about">About</a></nav>
<div class="cookie-banner">We use cookies. <button>Accept</button></div>
<article><h1>Shipping the importer</h1><p>We rebuilt the importer in Rust, and it now keeps every table, list and heading.</p>
<h2>What changed</h2><ul><li>Change feeds instead of re-listing</li><li>Verified webhooks</li></ul>
<p>Read the <a href="/docs/importer">importer docs</a> for details.</p></article>
<aside class="related">Related: ten other posts</aside><footer>© Eng Blog</footer></body></html>"#;

async fn serve_pages() -> u16 {
    let app = axum::Router::new()
        .route("/blog/importer", get(|| async { Html(ARTICLE) }))
        .route(
            "/old/importer",
            get(|| async { Redirect::permanent("/blog/importer") }),
        )
        .route(
            "/notes.md",
            get(|| async {
                (
                    [("content-type", "text/markdown")],
                    "# Notes\n\n- one\n- two\n",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_is_fetched_by_the_worker_kept_as_its_main_content_and_reimported_in_place() {
    let port = serve_pages().await;
    let env = BTreeMap::from([(
        "URL_IMPORT_ALLOW_HOSTS".to_string(),
        format!("127.0.0.1:{port}"),
    )]);
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        retry_delay: Duration::from_secs(1),
        env_overrides: env,
        ..Options::default()
    };
    let stack = start(options).await.expect("the local stack starts");
    let base = format!("http://{}", stack.addr);
    let t: Value = reqwest::get(format!(
        "{base}/_local/token?org_id=org_web&user_id=ana&role=member"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let token = t["token"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let call = |method: &str, path: &str, body: Option<Value>| {
        let mut req = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.unwrap();
            (
                resp.status().as_u16(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    let urls = json!({"urls": [
        format!("http://127.0.0.1:{port}/old/importer#top"),
        format!("http://127.0.0.1:{port}/notes.md"),
        "http://169.254.169.254/latest/meta-data/?token=s3cr3t-in-query",
    ]});
    let (status, queued) = call("POST", "/api/connectors/url-import", Some(urls)).await;
    assert_eq!(status, 202, "{queued}");
    let ids: Vec<String> = queued["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["document_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        queued["documents"][0]["url"],
        format!("http://127.0.0.1:{port}/old/importer"),
        "fragment dropped"
    );

    let wait = |id: String| {
        let call = &call;
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let (_, d) = call("GET", &format!("/api/documents/{id}"), None).await;
                if d["processing_status"] == "completed" || d["processing_status"] == "failed" {
                    return d;
                }
                assert!(Instant::now() < deadline, "not processed: {d}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };
    let page = wait(ids[0].clone()).await;
    assert_eq!(page["processing_status"], "completed", "{page}");
    assert_eq!(
        page["title"], "Shipping the importer",
        "the site name is not part of the title"
    );
    assert_eq!(
        page["source_metadata"]["extracted"]["site_name"],
        "Eng Blog"
    );
    assert_eq!(
        page["source_metadata"]["final_url"],
        format!("http://127.0.0.1:{port}/blog/importer"),
        "the redirect was followed"
    );
    let notes = wait(ids[1].clone()).await;
    assert_eq!(notes["processing_status"], "completed", "{notes}");
    let metadata = wait(ids[2].clone()).await;
    assert_eq!(metadata["processing_status"], "failed");
    assert!(
        metadata["processing_error"]
            .as_str()
            .unwrap()
            .contains("169.254.169.254/latest/meta-data/"),
        "{metadata}"
    );
    // The query (which may carry a token) never reaches the reason, which logs repeat too.
    assert!(
        !metadata["processing_error"]
            .as_str()
            .unwrap()
            .contains("s3cr3t"),
        "{metadata}"
    );

    // The main content only: no navigation, cookie banner or footer.
    let md_key = page["extracted_key"].as_str().unwrap();
    assert!(md_key.contains("/url_import/"));
    let sdk = local_stack_sdk(&stack).await;
    let s3 = sdk_s3(&sdk);
    let bucket = stack.provisioned.names.refs["FilesBucket"].clone();
    let md = s3
        .get_object()
        .bucket(&bucket)
        .key(md_key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let md = String::from_utf8(md.to_vec()).unwrap();
    assert!(md.contains("Change feeds instead of re-listing"), "{md}");
    assert!(
        !md.contains("cookies") && !md.contains("Related") && !md.contains("About"),
        "{md}"
    );

    // Imported again: the same document, one more sync.
    let (_, again) = call(
        "POST",
        "/api/connectors/url-import",
        Some(json!({"url": format!("http://127.0.0.1:{port}/old/importer")})),
    )
    .await;
    assert_eq!(again["documents"][0]["document_id"], ids[0].as_str());
    assert_eq!(again["documents"][0]["sync_count"], 2);

    let (status, bad) = call(
        "POST",
        "/api/connectors/url-import",
        Some(json!({"url": "file:///etc/passwd"})),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
}

async fn local_stack_sdk(stack: &local_stack::Stack) -> aws_config::SdkConfig {
    local_aws::moto::sdk_config_for(&stack.aws_endpoint).await
}

fn sdk_s3(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}
