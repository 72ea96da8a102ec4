//! Direct uploads held to their declared size, over the wire against moto with the resources of
//! template.yaml: the presigned URLs sign the length, a multipart upload is completed only when
//! the parts S3 lists match the plan, a single PUT that got more bytes through (moto does not
//! check signatures) is caught when it is picked up, and originals download as attachments.

use common::{MB, key_of, multipart_stack, signed_headers};
use recorder_domain::document::ProcessingStatus;
use recorder_domain::ports::UploadedPart;
use recorder_domain::service::connectors::artifact_url;
use recorder_domain::service::uploads::{self, UploadTicket};
use recorder_domain::{Caller, Deps, DomainError};

mod common;

/// A fresh stack whose uploads go multipart above 5 MB.
async fn deps() -> Deps {
    multipart_stack().await.deps
}

fn member() -> Caller {
    common::member("org_up")
}

async fn request(deps: &Deps, name: &str, size: usize) -> UploadTicket {
    common::request_upload(deps, &member(), name, size, "text/plain").await
}

async fn put(url: &str, body: Vec<u8>) -> reqwest::Response {
    let resp = reqwest::Client::new()
        .put(url)
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "PUT: {}", resp.status());
    resp
}

#[tokio::test]
async fn upload_urls_sign_the_length_of_the_file_and_of_each_part() {
    let deps = deps().await;
    let t = request(&deps, "notes.txt", 20).await;
    let url = t.url.as_deref().unwrap();
    assert_eq!(
        signed_headers(url),
        "content-length;content-type;host;if-none-match"
    );
    put(url, b"twenty bytes exactly".to_vec()).await;

    let t = request(&deps, "big.txt", 6 * MB).await;
    assert_eq!(t.parts.len(), 2);
    for p in &t.parts {
        assert_eq!(signed_headers(&p.url), "content-length;host", "{}", p.url);
    }
}

/// A 6 MB upload in two parts, the second holding `second` bytes; what completing it answers
/// when the client lists both parts with the ETags S3 gave it.
async fn complete_with_second_part(deps: &Deps, second: usize) -> (UploadTicket, DomainError) {
    let t = request(deps, "big.txt", 6 * MB).await;
    let mut parts = Vec::new();
    for (p, body) in t.parts.iter().zip([vec![b'a'; 5 * MB], vec![b'b'; second]]) {
        let resp = put(&p.url, body).await;
        parts.push(UploadedPart {
            part_number: p.part_number,
            etag: resp.headers()["etag"].to_str().unwrap().to_owned(),
        });
    }
    let upload_id = t.upload_id.as_deref().unwrap();
    let err = uploads::complete_upload(deps, &member(), &t.document_id, upload_id, &parts)
        .await
        .unwrap_err();
    (t, err)
}

#[tokio::test]
async fn a_multipart_upload_holding_more_than_declared_is_refused_and_completes_nothing() {
    let deps = deps().await;
    let (t, err) = complete_with_second_part(&deps, MB + 10).await;
    assert!(matches!(err, DomainError::TooLarge(_)), "{err:?}");
    let key = key_of(&deps, &t).await;
    assert_eq!(deps.blobs.size(&key).await.unwrap(), None, "no object");
    let upload_id = t.upload_id.as_deref().unwrap();
    assert!(
        deps.blobs.list_parts(&key, upload_id).await.is_err(),
        "the upload and its parts are dropped"
    );
    let doc = deps.documents.get(&t.document_id).await.unwrap().unwrap();
    assert_eq!(doc.processing_status, ProcessingStatus::Failed);
    assert_eq!(
        doc.processing_error.as_deref(),
        Some("uploaded 7 MB but declared 6 MB; upload it again with its real size")
    );
}

#[tokio::test]
async fn a_multipart_upload_with_a_short_part_is_refused_until_the_part_is_sent_again() {
    let deps = deps().await;
    let (t, err) = complete_with_second_part(&deps, MB - 1).await;
    assert!(
        matches!(&err, DomainError::InvalidState(m) if m.contains("part 2 holds")),
        "{err:?}"
    );
    let key = key_of(&deps, &t).await;
    assert_eq!(
        deps.blobs.size(&key).await.unwrap(),
        None,
        "nothing completed"
    );
    put(&t.parts[1].url, vec![b'b'; MB]).await;
    let upload_id = t.upload_id.as_deref().unwrap();
    let doc = uploads::complete_upload(&deps, &member(), &t.document_id, upload_id, &[])
        .await
        .unwrap();
    assert_eq!(doc.size_bytes, Some(6 * MB as u64));
    assert_eq!(deps.blobs.size(&key).await.unwrap(), Some(6 * MB as u64));
}

#[tokio::test]
async fn a_single_put_larger_than_declared_is_deleted_when_it_is_picked_up() {
    let deps = deps().await;
    let t = request(&deps, "notes.txt", 10).await;
    // moto does not check the signature; S3 would refuse this body.
    put(t.url.as_deref().unwrap(), vec![b'x'; 2 * MB]).await;
    let doc = deps.documents.get(&t.document_id).await.unwrap().unwrap();
    let reason = recorder_domain::service::upload_checks::refuse_oversized_upload(&deps, &doc)
        .await
        .unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("uploaded 2 MB but declared 10 bytes; upload it again with its real size")
    );
    let key = doc.original_key.unwrap();
    assert_eq!(deps.blobs.size(&key).await.unwrap(), None);
}

#[tokio::test]
async fn an_original_downloads_through_a_url_that_signs_attachment_and_a_neutral_type() {
    let deps = deps().await;
    let t = request(&deps, "page <b>1</b>.html", 12).await;
    put(
        t.url.as_deref().unwrap(),
        b"<script>1</script>"[..12].to_vec(),
    )
    .await;
    let (url, _) = artifact_url(&deps, &member(), &t.document_id, "original")
        .await
        .unwrap();
    let parsed = reqwest::Url::parse(&url).unwrap();
    let param = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("response-content-disposition").as_deref(),
        Some(
            "attachment; filename=\"page <b>1<_b>.html\"; \
             filename*=UTF-8''page%20%3Cb%3E1%3C%2Fb%3E.html"
        )
    );
    assert_eq!(
        param("response-content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert!(param("X-Amz-Signature").is_some(), "{url}");
    let body = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], &b"<script>1</script>"[..12]);
}
