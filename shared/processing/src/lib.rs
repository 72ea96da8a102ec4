//! The document pipeline behind the `doc-processor` function, over the domain's ports:
//!
//! 1. claim the record with a lease ([`lease`]): work already done, or held by another delivery,
//!    is skipped, so a version is processed once however many messages announce it;
//! 2. read the original from the blob store; detect the real type from the bytes;
//! 3. extract Markdown and metadata (in a blocking task, with a time cap that the invocation's
//!    deadline may shorten, and a decompression budget from the function's memory); audio and
//!    video are transcribed when an endpoint is configured (see [`transcribe`]);
//! 4. same bytes already completed in the org → a duplicate of that document, artifacts reused;
//! 5. chunk (structure-aware; transcripts by speaker turn);
//! 6. write the Markdown and the chunks (JSON Lines) next to the original, mark the record
//!    `completed`, and move its upload batch's counters.
//!
//! A file that cannot be read ends `failed` with a reason a person can act on; storage trouble is
//! returned as an error so SQS retries the message; on its last receive the document is failed
//! with that error instead ([`give_up`]), a worker that vanished is swept ([`sweep`]), and a
//! message that reached the dead-letter queue anyway fails its document ([`dead_letter`]).

pub mod dead_letter;
mod large;
pub mod lease;
mod media;
mod options;
mod running;
pub mod sweep;
pub mod transcribe;
pub mod version;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_domain::service::documents::MAX_ATTEMPTS;
use recorder_domain::upload::BatchStatus;
use recorder_domain::{Deps, StoreError};
use recorder_extract::{Hints, chunk, chunk_transcript, extract};
use recorder_fetch::{Article, FetchPolicy, main_content};
use serde_json::json;
use sha2::{Digest, Sha256};

pub use lease::Run;
pub use options::{DECOMPRESSION_SHARE_PERCENT, Options, limits_for_memory};
use running::extract_cap;
pub use running::{FINISH_MARGIN, MESSAGE_BUDGET};
use version::Versioned;

/// Originals above this are not read whole into the function's memory: audio and video are read
/// by range (see `large`), anything else is refused.
pub const MAX_PROCESSED_BYTES: u64 = 256 * 1024 * 1024;
/// Extraction of one file may take at most this long.
pub const EXTRACT_TIMEOUT: Duration = Duration::from_secs(300);
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Completed {
        chunks: usize,
    },
    Duplicate {
        of: String,
    },
    Failed {
        reason: String,
    },
    /// Nothing to do: unknown document, another org's, or already finished.
    Skipped(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A service the pipeline needs is down (the transcription endpoint): SQS retries later.
    #[error("{0}")]
    Unavailable(String),
    /// Too little of the invocation is left to read the file; nothing of the document failed
    /// (its lease is given back) and it is queued again.
    #[error("too little time left in this invocation to read the file")]
    OutOfTime,
}

/// Ends a document `failed` with `reason` unless it is already final or `still` says it moved
/// on: for work that will not be tried again (its message's last receive failed, or its worker
/// never came back).
pub async fn give_up(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    reason: String,
    still: impl Fn(&ImportedDocument) -> bool,
) -> Result<Outcome, ProcessError> {
    let Some(base) = deps.documents.get(document_id).await? else {
        return Ok(Outcome::Skipped("unknown document"));
    };
    if base.org_id != org_id {
        return Ok(Outcome::Skipped("document of another org"));
    }
    if matches!(
        base.processing_status,
        ProcessingStatus::Completed | ProcessingStatus::Failed
    ) {
        return Ok(Outcome::Skipped("already processed"));
    }
    if !still(&base) {
        return Ok(Outcome::Skipped("changed meanwhile"));
    }
    fail(deps, &base, &mut base.clone(), reason).await
}

/// Processes the document as a run of its own, without a deadline.
pub async fn process_document(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    options: &Options,
) -> Result<Outcome, ProcessError> {
    process_document_as(deps, org_id, document_id, options, &Run::unlimited()).await
}

/// Processes the document once per version: the run claims it first (see [`lease`]) and leaves
/// it alone when another delivery holds it.
pub async fn process_document_as(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    process_version(deps, org_id, document_id, None, options, run).await
}

/// [`process_document_as`] for the version an S3 notification announced (its ETag; None: the
/// version stored now): see [`version`].
pub async fn process_version(
    deps: &Deps,
    org_id: &str,
    document_id: &str,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    let doc = match lease::claim(deps, org_id, document_id, &run.owner, options.stale_after).await?
    {
        lease::Claim::Unknown => return Ok(Outcome::Skipped("unknown document")),
        lease::Claim::Skip(why) => {
            return Ok(match announced {
                Some(etag) => version::refused(deps, document_id, etag, why).await?,
                None => Outcome::Skipped(why),
            });
        }
        lease::Claim::Taken(doc) => doc,
    };
    let outcome = process_claimed(deps, *doc, announced, options, run).await;
    if matches!(outcome, Err(ProcessError::OutOfTime)) {
        // Stopped before the deadline, not because of the file: the next delivery starts afresh.
        lease::release(deps, document_id, &run.owner).await?;
    }
    outcome
}

async fn process_claimed(
    deps: &Deps,
    mut doc: ImportedDocument,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Outcome, ProcessError> {
    // The record as this worker found it: what a sync changes meanwhile is merged, not lost.
    let base = doc.clone();
    if let Some(reason) =
        recorder_domain::service::upload_checks::refuse_oversized_upload(deps, &doc).await?
    {
        return fail(deps, &base, &mut doc, reason).await;
    }
    // URL imports have no original yet: the fetch (with its SSRF checks) happens here, in the
    // worker, never in the API request.
    let mut article = None;
    let mut large = None;
    let missing = "the original file is missing from storage; upload or sync it again";
    let bytes = match (doc.original_key.clone(), doc.external_url.clone()) {
        (Some(key), _) => {
            // The stored size, not the declared one, decides how the file is read; every read
            // is of the version announced, or of the one this first read finds.
            let (head, etag) =
                match version::read_head(deps, &key, large::HEAD_BYTES, announced).await? {
                    Versioned::Read(v) => (v.read, v.etag),
                    Versioned::Missing => {
                        return fail(deps, &base, &mut doc, missing.into()).await;
                    }
                    Versioned::Changed => {
                        return Ok(version::changed(deps, &doc, &run.owner).await?);
                    }
                };
            version::record(&mut doc, &etag);
            if head.total > options.max_whole_bytes {
                let hints = hints_of(&doc);
                let format = recorder_extract::detect(
                    &head.bytes,
                    hints.declared_mime.as_deref(),
                    hints.file_name.as_deref(),
                )
                .format;
                if !large::streamable(format) {
                    let reason = format!(
                        "exceeds the {} MB processing limit ({} MB); only audio, video, CSV \
                         and TSV are read beyond it",
                        options.max_whole_bytes / (1024 * 1024),
                        head.total / (1024 * 1024)
                    );
                    return fail(deps, &base, &mut doc, reason).await;
                }
                large = Some((
                    large::LargeOriginal {
                        key,
                        head: head.bytes,
                        total: head.total,
                        etag,
                    },
                    format,
                ));
                Vec::new()
            } else if head.total == head.bytes.len() as u64 {
                head.bytes
            } else {
                match version::read_whole(deps, &key, &etag).await? {
                    Versioned::Read(b) => b,
                    Versioned::Changed => {
                        return Ok(version::changed(deps, &doc, &run.owner).await?);
                    }
                    Versioned::Missing => return fail(deps, &base, &mut doc, missing.into()).await,
                }
            }
        }
        (None, Some(url)) => match fetch_original(deps, &mut doc, &url, &options.fetch).await? {
            Ok((b, a)) => {
                article = a;
                b
            }
            Err(reason) => return fail(deps, &base, &mut doc, reason).await,
        },
        (None, None) => {
            return fail(
                deps,
                &base,
                &mut doc,
                "the original file was never stored; upload or sync it again".into(),
            )
            .await;
        }
    };
    let bytes = Arc::new(bytes);
    let hash = match &large {
        None => hex::encode(Sha256::digest(&*bytes)),
        Some((l, _)) => l.sha256(deps.blobs.as_ref()).await?,
    };
    doc.content_hash = Some(hash.clone());
    doc.size_bytes = Some(large.as_ref().map_or(bytes.len() as u64, |(l, _)| l.total));

    if let Some(original) = deps
        .documents
        .find_completed_by_hash(&doc.org_id, &hash)
        .await?
        .filter(|d| d.id != doc.id)
    {
        doc.mark_duplicate_of(&original);
        doc.processing_lease = None;
        doc.updated_at = Utc::now();
        return Ok(match finish(deps, &base, &doc).await? {
            None => Outcome::Duplicate { of: original.id },
            Some(why) => Outcome::Skipped(why),
        });
    }

    if let Some((l, format @ (recorder_extract::Format::Csv | recorder_extract::Format::Tsv))) =
        &large
    {
        // Streamed straight to its artifacts: the Markdown of a 1 GB CSV is bigger than memory.
        let keys = artifact_keys(deps, &doc).await?;
        return match large::stream_table(deps, l, *format, &options.chunking, &keys).await? {
            Err(reason) => fail(deps, &base, &mut doc, reason).await,
            Ok((metadata, chunk_count)) => {
                let done = Done {
                    metadata,
                    format: format!("{format:?}"),
                    warnings: Vec::new(),
                    chunk_count,
                    transcript_key: None,
                };
                complete(deps, &base, &mut doc, keys, done).await
            }
        };
    }

    let chunking = options.chunking.clone();
    let mut transcript_vtt = None;
    let (markdown, metadata, format, warnings, chunks) = match (article, large) {
        (_, Some((l, format))) => match media::large_media(deps, options, &l, format).await? {
            Err(reason) => return fail(deps, &base, &mut doc, reason).await,
            Ok((markdown, metadata, chunks, vtt)) => {
                transcript_vtt = vtt;
                (
                    markdown,
                    metadata,
                    format!("{format:?}"),
                    Vec::new(),
                    chunks,
                )
            }
        },
        (Some(a), None) => {
            let chunks = chunk(&a.markdown, &chunking);
            let metadata = json!({"title": a.title, "author": a.byline, "site_name": a.site_name, "published_time": a.published_time,
                "excerpt": a.excerpt, "language": a.language, "canonical_url": a.canonical_url});
            (a.markdown, metadata, "Html".to_string(), Vec::new(), chunks)
        }
        (None, None) => {
            // Extraction cannot be interrupted (the blocking thread runs on after a timeout),
            // so one that could not finish before the deadline is not started.
            if !running::wait_for_others(run).await {
                return Err(ProcessError::OutOfTime);
            }
            let Some((cap, shortened)) = extract_cap(run) else {
                return Err(ProcessError::OutOfTime);
            };
            let hints = hints_of(&doc);
            let limits = options.limits.clone();
            let source = bytes;
            let running = running::Running::start();
            let work = tokio::task::spawn_blocking(move || {
                // Counted until the thread ends, also when the wait for it was given up.
                let _running = running;
                let out = extract(&source, &hints, &limits)?;
                // Only media needs the original again (to transcribe it); for the rest it is
                // freed before chunking, which for a long PDF matters (88 MB of 434 MB peak).
                let source = out.format.is_media().then_some(source);
                let chunks = if out.segments.is_empty() {
                    chunk(&out.markdown, &chunking)
                } else {
                    chunk_transcript(&out.segments, &chunking)
                };
                Ok::<_, recorder_extract::ExtractError>((out, chunks, source))
            });
            match tokio::time::timeout(cap, work).await {
                // Cut short by the invocation's deadline, not by the file: read it again later.
                Err(_) if shortened => return Err(ProcessError::OutOfTime),
                Err(_) => {
                    let reason = format!(
                        "took longer than {} s to read; the file may be damaged",
                        EXTRACT_TIMEOUT.as_secs()
                    );
                    return fail(deps, &base, &mut doc, reason).await;
                }
                Ok(Err(_)) => {
                    return fail(
                        deps,
                        &base,
                        &mut doc,
                        "the file could not be read (the reader crashed on it)".into(),
                    )
                    .await;
                }
                Ok(Ok(Err(e))) => return fail(deps, &base, &mut doc, e.to_string()).await,
                Ok(Ok(Ok((out, chunks, source)))) => {
                    let mut metadata = serde_json::to_value(&out.metadata).unwrap_or_default();
                    let (mut markdown, mut chunks) = (out.markdown, chunks);
                    if let Some(bytes) = source {
                        let text = match media::transcription_key(deps, options).await? {
                            Err(reason) => Err(reason),
                            Ok(None) => Ok(None),
                            Ok(Some((settings, key))) => media::transcribed(
                                transcribe::transcribe(
                                    &options.http,
                                    settings,
                                    key.as_ref().map(|k| k.expose()),
                                    &bytes,
                                    out.format,
                                )
                                .await,
                            )?,
                        };
                        match media::with_transcript(options, markdown, &mut metadata, text) {
                            Err(reason) => return fail(deps, &base, &mut doc, reason).await,
                            Ok((md, c, vtt)) => (markdown, chunks, transcript_vtt) = (md, c, vtt),
                        }
                    }
                    (
                        markdown,
                        metadata,
                        format!("{:?}", out.format),
                        out.warnings,
                        chunks,
                    )
                }
            }
        }
    };

    let keys = artifact_keys(deps, &doc).await?;
    // Each artifact is freed once stored, and each chunk once written as JSON: for a long PDF
    // the Markdown, the chunks and their JSON Lines are each tens of MB.
    deps.blobs
        .put(&keys.markdown, markdown.into_bytes(), MARKDOWN_TYPE)
        .await?;
    let chunk_count = chunks.len();
    let mut jsonl = Vec::new();
    for c in chunks {
        // Writing to a Vec fails only for a type serde cannot serialize, which Chunk is not.
        let _ = serde_json::to_writer(&mut jsonl, &c);
        jsonl.push(b'\n');
    }
    deps.blobs.put(&keys.chunks, jsonl, CHUNKS_TYPE).await?;
    let mut transcript_key = None;
    if let Some(vtt) = transcript_vtt {
        deps.blobs
            .put(
                &keys.transcript,
                vtt.into_bytes(),
                "text/vtt; charset=utf-8",
            )
            .await?;
        transcript_key = Some(keys.transcript.clone());
    }
    let done = Done {
        metadata,
        format,
        warnings,
        chunk_count,
        transcript_key,
    };
    complete(deps, &base, &mut doc, keys, done).await
}

pub(crate) const MARKDOWN_TYPE: &str = "text/markdown; charset=utf-8";
pub(crate) const CHUNKS_TYPE: &str = "application/x-ndjson";

/// Where a document's artifacts go: beside its original.
pub(crate) struct ArtifactKeys {
    pub markdown: String,
    pub chunks: String,
    pub transcript: String,
}

async fn artifact_keys(deps: &Deps, doc: &ImportedDocument) -> Result<ArtifactKeys, StoreError> {
    let (connector_type, connector_id) = artifact_owner(deps, doc).await?;
    let now = Utc::now();
    let key = |kind, ext: &str| {
        object_key(
            &doc.org_id,
            connector_type,
            &connector_id,
            now,
            kind,
            &doc.id,
            &format!("{}.{ext}", doc.title),
        )
    };
    Ok(ArtifactKeys {
        markdown: key(ArtifactKind::Extracted, "md"),
        chunks: key(ArtifactKind::Chunks, "jsonl"),
        transcript: key(ArtifactKind::Transcript, "vtt"),
    })
}

/// What extraction produced, its artifacts already stored.
struct Done {
    metadata: serde_json::Value,
    format: String,
    warnings: Vec<String>,
    chunk_count: usize,
    transcript_key: Option<String>,
}

/// Records the result on the document and finishes it (exactly once).
async fn complete(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    keys: ArtifactKeys,
    done: Done,
) -> Result<Outcome, ProcessError> {
    let mut meta = if doc.source_metadata.is_object() {
        doc.source_metadata.clone()
    } else {
        json!({})
    };
    meta["extracted"] = done.metadata;
    meta["format"] = json!(done.format);
    if !done.warnings.is_empty() {
        meta["warnings"] = json!(done.warnings);
    }
    doc.source_metadata = meta;
    doc.processing_status = ProcessingStatus::Completed;
    doc.processing_error = None;
    doc.processing_lease = None;
    doc.chunk_count = done.chunk_count as u32;
    doc.extracted_key = Some(keys.markdown);
    doc.chunks_key = Some(keys.chunks);
    doc.transcript_key = done.transcript_key;
    doc.duplicate_of = None;
    doc.updated_at = Utc::now();
    if let Some(why) = finish(deps, base, doc).await? {
        return Ok(Outcome::Skipped(why));
    }
    Ok(Outcome::Completed {
        chunks: done.chunk_count,
    })
}

fn hints_of(doc: &ImportedDocument) -> Hints {
    Hints {
        declared_mime: doc.mime_type.clone(),
        file_name: Some(doc.title.clone()),
    }
}

/// Fetches a URL import's original, stores it beside the connector's other originals, and for
/// HTML keeps the page's main content. `Ok(Err(reason))` is a refusal a person can act on.
async fn fetch_original(
    deps: &Deps,
    doc: &mut ImportedDocument,
    url: &str,
    policy: &FetchPolicy,
) -> Result<Result<(Vec<u8>, Option<Article>), String>, ProcessError> {
    let fetched = match recorder_fetch::fetch(url, policy).await {
        Ok(f) => f,
        Err(e) => {
            let shown = recorder_fetch::display_url(url);
            return Ok(Err(format!("could not import {shown}: {e}")));
        }
    };
    let content_type = fetched
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let is_html =
        content_type.starts_with("text/html") || content_type.starts_with("application/xhtml");
    let last = fetched
        .final_url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let mut name = if last.is_empty() || last.contains(':') {
        "page".to_string()
    } else {
        last.to_string()
    };
    if is_html && !name.ends_with(".html") && !name.ends_with(".htm") {
        name.push_str(".html");
    }
    let (connector_type, connector_id) = artifact_owner(deps, doc).await?;
    let key = object_key(
        &doc.org_id,
        connector_type,
        &connector_id,
        Utc::now(),
        ArtifactKind::Original,
        &doc.id,
        &name,
    );
    deps.blobs
        .put(&key, fetched.bytes.clone(), &content_type)
        .await?;
    doc.original_key = Some(key);
    doc.mime_type = Some(content_type);
    let mut meta = if doc.source_metadata.is_object() {
        doc.source_metadata.clone()
    } else {
        json!({})
    };
    meta["final_url"] = json!(fetched.final_url);
    meta["http_status"] = json!(fetched.status);
    if !fetched.redirects.is_empty() {
        meta["redirects"] = json!(fetched.redirects);
    }
    doc.source_metadata = meta;
    let article = is_html.then(|| {
        let (html, _) =
            recorder_extract::decode_html(&fetched.bytes, fetched.content_type.as_deref());
        main_content(&html, Some(&fetched.final_url))
    });
    if let Some(title) = article
        .as_ref()
        .and_then(|a| a.title.clone())
        .filter(|t| !t.trim().is_empty())
    {
        doc.title = title;
    }
    Ok(Ok((fetched.bytes, article)))
}

/// Artifacts sit beside the original: the same connector folder (uploads without a connector use
/// the `file_upload` type and the org's upload folder).
async fn artifact_owner(
    deps: &Deps,
    doc: &ImportedDocument,
) -> Result<(recorder_domain::connector::ConnectorType, String), StoreError> {
    use recorder_domain::connector::ConnectorType;
    if let Some(key) = doc
        .original_key
        .as_deref()
        .and_then(recorder_domain::keys::parse_object_key)
    {
        return Ok((key.connector_type, key.connector_id));
    }
    match &doc.connector_id {
        Some(id) => {
            let t = deps
                .connectors
                .get(&doc.org_id, id)
                .await?
                .map(|c| c.connector_type)
                .unwrap_or(ConnectorType::FileUpload);
            Ok((t, id.clone()))
        }
        None => Ok((ConnectorType::FileUpload, "uploads".into())),
    }
}

async fn fail(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &mut ImportedDocument,
    reason: String,
) -> Result<Outcome, ProcessError> {
    tracing::info!(document_id = %doc.id, %reason, "document failed");
    doc.processing_status = ProcessingStatus::Failed;
    doc.processing_error = Some(reason.clone());
    doc.processing_lease = None;
    doc.updated_at = Utc::now();
    if let Some(why) = finish(deps, base, doc).await? {
        return Ok(Outcome::Skipped(why));
    }
    Ok(Outcome::Failed { reason })
}

/// Tells downstream indexing the document is ready (at least once: before the final write, so a
/// crash in between repeats the event rather than losing it).
async fn announce(deps: &Deps, doc: &ImportedDocument) -> Result<(), StoreError> {
    let event = recorder_domain::jobs::DocumentProcessed {
        org_id: doc.org_id.clone(),
        document_id: doc.id.clone(),
        connector_id: doc.connector_id.clone(),
        title: doc.title.clone(),
        extracted_key: doc.extracted_key.clone(),
        chunks_key: doc.chunks_key.clone(),
        transcript_key: doc.transcript_key.clone(),
        chunk_count: doc.chunk_count,
        duplicate_of: doc.duplicate_of.clone(),
    };
    deps.queue.send_processed(&event).await
}

/// Writes the final record and counts it on its batch in one transaction (exactly once, even when
/// the message is delivered twice), then closes the batch when its last file is done. When a sync
/// changed the record meanwhile (a soft delete, say), the result is merged onto its change; when
/// another delivery finished it, or a newer version was queued, nothing is written and the reason
/// is returned.
async fn finish(
    deps: &Deps,
    base: &ImportedDocument,
    doc: &ImportedDocument,
) -> Result<Option<&'static str>, StoreError> {
    if doc.processing_status == ProcessingStatus::Completed {
        announce(deps, doc).await?;
    }
    let (mut base, mut doc) = (base.clone(), doc.clone());
    let mut attempts = 0;
    while !deps.documents.finish(&doc).await? {
        let Some(current) = deps.documents.get(&doc.id).await? else {
            return Ok(Some("document removed while it was processed"));
        };
        if matches!(
            current.processing_status,
            ProcessingStatus::Completed | ProcessingStatus::Failed
        ) {
            return Ok(Some("already processed"));
        }
        // Re-synced or re-imported meanwhile: this result is of the previous version.
        if current.processing_status == ProcessingStatus::Pending
            || current.sync_count != base.sync_count
        {
            return Ok(Some(
                "changed while it was processed; the new version is queued",
            ));
        }
        attempts += 1;
        if current.version == doc.version {
            // The record is as we read it: the batch it counts on is what refused the write.
            return Err(StoreError::ConditionFailed(format!(
                "document {} could not be counted on its upload batch",
                doc.id
            )));
        }
        if attempts == MAX_ATTEMPTS {
            return Err(StoreError::ConditionFailed(format!(
                "document {} kept changing while its result was written",
                doc.id
            )));
        }
        doc = doc.rebase(&base, &current);
        base = current;
    }
    let Some(batch_id) = &doc.batch_id else {
        return Ok(None);
    };
    let Some(batch) = deps.batches.get(batch_id).await? else {
        return Ok(None);
    };
    let settled = batch.settled_status();
    if settled == batch.status && batch.status == BatchStatus::Uploading {
        // The first file is done: the batch is being processed now.
        deps.batches
            .set_status(batch_id, BatchStatus::Processing, None)
            .await?;
        return Ok(None);
    }
    if settled != batch.status && matches!(settled, BatchStatus::Completed | BatchStatus::Failed) {
        deps.batches
            .set_status(batch_id, settled, Some(Utc::now()))
            .await?;
    }
    Ok(None)
}
