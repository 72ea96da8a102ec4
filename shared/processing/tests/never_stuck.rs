//! No document stays `pending` or `processing` for good: a message on its last receive ends its
//! document `failed` with the reason, a worker that vanished (timed out, out of memory) is swept,
//! a file that would exhaust the function's memory fails with the limit, and an invocation close
//! to its deadline starts nothing it could not finish.

mod common;

use std::io::{Cursor, Write};

use common::{doc, job, job_received, upload, wav, world};
use recorder_domain::document::{PROCESSING_STALE_AFTER, ProcessingLease, ProcessingStatus};
use recorder_domain::ports::Clock;
use recorder_jobs::doc_processor::handle_documents;
use recorder_processing::sweep::{STALE_REASON, sweep_stale_processing};
use recorder_processing::{
    Options, Outcome, ProcessError, Run, limits_for_memory, process_document_as,
};

#[tokio::test]
async fn no_document_stays_processing_once_its_message_has_used_its_last_receive() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    // The transcription endpoint is down for good.
    w.fake.fail_next(1000, 503, Some(0));
    let first = handle_documents(&w.m.deps, &w.options, job_received("m1", "d1", 1), None).await;
    assert_eq!(first.batch_item_failures.len(), 1, "SQS retries it");
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Processing
    );

    // The 5th receive is the last before the dead-letter queue.
    let last = handle_documents(&w.m.deps, &w.options, job_received("m1", "d1", 5), None).await;
    assert!(
        last.batch_item_failures.is_empty(),
        "nothing left to retry: the document says why"
    );
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Failed);
    let reason = d.processing_error.unwrap();
    assert!(
        reason.starts_with("processing failed 5 times; the last error:") && reason.contains("503"),
        "{reason}"
    );
    assert_eq!(d.processing_lease, None);
}

/// A DOCX whose body inflates to `inflated` bytes from a few kB.
fn docx_bomb(inflated: usize) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let w = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;
    let body = format!(
        r#"<?xml version="1.0"?><w:document {w}><w:body><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:body></w:document>"#,
        "a".repeat(inflated)
    );
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("word/document.xml", deflated).unwrap();
    zip.write_all(body.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn a_file_that_would_exhaust_the_functions_memory_ends_failed_with_the_limit() {
    let mut w = world().await;
    // A 40 MB function may decompress 12 MB of one file; this one inflates to 16 MB.
    w.options = Options::from_lookup(&|k| {
        (k == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE").then(|| "40".to_string())
    })
    .unwrap();
    let bomb = docx_bomb(16 * 1024 * 1024);
    assert!(bomb.len() < 100_000, "{} bytes", bomb.len());
    upload(&w, "d1", "report.docx", bomb.clone()).await;
    let resp = handle_documents(&w.m.deps, &w.options, job("m1", "d1"), None).await;
    assert!(resp.batch_item_failures.is_empty());
    let d = doc(&w, "d1").await;
    assert_eq!(d.processing_status, ProcessingStatus::Failed);
    assert_eq!(
        d.processing_error.as_deref(),
        Some("exceeds 12 MB decompressed limit")
    );

    // The same file in a function with room for it is read.
    w.options = Options::default();
    upload(&w, "d2", "report.docx", bomb).await;
    handle_documents(&w.m.deps, &w.options, job("m2", "d2"), None).await;
    assert_eq!(
        doc(&w, "d2").await.processing_status,
        ProcessingStatus::Completed
    );
}

#[test]
fn the_decompression_budget_leaves_the_function_headroom() {
    let mb = |n: u64| n * 1024 * 1024;
    // Reading peaks near 2.1x the decompressed bytes, beside the original and the runtime.
    for memory in [512, 1024, 1769] {
        let budget = limits_for_memory(Some(memory)).max_decompressed_bytes;
        assert!(
            budget * 21 / 10 + mb(40) < mb(memory) * 3 / 4,
            "{memory} MB: {budget}"
        );
    }
    assert_eq!(
        limits_for_memory(Some(1024)).max_decompressed_bytes,
        322_122_547
    );
    // Never above the 500 MB default, and the default where the memory is not known.
    assert_eq!(
        limits_for_memory(Some(10_240)).max_decompressed_bytes,
        mb(500)
    );
    assert_eq!(limits_for_memory(None).max_decompressed_bytes, mb(500));
}

/// Marks `id` as taken by `owner` now, as a worker's claim does.
async fn held_by(w: &common::World, id: &str, owner: &str) {
    let mut d = doc(w, id).await;
    d.processing_status = ProcessingStatus::Processing;
    d.processing_lease = Some(ProcessingLease {
        owner: owner.into(),
        started_at: w.m.clock.now(),
    });
    assert!(w.m.deps.documents.update(&mut d).await.unwrap());
}

#[tokio::test]
async fn a_document_whose_worker_vanished_is_queued_again_once_then_failed_with_the_reason() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    upload(&w, "d2", "other.wav", wav()).await;
    held_by(&w, "d1", "m-timed-out").await;
    w.m.clock
        .advance(PROCESSING_STALE_AFTER + chrono::Duration::seconds(1));
    held_by(&w, "d2", "m-working").await;

    let report = sweep_stale_processing(&w.m.deps, PROCESSING_STALE_AFTER)
        .await
        .unwrap();
    assert_eq!(
        (report.requeued, report.failed),
        (vec!["d1".to_string()], vec![])
    );
    let sent = w.m.queue.document_jobs.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].document_id, "d1");
    let d1 = doc(&w, "d1").await;
    assert_eq!(d1.processing_status, ProcessingStatus::Pending);
    assert_eq!(
        doc(&w, "d2").await.processing_status,
        ProcessingStatus::Processing,
        "a live worker is left alone"
    );

    // The requeued job is taken, and its worker vanishes too.
    held_by(&w, "d1", "m-requeued").await;
    w.m.clock
        .advance(PROCESSING_STALE_AFTER + chrono::Duration::seconds(1));
    let report = sweep_stale_processing(&w.m.deps, PROCESSING_STALE_AFTER)
        .await
        .unwrap();
    assert!(report.failed.contains(&"d1".to_string()), "{report:?}");
    let d1 = doc(&w, "d1").await;
    assert_eq!(d1.processing_status, ProcessingStatus::Failed);
    assert_eq!(d1.processing_error.as_deref(), Some(STALE_REASON));
    let jobs_for_d1 =
        w.m.queue
            .document_jobs
            .lock()
            .unwrap()
            .iter()
            .filter(|j| j.document_id == "d1")
            .count();
    assert_eq!(jobs_for_d1, 1, "queued again once only");
}

#[tokio::test]
async fn an_invocation_near_its_deadline_queues_its_messages_again_instead_of_starting_them() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(60);
    let resp = handle_documents(&w.m.deps, &w.options, job("m1", "d1"), Some(deadline)).await;
    assert!(
        resp.batch_item_failures.is_empty(),
        "not a failure of the document"
    );
    assert_eq!(
        doc(&w, "d1").await.processing_status,
        ProcessingStatus::Pending
    );
    let sent = w.m.queue.document_jobs.lock().unwrap().clone();
    assert_eq!(
        sent.len(),
        1,
        "queued again at once, with its receives intact"
    );
    assert!(w.fake.requests().is_empty());
}

#[tokio::test]
async fn a_run_too_close_to_its_deadline_to_read_the_file_gives_the_document_back() {
    let w = world().await;
    upload(&w, "d1", "standup.wav", wav()).await;
    let run = Run {
        owner: "m1".into(),
        deadline: Some(chrono::Utc::now() + chrono::Duration::seconds(20)),
    };
    let out = process_document_as(&w.m.deps, "org_acme", "d1", &w.options, &run).await;
    assert!(matches!(out, Err(ProcessError::OutOfTime)), "{out:?}");
    let d = doc(&w, "d1").await;
    assert_eq!(
        (d.processing_status, d.processing_lease),
        (ProcessingStatus::Pending, None)
    );
    // Another delivery takes it at once.
    let out = process_document_as(&w.m.deps, "org_acme", "d1", &w.options, &Run::unlimited())
        .await
        .unwrap();
    assert!(matches!(out, Outcome::Completed { .. }), "{out:?}");
}
