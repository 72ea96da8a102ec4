//! What the document-queue tests share: a world with in-memory ports and a fake transcription
//! endpoint, uploads waiting for processing, and SQS events as Lambda delivers them.
#![allow(dead_code)]

use aws_lambda_events::event::sqs::SqsEvent;
use fake_whisper::{FakeWhisper, FakeWhisperConfig};
use recorder_domain::connector::ConnectorType;
use recorder_domain::document::ImportedDocument;
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_domain::memory::MemoryDeps;
use recorder_processing::Options;
use serde_json::json;

/// One second of a 16-bit mono 8 kHz tone: the fake endpoint hears it as "tone 700".
pub fn wav() -> Vec<u8> {
    let data: Vec<u8> = std::iter::repeat_n(700i16.to_le_bytes(), 8000)
        .flatten()
        .collect();
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&[1, 0, 1, 0]);
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 16, 0]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    b
}

pub struct World {
    pub m: MemoryDeps,
    pub options: Options,
    pub fake: FakeWhisper,
}

pub async fn world() -> World {
    // Answers take a moment, as a real endpoint's do: long enough for deliveries to overlap.
    let fake = FakeWhisper::start(FakeWhisperConfig {
        api_key: None,
        latency: Some(std::time::Duration::from_millis(100)),
        ..FakeWhisperConfig::default()
    })
    .await
    .unwrap();
    let base = fake.base_url();
    let options =
        Options::from_lookup(&|k| (k == "TRANSCRIPTION_BASE_URL").then(|| base.clone())).unwrap();
    World {
        m: MemoryDeps::new(),
        options,
        fake,
    }
}

/// A pending upload whose bytes are in storage, as the API leaves it before S3 notifies.
pub async fn upload(w: &World, id: &str, name: &str, bytes: Vec<u8>) -> String {
    let now = chrono::Utc::now();
    let key = object_key(
        "org_acme",
        ConnectorType::FileUpload,
        "uploads",
        now,
        ArtifactKind::Original,
        id,
        name,
    );
    w.m.blobs
        .objects
        .lock()
        .unwrap()
        .insert(key.clone(), (bytes, "audio/wav".into()));
    let mut doc = ImportedDocument::new_pending(id.into(), "org_acme", None, id.into(), now);
    doc.title = name.into();
    doc.original_key = Some(key.clone());
    w.m.deps.documents.create(&doc).await.unwrap();
    key
}

pub fn s3_notification(message_id: &str, key: &str) -> SqsEvent {
    let body = json!({"Records": [{"eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "files"}, "object": {"key": key}}}]});
    sqs(message_id, &body, 1)
}

pub fn job(message_id: &str, id: &str) -> SqsEvent {
    job_received(message_id, id, 1)
}

/// A job on its `receive_count`th delivery.
pub fn job_received(message_id: &str, id: &str, receive_count: u32) -> SqsEvent {
    let body = json!({"type": "process_document", "org_id": "org_acme", "document_id": id});
    sqs(message_id, &body, receive_count)
}

pub fn sqs(message_id: &str, body: &serde_json::Value, receive_count: u32) -> SqsEvent {
    serde_json::from_value(json!({"Records": [{
        "messageId": message_id, "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": receive_count.to_string()},
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:documents"}]}))
    .unwrap()
}

pub async fn doc(w: &World, id: &str) -> ImportedDocument {
    w.m.deps.documents.get(id).await.unwrap().unwrap()
}
