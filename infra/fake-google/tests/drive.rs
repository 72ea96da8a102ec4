//! Drive v3 as the connector uses it: listing, downloads, exports, the change feed, push channels,
//! and the faults it must survive.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use common::*;
use fake_google::{FakeConfig, NewFile, mime};
use serde_json::{Value, json};

#[tokio::test]
async fn drive_calls_without_a_token_get_googles_401() {
    let fake = fake().await;
    let response = client().get(fake.drive_url("files")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error":{"code":401,"message":"Request had invalid authentication credentials.","errors":[{"domain":"global","reason":"authError","message":"Invalid Credentials","locationType":"header","location":"Authorization"}],"status":"UNAUTHENTICATED"}})
    );
    assert_eq!(drive_get(&fake, "not-a-token", "files", &[]).await.0, 401);
}

#[tokio::test]
async fn files_list_pages_250_files_in_3_pages_without_duplicates() {
    let fake = fake().await;
    for i in 0..250 {
        fake.add_file(NewFile::new(
            format!("note {i}.txt"),
            "text/plain",
            format!("note {i}"),
        ));
    }
    let token = fake.issue_access_token(SCOPE);
    let (mut seen, mut pages, mut page_token) = (HashSet::new(), 0, None::<String>);
    loop {
        let mut query = vec![("pageSize", "100"), ("q", "trashed = false")];
        if let Some(t) = &page_token {
            query.push(("pageToken", t));
        }
        let (status, body) = drive_get(&fake, &token, "files", &query).await;
        assert_eq!(status, 200);
        pages += 1;
        for f in body["files"].as_array().unwrap() {
            assert!(
                seen.insert(f["id"].as_str().unwrap().to_string()),
                "duplicate {f}"
            );
        }
        match body["nextPageToken"].as_str() {
            Some(t) => page_token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (3, 250));
}

#[tokio::test]
async fn files_list_filters_by_query_and_describes_files_like_drive() {
    let fake = fake().await;
    let folder = fake.add_file(NewFile::new("Meetings", mime::GOOGLE_FOLDER, Vec::new()));
    let pdf = fake.add_file(
        NewFile::new("a.pdf", "application/pdf", b"%PDF-1.4 hello".to_vec())
            .in_folder(folder.as_str()),
    );
    let doc = fake.add_file(NewFile::google_doc("Notes", "Some notes").in_folder(folder.as_str()));
    let gone = fake.add_file(
        NewFile::new("old.txt", "text/plain", b"old".to_vec()).in_folder(folder.as_str()),
    );
    fake.trash(&gone).unwrap();
    let token = fake.issue_access_token(SCOPE);

    let q = format!("'{folder}' in parents and trashed = false");
    let (_, body) = drive_get(&fake, &token, "files", &[("q", &q)]).await;
    let ids: Vec<&str> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![pdf.as_str(), doc.as_str()]);

    let (_, body) = drive_get(
        &fake,
        &token,
        "files",
        &[("q", &format!("'{folder}' in parents"))],
    )
    .await;
    assert_eq!(
        body["files"].as_array().unwrap().len(),
        3,
        "trashed files are listed unless q excludes them"
    );

    let (_, body) = drive_get(
        &fake,
        &token,
        "files",
        &[("q", &format!("mimeType = '{}'", mime::GOOGLE_DOC))],
    )
    .await;
    assert_eq!(body["files"][0]["id"], doc.as_str());

    let (_, file) = drive_get(&fake, &token, &format!("files/{pdf}"), &[("fields", "*")]).await;
    assert_eq!(file["size"], "14");
    assert_eq!(file["md5Checksum"].as_str().unwrap().len(), 32);
    assert_eq!(file["parents"], json!([folder.as_str()]));
    assert_eq!(file["owners"][0]["emailAddress"], "dana@example.com");
    assert_eq!(file["trashed"], false);
    let (_, file) = drive_get(&fake, &token, &format!("files/{doc}"), &[]).await;
    assert!(
        file.get("size").is_none() && file.get("md5Checksum").is_none(),
        "native files have no size"
    );

    let (status, body) = drive_get(
        &fake,
        &token,
        "files",
        &[("q", "starred = true or trashed = true")],
    )
    .await;
    assert_eq!((status, reason(&body)), (400, "invalid"));
    let (status, body) = drive_get(&fake, &token, "files/nope", &[]).await;
    assert_eq!((status, reason(&body)), (404, "notFound"));
}

#[tokio::test]
async fn binary_files_download_with_their_content_type() {
    let fake = fake().await;
    let id = fake.add_file(NewFile::new("a.csv", "text/csv", b"a,b\n1,2\n".to_vec()));
    let token = fake.issue_access_token(SCOPE);
    let response = client()
        .get(fake.drive_url(&format!("files/{id}")))
        .query(&[("alt", "media")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"a,b\n1,2\n");
}

#[tokio::test]
async fn downloading_a_google_doc_is_refused_and_export_is_the_way() {
    let fake = fake().await;
    let doc = fake.add_file(NewFile::google_doc(
        "Plan",
        "First paragraph.\n\nSecond one.",
    ));
    let token = fake.issue_access_token(SCOPE);

    let (status, body) =
        drive_get(&fake, &token, &format!("files/{doc}"), &[("alt", "media")]).await;
    assert_eq!((status, reason(&body)), (403, "fileNotDownloadable"));
    assert_eq!(
        body["error"]["message"],
        "Only files with binary content can be downloaded. Use Export with Docs Editors files."
    );

    let export = |target: &'static str| {
        let request = client()
            .get(fake.drive_url(&format!("files/{doc}/export")))
            .query(&[("mimeType", target)])
            .bearer_auth(&token);
        async move { request.send().await.unwrap() }
    };
    let md = export("text/markdown").await;
    assert_eq!(md.headers()["content-type"], "text/markdown");
    assert_eq!(md.text().await.unwrap(), "First paragraph.\n\nSecond one.");
    assert!(
        export(mime::DOCX)
            .await
            .bytes()
            .await
            .unwrap()
            .starts_with(b"PK\x03\x04")
    );
    assert!(
        export("text/html")
            .await
            .text()
            .await
            .unwrap()
            .contains("<p>Second one.</p>")
    );
    assert_eq!(
        export("text/csv").await.status(),
        400,
        "a Doc has no CSV export"
    );

    let sheet = fake.add_file(NewFile::new(
        "Budget",
        mime::GOOGLE_SHEET,
        b"a,b\n1,2\n".to_vec(),
    ));
    let (status, _) = drive_get(
        &fake,
        &token,
        &format!("files/{sheet}/export"),
        &[("mimeType", mime::XLSX)],
    )
    .await;
    assert_eq!(status, 200);
    let pdf = fake.add_file(NewFile::new("a.pdf", "application/pdf", b"%PDF".to_vec()));
    let (status, body) = drive_get(
        &fake,
        &token,
        &format!("files/{pdf}/export"),
        &[("mimeType", "text/plain")],
    )
    .await;
    assert_eq!((status, reason(&body)), (403, "fileNotExportable"));
}

#[tokio::test]
async fn exports_over_the_limit_are_refused_as_too_large() {
    let fake = fake_with(FakeConfig {
        export_limit_bytes: 1000,
        ..FakeConfig::default()
    })
    .await;
    let small = fake.add_file(NewFile::google_doc("Small", "x".repeat(999)));
    let big = fake.add_file(NewFile::google_doc("Big", "x".repeat(1001)));
    let token = fake.issue_access_token(SCOPE);
    assert_eq!(
        drive_get(
            &fake,
            &token,
            &format!("files/{small}/export"),
            &[("mimeType", "text/plain")]
        )
        .await
        .0,
        200
    );
    let (status, body) = drive_get(
        &fake,
        &token,
        &format!("files/{big}/export"),
        &[("mimeType", "text/plain")],
    )
    .await;
    assert_eq!((status, reason(&body)), (403, "exportSizeLimitExceeded"));
    assert_eq!(
        body["error"]["message"],
        "This file is too large to be exported."
    );
}

/// Follows the feed from `token` to its end, returning every change and the new start token.
async fn drain_changes(
    fake: &fake_google::FakeGoogle,
    access: &str,
    token: &str,
    page_size: &str,
) -> (Vec<Value>, String, usize) {
    let (mut all, mut token, mut pages) = (Vec::new(), token.to_string(), 0);
    loop {
        let (status, body) = drive_get(
            fake,
            access,
            "changes",
            &[
                ("pageToken", &token),
                ("pageSize", page_size),
                ("includeRemoved", "true"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["kind"], "drive#changeList");
        pages += 1;
        all.extend(body["changes"].as_array().unwrap().iter().cloned());
        if let Some(next) = body["nextPageToken"].as_str() {
            assert!(body.get("newStartPageToken").is_none());
            token = next.to_string();
        } else {
            return (
                all,
                body["newStartPageToken"]
                    .as_str()
                    .expect("the last page has newStartPageToken")
                    .to_string(),
                pages,
            );
        }
    }
}

#[tokio::test]
async fn the_change_feed_reports_each_mutation_in_order_with_drive_shapes() {
    let fake = fake().await;
    fake.seed(5, 7); // history before the start token must not show up
    let access = fake.issue_access_token(SCOPE);
    let (_, start) = drive_get(&fake, &access, "changes/startPageToken", &[]).await;
    assert_eq!(start["kind"], "drive#startPageToken");
    let start = start["startPageToken"].as_str().unwrap().to_string();

    let a = fake.add_file(NewFile::new("a.txt", "text/plain", b"one".to_vec()));
    fake.update_content(&a, b"two".to_vec()).unwrap();
    fake.rename(&a, "b.txt").unwrap();
    fake.trash(&a).unwrap();
    fake.untrash(&a).unwrap();
    fake.delete(&a).unwrap();

    let (changes, new_start, pages) = drain_changes(&fake, &access, &start, "4").await;
    assert_eq!((changes.len(), pages), (6, 2));
    for c in &changes {
        assert_eq!(
            (
                c["kind"].as_str(),
                c["changeType"].as_str(),
                c["fileId"].as_str()
            ),
            (Some("drive#change"), Some("file"), Some(a.as_str()))
        );
        assert!(c["time"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(changes[0]["file"]["name"], "a.txt");
    assert_eq!(changes[1]["file"]["size"], "3");
    assert_eq!(changes[2]["file"]["name"], "b.txt");
    assert_eq!(changes[3]["file"]["trashed"], true);
    assert_eq!(changes[4]["file"]["trashed"], false);
    assert_eq!(changes[5]["removed"], true);
    assert!(
        changes[5].get("file").is_none(),
        "a removed change has no file"
    );
    assert!(changes[..5].iter().all(|c| c["removed"] == false));

    let (again, same_start, _) = drain_changes(&fake, &access, &new_start, "100").await;
    assert!(again.is_empty());
    assert_eq!(same_start, new_start);
    let b = fake.add_file(NewFile::new("c.txt", "text/plain", b"c".to_vec()));
    let (later, _, _) = drain_changes(&fake, &access, &new_start, "100").await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0]["fileId"], b.as_str());

    let (status, body) =
        drive_get(&fake, &access, "changes", &[("pageToken", "not-a-token")]).await;
    assert_eq!((status, reason(&body)), (400, "invalid"));
}

#[tokio::test]
async fn shared_drive_changes_appear_only_to_callers_that_include_all_drives() {
    let fake = fake().await;
    let access = fake.issue_access_token(SCOPE);
    fake.add_file(NewFile {
        drive_id: Some("0ASharedDrive".into()),
        ..NewFile::new("team.txt", "text/plain", b"t".to_vec())
    });
    let (_, body) = drive_get(&fake, &access, "changes", &[("pageToken", "1")]).await;
    assert!(body["changes"].as_array().unwrap().is_empty());
    let (_, body) = drive_get(
        &fake,
        &access,
        "changes",
        &[
            ("pageToken", "1"),
            ("includeItemsFromAllDrives", "true"),
            ("supportsAllDrives", "true"),
        ],
    )
    .await;
    assert_eq!(body["changes"][0]["driveId"], "0ASharedDrive");
}

#[tokio::test]
async fn injected_429s_and_503s_answer_the_next_calls_then_stop() {
    let fake = fake().await;
    let access = fake.issue_access_token(SCOPE);
    fake.inject_429(2);
    fake.inject_5xx(1);
    let response = client()
        .get(fake.drive_url("files"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error":{"code":429,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"rateLimitExceeded","message":"Rate Limit Exceeded"}]}})
    );
    assert_eq!(drive_get(&fake, &access, "files", &[]).await.0, 429);
    let (status, body) = drive_get(&fake, &access, "files", &[]).await;
    assert_eq!(
        (status, reason(&body), body["error"]["message"].as_str()),
        (503, "backendError", Some("Backend Error"))
    );
    assert_eq!(drive_get(&fake, &access, "files", &[]).await.0, 200);

    let stats = fake.stats();
    assert_eq!(
        (
            stats.http_429_served,
            stats.http_5xx_served,
            stats.calls_to("drive.files.list")
        ),
        (2, 1, 4)
    );
}

#[tokio::test]
async fn a_rate_limit_of_n_per_second_refuses_calls_beyond_it() {
    let fake = fake_with(FakeConfig {
        rate_limit_per_sec: Some(5),
        ..FakeConfig::default()
    })
    .await;
    let access = fake.issue_access_token(SCOPE);
    // All at once, so a slow (loaded) machine cannot spread them over more than a second.
    let calls = (0..12).map(|_| drive_get(&fake, &access, "about", &[]));
    let statuses: Vec<u16> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (5..=7).contains(&ok),
        "about 5 of 12 pass within a second: {statuses:?}"
    );
    // Refusals come as Drive sends them: 429 rateLimitExceeded and 403 userRateLimitExceeded.
    assert!(statuses.iter().all(|s| [200, 403, 429].contains(s)));
    assert!(
        statuses.contains(&403) && statuses.contains(&429),
        "{statuses:?}"
    );
    // Another token has its own bucket; after a second the first one has refilled.
    assert_eq!(
        drive_get(&fake, &fake.issue_access_token(SCOPE), "about", &[])
            .await
            .0,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(drive_get(&fake, &access, "about", &[]).await.0, 200);
    // The OAuth endpoints are never rate limited.
    fake.set_rate_limit(Some(1));
    assert_eq!(refresh(&fake, "unknown").await.status(), 400);
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<HeaderMap>>>);

/// A local webhook receiver that records the headers of what it gets.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                assert!(body.is_empty(), "notifications have no body");
                sink.0.lock().unwrap().push(headers);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn wait_for(received: &Received, n: usize) -> Vec<HeaderMap> {
    for _ in 0..100 {
        if received.0.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    received.0.lock().unwrap().clone()
}

#[tokio::test]
async fn a_watch_channel_gets_a_sync_then_a_change_per_mutation_until_stopped() {
    let fake = fake().await;
    let access = fake.issue_access_token(SCOPE);
    let (address, received) = receiver().await;
    let (_, start) = drive_get(&fake, &access, "changes/startPageToken", &[]).await;
    let start = start["startPageToken"].as_str().unwrap();

    let watch = client()
        .post(fake.drive_url("changes/watch"))
        .query(&[("pageToken", start)])
        .bearer_auth(&access)
        .json(
            &json!({"id": "chan-1", "type": "web_hook", "address": address, "token": "our-secret"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(watch.status(), 200);
    let channel: Value = watch.json().await.unwrap();
    assert_eq!(
        (
            channel["kind"].as_str(),
            channel["id"].as_str(),
            channel["token"].as_str()
        ),
        (Some("api#channel"), Some("chan-1"), Some("our-secret"))
    );
    let resource_id = channel["resourceId"].as_str().unwrap().to_string();
    assert!(
        channel["expiration"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );

    let id = fake.add_file(NewFile::new("a.txt", "text/plain", b"a".to_vec()));
    fake.rename(&id, "b.txt").unwrap();
    let got = wait_for(&received, 3).await;
    assert_eq!(got.len(), 3);
    let h = |i: usize, name: &str| got[i][name].to_str().unwrap().to_string();
    assert_eq!(
        (
            h(0, "x-goog-resource-state"),
            h(1, "x-goog-resource-state"),
            h(2, "x-goog-resource-state")
        ),
        ("sync".into(), "change".into(), "change".into())
    );
    assert_eq!(
        (
            h(0, "x-goog-message-number"),
            h(1, "x-goog-message-number"),
            h(2, "x-goog-message-number")
        ),
        ("1".into(), "2".into(), "3".into())
    );
    for i in 0..3 {
        assert_eq!(h(i, "x-goog-channel-id"), "chan-1");
        assert_eq!(h(i, "x-goog-channel-token"), "our-secret");
        assert_eq!(h(i, "x-goog-resource-id"), resource_id);
        assert_eq!(
            h(i, "x-goog-resource-uri"),
            channel["resourceUri"].as_str().unwrap()
        );
        assert!(h(i, "x-goog-channel-expiration").ends_with("GMT"));
    }

    let stop = |id: &str, resource: &str| {
        client()
            .post(fake.drive_url("channels/stop"))
            .bearer_auth(&access)
            .json(&json!({"id": id, "resourceId": resource}))
            .send()
    };
    assert_eq!(stop("chan-1", &resource_id).await.unwrap().status(), 204);
    assert_eq!(stop("chan-1", &resource_id).await.unwrap().status(), 404);
    fake.trash(&id).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        received.0.lock().unwrap().len(),
        3,
        "a stopped channel is silent"
    );
    assert_eq!(fake.stats().notifications_sent, 3);
}

#[tokio::test]
async fn a_watch_address_must_be_https_or_local() {
    let fake = fake().await;
    let access = fake.issue_access_token(SCOPE);
    let response = client()
        .post(fake.drive_url("changes/watch"))
        .query(&[("pageToken", "1")])
        .bearer_auth(&access)
        .json(&json!({"id": "c", "type": "web_hook", "address": "http://example.com/hook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn the_http_controls_change_the_drive_and_the_faults() {
    let fake = fake().await;
    let http = client();
    let url = |p: &str| format!("{}/_fake/{p}", fake.base_url);
    let created: Value = http
        .post(url("files"))
        .json(&json!({"name": "x.txt", "mimeType": "text/plain", "content_text": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let patched: Value = http
        .patch(url(&format!("files/{id}")))
        .json(&json!({"name": "y.txt", "content_base64": "aGVsbG8="}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (patched["name"].as_str(), patched["size"].as_str()),
        (Some("y.txt"), Some("5"))
    );
    assert_eq!(
        http.post(url(&format!("files/{id}/trash")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.delete(url(&format!("files/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        http.delete(url(&format!("files/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let seeded: Value = http
        .post(url("seed"))
        .json(&json!({"n": 20, "seed": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seeded["ids"].as_array().unwrap().len(), 20);
    assert_eq!(fake.file_count(), 20);

    let faults: Value = http
        .post(url("faults"))
        .json(&json!({"http_429": 1, "rate_limit_per_sec": 50}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            faults["http_429"].as_u64(),
            faults["rate_limit_per_sec"].as_u64()
        ),
        (Some(1), Some(50))
    );
    let access = fake.issue_access_token(SCOPE);
    assert_eq!(drive_get(&fake, &access, "files", &[]).await.0, 429);
    let stats: Value = http
        .get(url("stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["http_429_served"], 1);
    assert_eq!(stats["calls"]["drive.files.list"], 1);
}

#[tokio::test]
async fn seeding_is_repeatable_and_mixes_binary_and_native_files() {
    let (one, two) = (fake().await, fake().await);
    let (a, b) = (one.seed(60, 42), two.seed(60, 42));
    assert_eq!(a, b);
    let kinds: HashSet<String> = a.iter().map(|id| one.file(id).unwrap().mime_type).collect();
    for kind in [
        "application/pdf",
        "text/plain",
        "text/csv",
        mime::DOCX,
        mime::GOOGLE_DOC,
        mime::GOOGLE_SHEET,
        mime::GOOGLE_SLIDES,
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
}
