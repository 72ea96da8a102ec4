//! Complete: the result is recorded on the document, which ends `completed` (or a duplicate, or
//! `failed`), downstream indexing is told, and its upload batch's counters move, exactly once.
//! Every stamp is the Clock port's time.

use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::service::documents::MAX_ATTEMPTS;
use recorder_domain::upload::BatchStatus;
use recorder_domain::{Deps, StoreError};
use serde_json::json;

use super::store::Artifacts;
use crate::{Outcome, ProcessError};

/// Records the result on the document and finishes it.
pub(crate) async fn completed(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    artifacts: Artifacts,
) -> Result<Outcome, ProcessError> {
    let mut meta = if doc.source_metadata.is_object() {
        doc.source_metadata.clone()
    } else {
        json!({})
    };
    meta["extracted"] = artifacts.metadata;
    meta["format"] = json!(artifacts.format.as_str());
    if !artifacts.warnings.is_empty() {
        meta["warnings"] = json!(artifacts.warnings);
    }
    doc.source_metadata = meta;
    doc.processing_status = ProcessingStatus::Completed;
    doc.processing_error = None;
    doc.processing_lease = None;
    doc.chunk_count = artifacts.chunk_count as u32;
    doc.extracted_key = Some(artifacts.keys.markdown);
    doc.chunks_key = Some(artifacts.keys.chunks);
    doc.transcript_key = artifacts.transcript_key;
    doc.duplicate_of = None;
    doc.updated_at = deps.clock.now();
    if let Some(why) = finish(deps, base, doc).await? {
        return Ok(Outcome::Skipped(why));
    }
    Ok(Outcome::Completed {
        chunks: artifacts.chunk_count,
    })
}

/// Finishes the document as a duplicate of `original`, whose artifacts it reuses.
pub(crate) async fn duplicate(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    original: ImportedDocument,
) -> Result<Outcome, ProcessError> {
    doc.mark_duplicate_of(&original);
    doc.processing_lease = None;
    doc.updated_at = deps.clock.now();
    Ok(match finish(deps, base, doc).await? {
        None => Outcome::Duplicate { of: original.id },
        Some(why) => Outcome::Skipped(why),
    })
}

pub(crate) async fn fail(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    reason: String,
) -> Result<Outcome, ProcessError> {
    tracing::info!(document_id = %doc.id, %reason, "document failed");
    doc.processing_status = ProcessingStatus::Failed;
    doc.processing_error = Some(reason.clone());
    doc.processing_lease = None;
    doc.updated_at = deps.clock.now();
    if let Some(why) = finish(deps, base, doc).await? {
        return Ok(Outcome::Skipped(why));
    }
    Ok(Outcome::Failed { reason })
}

/// Ends a document `failed` with `reason` unless it is already final or `still` says it moved
/// on: for work that will not be tried again (its message's last receive failed, or its worker
/// never came back).
pub async fn give_up(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    reason: String,
    still: impl Fn(&ImportedDocument) -> bool,
) -> Result<Outcome, ProcessError> {
    let Some(base) = deps.documents.get(document_id).await? else {
        return Ok(Outcome::Skipped("unknown document"));
    };
    if base.org_id != org_id {
        return Ok(Outcome::Skipped("document of another org"));
    }
    if matches!(
        base.processing_status,
        ProcessingStatus::Completed | ProcessingStatus::Failed
    ) {
        return Ok(Outcome::Skipped("already processed"));
    }
    if !still(&base) {
        return Ok(Outcome::Skipped("changed meanwhile"));
    }
    fail(deps, &base, &mut base.clone(), reason).await
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
        transcript_key: doc.transcript_key.clone(),
        chunk_count: doc.chunk_count,
        duplicate_of: doc.duplicate_of.clone(),
    };
    deps.queue.send_processed(&event).await
}

/// Writes the final record and counts it on its batch in one transaction (exactly once, even when
/// the message is delivered twice), then closes the batch when its last file is done. When a sync
/// changed the record meanwhile (a soft delete, say), the result is merged onto its change; when
/// another delivery finished it, or a newer version was queued, nothing is written and the reason
/// is returned.
async fn finish(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &ImportedDocument,
) -> Result<Option<&'static str>, StoreError> {
    if doc.processing_status == ProcessingStatus::Completed {
        announce(deps, doc).await?;
    }
    let (mut base, mut doc) = (base.clone(), doc.clone());
    let mut attempts = 0;
    while !deps.documents.finish(&doc).await? {
        let Some(current) = deps.documents.get(&doc.id).await? else {
            return Ok(Some("document removed while it was processed"));
        };
        if matches!(
            current.processing_status,
            ProcessingStatus::Completed | ProcessingStatus::Failed
        ) {
            return Ok(Some("already processed"));
        }
        // Re-synced or re-imported meanwhile: this result is of the previous version.
        if current.processing_status == ProcessingStatus::Pending
            || current.sync_count != base.sync_count
        {
            return Ok(Some(
                "changed while it was processed; the new version is queued",
            ));
        }
        attempts += 1;
        if current.version == doc.version {
            // The record is as we read it: the batch it counts on is what refused the write.
            return Err(StoreError::ConditionFailed(format!(
                "document {} could not be counted on its upload batch",
                doc.id
            )));
        }
        if attempts == MAX_ATTEMPTS {
            return Err(StoreError::ConditionFailed(format!(
                "document {} kept changing while its result was written",
                doc.id
            )));
        }
        doc = doc.rebase(&base, &current);
        base = current;
    }
    let Some(batch_id) = &doc.batch_id else {
        return Ok(None);
    };
    let Some(batch) = deps.batches.get(batch_id).await? else {
        return Ok(None);
    };
    let settled = batch.settled_status();
    if settled == batch.status && batch.status == BatchStatus::Uploading {
        // The first file is done: the batch is being processed now.
        deps.batches
            .set_status(batch_id, BatchStatus::Processing, None)
            .await?;
        return Ok(None);
    }
    if settled != batch.status && matches!(settled, BatchStatus::Completed | BatchStatus::Failed) {
        deps.batches
            .set_status(batch_id, settled, Some(deps.clock.now()))
            .await?;
    }
    Ok(None)
}
