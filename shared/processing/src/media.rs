//! Audio and video in the pipeline: the transcription endpoint's key, the transcript (or the
//! note that there is none) as Markdown, chunks and WebVTT, and media too big to hold.

use recorder_domain::Deps;
use recorder_domain::secret::Secret;
use recorder_extract::{chunk, chunk_transcript, transcript_markdown, webvtt};
use serde_json::json;

use crate::transcribe::{self, TranscribeError, TranscriptionSettings};
use crate::{Options, ProcessError, large};

const NOT_TRANSCRIBED: &str = "\n\nNot transcribed: no transcription endpoint is configured \
     (TRANSCRIPTION_BASE_URL), so only the media's metadata was extracted.";

type Spoken = Result<Option<transcribe::Transcript>, String>;

/// The endpoint and its key. `Ok(None)`: no endpoint configured; `Ok(Err)`: configured but the
/// key is missing (the document fails with what to fix).
pub(crate) async fn transcription_key<'a>(
    deps: &Deps,
    options: &'a Options,
) -> Result<Result<Option<(&'a TranscriptionSettings, Option<Secret>)>, String>, ProcessError> {
    let Some(settings) = &options.transcription else {
        return Ok(Ok(None));
    };
    let Some(name) = &settings.api_key_secret else {
        return Ok(Ok(Some((settings, None))));
    };
    match deps.app_secrets.get(name).await? {
        Some(secret) => Ok(Ok(Some((settings, Some(secret))))),
        None => Ok(Err(format!(
            "transcription is configured but the app secret has no {name:?} value \
             (the transcription API key); add it and retry the document"
        ))),
    }
}

/// A refusal fails the document; an unavailable endpoint leaves the message to SQS's retry.
pub(crate) fn transcribed(
    result: Result<transcribe::Transcript, TranscribeError>,
) -> Result<Spoken, ProcessError> {
    match result {
        Ok(t) => Ok(Ok(Some(t))),
        Err(TranscribeError::Refused(reason)) => Ok(Err(reason)),
        Err(TranscribeError::Unavailable(reason)) => Err(ProcessError::Unavailable(reason)),
    }
}

/// Markdown, chunks and WebVTT of media: the transcript when there is one, else the metadata
/// description and a note saying why there is no text.
pub(crate) fn with_transcript(
    options: &Options,
    description: String,
    metadata: &mut serde_json::Value,
    text: Spoken,
) -> Result<(String, Vec<recorder_extract::Chunk>, Option<String>), String> {
    match text? {
        None => {
            metadata["transcription"] = json!({"status": "not_configured"});
            let markdown = description + NOT_TRANSCRIBED;
            let chunks = chunk(&markdown, &options.chunking);
            Ok((markdown, chunks, None))
        }
        Some(t) => {
            metadata["transcription"] = json!({"status": "transcribed",
                "model": options.transcription.as_ref().map(|s| &s.model),
                "language": t.language, "segments": t.segments.len(), "pieces": t.pieces});
            Ok((
                transcript_markdown(&t.segments),
                chunk_transcript(&t.segments, &options.chunking),
                Some(webvtt(&t.segments)),
            ))
        }
    }
}

/// Audio or video too big to hold: metadata from its header, the transcript piece by piece.
pub(crate) async fn large_media(
    deps: &Deps,
    options: &Options,
    original: &large::LargeOriginal,
    format: recorder_extract::Format,
) -> Result<
    Result<
        (
            String,
            serde_json::Value,
            Vec<recorder_extract::Chunk>,
            Option<String>,
        ),
        String,
    >,
    ProcessError,
> {
    let header = original.media_header(deps.blobs.as_ref()).await?;
    let out = match recorder_extract::media_metadata(&header, original.total, format) {
        Ok(out) => out,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let mut metadata = serde_json::to_value(&out.metadata).unwrap_or_default();
    let text = match transcription_key(deps, options).await? {
        Err(reason) => Err(reason),
        Ok(None) => Ok(None),
        Ok(Some((settings, key))) => transcribed(
            transcribe::transcribe_stored(
                &options.http,
                settings,
                key.as_ref().map(|k| k.expose()),
                deps.blobs.as_ref(),
                &original.key,
                &original.etag,
                &original.head,
                original.total,
                format,
            )
            .await,
        )?,
    };
    Ok(with_transcript(options, out.markdown, &mut metadata, text)
        .map(|(markdown, chunks, vtt)| (markdown, metadata, chunks, vtt)))
}
