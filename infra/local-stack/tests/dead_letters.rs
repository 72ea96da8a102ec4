//! The local stack drains the documents dead-letter queue into the doc-processor as Lambda does:
//! a document whose message lands there ends `failed` with a reason, not `pending` for good.

use std::sync::Arc;
use std::time::Duration;

use local_stack::{Options, start};
use recorder_domain::document::{ImportedDocument, ProcessingStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_whose_message_is_dead_lettered_ends_failed_in_the_local_stack() {
    let stack = start(Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        retry_delay: Duration::from_secs(1),
        ..Options::default()
    })
    .await
    .expect("the local stack starts");
    let sdk = local_aws::moto::sdk_config_for(&stack.aws_endpoint).await;
    let processor = stack
        .functions
        .iter()
        .find(|f| f.spec.binary == "doc-processor")
        .unwrap();
    let env = processor.spec.env.clone();
    let config = recorder_aws::Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let deps = recorder_aws::build_deps(&config, &sdk, |secrets| {
        recorder_connectors::Registry::from_lookup(&|k| env.get(k).cloned(), secrets)
            .map(|r| Arc::new(r) as _)
    })
    .unwrap();

    // Never claimed: every receive failed before it (storage was down), so SQS moved it on.
    let doc = ImportedDocument::new_pending(
        "doc_dead".into(),
        "org_a",
        None,
        "doc_dead".into(),
        chrono::Utc::now(),
    );
    deps.documents.create(&doc).await.unwrap();
    aws_sdk_sqs::Client::new(&sdk)
        .send_message()
        .queue_url(&stack.provisioned.names.refs["DocumentsDeadLetterQueue"])
        .message_body(r#"{"type":"process_document","org_id":"org_a","document_id":"doc_dead"}"#)
        .send()
        .await
        .unwrap();

    let mut last = None;
    for _ in 0..100 {
        let d = deps.documents.get("doc_dead").await.unwrap().unwrap();
        if d.processing_status == ProcessingStatus::Failed {
            let reason = d.processing_error.unwrap();
            assert!(
                reason.starts_with("processing kept failing (5 attempts)")
                    && reason.ends_with("document id doc_dead"),
                "{reason}"
            );
            return;
        }
        last = Some(d.processing_status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("still {last:?} after 10 s");
}
