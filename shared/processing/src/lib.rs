//! The document pipeline behind the `doc-processor` function, over the domain's ports:
//!
//! 1. load the record; work already done is skipped (a redelivered message changes nothing);
//! 2. read the original from the blob store; detect the real type from the bytes;
//! 3. extract Markdown and metadata (in a blocking task, with a time cap);
//! 4. same bytes already completed in the org → a duplicate of that document, artifacts reused;
//! 5. chunk (structure-aware; transcripts by speaker turn);
//! 6. write the Markdown and the chunks (JSON Lines) next to the original, mark the record
//!    `completed`, and move its upload batch's counters.
//!
//! A file that cannot be read ends `failed` with a reason a person can act on; storage trouble is
//! returned as an error so SQS retries the message (and dead-letters it after repeated failures).

use std::time::Duration;

use chrono::Utc;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_domain::upload::BatchStatus;
use recorder_domain::{Deps, StoreError};
use recorder_extract::{ChunkOptions, Hints, Limits, chunk, chunk_transcript, extract};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Originals above this are refused rather than read into a 512 MB function.
pub const MAX_PROCESSED_BYTES: u64 = 256 * 1024 * 1024;
/// Extraction of one file may take at most this long.
pub const EXTRACT_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed {
        chunks: usize,
    },
    Duplicate {
        of: String,
    },
    Failed {
        reason: String,
    },
    /// Nothing to do: unknown document, another org's, or already finished.
    Skipped(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub chunking: ChunkOptions,
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chunking: ChunkOptions::default(),
            limits: Limits::default(),
        }
    }
}

pub async fn process_document(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    options: &Options,
) -> Result<Outcome, ProcessError> {
    let Some(mut doc) = deps.documents.get(document_id).await? else {
        return Ok(Outcome::Skipped("unknown document"));
    };
    if doc.org_id != org_id {
        return Ok(Outcome::Skipped("document of another org"));
    }
    if matches!(
        doc.processing_status,
        ProcessingStatus::Completed | ProcessingStatus::Failed
    ) {
        return Ok(Outcome::Skipped("already processed"));
    }
    let Some(original_key) = doc.original_key.clone() else {
        return fail(
            deps,
            &mut doc,
            "the original file was never stored; upload or sync it again".into(),
        )
        .await;
    };
    if doc.processing_status != ProcessingStatus::Processing {
        doc.processing_status = ProcessingStatus::Processing;
        doc.updated_at = Utc::now();
        deps.documents.put(&doc).await?;
    }
    if doc.size_bytes.is_some_and(|s| s > MAX_PROCESSED_BYTES) {
        let mb = doc.size_bytes.unwrap_or(0) / (1024 * 1024);
        return fail(
            deps,
            &mut doc,
            format!(
                "exceeds the {} MB processing limit ({mb} MB)",
                MAX_PROCESSED_BYTES / (1024 * 1024)
            ),
        )
        .await;
    }
    let Some(bytes) = deps.blobs.get(&original_key).await? else {
        return fail(
            deps,
            &mut doc,
            "the original file is missing from storage; upload or sync it again".into(),
        )
        .await;
    };
    let hash = hex::encode(Sha256::digest(&bytes));
    doc.content_hash = Some(hash.clone());
    doc.size_bytes = Some(bytes.len() as u64);

    if let Some(original) = deps
        .documents
        .find_completed_by_hash(&doc.org_id, &hash)
        .await?
        .filter(|d| d.id != doc.id)
    {
        doc.processing_status = ProcessingStatus::Completed;
        doc.duplicate_of = Some(original.id.clone());
        doc.extracted_key = original.extracted_key.clone();
        doc.chunks_key = original.chunks_key.clone();
        doc.chunk_count = original.chunk_count;
        doc.processing_error = None;
        doc.updated_at = Utc::now();
        if finish(deps, &doc).await? {
            return Ok(Outcome::Duplicate { of: original.id });
        }
        return Ok(Outcome::Skipped("already processed"));
    }

    let hints = Hints {
        declared_mime: doc.mime_type.clone(),
        file_name: Some(doc.title.clone()),
    };
    let limits = options.limits.clone();
    let chunking = options.chunking.clone();
    let work = tokio::task::spawn_blocking(move || {
        let out = extract(&bytes, &hints, &limits)?;
        let chunks = if out.segments.is_empty() {
            chunk(&out.markdown, &chunking)
        } else {
            chunk_transcript(&out.segments, &chunking)
        };
        Ok::<_, recorder_extract::ExtractError>((out, chunks))
    });
    let (extracted, chunks) = match tokio::time::timeout(EXTRACT_TIMEOUT, work).await {
        Err(_) => {
            return fail(
                deps,
                &mut doc,
                format!(
                    "took longer than {} s to read; the file may be damaged",
                    EXTRACT_TIMEOUT.as_secs()
                ),
            )
            .await;
        }
        Ok(Err(_)) => {
            return fail(
                deps,
                &mut doc,
                "the file could not be read (the reader crashed on it)".into(),
            )
            .await;
        }
        Ok(Ok(Err(e))) => return fail(deps, &mut doc, e.to_string()).await,
        Ok(Ok(Ok(v))) => v,
    };

    let (connector_type, connector_id) = artifact_owner(deps, &doc).await?;
    let now = Utc::now();
    let md_key = object_key(
        &doc.org_id,
        connector_type,
        &connector_id,
        now,
        ArtifactKind::Extracted,
        &doc.id,
        &format!("{}.md", doc.title),
    );
    let chunks_key = object_key(
        &doc.org_id,
        connector_type,
        &connector_id,
        now,
        ArtifactKind::Chunks,
        &doc.id,
        &format!("{}.jsonl", doc.title),
    );
    let mut jsonl = String::new();
    for c in &chunks {
        jsonl.push_str(&serde_json::to_string(c).unwrap_or_default());
        jsonl.push('\n');
    }
    deps.blobs
        .put(
            &md_key,
            extracted.markdown.clone().into_bytes(),
            "text/markdown; charset=utf-8",
        )
        .await?;
    deps.blobs
        .put(&chunks_key, jsonl.into_bytes(), "application/x-ndjson")
        .await?;

    let mut meta = if doc.source_metadata.is_object() {
        doc.source_metadata.clone()
    } else {
        json!({})
    };
    meta["extracted"] = serde_json::to_value(&extracted.metadata).unwrap_or_default();
    meta["format"] = json!(format!("{:?}", extracted.format));
    if !extracted.warnings.is_empty() {
        meta["warnings"] = json!(extracted.warnings);
    }
    doc.source_metadata = meta;
    doc.processing_status = ProcessingStatus::Completed;
    doc.processing_error = None;
    doc.chunk_count = chunks.len() as u32;
    doc.extracted_key = Some(md_key);
    doc.chunks_key = Some(chunks_key);
    doc.duplicate_of = None;
    doc.updated_at = now;
    if !finish(deps, &doc).await? {
        return Ok(Outcome::Skipped("already processed"));
    }
    Ok(Outcome::Completed {
        chunks: chunks.len(),
    })
}

/// Artifacts sit beside the original: the same connector folder (uploads without a connector use
/// the `file_upload` type and the org's upload folder).
async fn artifact_owner(
    deps: &Deps,
    doc: &ImportedDocument,
) -> Result<(recorder_domain::connector::ConnectorType, String), StoreError> {
    use recorder_domain::connector::ConnectorType;
    if let Some(key) = doc
        .original_key
        .as_deref()
        .and_then(recorder_domain::keys::parse_object_key)
    {
        return Ok((key.connector_type, key.connector_id));
    }
    match &doc.connector_id {
        Some(id) => {
            let t = deps
                .connectors
                .get(&doc.org_id, id)
                .await?
                .map(|c| c.connector_type)
                .unwrap_or(ConnectorType::FileUpload);
            Ok((t, id.clone()))
        }
        None => Ok((ConnectorType::FileUpload, "uploads".into())),
    }
}

async fn fail(
    deps: &Deps,
    doc: &mut ImportedDocument,
    reason: String,
) -> Result<Outcome, ProcessError> {
    tracing::info!(document_id = %doc.id, %reason, "document failed");
    doc.processing_status = ProcessingStatus::Failed;
    doc.processing_error = Some(reason.clone());
    doc.updated_at = Utc::now();
    if !finish(deps, doc).await? {
        return Ok(Outcome::Skipped("already processed"));
    }
    Ok(Outcome::Failed { reason })
}

/// Tells downstream indexing the document is ready (at least once: before the final write, so a
/// crash in between repeats the event rather than losing it).
async fn announce(deps: &Deps, doc: &ImportedDocument) -> Result<(), StoreError> {
    let event = recorder_domain::jobs::DocumentProcessed {
        org_id: doc.org_id.clone(),
        document_id: doc.id.clone(),
        connector_id: doc.connector_id.clone(),
        title: doc.title.clone(),
        extracted_key: doc.extracted_key.clone(),
        chunks_key: doc.chunks_key.clone(),
        chunk_count: doc.chunk_count,
        duplicate_of: doc.duplicate_of.clone(),
    };
    deps.queue.send_processed(&event).await
}

/// Writes the final record and counts it on its batch in one transaction (exactly once, even when
/// the message is delivered twice), then closes the batch when its last file is done.
async fn finish(deps: &Deps, doc: &ImportedDocument) -> Result<bool, StoreError> {
    if doc.processing_status == ProcessingStatus::Completed {
        announce(deps, doc).await?;
    }
    if !deps.documents.finish(doc).await? {
        return Ok(false);
    }
    let Some(batch_id) = &doc.batch_id else {
        return Ok(true);
    };
    let Some(batch) = deps.batches.get(batch_id).await? else {
        return Ok(true);
    };
    let settled = batch.settled_status();
    if settled == batch.status && batch.status == BatchStatus::Uploading {
        // The first file is done: the batch is being processed now.
        deps.batches
            .set_status(batch_id, BatchStatus::Processing, None)
            .await?;
        return Ok(true);
    }
    if settled != batch.status && matches!(settled, BatchStatus::Completed | BatchStatus::Failed) {
        deps.batches
            .set_status(batch_id, settled, Some(Utc::now()))
            .await?;
    }
    Ok(true)
}
