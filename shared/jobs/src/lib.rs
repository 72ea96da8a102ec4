//! Handlers of the queue- and schedule-driven functions. Each turns an event into domain calls;
//! SQS consumers answer partial batch failures through [`batch::process_sqs_batch`].

pub mod batch;
pub mod doc_processor;
pub mod scheduler;
pub mod sync_worker;
pub mod webhook_worker;

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
    /// Storage failed while processing a document; SQS retries the message. The cause is kept:
    /// the batch helper logs the whole chain.
    #[error("document processing was interrupted")]
    Processing(#[from] recorder_processing::ProcessError),
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use recorder_domain::StoreError;
    use recorder_processing::ProcessError;

    use super::JobError;

    #[test]
    fn a_processing_failure_keeps_its_cause_down_to_the_backend_error() {
        let backend = std::io::Error::other("connection reset by peer");
        let store = StoreError::backend("could not read the document", backend);
        let err = JobError::from(ProcessError::Store(store));

        let cause = err
            .source()
            .expect("the processing error is kept as the source");
        assert!(cause.downcast_ref::<ProcessError>().is_some(), "{cause:?}");
        let mut chain = Vec::new();
        let mut next: Option<&dyn Error> = Some(&err);
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert_eq!(
            chain,
            [
                "document processing was interrupted",
                "could not read the document",
                "connection reset by peer",
            ]
        );
    }
}
