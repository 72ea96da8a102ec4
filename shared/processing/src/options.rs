//! How the pipeline is set up, read once at cold start: fetch and transcription settings, the
//! lease's staleness, the queue's receive limit, and the decompression budget the function's
//! memory allows.

use recorder_domain::document::PROCESSING_STALE_AFTER;
use recorder_extract::{ChunkOptions, Limits};
use recorder_fetch::FetchPolicy;

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
    /// decompression budget.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let memory_mb = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").and_then(|v| v.trim().parse().ok());
        Options {
            fetch: FetchPolicy::from_lookup(get),
            transcription: TranscriptionSettings::from_lookup(get),
            limits: limits_for_memory(memory_mb),
            max_receives: get("DOCUMENTS_MAX_RECEIVE_COUNT")
                .and_then(|v| v.trim().parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(5),
            dead_letter_queue_arn: get("DOCUMENTS_DLQ_ARN").filter(|v| !v.trim().is_empty()),
            ..Options::default()
        }
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
