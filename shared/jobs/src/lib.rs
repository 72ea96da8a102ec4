//! Handlers of the queue- and schedule-driven functions. Each turns an event into domain calls;
//! SQS consumers answer partial batch failures through [`batch::process_sqs_batch`].

pub mod batch;
pub mod doc_processor;
pub mod scheduler;
pub mod sync_worker;

/// The error a job handler reports for one message; the batch helper logs it and marks the
/// message failed (SQS retries it, then moves it to the dead-letter queue).
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("message body is not a valid {expected}: {source}")]
    BadMessage {
        expected: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Domain(#[from] recorder_domain::DomainError),
    /// Storage failed while processing a document; SQS retries the message.
    #[error("document processing was interrupted: {0}")]
    Processing(String),
}
