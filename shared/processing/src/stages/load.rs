//! Load the original: the version announced (or the one stored now) from the blob store, or for
//! a URL import the page fetched here, in the worker (with its SSRF checks), never in the API
//! request. A direct upload stored larger than declared is refused before it is read.

use recorder_domain::Deps;
use recorder_domain::document::ImportedDocument;
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_extract::Format;
use recorder_fetch::{Article, FetchPolicy, main_content};
use serde_json::json;

use super::store::artifact_owner;
use super::{Stop, hints_of};
use crate::large::{self, LargeOriginal};
use crate::version::{self, Versioned};
use crate::{Options, ProcessError, Run};

/// The original as the later stages read it.
pub(crate) enum Original {
    /// Held whole in memory.
    Whole(Vec<u8>),
    /// A fetched web page, and the main content kept from its HTML.
    Page(Vec<u8>, Article),
    /// Too big to hold (audio, video, CSV, TSV): read by range.
    Large(LargeOriginal, Format),
}

const MISSING: &str = "the original file is missing from storage; upload or sync it again";

pub(crate) async fn original(
    deps: &Deps,
    doc: &mut ImportedDocument,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Original, Stop> {
    if let Some(reason) =
        recorder_domain::service::upload_checks::refuse_oversized_upload(deps, doc).await?
    {
        return Err(Stop::Fail(reason));
    }
    match (doc.original_key.clone(), doc.external_url.clone()) {
        (Some(key), _) => stored(deps, doc, key, announced, options, run).await,
        (None, Some(url)) => match fetch(deps, doc, &url, &options.fetch).await? {
            Ok((bytes, Some(article))) => Ok(Original::Page(bytes, article)),
            Ok((bytes, None)) => Ok(Original::Whole(bytes)),
            Err(reason) => Err(Stop::Fail(reason)),
        },
        (None, None) => Err(Stop::Fail(
            "the original file was never stored; upload or sync it again".into(),
        )),
    }
}

/// The stored size, not the declared one, decides how the file is read; every read is of the
/// version announced, or of the one this first read finds.
async fn stored(
    deps: &Deps,
    doc: &mut ImportedDocument,
    key: String,
    announced: Option<&str>,
    options: &Options,
    run: &Run,
) -> Result<Original, Stop> {
    let (head, etag) = match version::read_head(deps, &key, large::HEAD_BYTES, announced).await? {
        Versioned::Read(v) => (v.read, v.etag),
        Versioned::Missing => return Err(Stop::Fail(MISSING.into())),
        Versioned::Changed => {
            return Err(Stop::Finished(
                version::changed(deps, doc, &run.owner).await?,
            ));
        }
    };
    version::record(doc, &etag);
    if head.total > options.max_whole_bytes {
        let hints = hints_of(doc);
        let format = recorder_extract::detect(
            &head.bytes,
            hints.declared_mime.as_deref(),
            hints.file_name.as_deref(),
        )
        .format;
        if !large::streamable(format) {
            return Err(Stop::Fail(format!(
                "exceeds the {} MB processing limit ({} MB); only audio, video, CSV and TSV are \
                 read beyond it",
                options.max_whole_bytes / (1024 * 1024),
                head.total / (1024 * 1024)
            )));
        }
        let original = LargeOriginal {
            key,
            head: head.bytes,
            total: head.total,
            etag,
        };
        return Ok(Original::Large(original, format));
    }
    if head.total == head.bytes.len() as u64 {
        return Ok(Original::Whole(head.bytes));
    }
    match version::read_whole(deps, &key, &etag).await? {
        Versioned::Read(bytes) => Ok(Original::Whole(bytes)),
        Versioned::Missing => Err(Stop::Fail(MISSING.into())),
        Versioned::Changed => Err(Stop::Finished(
            version::changed(deps, doc, &run.owner).await?,
        )),
    }
}

/// Fetches a URL import's original, stores it beside the connector's other originals, and for
/// HTML keeps the page's main content. `Ok(Err(reason))` is a refusal a person can act on.
async fn fetch(
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
    let name = file_name(&fetched.final_url, is_html);
    let (connector_type, connector_id) = artifact_owner(deps, doc).await?;
    let key = object_key(
        &doc.org_id,
        connector_type,
        &connector_id,
        deps.clock.now(),
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

/// The stored name of a fetched page: the URL's last path segment (`page` without one), HTML
/// ending in `.html`.
fn file_name(final_url: &str, is_html: bool) -> String {
    let last = final_url
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
    name
}
