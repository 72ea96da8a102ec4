//! The document pipeline behind the `doc-processor` function, over the domain's ports. A run
//! claims the record with a lease ([`lease`]): work already done, or held by another delivery,
//! is skipped, so a version is processed once however many messages announce it. Then the
//! stages ([`stages`]), one file each:
//!
//! 1. load the original from the blob store (a URL import's page is fetched here);
//! 2. dedupe: the same bytes already completed in the org make a duplicate, artifacts reused;
//! 3. extract Markdown, metadata and chunks (audio and video transcribed, see [`transcribe`]);
//! 4. store the artifacts (Markdown, chunks as JSON Lines, a transcript) beside the original;
//! 5. complete: mark the record `completed` and move its upload batch's counters.
//!
//! A file that cannot be read ends `failed` with a reason a person can act on; storage trouble is
//! returned as an error so SQS retries the message; on its last receive the document is failed
//! with that error instead ([`give_up`]), a worker that vanished is swept ([`sweep`]), and a
//! message that reached the dead-letter queue anyway fails its document ([`dead_letter`]). Time
//! comes from the Clock port (`deps.clock`).

pub mod dead_letter;
mod large;
pub mod lease;
mod media;
mod options;
mod running;
mod stages;
pub mod sweep;
pub mod transcribe;
pub mod version;

use std::time::Duration;

use recorder_domain::Deps;
use recorder_domain::StoreError;
use recorder_domain::document::ImportedDocument;

pub use lease::Run;
pub use options::{DECOMPRESSION_SHARE_PERCENT, Options, SettingsError, limits_for_memory};
pub use running::{FINISH_MARGIN, MESSAGE_BUDGET};
pub use stages::complete::give_up;
use stages::{Stop, complete, dedupe, extract, load, store};

/// Originals above this are not read whole into the function's memory: audio and video are read
/// by range (see `large`), anything else is refused.
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
    /// A service the pipeline needs is down (the transcription endpoint): SQS retries later.
    #[error("{0}")]
    Unavailable(String),
    /// Too little of the invocation is left to read the file; nothing of the document failed
    /// (its lease is given back) and it is queued again.
    #[error("too little time left in this invocation to read the file")]
    OutOfTime,
}

/// Processes the document as a run of its own, without a deadline.
pub async fn process_document(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    options: &Options,
) -> Result<Outcome, ProcessError> {
    process_document_as(deps, org_id, document_id, options, &Run::unlimited()).await
}

/// Processes the document once per version: the run claims it first (see [`lease`]) and leaves
/// it alone when another delivery holds it.
pub async fn process_document_as(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    process_version(deps, org_id, document_id, None, options, run).await
}

/// [`process_document_as`] for the version an S3 notification announced (its ETag; None: the
/// version stored now): see [`version`].
pub async fn process_version(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    let doc = match lease::claim(deps, org_id, document_id, &run.owner, options.stale_after).await?
    {
        lease::Claim::Unknown => return Ok(Outcome::Skipped("unknown document")),
        lease::Claim::Skip(why) => {
            return Ok(match announced {
                Some(etag) => version::refused(deps, document_id, etag, why).await?,
                None => Outcome::Skipped(why),
            });
        }
        lease::Claim::Taken(doc) => doc,
    };
    let outcome = process_claimed(deps, *doc, announced, options, run).await;
    if matches!(outcome, Err(ProcessError::OutOfTime)) {
        // Stopped before the deadline, not because of the file: the next delivery starts afresh.
        lease::release(deps, document_id, &run.owner).await?;
    }
    outcome
}

async fn process_claimed(
    deps: &Deps,
    mut doc: ImportedDocument,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    // The record as this worker found it: what a sync changes meanwhile is merged, not lost.
    let base = doc.clone();
    match run_stages(deps, &base, &mut doc, announced, options, run).await {
        Ok(outcome) | Err(Stop::Finished(outcome)) => Ok(outcome),
        Err(Stop::Fail(reason)) => complete::fail(deps, &base, &mut doc, reason).await,
        Err(Stop::Error(e)) => Err(e),
    }
}

/// Load the original → dedupe → extract → store artifacts → complete.
async fn run_stages(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Outcome, Stop> {
    let original = load::original(deps, doc, announced, options, run).await?;
    if let Some(copy) = dedupe::completed_copy(deps, doc, &original).await? {
        return Ok(complete::duplicate(deps, base, doc, copy).await?);
    }
    let produced = extract::extract(deps, doc, original, options, run).await?;
    let artifacts = store::artifacts(deps, doc, produced).await?;
    Ok(complete::completed(deps, base, doc, artifacts).await?)
}
