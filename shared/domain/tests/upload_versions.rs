//! An upload creates its original once and never replaces it, with in-memory ports: the single
//! PUT's ticket asks for If-None-Match: * (signed into the URL by the S3 adapter), and completing
//! a multipart upload over a stored file is refused with the file kept.

use recorder_domain::DomainError;
use recorder_domain::memory::MemoryDeps;
use recorder_domain::ports::BlobStore;
use recorder_domain::service::uploads;

mod common;

use common::{member, small_parts, upload};

#[tokio::test]
async fn a_single_upload_ticket_asks_for_the_header_that_refuses_a_replacement() {
    let m = MemoryDeps::new();
    let t = upload(&m, "notes.txt", 42).await;
    assert_eq!(t.method, "put");
    assert_eq!(t.headers["if-none-match"], "*");
}

#[tokio::test]
async fn completing_a_multipart_upload_over_a_stored_file_is_refused_and_keeps_the_file() {
    let m = small_parts();
    let t = upload(&m, "notes.txt", 12).await;
    let upload_id = t.upload_id.clone().unwrap();
    for (n, len) in [(1, 5), (2, 5), (3, 2)] {
        m.blobs.upload_part(&upload_id, n, vec![b'x'; len]);
    }
    let doc = m.deps.documents.get(&t.document_id).await.unwrap().unwrap();
    let key = doc.original_key.unwrap();
    m.blobs
        .put(&key, b"stored first".to_vec(), "text/plain")
        .await
        .unwrap();

    let err = uploads::complete_upload(&m.deps, &member(), &t.document_id, &upload_id, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, DomainError::Conflict(_)), "{err:?}");
    assert_eq!(m.blobs.get(&key).await.unwrap().unwrap(), b"stored first");
}
