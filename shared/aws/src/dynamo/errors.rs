//! Which failures are a lost condition. Read from the error code DynamoDB answers (the typed
//! error and its metadata), never from an error's text, which may change or quote anything.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use recorder_domain::StoreError;

/// The code of a single write whose condition was false.
const CONDITION_FAILED: &str = "ConditionalCheckFailedException";
/// Cancellation reasons that mean another writer got there first: this item's condition was
/// false, or another transaction was writing it. Callers re-read and retry or report either.
const LOST_TO_ANOTHER_WRITER: [&str; 2] = ["ConditionalCheckFailed", "TransactionConflict"];

/// A single write (put, update, delete) refused because its condition was false.
pub(super) fn is_condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|se| se.code()) == Some(CONDITION_FAILED)
}

/// A failed transaction as the domain sees it: `ConditionFailed` (with `what`) when another
/// writer won, a backend failure otherwise (throttling, validation, a missing table...).
pub(super) fn transaction_error<R>(
    e: SdkError<TransactWriteItemsError, R>,
    what: &str,
) -> StoreError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if lost_to_another_writer(&e) {
        StoreError::ConditionFailed(what.to_string())
    } else {
        StoreError::backend(format!("could not write: {what}"), e)
    }
}

fn lost_to_another_writer<R>(e: &SdkError<TransactWriteItemsError, R>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        e.as_service_error()
    else {
        return false;
    };
    cancelled
        .cancellation_reasons()
        .iter()
        .filter_map(|r| r.code())
        .any(|code| LOST_TO_ANOTHER_WRITER.contains(&code))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, TransactionCanceledException,
    };

    use super::*;

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    fn cancelled(reasons: &[&str]) -> SdkError<TransactWriteItemsError, ()> {
        let mut ex = TransactionCanceledException::builder()
            .message("Transaction cancelled")
            .meta(meta(
                "TransactionCanceledException",
                "Transaction cancelled",
            ));
        for code in reasons {
            ex = ex.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        SdkError::service_error(
            TransactWriteItemsError::TransactionCanceledException(ex.build()),
            (),
        )
    }

    #[test]
    fn a_lost_condition_is_known_by_its_code() {
        let lost = ConditionalCheckFailedException::builder()
            .message("The conditional request failed")
            .meta(meta(CONDITION_FAILED, "The conditional request failed"))
            .build();
        let e = SdkError::service_error(PutItemError::ConditionalCheckFailedException(lost), ());
        assert!(is_condition_failed(&e));
    }

    #[test]
    fn an_error_that_only_mentions_a_condition_in_its_text_is_not_a_lost_condition() {
        let text = "ConditionalCheckFailedException: TransactionCanceled, not really";
        let e =
            SdkError::service_error(PutItemError::generic(meta("ValidationException", text)), ());
        assert!(!is_condition_failed(&e));
        let e = SdkError::<TransactWriteItemsError, ()>::service_error(
            TransactWriteItemsError::generic(meta("ValidationException", text)),
            (),
        );
        assert!(matches!(
            transaction_error(e, "x"),
            StoreError::Backend { .. }
        ));
    }

    #[test]
    fn a_transaction_cancelled_by_a_condition_or_a_conflicting_writer_is_a_condition_failure() {
        for reasons in [
            &["None", "ConditionalCheckFailed"][..],
            &["TransactionConflict", "None"][..],
        ] {
            let e = transaction_error(cancelled(reasons), "name taken");
            assert!(
                matches!(e, StoreError::ConditionFailed(ref w) if w == "name taken"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn a_transaction_cancelled_for_another_reason_is_a_backend_failure() {
        for reasons in [
            &["ThrottlingError", "None"][..],
            &["ValidationError"][..],
            &[][..],
        ] {
            let e = transaction_error(cancelled(reasons), "name taken");
            assert!(matches!(e, StoreError::Backend { .. }), "{e:?}");
        }
    }
}
