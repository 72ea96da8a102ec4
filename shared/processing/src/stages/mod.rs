//! The stages of one document's processing, in the order `run_stages` (in `lib.rs`) runs them.
//! Each takes the record as the stages before it left it and either hands its result on or
//! stops the pipeline ([`Stop`]).

pub(crate) mod complete;
pub(crate) mod dedupe;
pub(crate) mod extract;
pub(crate) mod load;
pub(crate) mod store;

use recorder_domain::StoreError;
use recorder_domain::document::ImportedDocument;
use recorder_extract::Hints;

use crate::{Outcome, ProcessError};

/// Why the pipeline ends before its last stage.
pub(crate) enum Stop {
    /// The file cannot be processed: the document ends `failed` with a reason a person can act on.
    Fail(String),
    /// The document needs nothing more of this run (say, its version was replaced meanwhile).
    Finished(Outcome),
    /// Storage or a service is down, or time ran out: the message is tried again.
    Error(ProcessError),
}

impl From<ProcessError> for Stop {
    fn from(e: ProcessError) -> Self {
        Stop::Error(e)
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Error(e.into())
    }
}

/// What the record tells the extractor about the file.
pub(crate) fn hints_of(doc: &ImportedDocument) -> Hints {
    Hints {
        declared_mime: doc.mime_type.clone(),
        file_name: Some(doc.title.clone()),
    }
}
