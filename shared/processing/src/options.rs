//! How the pipeline is set up, read once at cold start: fetch and transcription settings, the
//! lease's staleness, the queue's receive limit, and the decompression budget the function's
//! memory allows.

use recorder_domain::document::PROCESSING_STALE_AFTER;
use recorder_extract::{ChunkOptions, Limits};
use recorder_fetch::FetchPolicy;

pub use recorder_settings::SettingsError;

use crate::MAX_PROCESSED_BYTES;
use crate::transcribe::TranscriptionSettings;

/// The share of the function's memory one file's decompression may use. Measured: reading a
/// DOCX peaks at about 2.1x what it decompresses (100 MB → 215 MB, 450 MB → 922 MB), and the
/// original (up to [`MAX_PROCESSED_BYTES`]) and the runtime need room beside it: at 30 % a
/// 1024 MB function peaks near 2.1 × 307 + 256 + 40 ≈ 940 MB.
pub const DECOMPRESSION_SHARE_PERCENT: u64 = 30;

#[derive(Debug, Clone)]
pub struct Options {
    /// Originals up to this size are read whole ([`MAX_PROCESSED_BYTES`]).
    pub max_whole_bytes: u64,
    pub chunking: ChunkOptions,
    pub limits: Limits,
    /// How URL imports are fetched (timeouts, size cap, SSRF allowlist).
    pub fetch: FetchPolicy,
    /// Where audio and video are transcribed; `None`: media gets metadata only.
    pub transcription: Option<TranscriptionSettings>,
    /// For the transcription endpoint (an operator-chosen host, so not the SSRF-safe fetcher).
    pub http: reqwest::Client,
    /// A lease older than this may be taken over ([`PROCESSING_STALE_AFTER`]).
    pub stale_after: chrono::Duration,
    /// The documents queue's `maxReceiveCount` (DOCUMENTS_MAX_RECEIVE_COUNT): a message
    /// received this often is dead-lettered after this attempt, so its document is failed.
    pub max_receives: u32,
    /// The documents queue's dead-letter queue (DOCUMENTS_DLQ_ARN): its records are never
    /// processed, their documents are failed (see [`crate::dead_letter`]).
    pub dead_letter_queue_arn: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_whole_bytes: MAX_PROCESSED_BYTES,
            chunking: ChunkOptions::default(),
            limits: Limits::default(),
            fetch: FetchPolicy::default(),
            transcription: None,
            http: reqwest::Client::default(),
            stale_after: PROCESSING_STALE_AFTER,
            max_receives: 5,
            dead_letter_queue_arn: None,
        }
    }
}

impl Options {
    /// Read once at cold start: URL_IMPORT_TIMEOUT, URL_IMPORT_MAX_SIZE, USER_AGENT,
    /// URL_IMPORT_ALLOW_HOSTS, the TRANSCRIPTION_* settings, the DOCUMENTS_* queue settings,
    /// and the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, set by Lambda) for the
    /// decompression budget. Unset or empty means the default; a value that is present but
    /// wrong is an error naming it, and the function's cold start fails with it.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let env = recorder_settings::Env::new(get);
        let dead_letter_queue_arn = env.text("DOCUMENTS_DLQ_ARN");
        // Compared with each record's source ARN: a value that is no ARN would match nothing.
        if let Some(arn) = dead_letter_queue_arn
            .as_deref()
            .filter(|a| !a.starts_with("arn:"))
        {
            return Err(recorder_settings::invalid(
                "DOCUMENTS_DLQ_ARN",
                format!("'{arn}' must be a queue ARN (arn:...)"),
            ));
        }
        Ok(Options {
            fetch: FetchPolicy::from_lookup(get)?,
            transcription: TranscriptionSettings::from_lookup(get)?,
            limits: limits_for_memory(env.positive("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")?),
            max_receives: env.positive("DOCUMENTS_MAX_RECEIVE_COUNT")?.unwrap_or(5),
            dead_letter_queue_arn,
            ..Options::default()
        })
    }
}

/// The extraction limits for a function of `memory_mb`: one file's decompression may use
/// [`DECOMPRESSION_SHARE_PERCENT`] of it (never more than the default 500 MB). Without a
/// memory setting (local runs), the defaults.
pub fn limits_for_memory(memory_mb: Option<u64>) -> Limits {
    let mut limits = Limits::default();
    if let Some(mb) = memory_mb {
        let budget = mb * 1024 * 1024 * DECOMPRESSION_SHARE_PERCENT / 100;
        limits.max_decompressed_bytes = limits.max_decompressed_bytes.min(budget);
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: Vec<(&'static str, &'static str)>) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    /// A valid value for every setting, as the template sets them.
    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"),
            ("DOCUMENTS_MAX_RECEIVE_COUNT", "3"),
            (
                "DOCUMENTS_DLQ_ARN",
                "arn:aws:sqs:us-east-1:000000000000:documents-dlq",
            ),
            ("URL_IMPORT_TIMEOUT", "12"),
            ("URL_IMPORT_MAX_SIZE", "2048"),
            ("USER_AGENT", "probe/1.0"),
            ("TRANSCRIPTION_BASE_URL", "https://api.openai.com/"),
            ("TRANSCRIPTION_MAX_BYTES", "48000"),
            ("TRANSCRIPTION_TIMEOUT", "60"),
        ]
    }

    #[test]
    fn valid_settings_are_read_as_before() {
        let o = Options::from_lookup(&lookup(valid())).unwrap();
        assert_eq!(
            o.limits.max_decompressed_bytes,
            limits_for_memory(Some(1024)).max_decompressed_bytes
        );
        assert_eq!(o.max_receives, 3);
        assert_eq!(
            o.dead_letter_queue_arn.as_deref(),
            Some("arn:aws:sqs:us-east-1:000000000000:documents-dlq")
        );
        assert_eq!(o.fetch.timeout, std::time::Duration::from_secs(12));
        assert_eq!(o.fetch.max_bytes, 2048);
        assert_eq!(o.fetch.user_agent, "probe/1.0");
        let t = o.transcription.unwrap();
        assert_eq!(t.base_url, "https://api.openai.com");
        assert_eq!(t.max_upload_bytes, 48000);
        assert_eq!(t.timeout, std::time::Duration::from_secs(60));
    }

    #[test]
    fn unset_or_empty_settings_give_the_defaults() {
        let empty = lookup(valid().into_iter().map(|(k, _)| (k, " ")).collect());
        for o in [
            Options::from_lookup(&|_| None).unwrap(),
            Options::from_lookup(&empty).unwrap(),
        ] {
            let d = Options::default();
            assert_eq!(
                o.limits.max_decompressed_bytes,
                d.limits.max_decompressed_bytes
            );
            assert_eq!(o.max_receives, 5);
            assert_eq!(o.dead_letter_queue_arn, None);
            assert_eq!(o.fetch, FetchPolicy::default());
            assert_eq!(o.transcription, None);
        }
    }

    #[test]
    fn a_bad_value_of_each_setting_fails_with_its_name() {
        let bad = [
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1GB"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"),
            ("DOCUMENTS_MAX_RECEIVE_COUNT", "five"),
            ("DOCUMENTS_MAX_RECEIVE_COUNT", "0"),
            ("DOCUMENTS_DLQ_ARN", "documents-dlq"),
            ("URL_IMPORT_TIMEOUT", "30s"),
            ("URL_IMPORT_MAX_SIZE", "10MB"),
            ("USER_AGENT", "probe\n/1.0"),
            ("TRANSCRIPTION_BASE_URL", "api.openai.com"),
            ("TRANSCRIPTION_BASE_URL", "ftp://api.openai.com"),
            ("TRANSCRIPTION_MAX_BYTES", "25MB"),
            ("TRANSCRIPTION_MAX_BYTES", "0"),
            ("TRANSCRIPTION_TIMEOUT", "10m"),
            ("TRANSCRIPTION_TIMEOUT", "0"),
        ];
        let mut accepted = Vec::new();
        for (name, value) in bad {
            // Every other setting valid, so only this one can be the cause.
            let mut env = valid();
            env.retain(|(k, _)| *k != name);
            env.push((name, value));
            match Options::from_lookup(&lookup(env)) {
                Err(err) if err.name == name && err.to_string().contains(name) => {}
                other => accepted.push(format!("{name}={value:?}: {:?}", other.err())),
            }
        }
        assert!(
            accepted.is_empty(),
            "not refused with their names: {accepted:#?}"
        );
    }
}
