//! Which version of an original a run processes. An S3 notification names the version it
//! announces (the object's ETag): the run reads exactly that one (If-Match), so bytes that
//! replaced it are never processed under the older announcement. A job names none: the run takes
//! the version its first read finds and reads the rest of the file from that same version.
//!
//! The version processed is kept on the document (`source_metadata.original_etag`): a
//! notification naming another version after the document was finished is a replaced original
//! (an upload URL used twice where the store did not refuse it), not a redelivery.

use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::jobs::DocumentJob;
use recorder_domain::ports::VersionRead;
use recorder_domain::{Deps, StoreError};
use serde_json::json;

use crate::Outcome;

/// Where the processed version's ETag is kept, unquoted as S3's notifications write it.
pub const ORIGINAL_ETAG: &str = "original_etag";

/// The outcome of a run whose announced version was replaced before it was read.
pub const CHANGED: &str =
    "the original changed after it was announced; queued for the version stored now";
/// The outcome of a notification of a version other than the one a finished document was
/// processed from.
pub const REPLACED: &str =
    "the original was replaced after it was processed; upload it as a new file";

/// True when two ETags name the same version (S3 quotes them in headers, not in notifications).
pub fn same(a: &str, b: &str) -> bool {
    a.trim_matches('"') == b.trim_matches('"')
}

/// The version a finished document was processed from, when it was recorded.
pub fn processed_version(doc: &ImportedDocument) -> Option<&str> {
    doc.source_metadata[ORIGINAL_ETAG].as_str()
}

pub(crate) fn record(doc: &mut ImportedDocument, etag: &str) {
    if !doc.source_metadata.is_object() {
        doc.source_metadata = json!({});
    }
    doc.source_metadata[ORIGINAL_ETAG] = json!(etag.trim_matches('"'));
}

/// A read of one version of the original.
pub(crate) enum Versioned<T> {
    Read(T),
    Missing,
    /// The object is another version than the one asked for.
    Changed,
}

impl<T> Versioned<T> {
    fn of(read: Result<Option<T>, StoreError>) -> Result<Versioned<T>, StoreError> {
        match read {
            Ok(Some(read)) => Ok(Versioned::Read(read)),
            Ok(None) => Ok(Versioned::Missing),
            Err(StoreError::ConditionFailed(_)) => Ok(Versioned::Changed),
            Err(e) => Err(e),
        }
    }
}

/// The first read of the original: of the announced version, or of the one stored when none was.
pub(crate) async fn read_head(
    deps: &Deps,
    key: &str,
    len: u64,
    announced: Option<&str>,
) -> Result<Versioned<VersionRead>, StoreError> {
    Versioned::of(deps.blobs.get_range_version(key, 0, len, announced).await)
}

/// The whole original, of the version the head came from.
pub(crate) async fn read_whole(
    deps: &Deps,
    key: &str,
    etag: &str,
) -> Result<Versioned<Vec<u8>>, StoreError> {
    Versioned::of(deps.blobs.get_version(key, etag).await)
}

/// A run whose version was replaced before it was read gives its lease back and queues the
/// document once more, for whatever version is stored by then. The newer object's own
/// notification would do it too, but it may have arrived while this run held the lease and been
/// skipped; two deliveries of one version are processed once (the lease), so nothing is doubled.
pub(crate) async fn changed(
    deps: &Deps,
    doc: &ImportedDocument,
    owner: &str,
) -> Result<Outcome, StoreError> {
    tracing::info!(document_id = %doc.id, "original replaced since it was announced; not read");
    crate::lease::release(deps, &doc.id, owner).await?;
    let job = DocumentJob {
        org_id: doc.org_id.clone(),
        document_id: doc.id.clone(),
    };
    deps.queue.send_document(&job).await?;
    Ok(Outcome::Skipped(CHANGED))
}

/// What a notification of `announced` means for a document the lease refused: a finished
/// document processed from another version had its original replaced. It is left as it was
/// processed (its status, batch count and downstream event were written once, and its artifacts
/// still describe the bytes they came from), and the replacement is logged, not processed.
pub(crate) async fn refused(
    deps: &Deps,
    document_id: &str,
    announced: &str,
    why: &'static str,
) -> Result<Outcome, StoreError> {
    let Some(doc) = deps.documents.get(document_id).await? else {
        return Ok(Outcome::Skipped(why));
    };
    let finished = matches!(
        doc.processing_status,
        ProcessingStatus::Completed | ProcessingStatus::Failed
    );
    match processed_version(&doc) {
        Some(processed) if finished && !same(processed, announced) => {
            tracing::warn!(
                document_id,
                processed,
                announced,
                "{REPLACED}: the new bytes are not processed"
            );
            Ok(Outcome::Skipped(REPLACED))
        }
        _ => Ok(Outcome::Skipped(why)),
    }
}
