//! Uploads on the local stack, as a front end would do them: presigned URLs from the API, the bytes
//! PUT straight to S3 (moto), S3's notification queuing the document, the doc-processor finishing
//! it. A batch of 120 mixed files with a few corrupt ones ends with exact counts and the corrupt
//! files listed with their reasons; bad requests are refused whole, naming the offending file.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use local_stack::{Options, start};
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// A PUT with the headers the ticket lists (Content-Type, If-None-Match: *), as the README's
    /// curl sends them; Content-Length comes from the body.
    async fn put(&self, ticket: &Value, bytes: Vec<u8>) {
        let url = ticket["url"].as_str().unwrap();
        let mut req = self.http.put(url);
        for (name, value) in ticket["headers"].as_object().unwrap() {
            if name != "content-length" {
                req = req.header(name, value.as_str().unwrap());
            }
        }
        let resp = req.body(bytes).send().await.unwrap();
        assert!(resp.status().is_success(), "PUT {url}: {}", resp.status());
    }
}

async fn stack(overrides: &[(&str, &str)]) -> (local_stack::Stack, Api) {
    stack_with(overrides, None).await
}

async fn stack_with(
    overrides: &[(&str, &str)],
    fake_whisper: Option<u16>,
) -> (local_stack::Stack, Api) {
    let env: BTreeMap<_, _> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        retry_delay: Duration::from_secs(1),
        env_overrides: env,
        fake_whisper,
        ..Options::default()
    };
    let stack = start(options).await.expect("the local stack starts");
    let base = format!("http://{}", stack.addr);
    let t: Value = reqwest::get(format!(
        "{base}/_local/token?org_id=org_up&user_id=ana&role=member"
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        base,
        token: t["token"].as_str().unwrap().to_string(),
    };
    (stack, api)
}

fn file(i: usize) -> (String, &'static str, Vec<u8>) {
    match i % 6 {
        0 => (
            format!("notes-{i}.md"),
            "text/markdown",
            format!("# Notes {i}\n\n- point a\n- point b\n").into_bytes(),
        ),
        1 => (
            format!("data-{i}.csv"),
            "text/csv",
            format!("id,value\n{i},{}\n", i * 2).into_bytes(),
        ),
        2 => (
            format!("page-{i}.html"),
            "text/html",
            format!("<html><body><h1>Page {i}</h1><p>Hello</p></body></html>").into_bytes(),
        ),
        3 => (
            format!("config-{i}.json"),
            "application/json",
            format!("{{\"id\": {i}}}").into_bytes(),
        ),
        4 => (
            format!("memo-{i}.txt"),
            "text/plain",
            format!("memo number {i}").into_bytes(),
        ),
        _ => (
            format!("list-{i}.yaml"),
            "application/yaml",
            format!("id: {i}\n").into_bytes(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_120_files_with_corrupt_ones_ends_with_exact_counts_and_reasons() {
    let (_stack, api) = stack(&[("MAX_BATCH_SIZE", "150")]).await;
    let mut files: Vec<(String, &str, Vec<u8>)> = (0..114).map(file).collect();
    // Corrupt files that claim to be documents.
    for i in 0..5 {
        files.push((
            format!("broken-{i}.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            format!("not a zip {i}").into_bytes(),
        ));
    }
    // An exact re-upload of the first file: a skipped duplicate, not processed twice.
    files.push(("notes-copy.md".into(), "text/markdown", files[0].2.clone()));
    assert_eq!(files.len(), 120);
    let specs: Vec<_> = files
        .iter()
        .map(|(n, ct, b)| json!({"name": n, "size": b.len(), "content_type": ct}))
        .collect();
    let (status, created) = api
        .call(
            "POST",
            "/api/connectors/upload/batch",
            Some(json!({"name": "Q3 drop", "files": specs})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let batch_id = created["batch"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["batch"]["total_files"], 120);
    assert_eq!(created["batch"]["status"], "uploading");
    let tickets = created["files"].as_array().unwrap();
    for (t, (name, _, bytes)) in tickets.iter().zip(&files) {
        assert_eq!(t["name"], name.as_str());
        assert_eq!(t["method"], "put");
        // The original name is the title, never the raw key.
        assert!(!t["url"].as_str().unwrap().contains(' '));
        api.put(t, bytes.clone()).await;
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    let view = loop {
        let (_, v) = api
            .call(
                "GET",
                &format!("/api/connectors/upload/batch/{batch_id}"),
                None,
            )
            .await;
        if v["status"] == "completed" || v["status"] == "failed" {
            break v;
        }
        assert!(Instant::now() < deadline, "batch did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(view["processed_files"], 115, "{view}");
    assert_eq!(view["failed_files"], 5, "{view}");
    assert_eq!(view["progress_percent"], 100);
    assert_eq!(view["skipped_duplicates"], 1, "{view}");
    let failed = view["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 5);
    for f in failed {
        assert!(f["name"].as_str().unwrap().starts_with("broken-"), "{f}");
        assert!(f["reason"].as_str().unwrap().contains("DOCX"), "{f}");
    }
    // A finished document has its Markdown and chunks.
    let doc_id = tickets[0]["document_id"].as_str().unwrap();
    let (_, doc) = api
        .call("GET", &format!("/api/documents/{doc_id}"), None)
        .await;
    assert_eq!(doc["processing_status"], "completed", "{doc}");
    assert!(doc["chunk_count"].as_u64().unwrap() >= 1);
    assert!(
        doc["extracted_key"]
            .as_str()
            .unwrap()
            .contains("/extracted/")
    );

    // Retrying queues the failed files again; they fail again with the same reason, counted once.
    let (status, retried) = api
        .call(
            "POST",
            &format!("/api/connectors/upload/batch/{batch_id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, v) = api
            .call(
                "GET",
                &format!("/api/connectors/upload/batch/{batch_id}"),
                None,
            )
            .await;
        if v["status"] == "completed" && v["failed_files"] == 5 {
            assert_eq!(v["processed_files"], 115);
            break;
        }
        assert!(Instant::now() < deadline, "retry did not settle: {v}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_whole_naming_the_file_and_a_multipart_upload_completes() {
    let (_stack, api) = stack(&[
        ("MAX_FILE_SIZE", "10485760"),
        ("MULTIPART_THRESHOLD", "5242880"),
        ("MULTIPART_PART_SIZE", "5242880"),
        ("ALLOWED_FILE_TYPES", "text/*,application/pdf"),
    ])
    .await;
    let too_big = json!({"files": [{"name": "ok.txt", "size": 10, "content_type": "text/plain"}, {"name": "huge.txt", "size": 20_000_000, "content_type": "text/plain"}]});
    let (status, body) = api
        .call("POST", "/api/connectors/upload/batch", Some(too_big))
        .await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("files[1] (huge.txt)"),
        "{body}"
    );
    let (status, body) = api
        .call(
            "POST",
            "/api/connectors/upload",
            Some(json!({"name": "movie.mp4", "size": 10, "content_type": "video/mp4"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not allowed"),
        "{body}"
    );
    let (status, _) = api
        .call(
            "POST",
            "/api/connectors/upload",
            Some(json!({"name": " ", "size": 10, "content_type": "text/plain"})),
        )
        .await;
    assert_eq!(status, 422);
    let many: Vec<_> = (0..101)
        .map(|i| json!({"name": format!("f{i}.txt"), "size": 1, "content_type": "text/plain"}))
        .collect();
    let (status, _) = api
        .call(
            "POST",
            "/api/connectors/upload/batch",
            Some(json!({"files": many})),
        )
        .await;
    assert_eq!(status, 413);

    // 6 MB of text: above the 5 MB threshold, so two parts.
    let text = "line of text for the multipart upload test\n".repeat(150_000);
    let (status, t) = api
        .call(
            "POST",
            "/api/connectors/upload",
            Some(
                json!({"name": "big notes.txt", "size": text.len(), "content_type": "text/plain"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    assert_eq!(t["method"], "multipart");
    let parts = t["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let part_size = t["part_size"].as_u64().unwrap() as usize;
    let mut uploaded = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let chunk = text.as_bytes()[i * part_size..((i + 1) * part_size).min(text.len())].to_vec();
        let resp = api
            .http
            .put(p["url"].as_str().unwrap())
            .body(chunk)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "part {i}: {}", resp.status());
        uploaded.push(json!({"part_number": p["part_number"], "etag": resp.headers()["etag"].to_str().unwrap()}));
    }
    let body = json!({"upload_id": t["upload_id"], "parts": uploaded});
    let (status, done) = api
        .call("POST", t["complete_path"].as_str().unwrap(), Some(body))
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["size_bytes"], text.len());
    let doc_id = t["document_id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, d) = api
            .call("GET", &format!("/api/documents/{doc_id}"), None)
            .await;
        if d["processing_status"] == "completed" {
            assert_eq!(d["title"], "big notes.txt");
            break;
        }
        assert!(Instant::now() < deadline, "not processed: {d}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// 8 kHz mono 16-bit PCM: each (value, seconds) run is a "tone" the fake endpoint hears as words.
fn tones_wav(runs: &[(i16, f64)]) -> Vec<u8> {
    let data: Vec<u8> = runs
        .iter()
        .flat_map(|&(v, secs)| std::iter::repeat_n(v, (secs * 8000.0) as usize))
        .flat_map(i16::to_le_bytes)
        .collect();
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(b"\x02\0\x10\0data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    b
}

#[tokio::test]
async fn an_uploaded_recording_is_transcribed_and_past_the_quota_uploads_answer_429() {
    // 48 kB pieces: the 10 s recording (160 kB) goes to the endpoint in four.
    let (stack, api) = stack_with(
        &[
            ("TRANSCRIPTION_MAX_BYTES", "48000"),
            ("MONTHLY_IMPORT_QUOTA", "2"),
        ],
        Some(0),
    )
    .await;
    let wav = tones_wav(&[(300, 2.5), (0, 1.0), (-20, 4.0), (0, 0.5), (77, 2.0)]);
    let (status, t) = api
        .call(
            "POST",
            "/api/connectors/upload",
            Some(json!({"name": "stand-up.wav", "size": wav.len(), "content_type": "audio/wav"})),
        )
        .await;
    assert_eq!(status, 201, "{t}");
    api.put(&t, wav).await;
    let id = t["document_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let doc = loop {
        let (_, d) = api.call("GET", &format!("/api/documents/{id}"), None).await;
        if d["processing_status"] == "completed" || d["processing_status"] == "failed" {
            break d;
        }
        assert!(Instant::now() < deadline, "not processed in 60 s: {d}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(doc["processing_status"], "completed", "{doc}");
    let t = &doc["source_metadata"]["extracted"]["transcription"];
    assert_eq!(
        (t["status"].as_str(), t["pieces"].as_u64()),
        (Some("transcribed"), Some(4)),
        "{doc}"
    );

    let sdk = local_aws::moto::sdk_config_for(&stack.aws_endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let vtt = s3
        .get_object()
        .bucket(&stack.provisioned.names.refs["FilesBucket"])
        .key(doc["transcript_key"].as_str().expect("a transcript key"))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let segments = recorder_extract::extract(
        &vtt,
        &recorder_extract::Hints::named("t.vtt"),
        &Default::default(),
    )
    .unwrap()
    .segments;
    assert!(
        segments.len() > 3,
        "tones cut at piece boundaries come back in parts"
    );
    // Stitched back, each tone is exactly where it was spoken.
    let mut merged: Vec<(String, u64, u64)> = Vec::new();
    for s in segments {
        match merged.last_mut() {
            Some(last) if last.0 == s.text && s.start_ms <= last.2 + 1 => last.2 = s.end_ms,
            _ => merged.push((s.text, s.start_ms, s.end_ms)),
        }
    }
    let expected = [
        ("tone 300", 0, 2500),
        ("tone -20", 3500, 7500),
        ("tone 77", 8000, 10000),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|&(t, a, b)| (t.to_string(), a, b))
        .collect();
    assert_eq!(merged, expected);

    // The recording was the org's first import this month; the quota is 2.
    let file = |n: &str| json!({"name": n, "size": 3, "content_type": "text/plain"});
    let (status, body) = api
        .call(
            "POST",
            "/api/connectors/upload/batch",
            Some(json!({"files": [file("a.txt"), file("b.txt")]})),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"]["resets_at"].as_str().is_some(), "{body}");
    let (status, body) = api
        .call("POST", "/api/connectors/upload", Some(file("a.txt")))
        .await;
    assert_eq!(status, 201, "the one import left still fits: {body}");
}
