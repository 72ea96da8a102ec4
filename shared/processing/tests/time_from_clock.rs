//! The pipeline takes its time from the Clock port, never the machine's clock: every stamp it
//! writes (the record, its artifacts' day folder, its batch) and every deadline it reads is the
//! clock's. The clock is set years away from today, so a stamp read from the system shows.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use recorder_domain::connector::ConnectorType;
use recorder_domain::document::{ImportedDocument, ProcessingLease, ProcessingStatus};
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::upload::{BatchStatus, UploadBatch};
use recorder_jobs::doc_processor::handle_documents;
use recorder_processing::sweep::sweep_stale_processing;
use recorder_processing::{Options, Outcome, ProcessError, Run, process_document_as};

fn then() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2031, 3, 4, 5, 6, 7).unwrap()
}

/// In-memory ports whose clock stands at [`then`].
fn at_then() -> MemoryDeps {
    let m = MemoryDeps::new();
    *m.clock.0.lock().unwrap() = then();
    m
}

/// A pending upload of `bytes` (filed on another day than the clock's), in batch `b1` when asked.
async fn stored(m: &MemoryDeps, id: &str, name: &str, bytes: &[u8], batch: bool) {
    let long_ago = Utc.with_ymd_and_hms(2020, 1, 2, 0, 0, 0).unwrap();
    let key = object_key(
        "org_acme",
        ConnectorType::FileUpload,
        "uploads",
        long_ago,
        ArtifactKind::Original,
        id,
        name,
    );
    m.blobs
        .objects
        .lock()
        .unwrap()
        .insert(key.clone(), (bytes.to_vec(), "text/plain".into()));
    let mut doc = ImportedDocument::new_pending(id.into(), "org_acme", None, id.into(), long_ago);
    doc.title = name.into();
    doc.original_key = Some(key);
    if batch {
        doc.batch_id = Some("b1".into());
        let batch = UploadBatch {
            id: "b1".into(),
            org_id: "org_acme".into(),
            user_id: "u".into(),
            name: None,
            total_files: 1,
            processed_files: 0,
            failed_files: 0,
            status: BatchStatus::Processing,
            created_at: long_ago,
            completed_at: None,
            document_ids: vec![id.into()],
        };
        m.deps.batches.create(&batch).await.unwrap();
    }
    m.deps.documents.create(&doc).await.unwrap();
}

async fn process(m: &MemoryDeps, id: &str) -> Result<Outcome, ProcessError> {
    let run = Run {
        owner: "m1".into(),
        deadline: None,
    };
    process_document_as(
        &m.deps,
        "org_acme",
        id,
        &Options::from_lookup(&|_| None).unwrap(),
        &run,
    )
    .await
}

async fn doc(m: &MemoryDeps, id: &str) -> ImportedDocument {
    m.deps.documents.get(id).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_processed_document_its_artifacts_and_its_batch_carry_the_clocks_time() {
    let m = at_then();
    stored(&m, "d1", "notes.md", b"# Notes\n\nSome text.\n", true).await;
    let outcome = process(&m, "d1").await.unwrap();
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    let d = doc(&m, "d1").await;
    assert_eq!(d.updated_at, then());
    for key in [d.extracted_key.unwrap(), d.chunks_key.unwrap()] {
        assert!(key.contains("/2031-03-04/"), "{key}");
    }
    let batch = m.deps.batches.get("b1").await.unwrap().unwrap();
    assert_eq!(
        (batch.status, batch.completed_at),
        (BatchStatus::Completed, Some(then()))
    );
}

#[tokio::test]
async fn a_failed_document_carries_the_clocks_time() {
    let m = at_then();
    let doc0 = ImportedDocument::new_pending("d1".into(), "org_acme", None, "d1".into(), then());
    m.deps.documents.create(&doc0).await.unwrap();
    m.clock.advance(Duration::minutes(5));
    let outcome = process(&m, "d1").await.unwrap();
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    assert_eq!(
        doc(&m, "d1").await.updated_at,
        then() + Duration::minutes(5)
    );
}

#[tokio::test]
async fn a_duplicate_carries_the_clocks_time() {
    let m = at_then();
    stored(&m, "d1", "a.md", b"# Same\n", false).await;
    stored(&m, "d2", "b.md", b"# Same\n", false).await;
    process(&m, "d1").await.unwrap();
    m.clock.advance(Duration::minutes(5));
    let outcome = process(&m, "d2").await.unwrap();
    assert_eq!(outcome, Outcome::Duplicate { of: "d1".into() });
    assert_eq!(
        doc(&m, "d2").await.updated_at,
        then() + Duration::minutes(5)
    );
}

#[tokio::test]
async fn a_run_measures_its_deadline_against_the_clock_and_gives_the_lease_back_at_its_time() {
    let m = at_then();
    stored(&m, "d1", "notes.md", b"# Notes\n", false).await;
    // Years from now by the machine's clock, but 20 s from the port's: too little to extract.
    let run = Run {
        owner: "m1".into(),
        deadline: Some(then() + Duration::seconds(20)),
    };
    let options = Options::from_lookup(&|_| None).unwrap();
    let outcome = process_document_as(&m.deps, "org_acme", "d1", &options, &run).await;
    assert!(
        matches!(outcome, Err(ProcessError::OutOfTime)),
        "{outcome:?}"
    );
    let d = doc(&m, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Pending);
    assert_eq!(d.updated_at, then());
}

#[tokio::test]
async fn the_doc_processor_measures_the_invocations_deadline_against_the_clock() {
    let m = at_then();
    stored(&m, "d1", "notes.md", b"# Notes\n", false).await;
    // Years from now by the machine's clock, but a minute from the port's: too little to start.
    let deadline = then() + Duration::seconds(60);
    let options = Options::from_lookup(&|_| None).unwrap();
    let resp = handle_documents(&m.deps, &options, common::job("m1", "d1"), Some(deadline)).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        doc(&m, "d1").await.processing_status,
        ProcessingStatus::Pending
    );
    let queued = m.queue.document_jobs.lock().unwrap().clone();
    assert_eq!(queued.len(), 1, "queued again");
}

#[tokio::test]
async fn a_swept_document_carries_the_clocks_time() {
    let m = at_then();
    stored(&m, "d1", "notes.md", b"# Notes\n", false).await;
    let mut d = doc(&m, "d1").await;
    d.processing_status = ProcessingStatus::Processing;
    d.processing_lease = Some(ProcessingLease {
        owner: "gone".into(),
        started_at: then(),
    });
    assert!(m.deps.documents.update(&mut d).await.unwrap());
    m.clock.advance(Duration::hours(1));
    let report = sweep_stale_processing(&m.deps, Duration::minutes(20))
        .await
        .unwrap();
    assert_eq!(report.requeued, ["d1"]);
    assert_eq!(doc(&m, "d1").await.updated_at, then() + Duration::hours(1));
}

#[tokio::test]
async fn the_format_is_stored_by_its_lowercase_name() {
    let m = at_then();
    stored(&m, "d1", "notes.md", b"# Notes\n\nSome text.\n", false).await;
    stored(&m, "d2", "table.csv", b"a,b\n1,2\n3,4\n", false).await;
    for (id, name) in [("d1", "markdown"), ("d2", "csv")] {
        process(&m, id).await.unwrap();
        assert_eq!(doc(&m, id).await.source_metadata["format"], name);
    }
}

/// Serves `html` to every request on a local port; the page's URL.
async fn page_server(html: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{addr}/notes/")
}

#[tokio::test]
async fn a_url_import_is_fetched_and_filed_under_the_clocks_day() {
    let m = at_then();
    let url = page_server(
        "<html><head><title>Team notes</title></head><body><article><h1>Team notes</h1>\
         <p>What we agreed on, and why, written out at some length so it reads as content.</p>\
         </article></body></html>",
    )
    .await;
    let mut pending =
        ImportedDocument::new_pending("d1".into(), "org_acme", None, url.clone(), then());
    pending.external_url = Some(url.clone());
    m.deps.documents.create(&pending).await.unwrap();
    let mut options = Options::from_lookup(&|_| None).unwrap();
    options.fetch.allow_hosts = vec!["127.0.0.1".into()];
    let outcome = process_document_as(&m.deps, "org_acme", "d1", &options, &Run::unlimited()).await;
    assert!(
        matches!(outcome, Ok(Outcome::Completed { .. })),
        "{outcome:?}"
    );
    let d = doc(&m, "d1").await;
    let original = d.original_key.clone().unwrap();
    assert!(
        original.contains("/2031-03-04/original/d1-notes.html"),
        "{original}"
    );
    assert_eq!(d.title, "Team notes");
    assert_eq!(d.source_metadata["format"], "html");
    assert_eq!(d.source_metadata["final_url"], url.as_str());
    assert_eq!(d.updated_at, then());
}
