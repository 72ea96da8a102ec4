//! URL import: the API records what to fetch and queues it; the fetch itself (with its SSRF
//! checks) runs in the doc-processor, never in the API request. Imports belong to a url_import
//! connector (the org's default one unless named); the same canonical URL imported again updates
//! its document instead of creating another.

use serde::Deserialize;
use serde_json::json;

use crate::caller::Caller;
use crate::connector::*;
use crate::document::{ImportedDocument, ProcessingStatus};
use crate::error::{DomainError, StoreError};
use crate::ids::new_id;
use crate::jobs::DocumentJob;
use crate::paging::PageRequest;
use crate::ports::Deps;
use crate::service::connectors::{self, NewConnector};
use crate::service::documents::modify;

/// Most URLs one request may import.
pub const MAX_URLS: usize = 20;
const MAX_URL_LEN: usize = 2048;
const DEFAULT_NAME: &str = "URL imports";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub connector_id: Option<String>,
}

/// The URL as stored and compared: scheme and host lower-cased, fragment dropped. Only syntax is
/// checked here; addresses are checked where the fetch happens.
pub fn canonical_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_LEN {
        return Err(format!("must be 1 to {MAX_URL_LEN} characters"));
    }
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or("must start with http:// or https://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "scheme '{scheme}' is not allowed: only http and https"
        ));
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain spaces or control characters".into());
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err("has no host".into());
    }
    if authority.contains('@') {
        return Err("must not carry credentials".into());
    }
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_string()
    };
    Ok(format!(
        "{scheme}://{}{path}",
        authority.to_ascii_lowercase()
    ))
}

async fn import_connector(
    deps: &Deps,
    caller: &Caller,
    id: Option<&str>,
) -> Result<Connector, DomainError> {
    if let Some(id) = id {
        return super::connectors::active_of_type(deps, caller, id, ConnectorType::UrlImport).await;
    }
    // The org's default: found by type and name, created once (names are unique per type).
    let mut page = PageRequest::new(Some(200), None);
    loop {
        let p = deps.connectors.list(&caller.org_id, &page).await?;
        if let Some(c) = p.items.into_iter().find(|c| {
            c.connector_type == ConnectorType::UrlImport && c.name == DEFAULT_NAME && c.is_active()
        }) {
            return Ok(c);
        }
        match p.next_cursor {
            Some(c) => page = PageRequest::new(Some(200), Some(c)),
            None => break,
        }
    }
    let input = NewConnector {
        connector_type: "url_import".into(),
        name: DEFAULT_NAME.into(),
        description: Some("Pages and files imported by URL".into()),
        settings: None,
        filters: None,
        sync_frequency: None,
    };
    // Any member may import; creating the default connector is part of that.
    let as_admin = Caller {
        role: crate::Role::Admin,
        ..caller.clone()
    };
    match connectors::create(deps, &as_admin, input).await {
        Ok(c) => Ok(c),
        // Created by a concurrent request meanwhile: use that one.
        Err(DomainError::Conflict(_)) => Box::pin(import_connector(deps, caller, None)).await,
        Err(e) => Err(e),
    }
}

/// Queues the URLs for import; returns their documents (new or re-imported), in request order.
pub async fn import(
    deps: &Deps,
    caller: &Caller,
    req: ImportRequest,
) -> Result<Vec<ImportedDocument>, DomainError> {
    let urls: Vec<String> = match (req.url, req.urls) {
        (Some(u), None) => vec![u],
        (None, Some(list)) => list,
        (Some(_), Some(_)) => {
            return Err(DomainError::validation(
                "url",
                "give either url or urls, not both",
            ));
        }
        (None, None) => return Err(DomainError::validation("url", "is required")),
    };
    if urls.is_empty() {
        return Err(DomainError::validation(
            "urls",
            "must list at least one URL",
        ));
    }
    if urls.len() > MAX_URLS {
        return Err(DomainError::TooLarge(format!(
            "urls: {} URLs exceed the limit of {MAX_URLS} per request",
            urls.len()
        )));
    }
    let canonical = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            canonical_url(u).map_err(|m| DomainError::validation(format!("urls[{i}] ({u})"), m))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let connector = import_connector(deps, caller, req.connector_id.as_deref()).await?;
    // Only URLs new to the org count against the quota; re-imports update their document.
    let mut new_urls = 0;
    for url in &canonical {
        if deps
            .documents
            .find_by_external_id(&connector.id, url)
            .await?
            .is_none()
        {
            new_urls += 1;
        }
    }
    if new_urls > 0 {
        super::quota::reserve(deps, &caller.org_id, new_urls).await?;
    }
    let mut out = Vec::with_capacity(canonical.len());
    for url in canonical {
        out.push(queue_one(deps, caller, &connector, &url).await?);
    }
    Ok(out)
}

async fn queue_one(
    deps: &Deps,
    caller: &Caller,
    connector: &Connector,
    url: &str,
) -> Result<ImportedDocument, DomainError> {
    let now = deps.clock.now();
    let doc = match deps
        .documents
        .find_by_external_id(&connector.id, url)
        .await?
    {
        Some(found) => {
            let stored = modify(deps.documents.as_ref(), &found.id, |d| {
                d.sync_count += 1;
                d.last_synced_at = now;
                d.processing_status = ProcessingStatus::Pending;
                d.processing_error = None;
                d.duplicate_of = None;
                // Fetched again by the worker: the page may have changed.
                d.original_key = None;
                d.is_deleted = false;
                d.deleted_at = None;
                d.updated_at = now;
                true
            })
            .await?;
            stored.unwrap_or(found)
        }
        None => {
            let mut d = ImportedDocument::new_pending(
                new_id(),
                &caller.org_id,
                Some(&connector.id),
                url.to_string(),
                now,
            );
            d.external_url = Some(url.to_string());
            d.title = url.to_string();
            d.source_metadata = json!({"imported_by": caller.user_id});
            match deps.documents.create(&d).await {
                Ok(()) => {
                    deps.connectors
                        .add_documents_count(&caller.org_id, &connector.id, 1)
                        .await?
                }
                // The same URL queued by a concurrent request: that document it is.
                Err(StoreError::ConditionFailed(_)) => {
                    return deps
                        .documents
                        .find_by_external_id(&connector.id, url)
                        .await?
                        .ok_or_else(|| DomainError::Conflict("try again".into()));
                }
                Err(e) => return Err(e.into()),
            }
            d
        }
    };
    deps.queue
        .send_document(&DocumentJob {
            org_id: doc.org_id.clone(),
            document_id: doc.id.clone(),
        })
        .await?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_canonicalised_and_bad_ones_refused_by_syntax() {
        assert_eq!(
            canonical_url("HTTPS://Example.COM/a/B?x=1#frag").unwrap(),
            "https://example.com/a/B?x=1"
        );
        assert_eq!(
            canonical_url("http://example.com").unwrap(),
            "http://example.com/"
        );
        assert_eq!(
            canonical_url("http://example.com?q=1").unwrap(),
            "http://example.com/?q=1"
        );
        for bad in [
            "ftp://x/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://",
            "http://u:p@example.com/",
            "http://exa mple.com/",
            "",
        ] {
            assert!(canonical_url(bad).is_err(), "{bad}");
        }
    }
}
