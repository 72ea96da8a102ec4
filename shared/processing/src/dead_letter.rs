//! Documents whose message reached the documents queue's dead-letter queue: every receive
//! crashed, timed out or ran out of memory (the last-receive check never ran), or storage was
//! down so the document was never claimed. Nothing processes them again, so the doc-processor,
//! which also drains that queue, ends each one `failed` with a reason a person can act on.

use chrono::{DateTime, Utc};
use recorder_domain::Deps;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};

use crate::{Outcome, ProcessError, give_up};

/// A document's `last_synced_at` is written before its job is sent; a clock this far ahead of
/// SQS's still counts as the same version.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(1);

/// A message from the dead-letter queue.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// The SQS message id (kept when SQS moves a message to its dead-letter queue): the owner
    /// of the lease its deliveries took.
    pub message_id: String,
    /// When the message was first sent (SQS's `SentTimestamp`, kept too); None: unknown.
    pub sent_at: Option<DateTime<Utc>>,
    /// How often it was received before it was dead-lettered (the queue's `maxReceiveCount`).
    pub attempts: u32,
}

pub fn reason(attempts: u32, document_id: &str) -> String {
    format!(
        "processing kept failing ({attempts} attempts); the file may be too large or damaged — \
         try again, or contact support with document id {document_id}"
    )
}

/// Fails the document unless it is final, a newer version was stored after the message was
/// sent (its own job processes it), or another delivery holds a live lease on it (it finishes,
/// or the stale sweep takes over). Safe to repeat: a failed document is final.
pub async fn fail_dead_lettered(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    letter: &DeadLetter,
    stale_after: chrono::Duration,
) -> Result<Outcome, ProcessError> {
    let now = deps.clock.now();
    let still = |d: &ImportedDocument| {
        let newer = letter
            .sent_at
            .is_some_and(|sent| d.last_synced_at > sent + CLOCK_SKEW);
        let held_elsewhere = d.processing_status == ProcessingStatus::Processing
            && d.processing_lease
                .as_ref()
                .is_some_and(|l| l.owner != letter.message_id && !l.is_stale(now, stale_after));
        !newer && !held_elsewhere
    };
    let reason = reason(letter.attempts, document_id);
    give_up(deps, org_id, document_id, reason, still).await
}
