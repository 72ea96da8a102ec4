//! What a direct upload is held to after the client sent its bytes: no more than it declared.
//! Presigned URLs sign the exact length, but a store that does not check signatures (moto, a
//! misconfigured proxy) or an upload that slipped past must still never be processed as the file
//! that was declared.

use crate::StoreError;
use crate::connector::ConnectorType;
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::keys::{ArtifactKind, parse_object_key};
use crate::ports::Deps;
use crate::service::documents::MAX_ATTEMPTS;
use crate::upload::{BatchStatus, oversized_reason};

/// The size a client declared for a direct upload; None for documents that were not uploaded
/// by a client (synced files, URL imports), whose size is whatever the source holds.
pub fn declared_upload_size(doc: &ImportedDocument) -> Option<u64> {
    let key = parse_object_key(doc.original_key.as_deref()?)?;
    if key.connector_type != ConnectorType::FileUpload || key.kind != ArtifactKind::Original {
        return None;
    }
    // Recorded when the upload was requested; older records kept it only in `size_bytes`.
    doc.source_metadata["declared_size"]
        .as_u64()
        .or(doc.size_bytes)
}

/// Called where the doc-processor first handles a document, before reading it: a direct upload
/// stored larger than declared is deleted, and the reason to fail the document with is returned.
pub async fn refuse_oversized_upload(
    deps: &Deps,
    doc: &ImportedDocument,
) -> Result<Option<String>, StoreError> {
    let (Some(declared), Some(key)) = (declared_upload_size(doc), doc.original_key.as_deref())
    else {
        return Ok(None);
    };
    let Some(stored) = deps.blobs.size(key).await? else {
        return Ok(None);
    };
    if stored <= declared {
        return Ok(None);
    }
    tracing::info!(document_id = %doc.id, stored, declared, "upload larger than declared; deleted");
    deps.blobs.delete(key).await?;
    Ok(Some(oversized_reason(stored, declared)))
}

/// Ends a document `failed` with `reason`, counted once on its upload batch (which settles when
/// it was the last file). None when the document is gone; unchanged when it is already final.
pub async fn fail_document(
    deps: &Deps,
    id: &str,
    reason: &str,
) -> Result<Option<ImportedDocument>, StoreError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(mut doc) = deps.documents.get(id).await? else {
            return Ok(None);
        };
        if matches!(
            doc.processing_status,
            ProcessingStatus::Completed | ProcessingStatus::Failed
        ) {
            return Ok(Some(doc));
        }
        doc.processing_status = ProcessingStatus::Failed;
        doc.processing_error = Some(reason.to_owned());
        doc.updated_at = deps.clock.now();
        if deps.documents.finish(&doc).await? {
            if let Some(batch_id) = &doc.batch_id {
                settle_batch(deps, batch_id).await?;
            }
            doc.version += 1;
            return Ok(Some(doc));
        }
    }
    Err(StoreError::ConditionFailed(format!(
        "document {id} kept changing while it was failed"
    )))
}

/// Sets the batch's final status once every file is finished (as the doc-processor does).
pub async fn settle_batch(deps: &Deps, batch_id: &str) -> Result<(), StoreError> {
    let Some(batch) = deps.batches.get(batch_id).await? else {
        return Ok(());
    };
    let settled = batch.settled_status();
    if settled != batch.status && matches!(settled, BatchStatus::Completed | BatchStatus::Failed) {
        deps.batches
            .set_status(batch_id, settled, Some(deps.clock.now()))
            .await?;
    }
    Ok(())
}
