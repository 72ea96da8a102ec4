//! Which connector types this build offers: derived from the registered providers.

use std::sync::Arc;

use recorder_domain::connector::{Account, ConnectorType};
use recorder_domain::memory::MemoryDeps;
use recorder_domain::service::connectors::{self, NewConnector};
use recorder_domain::source::{
    ChangePage, FetchedContent, Source, SourceContext, SourceError, SourceItem,
};
use recorder_domain::{Caller, DomainError, Role};

fn admin() -> Caller {
    Caller {
        org_id: "org_a".into(),
        user_id: "u_admin".into(),
        role: Role::Admin,
    }
}

#[test]
fn only_registered_providers_and_api_fed_types_are_listed_as_available() {
    let m = MemoryDeps::new();
    m.providers
        .register(ConnectorType::GoogleDrive, Arc::new(NothingSource));
    let types = connectors::list_types(m.deps.providers.as_ref());
    let available: Vec<&str> = types
        .iter()
        .filter(|t| t.available)
        .map(|t| t.info.connector_type.as_str())
        .collect();
    assert_eq!(available, ["google_drive", "file_upload", "url_import"]);
    let gmail = types
        .iter()
        .find(|t| t.info.connector_type == ConnectorType::Gmail)
        .unwrap();
    assert!(
        gmail
            .unavailable_reason
            .as_deref()
            .is_some_and(|r| r.contains("not built yet")),
        "{gmail:?}"
    );
    let json = serde_json::to_value(&types).unwrap();
    assert_eq!(json[0]["type"], "google_drive");
    assert_eq!(json[0]["available"], true);
    assert_eq!(json[0]["unavailable_reason"], serde_json::Value::Null);
    assert_eq!(json[1]["available"], false);
}

#[tokio::test]
async fn creating_a_connector_of_a_type_this_build_lacks_is_refused_saying_so() {
    let m = MemoryDeps::new();
    let err = connectors::create(
        &m.deps,
        &admin(),
        NewConnector {
            connector_type: "notion".into(),
            name: "Wiki".into(),
            description: None,
            settings: None,
            filters: None,
            sync_frequency: None,
        },
    )
    .await
    .unwrap_err();
    match err {
        DomainError::Unsupported(msg) => assert!(msg.contains("not available"), "{msg}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

/// A source with nothing in it: only its registration matters here.
struct NothingSource;

#[async_trait::async_trait]
impl Source for NothingSource {
    async fn account(&self, _: &SourceContext) -> Result<Account, SourceError> {
        unimplemented!("never called in these tests")
    }
    async fn list_changes(
        &self,
        _: &SourceContext,
        _: Option<&str>,
    ) -> Result<ChangePage, SourceError> {
        unimplemented!("never called in these tests")
    }
    async fn get_item(
        &self,
        _: &SourceContext,
        _: &str,
    ) -> Result<Option<SourceItem>, SourceError> {
        unimplemented!("never called in these tests")
    }
    async fn fetch(
        &self,
        _: &SourceContext,
        _: &SourceItem,
    ) -> Result<FetchedContent, SourceError> {
        unimplemented!("never called in these tests")
    }
}
