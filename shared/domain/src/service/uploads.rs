//! Direct uploads: the API hands out presigned S3 URLs (single PUT, or multipart above a threshold)
//! and never sees the bytes; S3's object-created notification queues the document for processing.
//! Every URL is signed for its exact length (the declared size, or the planned part), and a
//! multipart upload is completed only when the parts S3 holds match the plan.
//! Batches validate every file first (nothing is created when one is refused), then count progress
//! atomically as the doc-processor finishes each file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::caller::Caller;
use crate::connector::ConnectorType;
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::error::DomainError;
use crate::ids::{is_valid_id, new_id};
use crate::jobs::DocumentJob;
use crate::keys::{ArtifactKind, object_key};
use crate::ports::{Deps, UploadedPart};
use crate::service::documents::modify;
use crate::service::upload_checks::{declared_upload_size, fail_document};
use crate::settings::UploadLimits;
use crate::source::mime_allowed;
use crate::upload::{BatchStatus, PartPlan, PartsMismatch, UploadBatch, oversized_reason};

/// The key folder of uploads that belong to no connector.
pub const DIRECT_UPLOADS: &str = "direct";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    pub name: String,
    pub size: u64,
    pub content_type: String,
    /// A file_upload connector of the org to file the document under (optional).
    #[serde(default)]
    pub connector_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub connector_id: Option<String>,
    pub files: Vec<FileSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartUrl {
    pub part_number: u32,
    pub url: String,
}

/// How the client uploads one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadTicket {
    pub document_id: String,
    pub name: String,
    /// "put": one PUT to `url` with `headers` (Content-Type, If-None-Match: *) and exactly the
    /// declared size; the URL creates the file once and refuses to replace it (412);
    /// "multipart": PUT each part (exactly `part_size` bytes, the last the rest) to its URL,
    /// then POST `complete_path`.
    pub method: &'static str,
    pub url: Option<String>,
    pub headers: serde_json::Value,
    pub upload_id: Option<String>,
    pub part_size: Option<u64>,
    pub parts: Vec<PartUrl>,
    pub complete_path: Option<String>,
    pub expires_in_secs: u64,
}

fn check_file(limits: &UploadLimits, field: &str, f: &FileSpec) -> Result<(), DomainError> {
    if f.name.trim().is_empty() {
        return Err(DomainError::validation(
            format!("{field}.name"),
            "must not be empty",
        ));
    }
    if f.name.chars().count() > 1024 || f.name.chars().any(char::is_control) {
        return Err(DomainError::validation(
            format!("{field}.name"),
            "must be at most 1024 characters, without control characters",
        ));
    }
    if f.size == 0 {
        return Err(DomainError::validation(
            format!("{field} ({})", f.name),
            "size must be more than 0 bytes",
        ));
    }
    if f.size > limits.max_file_size {
        return Err(DomainError::TooLarge(format!(
            "{field} ({}): {} bytes exceeds the {} byte limit",
            f.name, f.size, limits.max_file_size
        )));
    }
    let ct = f.content_type.trim();
    if !ct.contains('/') || ct.chars().any(|c| c.is_control() || c == ' ') {
        return Err(DomainError::validation(
            format!("{field} ({})", f.name),
            format!("content_type '{ct}' is not a MIME type"),
        ));
    }
    if !mime_allowed(&limits.allowed_types, Some(ct)) {
        return Err(DomainError::validation(
            format!("{field} ({})", f.name),
            format!(
                "type {ct} is not allowed (allowed: {})",
                limits.allowed_types.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The folder (connector) an upload is filed under: the org's file_upload connector when named.
async fn owner(
    deps: &Deps,
    caller: &Caller,
    connector_id: Option<&str>,
) -> Result<Option<String>, DomainError> {
    let Some(id) = connector_id else {
        return Ok(None);
    };
    let c = super::connectors::active_of_type(deps, caller, id, ConnectorType::FileUpload).await?;
    Ok(Some(c.id))
}

fn new_document(
    limits: &UploadLimits,
    caller: &Caller,
    connector: Option<&str>,
    f: &FileSpec,
    batch: Option<&str>,
    now: DateTime<Utc>,
) -> ImportedDocument {
    let id = new_id();
    let key = object_key(
        &caller.org_id,
        ConnectorType::FileUpload,
        connector.unwrap_or(DIRECT_UPLOADS),
        now,
        ArtifactKind::Original,
        &id,
        &f.name,
    );
    // Uploads have no provider id: the document's own id is unique by construction.
    let mut doc = ImportedDocument::new_pending(id.clone(), &caller.org_id, connector, id, now);
    doc.title = f.name.trim().to_string();
    doc.mime_type = Some(f.content_type.trim().to_string());
    doc.size_bytes = Some(f.size);
    doc.source_metadata = json!({"uploaded_by": caller.user_id,
        "declared_content_type": f.content_type, "declared_size": f.size});
    if f.size > limits.multipart_threshold {
        // Kept with the document: completion checks against the plan the URLs were signed for.
        doc.source_metadata["part_size"] = PartPlan::new(f.size, limits.part_size).part_size.into();
    }
    doc.original_key = Some(key);
    doc.batch_id = batch.map(str::to_string);
    doc
}

async fn ticket(deps: &Deps, doc: &ImportedDocument) -> Result<UploadTicket, DomainError> {
    let limits = &deps.settings.uploads;
    let key = doc.original_key.clone().unwrap_or_default();
    let content_type = doc
        .mime_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let size = doc.size_bytes.unwrap_or(0);
    let ttl = limits.url_ttl;
    let Some(plan) = part_plan(doc, limits) else {
        let url = deps
            .blobs
            .presign_put(&key, &content_type, size, ttl)
            .await?;
        return Ok(UploadTicket {
            document_id: doc.id.clone(),
            name: doc.title.clone(),
            method: "put",
            url: Some(url),
            // Browsers set Content-Length themselves; other clients must send exactly this.
            // If-None-Match is signed: a PUT without it is refused, one over a stored file
            // answers 412.
            headers: json!({"content-type": content_type, "content-length": size.to_string(),
                "if-none-match": "*"}),
            upload_id: None,
            part_size: None,
            parts: vec![],
            complete_path: None,
            expires_in_secs: ttl.as_secs(),
        });
    };
    let upload_id = deps.blobs.start_multipart(&key, &content_type).await?;
    let mut parts = Vec::with_capacity(plan.count() as usize);
    for n in 1..=plan.count() {
        let len = plan.part_len(n);
        parts.push(PartUrl {
            part_number: n,
            url: deps
                .blobs
                .presign_part(&key, &upload_id, n, len, ttl)
                .await?,
        });
    }
    Ok(UploadTicket {
        document_id: doc.id.clone(),
        name: doc.title.clone(),
        method: "multipart",
        url: None,
        headers: json!({}),
        upload_id: Some(upload_id),
        part_size: Some(plan.part_size),
        parts,
        complete_path: Some(format!("/api/connectors/upload/{}/complete", doc.id)),
        expires_in_secs: ttl.as_secs(),
    })
}

/// How a multipart upload of the document is cut; None for a single PUT.
fn part_plan(doc: &ImportedDocument, limits: &UploadLimits) -> Option<PartPlan> {
    let declared = declared_upload_size(doc).or(doc.size_bytes).unwrap_or(0);
    if let Some(part_size) = doc.source_metadata["part_size"].as_u64() {
        return Some(PartPlan {
            declared,
            part_size,
        });
    }
    // Documents from before the plan was recorded: the settings they were signed with.
    (declared > limits.multipart_threshold).then(|| PartPlan::new(declared, limits.part_size))
}

pub async fn request_upload(
    deps: &Deps,
    caller: &Caller,
    req: UploadRequest,
) -> Result<UploadTicket, DomainError> {
    let f = FileSpec {
        name: req.name,
        size: req.size,
        content_type: req.content_type,
    };
    check_file(&deps.settings.uploads, "file", &f)?;
    let connector = owner(deps, caller, req.connector_id.as_deref()).await?;
    super::quota::reserve(deps, &caller.org_id, 1).await?;
    let doc = new_document(
        &deps.settings.uploads,
        caller,
        connector.as_deref(),
        &f,
        None,
        deps.clock.now(),
    );
    deps.documents.create(&doc).await?;
    if let Some(c) = &connector {
        deps.connectors
            .add_documents_count(&caller.org_id, c, 1)
            .await?;
    }
    ticket(deps, &doc).await
}

pub async fn request_batch(
    deps: &Deps,
    caller: &Caller,
    req: BatchRequest,
) -> Result<(BatchView, Vec<UploadTicket>), DomainError> {
    let limits = &deps.settings.uploads;
    if req.files.is_empty() {
        return Err(DomainError::validation(
            "files",
            "must list at least one file",
        ));
    }
    if req.files.len() > limits.max_batch_size {
        return Err(DomainError::TooLarge(format!(
            "files: {} files exceed the batch limit of {}",
            req.files.len(),
            limits.max_batch_size
        )));
    }
    // Every file is checked before anything is created.
    for (i, f) in req.files.iter().enumerate() {
        check_file(limits, &format!("files[{i}]"), f)?;
    }
    let name = req
        .name
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .filter(|n| !n.is_empty());
    let connector = owner(deps, caller, req.connector_id.as_deref()).await?;
    super::quota::reserve(deps, &caller.org_id, req.files.len() as u64).await?;
    let batch_id = new_id();
    let now = deps.clock.now();
    let docs: Vec<_> = req
        .files
        .iter()
        .map(|f| {
            new_document(
                limits,
                caller,
                connector.as_deref(),
                f,
                Some(&batch_id),
                now,
            )
        })
        .collect();
    let batch = UploadBatch {
        id: batch_id.clone(),
        org_id: caller.org_id.clone(),
        user_id: caller.user_id.clone(),
        name,
        total_files: docs.len() as u64,
        processed_files: 0,
        failed_files: 0,
        status: BatchStatus::Uploading,
        created_at: now,
        completed_at: None,
        document_ids: docs.iter().map(|d| d.id.clone()).collect(),
    };
    deps.batches.create(&batch).await?;
    let mut tickets = Vec::with_capacity(docs.len());
    for d in &docs {
        deps.documents.create(d).await?;
        tickets.push(ticket(deps, d).await?);
    }
    if let Some(c) = &connector {
        deps.connectors
            .add_documents_count(&caller.org_id, c, docs.len() as i64)
            .await?;
    }
    Ok((view(batch, Vec::new(), 0), tickets))
}

async fn own_document(
    deps: &Deps,
    caller: &Caller,
    id: &str,
) -> Result<ImportedDocument, DomainError> {
    let missing = || DomainError::NotFound(format!("upload {id}"));
    if !is_valid_id(id) {
        return Err(missing());
    }
    match deps.documents.get(id).await? {
        Some(d) if d.org_id == caller.org_id => Ok(d),
        _ => Err(missing()),
    }
}

/// Finishes a multipart upload; S3's notification then queues processing. The parts S3 holds
/// (not the ones the client lists) must match the plan the part URLs were signed for: an upload
/// holding more than declared is dropped and its document fails; a missing or short part is
/// refused and can be uploaded again.
pub async fn complete_upload(
    deps: &Deps,
    caller: &Caller,
    document_id: &str,
    upload_id: &str,
    // Kept for clients that send them; the completion uses S3's own list.
    _parts: &[UploadedPart],
) -> Result<ImportedDocument, DomainError> {
    let doc = own_document(deps, caller, document_id).await?;
    if doc.processing_status != ProcessingStatus::Pending {
        return Ok(doc);
    }
    let key = doc.original_key.clone().unwrap_or_default();
    let Some(plan) = part_plan(&doc, &deps.settings.uploads) else {
        return Err(DomainError::InvalidState(
            "this upload is a single PUT; there is nothing to complete".into(),
        ));
    };
    let stored = match deps.blobs.list_parts(&key, upload_id).await {
        Ok(p) => p,
        Err(crate::StoreError::NotFound(_)) => {
            return Err(DomainError::InvalidState(format!(
                "there is no unfinished upload {upload_id} for this document"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    match plan.check(&stored) {
        Ok(()) => {}
        Err(PartsMismatch::Oversized { uploaded, declared }) => {
            deps.blobs.abort_multipart(&key, upload_id).await?;
            return Err(refuse_oversized(deps, &doc, uploaded, declared).await?);
        }
        Err(other) => return Err(DomainError::InvalidState(other.to_string())),
    }
    // S3 checks each ETag against the part it holds, so a part replaced since the listing
    // fails the completion instead of slipping in.
    let listed: Vec<UploadedPart> = stored
        .iter()
        .map(|p| UploadedPart {
            part_number: p.part_number,
            etag: p.etag.clone(),
        })
        .collect();
    let size = match deps
        .blobs
        .complete_multipart(&key, upload_id, &listed)
        .await
    {
        Ok(s) => s,
        Err(crate::StoreError::NotFound(m)) => {
            return Err(DomainError::InvalidState(format!(
                "{m}: upload the parts, then complete again"
            )));
        }
        // Completion only creates: another completion stored the file first.
        Err(crate::StoreError::ConditionFailed(_)) => {
            return Err(DomainError::Conflict(
                "this upload was completed already; its file is not replaced".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if size > plan.declared {
        deps.blobs.delete(&key).await?;
        return Err(refuse_oversized(deps, &doc, size, plan.declared).await?);
    }
    let now = deps.clock.now();
    let stored = modify(deps.documents.as_ref(), &doc.id, |d| {
        d.size_bytes = Some(size);
        d.updated_at = now;
        true
    })
    .await?;
    Ok(stored.unwrap_or(doc))
}

/// Fails the document of an upload that held more than declared; the error to answer with.
async fn refuse_oversized(
    deps: &Deps,
    doc: &ImportedDocument,
    uploaded: u64,
    declared: u64,
) -> Result<DomainError, DomainError> {
    let reason = oversized_reason(uploaded, declared);
    fail_document(deps, &doc.id, &reason).await?;
    Ok(DomainError::TooLarge(format!("{}: {reason}", doc.title)))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedFile {
    pub document_id: String,
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchView {
    #[serde(flatten)]
    pub batch: UploadBatch,
    pub progress_percent: u8,
    pub skipped_duplicates: u64,
    pub failed: Vec<FailedFile>,
}

fn view(batch: UploadBatch, failed: Vec<FailedFile>, skipped_duplicates: u64) -> BatchView {
    BatchView {
        progress_percent: batch.progress_percent(),
        batch,
        skipped_duplicates,
        failed,
    }
}

async fn own_batch(deps: &Deps, caller: &Caller, id: &str) -> Result<UploadBatch, DomainError> {
    let missing = || DomainError::NotFound(format!("batch {id}"));
    if !is_valid_id(id) {
        return Err(missing());
    }
    match deps.batches.get(id).await? {
        Some(b) if b.org_id == caller.org_id => Ok(b),
        _ => Err(missing()),
    }
}

pub async fn batch_status(
    deps: &Deps,
    caller: &Caller,
    id: &str,
) -> Result<BatchView, DomainError> {
    let batch = own_batch(deps, caller, id).await?;
    let mut failed = Vec::new();
    let mut duplicates = 0;
    for doc_id in &batch.document_ids {
        let Some(d) = deps.documents.get(doc_id).await? else {
            continue;
        };
        if d.processing_status == ProcessingStatus::Failed {
            failed.push(FailedFile {
                document_id: d.id,
                name: d.title,
                reason: d.processing_error.unwrap_or_default(),
            });
        } else if d.duplicate_of.is_some() {
            duplicates += 1;
        }
    }
    Ok(view(batch, failed, duplicates))
}

/// Queues the batch's failed files again. Each file is reset and recounted, and the batch reopened,
/// before its job is sent: a worker that finishes the file at once then finds the batch open and
/// settles it. A job that cannot be sent puts its file back to `failed` with the reason.
pub async fn retry_batch(deps: &Deps, caller: &Caller, id: &str) -> Result<BatchView, DomainError> {
    let current = batch_status(deps, caller, id).await?;
    if current.failed.is_empty() {
        return Ok(current);
    }
    let mut reopened = false;
    let now = deps.clock.now();
    for f in &current.failed {
        let mut requeued = false;
        let stored = modify(deps.documents.as_ref(), &f.document_id, |d| {
            // Another retry may have queued it already.
            requeued = d.processing_status == ProcessingStatus::Failed;
            if requeued {
                d.processing_status = ProcessingStatus::Pending;
                d.processing_error = None;
                d.updated_at = now;
            }
            requeued
        })
        .await?;
        let Some(d) = stored.filter(|_| requeued) else {
            continue;
        };
        // Off the count first: if that fails, the file goes back as it was, still counted.
        if let Err(e) = deps.batches.add_counts(id, 0, -1).await {
            modify(deps.documents.as_ref(), &d.id, |doc| {
                let pending = doc.processing_status == ProcessingStatus::Pending;
                if pending {
                    doc.processing_status = ProcessingStatus::Failed;
                    doc.processing_error = Some(f.reason.clone());
                }
                pending
            })
            .await?;
            return Err(e.into());
        }
        // From here on, a failure ends the file failed again and counted again, so the batch
        // settles as it was instead of waiting for a job that was never sent.
        let queued = async {
            if !reopened {
                deps.batches
                    .set_status(id, BatchStatus::Processing, None)
                    .await?;
                reopened = true;
            }
            let job = DocumentJob {
                org_id: d.org_id.clone(),
                document_id: d.id.clone(),
            };
            deps.queue.send_document(&job).await
        };
        if let Err(e) = queued.await {
            let reason =
                format!("the file could not be queued for processing again ({e}); retry the batch");
            fail_document(deps, &d.id, &reason).await?;
            return Err(e.into());
        }
    }
    batch_status(deps, caller, id).await
}
