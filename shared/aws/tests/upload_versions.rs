//! An upload URL creates its original once and never replaces it, and the doc-processor reads
//! the version S3 announced; over the wire against moto with the resources of template.yaml.
//! moto 5.2.1 honours If-None-Match on PutObject and CompleteMultipartUpload, and If-Match on
//! GetObject (412 each), so these refusals really happen here; what moto does not check is the
//! signature, so that the header is signed into the URL is checked in `X-Amz-SignedHeaders`.

use std::time::Duration;

use common::{MB, Stack, key_of, multipart_stack, signed_headers};
use recorder_aws::Config;
use recorder_domain::ports::UploadedPart;
use recorder_domain::service::uploads::{self, UploadTicket};
use recorder_domain::{Caller, Deps, DomainError, StoreError};
use recorder_processing::{Options, Outcome, Run, process_version, version};

mod common;

fn member() -> Caller {
    common::member("org_v")
}

async fn request(deps: &Deps, name: &str, size: usize) -> UploadTicket {
    common::request_upload(deps, &member(), name, size, "text/markdown").await
}

/// A PUT to the ticket's URL with the headers the ticket asks for, as a client sends it.
async fn put(t: &UploadTicket, body: &[u8]) -> reqwest::StatusCode {
    let mut req = reqwest::Client::new().put(t.url.as_deref().unwrap());
    for (name, value) in t.headers.as_object().unwrap() {
        // reqwest sets Content-Length from the body.
        if name != "content-length" {
            req = req.header(name, value.as_str().unwrap());
        }
    }
    req.body(body.to_vec()).send().await.unwrap().status()
}

async fn stored(deps: &Deps, key: &str) -> Vec<u8> {
    deps.blobs.get(key).await.unwrap().unwrap()
}

const FIRST: &[u8] = b"# First\n\n- as uploaded";
const SECOND: &[u8] = b"# Other\n\n- replacement";

#[tokio::test]
async fn an_upload_url_creates_its_file_once_and_refuses_to_replace_it() {
    let deps = multipart_stack().await.deps;
    let t = request(&deps, "notes.md", FIRST.len()).await;
    assert_eq!(t.headers["if-none-match"], "*");
    assert_eq!(
        signed_headers(t.url.as_deref().unwrap()),
        "content-length;content-type;host;if-none-match"
    );
    assert_eq!(put(&t, FIRST).await, 200);
    assert_eq!(put(&t, SECOND).await, 412, "the same URL again");
    assert_eq!(stored(&deps, &key_of(&deps, &t).await).await, FIRST);
}

#[tokio::test]
async fn completing_a_multipart_upload_never_replaces_a_stored_file() {
    let deps = multipart_stack().await.deps;
    let t = request(&deps, "big.md", 6 * MB).await;
    let http = reqwest::Client::new();
    for (p, body) in t.parts.iter().zip([vec![b'a'; 5 * MB], vec![b'b'; MB]]) {
        let resp = http.put(&p.url).body(body).send().await.unwrap();
        assert!(resp.status().is_success(), "part: {}", resp.status());
    }
    // Another completion stored the file first.
    let key = key_of(&deps, &t).await;
    deps.blobs
        .put(&key, FIRST.to_vec(), "text/markdown")
        .await
        .unwrap();
    let upload_id = t.upload_id.as_deref().unwrap();
    let no_parts: &[UploadedPart] = &[];
    let err = uploads::complete_upload(&deps, &member(), &t.document_id, upload_id, no_parts)
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    assert_eq!(stored(&deps, &key).await, FIRST);
}

#[tokio::test]
async fn a_read_of_one_version_is_refused_once_the_object_was_replaced() {
    let deps = multipart_stack().await.deps;
    let key = "uploads/org_v/connectors/file_upload/direct/2026-12-07/original/d1-a.md";
    deps.blobs
        .put(key, FIRST.to_vec(), "text/markdown")
        .await
        .unwrap();
    let first = deps
        .blobs
        .get_range_version(key, 0, 4, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.read.bytes, b"# Fi");
    assert_eq!(first.read.total, FIRST.len() as u64);
    // Notifications name the version unquoted; reads accept either form.
    let unquoted = first.etag.trim_matches('"').to_owned();
    assert_eq!(
        deps.blobs
            .get_version(key, &unquoted)
            .await
            .unwrap()
            .unwrap(),
        FIRST
    );

    deps.blobs
        .put(key, SECOND.to_vec(), "text/markdown")
        .await
        .unwrap();
    fn changed<T>(r: Result<T, StoreError>) -> bool {
        matches!(r, Err(StoreError::ConditionFailed(_)))
    }
    assert!(changed(
        deps.blobs
            .get_range_version(key, 0, 4, Some(&unquoted))
            .await
    ));
    assert!(changed(
        deps.blobs
            .get_range_version(key, 100, 4, Some(&unquoted))
            .await
    ));
    assert!(changed(deps.blobs.get_version(key, &first.etag).await));
    let now = deps
        .blobs
        .get_range_version(key, 100, 4, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (now.read.bytes.len(), now.read.total),
        (0, SECOND.len() as u64)
    );
    assert!(!version::same(&now.etag, &first.etag));
}

/// The eTag of S3's notification of `key`, read from the documents queue.
async fn announced_etag(sdk: &aws_config::SdkConfig, config: &Config, key: &str) -> String {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        let out = sqs
            .receive_message()
            .queue_url(&config.documents_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            for r in body["Records"].as_array().into_iter().flatten() {
                let object = &r["s3"]["object"];
                if object["key"]
                    .as_str()
                    .map(|k| k.replace("%2F", "/"))
                    .as_deref()
                    == Some(key)
                {
                    return object["eTag"].as_str().unwrap().to_owned();
                }
            }
        }
    }
    panic!("no notification of {key}");
}

#[tokio::test]
async fn the_version_s3_announced_is_the_only_one_processed_under_its_notification() {
    let Stack { deps, config, sdk } = multipart_stack().await;
    let t = request(&deps, "notes.md", FIRST.len()).await;
    assert_eq!(put(&t, FIRST).await, 200);
    let key = key_of(&deps, &t).await;
    let etag = announced_etag(&sdk, &config, &key).await;
    // Replaced where the store did not refuse it (our own writes are unconditional).
    deps.blobs
        .put(&key, SECOND.to_vec(), "text/markdown")
        .await
        .unwrap();

    let org = member().org_id;
    let options = Options::default();
    let run = Run::unlimited();
    let outcome = process_version(&deps, &org, &t.document_id, Some(&etag), &options, &run)
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Skipped(version::CHANGED));

    // The replacement's own version is processed, and kept on the document.
    let now = deps
        .blobs
        .get_range_version(&key, 0, 1, None)
        .await
        .unwrap()
        .unwrap();
    let outcome = process_version(&deps, &org, &t.document_id, Some(&now.etag), &options, &run)
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    let doc = deps.documents.get(&t.document_id).await.unwrap().unwrap();
    let recorded = version::processed_version(&doc).unwrap();
    assert!(
        version::same(recorded, &now.etag),
        "{recorded} vs {}",
        now.etag
    );
}
