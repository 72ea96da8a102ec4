//! The version an S3 notification announces for each upload it names: the object's ETag, which
//! the pipeline reads with If-Match (see `recorder_processing::version`). Jobs announce none.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::SqsMessage;
use recorder_domain::keys::parse_object_key;
use serde_json::Value;

/// ETags by document id; empty for jobs, test events and records without one.
pub(super) fn versions(record: &SqsMessage) -> HashMap<String, String> {
    let body: Value = record
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or_default();
    body["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let object = &r["s3"]["object"];
            let key = super::percent_decode(&object["key"].as_str()?.replace('+', " "));
            let etag = object["eTag"].as_str().filter(|e| !e.is_empty())?;
            Some((parse_object_key(&key)?.file_id, etag.to_owned()))
        })
        .collect()
}
