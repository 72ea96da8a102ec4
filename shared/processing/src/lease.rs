//! The claim on a document version: one worker processes it, however many messages announce it
//! (an S3 notification and an explicit job, a redelivery). The claim is a lease on the record
//! (owner and start), written with the record's conditional update: of two claimants reading the
//! same version only one write lands, and the other, reading again, finds the lease taken.

use chrono::{DateTime, Utc};
use recorder_domain::document::{ImportedDocument, ProcessingLease, ProcessingStatus};
use recorder_domain::service::documents::modify;
use recorder_domain::{Deps, StoreError};

/// Who processes, and until when the invocation may run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The SQS message id: a redelivery of the same message takes its own lease back at once.
    pub owner: String,
    /// When the Lambda invocation times out; None without a limit (local runs, tests).
    pub deadline: Option<DateTime<Utc>>,
}

impl Run {
    /// A run with an owner of its own and no deadline.
    pub fn unlimited() -> Run {
        Run {
            owner: recorder_domain::ids::new_id(),
            deadline: None,
        }
    }
}

pub(crate) enum Claim {
    Taken(Box<ImportedDocument>),
    Skip(&'static str),
    Unknown,
}

pub(crate) const HELD_ELSEWHERE: &str = "being processed by another delivery";

/// Takes the lease unless the document is another org's, finished, or held by another owner
/// whose lease is not yet stale.
pub(crate) async fn claim(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    owner: &str,
    stale_after: chrono::Duration,
) -> Result<Claim, StoreError> {
    let now = deps.clock.now();
    let mut skip = None;
    let claimed = modify(deps.documents.as_ref(), document_id, |d| {
        skip = refusal(d, org_id, owner, now, stale_after);
        if skip.is_some() {
            return false;
        }
        d.processing_status = ProcessingStatus::Processing;
        d.processing_lease = Some(ProcessingLease {
            owner: owner.to_string(),
            started_at: now,
        });
        d.updated_at = now;
        true
    })
    .await?;
    Ok(match (claimed, skip) {
        (None, _) => Claim::Unknown,
        (Some(_), Some(why)) => Claim::Skip(why),
        (Some(doc), None) => Claim::Taken(Box::new(doc)),
    })
}

fn refusal(
    d: &ImportedDocument,
    org_id: &str,
    owner: &str,
    now: DateTime<Utc>,
    stale_after: chrono::Duration,
) -> Option<&'static str> {
    if d.org_id != org_id {
        return Some("document of another org");
    }
    match d.processing_status {
        ProcessingStatus::Completed | ProcessingStatus::Failed => Some("already processed"),
        ProcessingStatus::Pending => None,
        // A record marked before leases existed has no owner to wait for.
        ProcessingStatus::Processing => match &d.processing_lease {
            Some(l) if l.owner != owner && !l.is_stale(now, stale_after) => Some(HELD_ELSEWHERE),
            _ => None,
        },
    }
}

/// Gives the lease back (the document is pending again) so another delivery can take it at once:
/// for work stopped before the invocation's deadline and queued again.
pub(crate) async fn release(deps: &Deps, document_id: &str, owner: &str) -> Result<(), StoreError> {
    let now = deps.clock.now();
    modify(deps.documents.as_ref(), document_id, |d| {
        let mine = d.processing_status == ProcessingStatus::Processing
            && d.processing_lease
                .as_ref()
                .is_some_and(|l| l.owner == owner);
        if mine {
            d.processing_status = ProcessingStatus::Pending;
            d.processing_lease = None;
            d.updated_at = now;
        }
        mine
    })
    .await?;
    Ok(())
}
