//! Read-modify-write of a document that other writers (a sync, the document worker, an API
//! call) may change at the same time.

use crate::StoreError;
use crate::document::ImportedDocument;
use crate::ports::DocumentStore;

/// Two writers rarely touch one document at once; a record that keeps changing is an error.
pub const MAX_ATTEMPTS: usize = 8;

/// Reads the document, lets `change` edit it and writes it back. When another writer changed the
/// record in between, reads it again and calls `change` again on the fresh copy, so neither write
/// is lost. `change` returns false to leave the record as it is. None when there is no such
/// document; otherwise the record as stored.
pub async fn modify(
    documents: &dyn DocumentStore,
    id: &str,
    mut change: impl FnMut(&mut ImportedDocument) -> bool + Send,
) -> Result<Option<ImportedDocument>, StoreError> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(mut doc) = documents.get(id).await? else {
            return Ok(None);
        };
        if !change(&mut doc) || documents.update(&mut doc).await? {
            return Ok(Some(doc));
        }
    }
    Err(StoreError::ConditionFailed(format!(
        "document {id} changed {MAX_ATTEMPTS} times while being written; try again"
    )))
}
