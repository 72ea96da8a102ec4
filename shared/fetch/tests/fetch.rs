//! Fetch rules end to end: hostile URLs refused before any connection, and a local server on
//! 127.0.0.1 (reached only through the allowlist) for redirects, size and time limits.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use recorder_fetch::{FetchError, FetchPolicy, fetch};

/// Hostile URLs and the error code each must give. None of them may be fetched: they are
/// refused by syntax, by scheme, by literal address or by a loopback name, before any DNS
/// query or connection (the policy's short timeout would turn a hang into a failure).
const HOSTILE: &[(&str, &str)] = &[
    ("file:///etc/passwd", "unsupported_scheme"),
    ("ftp://example.com/file", "unsupported_scheme"),
    ("gopher://127.0.0.1:70/_GET", "unsupported_scheme"),
    (
        "data:text/html,<script>alert(1)</script>",
        "unsupported_scheme",
    ),
    ("javascript:alert(1)", "unsupported_scheme"),
    ("ws://example.com/socket", "unsupported_scheme"),
    ("not a url", "invalid_url"),
    ("http://", "invalid_url"),
    ("http://localhost/", "forbidden_address"),
    ("http://LOCALHOST/", "forbidden_address"),
    ("http://localhost.:80/", "forbidden_address"),
    ("http://api.localhost/", "forbidden_address"),
    ("http://127.0.0.1/", "forbidden_address"),
    ("http://127.0.0.1:8080/admin", "forbidden_address"),
    ("http://127.1/", "forbidden_address"),
    ("http://127.0.1/", "forbidden_address"),
    ("http://2130706433/", "forbidden_address"),
    ("http://0x7f000001/", "forbidden_address"),
    ("http://0x7f.1/", "forbidden_address"),
    ("http://0177.0.0.1/", "forbidden_address"),
    ("http://[::1]/", "forbidden_address"),
    ("http://[::ffff:127.0.0.1]/", "forbidden_address"),
    ("http://[::ffff:7f00:1]/", "forbidden_address"),
    ("http://[::127.0.0.1]/", "forbidden_address"),
    (
        "http://169.254.169.254/latest/meta-data/",
        "forbidden_address",
    ),
    (
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "forbidden_address",
    ),
    (
        "http://[fd00:ec2::254]/latest/meta-data/",
        "forbidden_address",
    ),
    ("http://10.0.0.1/", "forbidden_address"),
    ("http://172.16.0.1/", "forbidden_address"),
    ("http://172.31.255.254/", "forbidden_address"),
    ("http://192.168.1.1/", "forbidden_address"),
    ("http://100.64.0.1/", "forbidden_address"),
    ("http://0.0.0.0/", "forbidden_address"),
    ("http://0/", "forbidden_address"),
    ("http://[::]/", "forbidden_address"),
    ("http://224.0.0.1/", "forbidden_address"),
    ("http://255.255.255.255/", "forbidden_address"),
    ("http://192.0.0.1/", "forbidden_address"),
    ("http://192.0.2.1/", "forbidden_address"),
    ("http://198.18.0.1/", "forbidden_address"),
    ("http://[fe80::1]/", "forbidden_address"),
    ("http://[fc00::1]/", "forbidden_address"),
    ("http://[ff02::1]/", "forbidden_address"),
    ("http://[64:ff9b::7f00:1]/", "forbidden_address"),
    ("http://[64:ff9b::a00:1]/", "forbidden_address"),
    ("http://[2002:7f00:1::]/", "forbidden_address"),
    ("http://[2002:a9fe:a9fe::]/", "forbidden_address"),
    ("http://user:pass@example.com/", "forbidden_address"),
    ("http://user@example.com/", "forbidden_address"),
    ("https://:secret@example.com/", "forbidden_address"),
    ("http://example.com:25/", "forbidden_address"),
    ("http://example.com:0/", "invalid_url"),
];

fn quick_policy() -> FetchPolicy {
    FetchPolicy {
        timeout: Duration::from_secs(2),
        ..FetchPolicy::default()
    }
}

#[tokio::test]
async fn hostile_urls_are_refused_before_any_connection() {
    assert!(HOSTILE.len() >= 30);
    let policy = quick_policy();
    let mut wrong = Vec::new();
    for (url, expected) in HOSTILE {
        match fetch(url, &policy).await {
            Ok(fetched) => wrong.push(format!("{url}: fetched {}", fetched.final_url)),
            Err(err) if err.code() != *expected => wrong.push(format!(
                "{url}: {} ({err}), expected {expected}",
                err.code()
            )),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "wrongly handled:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn refusals_say_which_class_of_address_was_hit() {
    let policy = quick_policy();
    let message = |url: &'static str| {
        let policy = policy.clone();
        async move { fetch(url, &policy).await.unwrap_err().to_string() }
    };
    assert_eq!(
        message("http://10.0.0.5/").await,
        "this address cannot be imported: 10.0.0.5 is a private address"
    );
    assert_eq!(
        message("http://0177.0.0.1/").await,
        "this address cannot be imported: 127.0.0.1 is a loopback address"
    );
    assert_eq!(
        message("http://169.254.169.254/").await,
        "this address cannot be imported: 169.254.169.254 is a cloud metadata address"
    );
    assert_eq!(
        message("file:///etc/passwd").await,
        "only http:// and https:// addresses can be imported, not file:"
    );
}

// ---------------------------------------------------------------------------------------------
// Local server

const PAGE: &str = "<html><head><title>Local page</title></head><body><p>Hello.</p></body></html>";
const LIMIT: u64 = 1_000;

#[derive(Clone)]
struct Server {
    port: u16,
}

async fn page() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE)
}

/// `/redirect/n` → `/redirect/n-1` → … → `/page`: n + 1 redirects, all relative.
async fn redirect(Path(n): Path<u32>) -> impl IntoResponse {
    let next = if n == 0 {
        "/page".to_owned()
    } else {
        format!("../redirect/{}", n - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, next)])
}

fn to(location: String) -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, location)],
    )
        .into_response()
}

async fn big() -> impl IntoResponse {
    "x".repeat(LIMIT as usize + 1)
}

/// Over the limit with no Content-Length: chunked transfer, so only the streaming cap can tell.
async fn big_chunked() -> Response {
    let chunks = (0..20).map(|_| Ok::<_, Infallible>(Bytes::from(vec![b'y'; 100])));
    Body::from_stream(futures::stream::iter(chunks)).into_response()
}

async fn slow() -> impl IntoResponse {
    tokio::time::sleep(Duration::from_secs(10)).await;
    PAGE
}

/// Headers at once, then a body that never finishes.
async fn slow_body() -> Response {
    let chunks = futures::stream::unfold(0, |i| async move {
        if i > 0 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        Some((Ok::<_, Infallible>(Bytes::from_static(b"part ")), i + 1))
    });
    Body::from_stream(chunks).into_response()
}

async fn start_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route("/page", get(page))
        .route("/redirect/{n}", get(redirect))
        .route(
            "/to-private",
            get(|| async { to("http://10.0.0.1/".into()) }),
        )
        .route(
            "/to-other-loopback",
            get(|State(s): State<Server>| async move {
                to(format!("http://127.0.0.2:{}/page", s.port))
            }),
        )
        .route(
            "/to-localhost",
            get(|State(s): State<Server>| async move {
                to(format!("http://localhost:{}/page", s.port))
            }),
        )
        .route(
            "/to-metadata",
            get(|| async { to("http://[::ffff:a9fe:a9fe]/latest/".into()) }),
        )
        .route(
            "/to-file",
            get(|| async { to("file:///etc/passwd".into()) }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/big", get(big))
        .route("/big-chunked", get(big_chunked))
        .route("/slow", get(slow))
        .route("/slow-body", get(slow_body))
        .with_state(Server { port });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

fn local_policy(port: u16) -> FetchPolicy {
    FetchPolicy {
        timeout: Duration::from_secs(5),
        max_bytes: LIMIT,
        allow_hosts: vec![format!("127.0.0.1:{port}")],
        ..FetchPolicy::default()
    }
}

#[tokio::test]
async fn an_allowlisted_local_page_is_fetched() {
    let port = start_server().await;
    let fetched = fetch(
        &format!("http://127.0.0.1:{port}/page"),
        &local_policy(port),
    )
    .await
    .unwrap();
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.bytes, PAGE.as_bytes());
    assert_eq!(
        fetched.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(fetched.redirects.is_empty());
}

#[tokio::test]
async fn the_same_server_is_refused_without_the_allowlist_or_on_another_port() {
    let port = start_server().await;
    let url = format!("http://127.0.0.1:{port}/page");
    let err = fetch(&url, &quick_policy()).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
    let other_port = FetchPolicy {
        allow_hosts: vec![format!("127.0.0.1:{}", port.wrapping_add(1))],
        ..quick_policy()
    };
    let err = fetch(&url, &other_port).await.unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err}");
}

#[tokio::test]
async fn an_allowlisted_name_is_resolved_once_and_fetched() {
    let port = start_server().await;
    let policy = FetchPolicy {
        allow_hosts: vec![format!("localhost:{port}")],
        ..local_policy(port)
    };
    let fetched = fetch(&format!("http://localhost:{port}/page"), &policy)
        .await
        .unwrap();
    assert_eq!(fetched.bytes, PAGE.as_bytes());
}

#[tokio::test]
async fn a_chain_of_three_redirects_is_followed() {
    let port = start_server().await;
    let fetched = fetch(
        &format!("http://127.0.0.1:{port}/redirect/2"),
        &local_policy(port),
    )
    .await
    .unwrap();
    assert_eq!(fetched.final_url, format!("http://127.0.0.1:{port}/page"));
    assert_eq!(
        fetched.redirects,
        [
            format!("http://127.0.0.1:{port}/redirect/1"),
            format!("http://127.0.0.1:{port}/redirect/0"),
            format!("http://127.0.0.1:{port}/page"),
        ]
    );
    assert_eq!(fetched.bytes, PAGE.as_bytes());
}

#[tokio::test]
async fn five_redirects_are_followed_and_a_sixth_is_refused() {
    let port = start_server().await;
    let policy = local_policy(port);
    let five = fetch(&format!("http://127.0.0.1:{port}/redirect/4"), &policy)
        .await
        .unwrap();
    assert_eq!(five.redirects.len(), 5);
    let err = fetch(&format!("http://127.0.0.1:{port}/redirect/5"), &policy)
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooManyRedirects { limit: 5 }),
        "{err}"
    );
}

#[tokio::test]
async fn redirects_out_of_the_allowlist_are_checked_like_any_url() {
    let port = start_server().await;
    let policy = local_policy(port);
    for (path, expected) in [
        ("/to-private", "forbidden_address"),
        ("/to-other-loopback", "forbidden_address"),
        ("/to-localhost", "forbidden_address"),
        ("/to-metadata", "forbidden_address"),
        ("/to-file", "unsupported_scheme"),
    ] {
        let err = fetch(&format!("http://127.0.0.1:{port}{path}"), &policy)
            .await
            .unwrap_err();
        assert_eq!(err.code(), expected, "{path}: {err}");
    }
}

#[tokio::test]
async fn an_error_status_is_reported_with_its_code() {
    let port = start_server().await;
    let err = fetch(
        &format!("http://127.0.0.1:{port}/missing"),
        &local_policy(port),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FetchError::Http { status: 404 }), "{err}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_or_without_content_length() {
    let port = start_server().await;
    let policy = local_policy(port);
    for path in ["/big", "/big-chunked"] {
        let err = fetch(&format!("http://127.0.0.1:{port}{path}"), &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { limit: LIMIT }),
            "{path}: {err}"
        );
    }
}

#[tokio::test]
async fn a_slow_answer_or_a_stalled_body_hits_the_timeout() {
    let port = start_server().await;
    let policy = FetchPolicy {
        timeout: Duration::from_millis(300),
        ..local_policy(port)
    };
    for path in ["/slow", "/slow-body"] {
        let started = std::time::Instant::now();
        let err = fetch(&format!("http://127.0.0.1:{port}{path}"), &policy)
            .await
            .unwrap_err();
        assert!(matches!(err, FetchError::Timeout { .. }), "{path}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} took {:?}",
            started.elapsed()
        );
    }
}
