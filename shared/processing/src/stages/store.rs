//! Store artifacts: the Markdown, the chunks (JSON Lines) and a transcript's WebVTT, written
//! beside the original.

use recorder_domain::connector::ConnectorType;
use recorder_domain::document::ImportedDocument;
use recorder_domain::keys::{ArtifactKind, object_key, parse_object_key};
use recorder_domain::{Deps, StoreError};
use recorder_extract::Format;

use super::extract::{Extraction, Produced};

pub(crate) const MARKDOWN_TYPE: &str = "text/markdown; charset=utf-8";
pub(crate) const CHUNKS_TYPE: &str = "application/x-ndjson";
const TRANSCRIPT_TYPE: &str = "text/vtt; charset=utf-8";

/// Where a document's artifacts go: beside its original.
pub(crate) struct ArtifactKeys {
    pub markdown: String,
    pub chunks: String,
    pub transcript: String,
}

/// The artifacts written, and what the record keeps of the extraction.
pub(crate) struct Artifacts {
    pub keys: ArtifactKeys,
    pub metadata: serde_json::Value,
    pub format: Format,
    pub warnings: Vec<String>,
    pub chunk_count: usize,
    pub transcript_key: Option<String>,
}

pub(crate) async fn artifacts(
    deps: &Deps,
    doc: &ImportedDocument,
    produced: Produced,
) -> Result<Artifacts, StoreError> {
    match produced {
        Produced::Streamed(written) => Ok(written),
        Produced::Held(extraction) => write(deps, doc, extraction).await,
    }
}

async fn write(
    deps: &Deps,
    doc: &ImportedDocument,
    extraction: Extraction,
) -> Result<Artifacts, StoreError> {
    let Extraction {
        markdown,
        metadata,
        format,
        warnings,
        chunks,
        transcript_vtt,
    } = extraction;
    let keys = artifact_keys(deps, doc).await?;
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
            .put(&keys.transcript, vtt.into_bytes(), TRANSCRIPT_TYPE)
            .await?;
        transcript_key = Some(keys.transcript.clone());
    }
    Ok(Artifacts {
        keys,
        metadata,
        format,
        warnings,
        chunk_count,
        transcript_key,
    })
}

/// Keys under the clock's day, in the original's connector folder.
pub(crate) async fn artifact_keys(
    deps: &Deps,
    doc: &ImportedDocument,
) -> Result<ArtifactKeys, StoreError> {
    let (connector_type, connector_id) = artifact_owner(deps, doc).await?;
    let now = deps.clock.now();
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

/// Artifacts sit beside the original: the same connector folder (uploads without a connector use
/// the `file_upload` type and the org's upload folder).
pub(crate) async fn artifact_owner(
    deps: &Deps,
    doc: &ImportedDocument,
) -> Result<(ConnectorType, String), StoreError> {
    if let Some(key) = doc.original_key.as_deref().and_then(parse_object_key) {
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
