//! Dedupe: the same bytes already completed in the org make this document a duplicate of that
//! one, its artifacts reused. The hash and the size are recorded on the document either way.

use recorder_domain::document::ImportedDocument;
use recorder_domain::{Deps, StoreError};
use sha2::{Digest, Sha256};

use super::load::Original;

/// Records the original's hash and size; the org's completed document with the same bytes, if
/// there is one.
pub(crate) async fn completed_copy(
    deps: &Deps,
    doc: &mut ImportedDocument,
    original: &Original,
) -> Result<Option<ImportedDocument>, StoreError> {
    let (hash, size) = match original {
        Original::Whole(bytes) | Original::Page(bytes, _) => {
            (hex::encode(Sha256::digest(bytes)), bytes.len() as u64)
        }
        Original::Large(large, _) => (large.sha256(deps.blobs.as_ref()).await?, large.total),
    };
    doc.content_hash = Some(hash.clone());
    doc.size_bytes = Some(size);
    Ok(deps
        .documents
        .find_completed_by_hash(&doc.org_id, &hash)
        .await?
        .filter(|d| d.id != doc.id))
}
