//! The sweep of documents whose worker is gone: a Lambda that timed out or ran out of memory
//! leaves its document `processing` with a lease nobody renews. The scheduler's tick queues such
//! a version again once, and fails it the second time with a reason a person can act on.

use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::jobs::DocumentJob;
use recorder_domain::service::documents::modify;
use recorder_domain::{Deps, StoreError};

use crate::{Outcome, give_up};

/// How many stale documents one tick handles; the rest wait for the next tick.
pub const MAX_STALE_PER_TICK: u32 = 100;

pub const STALE_REASON: &str =
    "processing did not finish (timed out or ran out of memory); try again";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub requeued: Vec<String>,
    pub failed: Vec<String>,
    /// Documents the sweep could not handle this time, with the error.
    pub errors: Vec<(String, String)>,
}

/// Requeues or fails documents whose processing lease is older than `stale_after`.
pub async fn sweep_stale_processing(
    deps: &Deps,
    stale_after: chrono::Duration,
) -> Result<SweepReport, StoreError> {
    let before = deps.clock.now() - stale_after;
    let mut report = SweepReport::default();
    for doc in deps
        .documents
        .list_stale_processing(before, MAX_STALE_PER_TICK)
        .await?
    {
        if doc.stale_requeue_of == Some(doc.sync_count) {
            // Only while the lease that went stale is still there: a worker that took it over
            // meanwhile is left alone.
            let same = |d: &ImportedDocument| {
                d.processing_status == ProcessingStatus::Processing
                    && d.processing_lease == doc.processing_lease
                    && d.sync_count == doc.sync_count
            };
            match give_up(deps, &doc.org_id, &doc.id, STALE_REASON.into(), same).await {
                Ok(Outcome::Failed { .. }) => report.failed.push(doc.id.clone()),
                // Finished or changed meanwhile: nothing to do.
                Ok(_) => {}
                Err(e) => report.errors.push((doc.id.clone(), e.to_string())),
            }
        } else {
            match requeue(deps, &doc).await {
                Ok(()) => report.requeued.push(doc.id.clone()),
                Err(e) => report.errors.push((doc.id.clone(), e.to_string())),
            }
        }
    }
    Ok(report)
}

/// Queues the version again and records that it was: the job first, so a failed send leaves
/// the document for the next tick rather than pending with no job.
async fn requeue(deps: &Deps, stale: &ImportedDocument) -> Result<(), StoreError> {
    let job = DocumentJob {
        org_id: stale.org_id.clone(),
        document_id: stale.id.clone(),
    };
    deps.queue.send_document(&job).await?;
    let now = deps.clock.now();
    modify(deps.documents.as_ref(), &stale.id, |d| {
        if d.sync_count != stale.sync_count {
            return false;
        }
        d.stale_requeue_of = Some(d.sync_count);
        // Still the lease that went stale: pending again, so the new job takes it at once and
        // the next tick does not count the wait in the queue as a second timeout.
        if d.processing_status == ProcessingStatus::Processing
            && d.processing_lease == stale.processing_lease
        {
            d.processing_status = ProcessingStatus::Pending;
            d.processing_lease = None;
        }
        d.updated_at = now;
        true
    })
    .await?;
    Ok(())
}
