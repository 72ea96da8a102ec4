//! Audio and video to timed text through a Whisper-compatible `/v1/audio/transcriptions`
//! endpoint (OpenAI's, or any server that speaks its API). Media over the endpoint's size limit is
//! cut into pieces without re-encoding where the format allows (WAV, MP3) and the pieces'
//! timestamps are stitched back onto one timeline.

use std::time::Duration;

use recorder_domain::ports::BlobStore;
use recorder_extract::{AudioPiece, CutPlan, Format, Segment, mp3_run, plan_cut, split_audio};
use serde::Deserialize;

use recorder_settings::{Env, SettingsError};

/// Whisper's documented upload limit.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;
const ATTEMPTS: u32 = 4;
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Read once at cold start; `None` when no endpoint is configured (media then completes with
/// metadata only, and says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptionSettings {
    /// TRANSCRIPTION_BASE_URL, e.g. `https://api.openai.com` (the path `/v1/audio/transcriptions`
    /// is appended).
    pub base_url: String,
    /// TRANSCRIPTION_MODEL, default `whisper-1`.
    pub model: String,
    /// TRANSCRIPTION_API_KEY_SECRET: the app secret's (Secrets Manager) field holding the API key,
    /// `whisper_api_key` in the template; unset sends no key (a local server).
    pub api_key_secret: Option<String>,
    /// TRANSCRIPTION_MAX_BYTES, default 25 MB.
    pub max_upload_bytes: usize,
    /// TRANSCRIPTION_TIMEOUT (seconds) per request, default 600.
    pub timeout: Duration,
}

impl TranscriptionSettings {
    /// Read once at cold start: `None` when TRANSCRIPTION_BASE_URL is unset or empty; a value
    /// that is present but wrong (here or in the other TRANSCRIPTION_* settings) is an error.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SettingsError> {
        let env = Env::new(get);
        // All checked even when transcription is off, so a typo shows before it is switched on.
        let max_upload_bytes = env.positive("TRANSCRIPTION_MAX_BYTES")?;
        let timeout_secs = env.positive("TRANSCRIPTION_TIMEOUT")?;
        let Some(base_url) = env.url("TRANSCRIPTION_BASE_URL")? else {
            return Ok(None);
        };
        Ok(Some(TranscriptionSettings {
            base_url,
            model: env
                .text("TRANSCRIPTION_MODEL")
                .unwrap_or_else(|| "whisper-1".into()),
            api_key_secret: env.text("TRANSCRIPTION_API_KEY_SECRET"),
            max_upload_bytes: max_upload_bytes.unwrap_or(DEFAULT_MAX_UPLOAD_BYTES),
            timeout: Duration::from_secs(timeout_secs.unwrap_or(600)),
        }))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    pub segments: Vec<Segment>,
    pub language: Option<String>,
    /// How many requests the media was sent in (1 unless it was cut).
    pub pieces: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscribeError {
    /// Will not work on a retry: the document fails with this reason.
    #[error("{0}")]
    Refused(String),
    /// The endpoint is down or busy: the message is retried later.
    #[error("{0}")]
    Unavailable(String),
}

pub async fn transcribe(
    http: &reqwest::Client,
    settings: &TranscriptionSettings,
    api_key: Option<&str>,
    bytes: &[u8],
    format: Format,
) -> Result<Transcript, TranscribeError> {
    let max = settings.max_upload_bytes;
    let pieces = if bytes.len() <= max {
        vec![AudioPiece {
            header: Vec::new(),
            range: 0..bytes.len(),
            start_secs: 0.0,
        }]
    } else {
        split_audio(bytes, format, max).map_err(|e| too_large(bytes.len() as u64, max, e))?
    };
    let mut transcript = Transcript::default();
    for piece in &pieces {
        let reply = send(
            http,
            settings,
            api_key,
            piece.bytes(bytes),
            format,
            transcript.pieces,
        );
        transcript.add(reply.await?, piece.start_secs);
    }
    Ok(transcript)
}

/// The same for a stored file too big to hold: `head` is its start, `total` its size; one piece
/// at a time is read by range (at most the endpoint's limit in memory), each of the version
/// `etag` only (a replaced recording is not stitched from two files).
#[allow(clippy::too_many_arguments)]
pub async fn transcribe_stored(
    http: &reqwest::Client,
    settings: &TranscriptionSettings,
    api_key: Option<&str>,
    blobs: &dyn BlobStore,
    key: &str,
    etag: &str,
    head: &[u8],
    total: u64,
    format: Format,
) -> Result<Transcript, TranscribeError> {
    let max = settings.max_upload_bytes;
    let total_len = usize::try_from(total).unwrap_or(usize::MAX);
    let plan = plan_cut(head, total_len, format, max).map_err(|e| too_large(total, max, e))?;
    let read = |start: usize, len: usize| async move {
        blobs
            .get_range_version(key, start as u64, len as u64, Some(etag))
            .await
            .map_err(|e| {
                TranscribeError::Unavailable(format!("could not read the recording: {e}"))
            })?
            .map(|v| v.read.bytes)
            .ok_or_else(|| {
                TranscribeError::Refused("the original file is missing from storage".into())
            })
    };
    let mut transcript = Transcript::default();
    match plan {
        CutPlan::Pieces(pieces) => {
            for piece in pieces {
                let mut body = piece.header.clone();
                body.extend(read(piece.range.start, piece.range.len()).await?);
                let reply = send(http, settings, api_key, body, format, transcript.pieces);
                transcript.add(reply.await?, piece.start_secs);
            }
        }
        CutPlan::Frames { audio_start } => {
            let (mut pos, mut samples) = (audio_start, 0u64);
            while pos < total_len {
                let mut window = read(pos, max).await?;
                let Some(run) = mp3_run(&window).filter(|r| r.bytes > 0) else {
                    break; // an ID3v1 tag or trailing junk
                };
                window.truncate(run.bytes);
                let reply = send(http, settings, api_key, window, format, transcript.pieces);
                transcript.add(reply.await?, samples as f64 / run.sample_rate as f64);
                samples += run.samples;
                pos += run.bytes;
            }
        }
    }
    Ok(transcript)
}

fn too_large(size: u64, max: usize, why: recorder_extract::SplitError) -> TranscribeError {
    TranscribeError::Refused(format!(
        "too large for transcription ({} MB > {} MB): {why}",
        size.div_ceil(1024 * 1024),
        max / (1024 * 1024)
    ))
}

impl Transcript {
    /// One piece's reply, its timestamps moved to where the piece starts in the recording.
    fn add(&mut self, reply: VerboseJson, start_secs: f64) {
        self.pieces += 1;
        self.language = self.language.take().or(reply.language);
        self.segments
            .extend(reply.segments.into_iter().filter_map(|s| {
                let text = s.text.trim();
                (!text.is_empty()).then(|| Segment {
                    speaker: None,
                    start_ms: secs_to_ms(start_secs + s.start),
                    end_ms: secs_to_ms(start_secs + s.end),
                    text: text.to_owned(),
                })
            }));
    }
}

fn secs_to_ms(secs: f64) -> u64 {
    (secs.max(0.0) * 1000.0).round() as u64
}

/// `verbose_json`: the only response format with segment timestamps.
#[derive(Debug, Deserialize)]
struct VerboseJson {
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    segments: Vec<ReplySegment>,
}

#[derive(Debug, Deserialize)]
struct ReplySegment {
    start: f64,
    end: f64,
    text: String,
}

/// One piece, retried on 429/5xx/network errors (honouring Retry-After) before giving up.
async fn send(
    http: &reqwest::Client,
    settings: &TranscriptionSettings,
    api_key: Option<&str>,
    body: Vec<u8>,
    format: Format,
    index: usize,
) -> Result<VerboseJson, TranscribeError> {
    let url = format!("{}/v1/audio/transcriptions", settings.base_url);
    // The endpoint tells formats by extension; the user's file name is not sent anywhere.
    let file_name = format!("audio-{index}.{}", extension(format));
    let mut last_problem = String::new();
    for attempt in 0..ATTEMPTS {
        let form = reqwest::multipart::Form::new()
            .text("model", settings.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment")
            .part(
                "file",
                reqwest::multipart::Part::bytes(body.clone()).file_name(file_name.clone()),
            );
        let mut request = http.post(&url).timeout(settings.timeout).multipart(form);
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        let wait = match request.send().await {
            Ok(response) if response.status().is_success() => {
                return response.json::<VerboseJson>().await.map_err(|e| {
                    TranscribeError::Unavailable(format!(
                        "the transcription endpoint sent an unreadable reply: {e}"
                    ))
                });
            }
            Ok(response) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let message = error_message(response).await;
                match status.as_u16() {
                    401 | 403 => {
                        return Err(TranscribeError::Refused(format!(
                            "the transcription endpoint refused the API key (HTTP {status}): \
                             check the secret named by TRANSCRIPTION_API_KEY_SECRET"
                        )));
                    }
                    429 | 500..=599 => {
                        last_problem = format!("HTTP {}: {message}", status.as_u16());
                        retry_after.unwrap_or(backoff(attempt)).min(MAX_RETRY_AFTER)
                    }
                    _ => {
                        return Err(TranscribeError::Refused(format!(
                            "the transcription endpoint refused the file (HTTP {}): {message}",
                            status.as_u16()
                        )));
                    }
                }
            }
            Err(e) => {
                last_problem = if e.is_timeout() {
                    format!("no answer within {} s", settings.timeout.as_secs())
                } else {
                    format!("could not reach it ({e})")
                };
                backoff(attempt)
            }
        };
        if attempt + 1 < ATTEMPTS {
            tracing::info!(attempt, ?wait, problem = %last_problem, "transcription retry");
            tokio::time::sleep(wait).await;
        }
    }
    Err(TranscribeError::Unavailable(format!(
        "the transcription endpoint is unavailable after {ATTEMPTS} attempts ({last_problem})"
    )))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500 * 2u64.pow(attempt))
}

/// OpenAI-style `{"error":{"message":...}}`, or the start of whatever else came back.
async fn error_message(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| text.chars().take(200).collect())
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Mp3 => "mp3",
        Format::Wav => "wav",
        Format::M4a => "m4a",
        Format::Webm => "webm",
        // MOV is the same ISO base media container as MP4.
        _ => "mp4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        pairs: &'static [(&'static str, &'static str)],
    ) -> Result<Option<TranscriptionSettings>, SettingsError> {
        TranscriptionSettings::from_lookup(&|k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn transcription_is_off_when_the_base_url_is_unset_or_empty() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[("TRANSCRIPTION_BASE_URL", " ")]), Ok(None));
    }

    #[test]
    fn empty_transcription_settings_give_the_defaults() {
        let s = read(&[
            ("TRANSCRIPTION_BASE_URL", " http://127.0.0.1:9000/ "),
            ("TRANSCRIPTION_MODEL", ""),
            ("TRANSCRIPTION_API_KEY_SECRET", ""),
            ("TRANSCRIPTION_MAX_BYTES", ""),
            ("TRANSCRIPTION_TIMEOUT", ""),
        ]);
        assert_eq!(
            s,
            Ok(Some(TranscriptionSettings {
                base_url: "http://127.0.0.1:9000".into(),
                model: "whisper-1".into(),
                api_key_secret: None,
                max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
                timeout: Duration::from_secs(600),
            }))
        );
    }

    #[test]
    fn a_transcription_size_or_timeout_that_is_not_a_positive_number_is_refused_with_its_name() {
        let url = ("TRANSCRIPTION_BASE_URL", "https://api.openai.com");
        for (pair, name) in [
            (
                [url, ("TRANSCRIPTION_MAX_BYTES", "25MB")],
                "TRANSCRIPTION_MAX_BYTES",
            ),
            (
                [url, ("TRANSCRIPTION_MAX_BYTES", "0")],
                "TRANSCRIPTION_MAX_BYTES",
            ),
            (
                [url, ("TRANSCRIPTION_TIMEOUT", "600s")],
                "TRANSCRIPTION_TIMEOUT",
            ),
            (
                [url, ("TRANSCRIPTION_TIMEOUT", "0")],
                "TRANSCRIPTION_TIMEOUT",
            ),
        ] {
            let pairs: &'static [_] = Box::leak(Box::new(pair));
            assert_eq!(
                read(pairs).map_err(|e| e.name),
                Err(name.to_string()),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn a_transcription_base_url_that_is_not_an_http_url_is_refused_with_its_name() {
        for value in ["api.openai.com", "ftp://api.openai.com", "https://"] {
            let pairs: &'static [_] = Box::leak(Box::new([("TRANSCRIPTION_BASE_URL", value)]));
            let err = read(pairs).expect_err(value);
            assert_eq!(err.name, "TRANSCRIPTION_BASE_URL");
        }
    }
}
