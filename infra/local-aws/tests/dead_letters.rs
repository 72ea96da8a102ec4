//! The documents queue's dead letters reach the doc-processor, locally as in Lambda: the
//! dead-letter queue is one of its SQS event sources, named by DOCUMENTS_DLQ_ARN, and a message
//! SQS redrives there keeps its id (the owner of the lease its deliveries took) and send time.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use local_aws::testing::fresh_stack;

#[tokio::test]
async fn the_documents_dead_letter_queue_is_an_event_source_of_the_doc_processor() {
    let (sdk, provisioned) = fresh_stack().await;
    let f = provisioned
        .functions
        .iter()
        .find(|f| f.binary == "doc-processor")
        .expect("the template has a doc-processor");
    let refs = &provisioned.names.refs;
    let urls: Vec<&str> = f.queues.iter().map(|q| q.queue_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            refs["DocumentsQueue"].as_str(),
            refs["DocumentsDeadLetterQueue"].as_str()
        ]
    );
    let dlq = &f.queues[1];
    assert_eq!(
        f.env.get("DOCUMENTS_DLQ_ARN"),
        Some(&dlq.queue_arn),
        "the function tells dead letters by their source"
    );
    assert!(dlq.report_batch_item_failures);

    // A message failing every receive on the documents queue moves there, id and send time kept.
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    // S3's test event of the bucket notification is not ours.
    sqs.purge_queue()
        .queue_url(&refs["DocumentsQueue"])
        .send()
        .await
        .unwrap();
    let sent = sqs
        .send_message()
        .queue_url(&refs["DocumentsQueue"])
        .message_body(r#"{"type":"process_document","org_id":"o","document_id":"d"}"#)
        .send()
        .await
        .unwrap();
    let receive = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.receive_message()
                .queue_url(url)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default()
        }
    };
    let sent_at = |m: &aws_sdk_sqs::types::Message| {
        m.attributes().unwrap()[&MessageSystemAttributeName::SentTimestamp].clone()
    };
    let mut first_sent_at = None;
    for _ in 0..5 {
        let got = receive(refs["DocumentsQueue"].clone()).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].message_id(), sent.message_id());
        first_sent_at = Some(sent_at(&got[0]));
    }
    let sixth = receive(refs["DocumentsQueue"].clone()).await;
    assert!(sixth.is_empty(), "{sixth:?}");
    let dead = receive(dlq.queue_url.clone()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message_id(), sent.message_id());
    assert_eq!(Some(sent_at(&dead[0])), first_sent_at);
}

#[test]
fn the_documents_dead_letter_alarm_counts_letters_the_doc_processor_drains() {
    let template: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../template.yaml")).unwrap();
    let alarm = &template["Resources"]["DocumentsDeadLetterAlarm"]["Properties"];
    let metrics: Vec<&str> = alarm["Metrics"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    // Drained within seconds, the queue's visible count alone would hardly ever reach 1.
    assert!(metrics.contains(&"NumberOfMessagesReceived"), "{metrics:?}");
}
