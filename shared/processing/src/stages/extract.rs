//! Extract: Markdown, metadata and chunks (structure-aware; transcripts by speaker turn) from the
//! original. Files held in memory are read in a blocking task, with a time cap the invocation's
//! deadline may shorten and the decompression budget of the function's memory; audio and video
//! are transcribed when an endpoint is configured (see [`crate::transcribe`]). A CSV or TSV too
//! big for memory is streamed straight to its artifacts: its Markdown is bigger than memory.

use recorder_domain::Deps;
use recorder_domain::document::ImportedDocument;
use recorder_extract::{Chunk, ChunkOptions, ExtractError, Format, Hints, Limits};
use recorder_fetch::Article;
use serde_json::json;

use super::load::Original;
use super::store::{self, Artifacts};
use super::{Stop, hints_of};
use crate::large::{self, LargeOriginal};
use crate::running::{self, extract_cap};
use crate::{EXTRACT_TIMEOUT, Options, ProcessError, Run, media, transcribe};

/// What the extract stage hands on.
pub(crate) enum Produced {
    /// Held in memory, for the store stage to write.
    Held(Extraction),
    /// Already written to its artifacts.
    Streamed(Artifacts),
}

pub(crate) struct Extraction {
    pub markdown: String,
    pub metadata: serde_json::Value,
    pub format: Format,
    pub warnings: Vec<String>,
    pub chunks: Vec<Chunk>,
    /// The transcript of audio or video, as WebVTT.
    pub transcript_vtt: Option<String>,
}

pub(crate) async fn extract(
    deps: &Deps,
    doc: &ImportedDocument,
    original: Original,
    options: &Options,
    run: &Run,
) -> Result<Produced, Stop> {
    Ok(match original {
        Original::Large(large, format @ (Format::Csv | Format::Tsv)) => {
            Produced::Streamed(table(deps, doc, &large, format, &options.chunking).await?)
        }
        Original::Large(large, format) => {
            Produced::Held(large_media(deps, options, &large, format).await?)
        }
        Original::Page(_, article) => Produced::Held(page(article, &options.chunking)),
        Original::Whole(bytes) => Produced::Held(whole(deps, doc, bytes, options, run).await?),
    })
}

async fn table(
    deps: &Deps,
    doc: &ImportedDocument,
    original: &LargeOriginal,
    format: Format,
    chunking: &ChunkOptions,
) -> Result<Artifacts, Stop> {
    let keys = store::artifact_keys(deps, doc).await?;
    let (metadata, chunk_count) = large::stream_table(deps, original, format, chunking, &keys)
        .await?
        .map_err(Stop::Fail)?;
    Ok(Artifacts {
        keys,
        metadata,
        format,
        warnings: Vec::new(),
        chunk_count,
        transcript_key: None,
    })
}

async fn large_media(
    deps: &Deps,
    options: &Options,
    original: &LargeOriginal,
    format: Format,
) -> Result<Extraction, Stop> {
    let (markdown, metadata, chunks, transcript_vtt) =
        media::large_media(deps, options, original, format)
            .await?
            .map_err(Stop::Fail)?;
    Ok(Extraction {
        markdown,
        metadata,
        format,
        warnings: Vec::new(),
        chunks,
        transcript_vtt,
    })
}

/// A fetched web page: its main content, already Markdown.
fn page(a: Article, chunking: &ChunkOptions) -> Extraction {
    let chunks = recorder_extract::chunk(&a.markdown, chunking);
    let metadata = json!({"title": a.title, "author": a.byline, "site_name": a.site_name,
        "published_time": a.published_time, "excerpt": a.excerpt, "language": a.language,
        "canonical_url": a.canonical_url});
    Extraction {
        markdown: a.markdown,
        metadata,
        format: Format::Html,
        warnings: Vec::new(),
        chunks,
        transcript_vtt: None,
    }
}

/// A file held in memory, read in a blocking task under the time cap; media is transcribed.
async fn whole(
    deps: &Deps,
    doc: &ImportedDocument,
    bytes: Vec<u8>,
    options: &Options,
    run: &Run,
) -> Result<Extraction, Stop> {
    // Extraction cannot be interrupted (the blocking thread runs on after a timeout), so one
    // that could not finish before the deadline is not started.
    let clock = deps.clock.as_ref();
    if !running::wait_for_others(clock, run).await {
        return Err(ProcessError::OutOfTime.into());
    }
    let Some((cap, shortened)) = extract_cap(clock.now(), run) else {
        return Err(ProcessError::OutOfTime.into());
    };
    let work = in_blocking_task(bytes, hints_of(doc), &options.limits, &options.chunking);
    let (out, chunks, source) = match tokio::time::timeout(cap, work).await {
        // Cut short by the invocation's deadline, not by the file: read it again later.
        Err(_) if shortened => return Err(ProcessError::OutOfTime.into()),
        Err(_) => {
            return Err(Stop::Fail(format!(
                "took longer than {} s to read; the file may be damaged",
                EXTRACT_TIMEOUT.as_secs()
            )));
        }
        Ok(Err(_)) => {
            return Err(Stop::Fail(
                "the file could not be read (the reader crashed on it)".into(),
            ));
        }
        Ok(Ok(Err(e))) => return Err(Stop::Fail(e.to_string())),
        Ok(Ok(Ok(done))) => done,
    };
    let mut extraction = Extraction {
        markdown: out.markdown,
        metadata: serde_json::to_value(&out.metadata).unwrap_or_default(),
        format: out.format,
        warnings: out.warnings,
        chunks,
        transcript_vtt: None,
    };
    if let Some(bytes) = source {
        transcribed(deps, options, &bytes, &mut extraction).await?;
    }
    Ok(extraction)
}

type Read = (recorder_extract::Extracted, Vec<Chunk>, Option<Vec<u8>>);

/// Extracts and chunks on a blocking thread; the original comes back only for media, which is
/// transcribed from it.
fn in_blocking_task(
    source: Vec<u8>,
    hints: Hints,
    limits: &Limits,
    chunking: &ChunkOptions,
) -> tokio::task::JoinHandle<Result<Read, ExtractError>> {
    let (limits, chunking) = (limits.clone(), chunking.clone());
    let running = running::Running::start();
    tokio::task::spawn_blocking(move || {
        // Counted until the thread ends, also when the wait for it was given up.
        let _running = running;
        let out = recorder_extract::extract(&source, &hints, &limits)?;
        // Only media needs the original again (to transcribe it); for the rest it is freed
        // before chunking, which for a long PDF matters (88 MB of 434 MB peak).
        let source = out.format.is_media().then_some(source);
        let chunks = if out.segments.is_empty() {
            recorder_extract::chunk(&out.markdown, &chunking)
        } else {
            recorder_extract::chunk_transcript(&out.segments, &chunking)
        };
        Ok((out, chunks, source))
    })
}

/// Replaces media's description with its transcript (or adds the note that there is none).
async fn transcribed(
    deps: &Deps,
    options: &Options,
    bytes: &[u8],
    extraction: &mut Extraction,
) -> Result<(), Stop> {
    let text = match media::transcription_key(deps, options).await? {
        Err(reason) => Err(reason),
        Ok(None) => Ok(None),
        Ok(Some((settings, key))) => media::transcribed(
            transcribe::transcribe(
                &options.http,
                settings,
                key.as_ref().map(|k| k.expose()),
                bytes,
                extraction.format,
            )
            .await,
        )?,
    };
    let description = std::mem::take(&mut extraction.markdown);
    let (markdown, chunks, vtt) =
        media::with_transcript(options, description, &mut extraction.metadata, text)
            .map_err(Stop::Fail)?;
    (
        extraction.markdown,
        extraction.chunks,
        extraction.transcript_vtt,
    ) = (markdown, chunks, vtt);
    Ok(())
}
