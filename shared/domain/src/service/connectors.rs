//! Connector operations behind the HTTP API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::activity::ActivityKind;
use crate::caller::Caller;
use crate::connector::*;
use crate::document::ImportedDocument;
use crate::error::{DomainError, StoreError};
use crate::ids::{is_valid_id, new_id};
use crate::paging::{Page, PageRequest};
use crate::ports::Deps;
use crate::provider::Providers;
use crate::service::activity::record;
use crate::service::connector_writes::{apply, name_taken, queue_sync};
use crate::sync_log::{SyncLog, SyncType};

/// Every type, each saying whether this build has it.
pub fn list_types(providers: &dyn Providers) -> Vec<ConnectorTypeListing> {
    ConnectorType::ALL
        .into_iter()
        .map(|t| {
            let available = providers.available(t);
            ConnectorTypeListing {
                info: providers.info(t),
                available,
                unavailable_reason: (!available).then(|| unavailable_reason(t)),
            }
        })
        .collect()
}

fn unavailable_reason(t: ConnectorType) -> String {
    format!(
        "not built yet: this build has no {} connector",
        t.builtin_info().name
    )
}

/// Refuses a type this build cannot connect or sync, saying so.
pub fn require_available(providers: &dyn Providers, t: ConnectorType) -> Result<(), DomainError> {
    if providers.available(t) {
        return Ok(());
    }
    Err(DomainError::Unsupported(format!(
        "{} is not available in this build ({})",
        t.as_str(),
        unavailable_reason(t)
    )))
}

/// The body of `POST /api/connectors`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewConnector {
    pub connector_type: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub settings: Option<Value>,
    #[serde(default)]
    pub filters: Option<Filters>,
    #[serde(default)]
    pub sync_frequency: Option<SyncFrequency>,
}

/// The body of `PATCH /api/connectors/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub settings: Option<Value>,
    pub filters: Option<Filters>,
    pub sync_frequency: Option<SyncFrequency>,
}

fn parse_type(s: &str) -> Result<ConnectorType, DomainError> {
    ConnectorType::parse(s).ok_or_else(|| {
        let known: Vec<_> = ConnectorType::ALL.iter().map(|t| t.as_str()).collect();
        DomainError::validation(
            "connector_type",
            format!("unknown type '{s}'; expected one of {}", known.join(", ")),
        )
    })
}

fn not_found(id: &str) -> DomainError {
    DomainError::NotFound(format!("connector {id}"))
}

pub async fn create(
    deps: &Deps,
    caller: &Caller,
    input: NewConnector,
) -> Result<Connector, DomainError> {
    caller.require_admin()?;
    let connector_type = parse_type(&input.connector_type)?;
    require_available(deps.providers.as_ref(), connector_type)?;
    if connector_type.requires_oauth() {
        return Err(DomainError::validation(
            "connector_type",
            format!(
                "{} connects through OAuth: start at GET /api/connectors/auth/{}",
                connector_type.as_str(),
                connector_type.as_str()
            ),
        ));
    }
    let name = validate_name(&input.name)?;
    let description = validate_description(input.description)?;
    let settings = input.settings.unwrap_or_else(|| json!({}));
    validate_settings(&settings)?;
    let filters = input.filters.unwrap_or_default();
    validate_filters(&filters)?;
    let sync_frequency = input.sync_frequency.unwrap_or(SyncFrequency::Manual);
    let now = deps.clock.now();
    let connector = Connector {
        id: new_id(),
        org_id: caller.org_id.clone(),
        connector_type,
        name,
        description,
        status: ConnectorStatus::Active,
        account: Account::default(),
        settings,
        filters,
        sync_frequency,
        next_sync_at: sync_frequency.next_after(now),
        last_sync_at: None,
        last_sync_status: None,
        error_count: 0,
        last_error: None,
        last_error_at: None,
        webhook: WebhookState::default(),
        sync_cursor: None,
        sync_progress: None,
        documents_count: 0,
        created_by: caller.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    match deps.connectors.create(&connector).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => {
            return Err(name_taken(connector_type, &connector.name));
        }
        Err(e) => return Err(e.into()),
    }
    record(
        deps,
        ActivityKind::ConnectorConnectSucceeded,
        &connector,
        Some(&caller.user_id),
        json!({"name": connector.name}),
    )
    .await;
    Ok(connector)
}

pub async fn list(
    deps: &Deps,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<Connector>, DomainError> {
    Ok(deps.connectors.list(&caller.org_id, page).await?)
}

/// The caller's connector, or 404 whether it is absent or belongs to another org.
pub async fn get(deps: &Deps, caller: &Caller, id: &str) -> Result<Connector, DomainError> {
    if !is_valid_id(id) {
        return Err(not_found(id));
    }
    deps.connectors
        .get(&caller.org_id, id)
        .await?
        .ok_or_else(|| not_found(id))
}

async fn modify<F>(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    change: F,
) -> Result<Connector, DomainError>
where
    F: FnMut(&Connector, DateTime<Utc>) -> Result<Connector, DomainError>,
{
    get(deps, caller, id).await?;
    apply(deps, &caller.org_id, id, change)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn update(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    patch: ConnectorPatch,
) -> Result<Connector, DomainError> {
    caller.require_admin()?;
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    let description = patch
        .description
        .map(|d| validate_description(Some(d)))
        .transpose()?;
    if let Some(s) = &patch.settings {
        validate_settings(s)?;
    }
    if let Some(f) = &patch.filters {
        validate_filters(f)?;
    }
    modify(deps, caller, id, |c, now| {
        if c.status == ConnectorStatus::Disconnected {
            return Err(DomainError::InvalidState(
                "the connector is disconnected; connect it again to change it".into(),
            ));
        }
        let mut next = c.clone();
        if let Some(n) = &name {
            next.name = n.clone();
        }
        if let Some(d) = &description {
            next.description = d.clone();
        }
        if let Some(s) = &patch.settings {
            next.settings = s.clone();
        }
        if let Some(f) = &patch.filters {
            next.filters = f.clone();
        }
        if let Some(freq) = patch.sync_frequency
            && freq != c.sync_frequency
        {
            next.sync_frequency = freq;
            next.next_sync_at = freq.next_after(now);
        }
        Ok(next)
    })
    .await
}

/// Pauses scheduled and webhook syncs; documents and credentials stay.
pub async fn disable(deps: &Deps, caller: &Caller, id: &str) -> Result<Connector, DomainError> {
    caller.require_admin()?;
    modify(deps, caller, id, |c, _| match c.status {
        ConnectorStatus::Disconnected => Err(DomainError::InvalidState(
            "the connector is disconnected; there is nothing to disable".into(),
        )),
        _ => Ok(Connector {
            status: ConnectorStatus::Paused,
            next_sync_at: None,
            ..c.clone()
        }),
    })
    .await
}

pub async fn enable(deps: &Deps, caller: &Caller, id: &str) -> Result<Connector, DomainError> {
    caller.require_admin()?;
    modify(deps, caller, id, |c, now| match c.status {
        ConnectorStatus::Disconnected => Err(DomainError::InvalidState(
            "the connector is disconnected; connect it again instead of enabling it".into(),
        )),
        ConnectorStatus::Active => Ok(c.clone()),
        _ => Ok(Connector {
            status: ConnectorStatus::Active,
            next_sync_at: c.sync_frequency.next_after(now),
            ..c.clone()
        }),
    })
    .await
}

/// Disconnects: future syncs stop, the token secret is deleted, the name is freed, imported
/// documents are kept.
pub async fn disconnect(deps: &Deps, caller: &Caller, id: &str) -> Result<Connector, DomainError> {
    caller.require_admin()?;
    let current = get(deps, caller, id).await?;
    if current.status == ConnectorStatus::Disconnected {
        return Ok(current);
    }
    record(
        deps,
        ActivityKind::ConnectorDisconnectStarted,
        &current,
        Some(&caller.user_id),
        json!({}),
    )
    .await;
    // Stop the push channel while the credentials still exist.
    if let Err(e) = crate::service::subscriptions::close(deps, &current).await {
        tracing::warn!(connector_id = %current.id, error = %e, "could not close the push channel");
    }
    if let Err(e) = deps.tokens.delete_tokens(&current.id).await {
        record(
            deps,
            ActivityKind::ConnectorDisconnectFailed,
            &current,
            Some(&caller.user_id),
            json!({"reason": "could not delete stored credentials"}),
        )
        .await;
        return Err(e.into());
    }
    let disconnected = modify(deps, caller, id, |c, _| {
        Ok(Connector {
            status: ConnectorStatus::Disconnected,
            next_sync_at: None,
            webhook: WebhookState {
                active: false,
                ..c.webhook.clone()
            },
            ..c.clone()
        })
    })
    .await?;
    deps.connectors.release_name(&disconnected).await?;
    record(
        deps,
        ActivityKind::ConnectorDisconnectSucceeded,
        &disconnected,
        Some(&caller.user_id),
        json!({}),
    )
    .await;
    Ok(disconnected)
}

/// Queues a sync of an active connector and returns its sync log (status `queued`).
pub async fn request_sync(deps: &Deps, caller: &Caller, id: &str) -> Result<SyncLog, DomainError> {
    caller.require_admin()?;
    let connector = get(deps, caller, id).await?;
    require_available(deps.providers.as_ref(), connector.connector_type)?;
    match connector.status {
        ConnectorStatus::Active => {}
        ConnectorStatus::Paused => {
            return Err(DomainError::InvalidState(
                "the connector is paused; enable it first".into(),
            ));
        }
        ConnectorStatus::Error => {
            return Err(DomainError::InvalidState(format!(
                "the connector is in error ({}); fix it or reconnect first",
                connector.last_error.as_deref().unwrap_or("unknown error")
            )));
        }
        ConnectorStatus::Disconnected => {
            return Err(DomainError::InvalidState(
                "the connector is disconnected".into(),
            ));
        }
    }
    queue_sync(deps, &connector, SyncType::Manual, Some(&caller.user_id)).await
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionTest {
    pub ok: bool,
    pub message: String,
    pub checked_at: DateTime<Utc>,
}

/// Checks what can be checked without a provider call: state and stored credentials.
/// (Provider round trips come with each connector implementation.)
pub async fn test_connection(
    deps: &Deps,
    caller: &Caller,
    id: &str,
) -> Result<ConnectionTest, DomainError> {
    caller.require_admin()?;
    let connector = get(deps, caller, id).await?;
    let checked_at = deps.clock.now();
    let (ok, message) = if connector.status == ConnectorStatus::Disconnected {
        (false, "the connector is disconnected".to_string())
    } else if !connector.connector_type.requires_oauth() {
        (
            true,
            format!(
                "{} needs no credentials",
                deps.providers.info(connector.connector_type).name
            ),
        )
    } else if let Some(source) = deps.providers.source(connector.connector_type) {
        // A real round trip: refresh if needed, then ask the provider who we are.
        let probe = async {
            let token = crate::service::credentials::access_token(deps, &connector, false).await?;
            let cx = crate::source::SourceContext {
                connector: connector.clone(),
                access_token: token,
                meter: Default::default(),
            };
            source.account(&cx).await
        };
        match probe.await {
            Ok(a) => (
                true,
                format!(
                    "connected as {}",
                    a.email
                        .or(a.display_name)
                        .or(a.id)
                        .unwrap_or_else(|| "the linked account".into())
                ),
            ),
            Err(e) => (false, e.to_string()),
        }
    } else if deps.tokens.get_tokens(&connector.id).await?.is_some() {
        (true, "credentials are stored".to_string())
    } else {
        (
            false,
            "no credentials are stored: connect the account again".to_string(),
        )
    };
    Ok(ConnectionTest {
        ok,
        message,
        checked_at,
    })
}

pub async fn list_documents(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    page: &PageRequest,
) -> Result<Page<ImportedDocument>, DomainError> {
    let connector = get(deps, caller, id).await?;
    Ok(deps
        .documents
        .list_by_connector(&connector.id, page)
        .await?)
}

pub async fn list_sync_logs(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    page: &PageRequest,
) -> Result<Page<SyncLog>, DomainError> {
    let connector = get(deps, caller, id).await?;
    Ok(deps.sync_logs.list(&connector.id, page).await?)
}

/// A connector of the caller's org that documents may be added to: it exists (else not found,
/// like another org's), has the given type and is active.
pub(crate) async fn active_of_type(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    wanted: crate::connector::ConnectorType,
) -> Result<Connector, DomainError> {
    let missing = || DomainError::NotFound(format!("connector {id}"));
    if !is_valid_id(id) {
        return Err(missing());
    }
    let c = deps
        .connectors
        .get(&caller.org_id, id)
        .await?
        .ok_or_else(missing)?;
    if c.connector_type != wanted {
        return Err(DomainError::validation(
            "connector_id",
            format!("must be a {} connector", wanted.as_str()),
        ));
    }
    if c.status != crate::connector::ConnectorStatus::Active {
        return Err(DomainError::InvalidState(format!(
            "the connector is {}",
            c.status.as_str()
        )));
    }
    Ok(c)
}

/// How long an artifact download URL works.
pub const DOWNLOAD_URL_TTL: std::time::Duration = std::time::Duration::from_secs(900);

/// A presigned GET for one of the document's stored files: `original`, `extracted`, `chunks` or
/// `transcript`. Another org's document, or an artifact not made (yet), answers not found.
pub async fn artifact_url(
    deps: &Deps,
    caller: &Caller,
    id: &str,
    artifact: &str,
) -> Result<(String, std::time::Duration), DomainError> {
    let doc = get_document(deps, caller, id).await?;
    let key = match artifact {
        "original" => doc.original_key,
        "extracted" => doc.extracted_key,
        "chunks" => doc.chunks_key,
        "transcript" => doc.transcript_key,
        _ => {
            return Err(DomainError::validation(
                "artifact",
                "must be original, extracted, chunks or transcript",
            ));
        }
    };
    let key = key.ok_or_else(|| {
        DomainError::NotFound(format!(
            "{artifact} of document {id} (not produced, or not yet)"
        ))
    })?;
    // An original holds whatever was uploaded or synced: a download, never a page on our origin.
    let url = match artifact {
        "original" => {
            let download = crate::download::DownloadAs::attachment(&doc.title);
            (deps.blobs)
                .presign_download(&key, DOWNLOAD_URL_TTL, &download)
                .await?
        }
        _ => deps.blobs.presign_get(&key, DOWNLOAD_URL_TTL).await?,
    };
    Ok((url, DOWNLOAD_URL_TTL))
}

pub async fn get_document(
    deps: &Deps,
    caller: &Caller,
    id: &str,
) -> Result<ImportedDocument, DomainError> {
    let missing = || DomainError::NotFound(format!("document {id}"));
    if !is_valid_id(id) {
        return Err(missing());
    }
    match deps.documents.get(id).await? {
        Some(doc) if doc.org_id == caller.org_id => Ok(doc),
        _ => Err(missing()),
    }
}
