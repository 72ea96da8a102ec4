//! What the moto tests share: a fresh stack from template.yaml and the adapters built on it.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::sync::Arc;

use recorder_aws::{Config, build_deps};
use recorder_domain::service::uploads::{self, UploadRequest, UploadTicket};
use recorder_domain::{Caller, Deps, Role};

pub const MB: usize = 1024 * 1024;

pub struct Stack {
    pub deps: Deps,
    pub config: Config,
    pub sdk: aws_config::SdkConfig,
}

/// A fresh moto stack with the api function's settings.
pub async fn stack() -> Stack {
    stack_of("api", |_| None).await
}

/// A fresh moto stack whose uploads go multipart above 5 MB, in 5 MB parts (S3's minimum).
pub async fn multipart_stack() -> Stack {
    stack_of("api", |k| match k {
        "MULTIPART_THRESHOLD" | "MULTIPART_PART_SIZE" => Some((5 * MB).to_string()),
        _ => None,
    })
    .await
}

/// A fresh moto stack with the settings template.yaml gives `binary`'s function, where
/// `set` returns a value in place of the template's.
pub async fn stack_of(binary: &str, set: impl Fn(&str) -> Option<String>) -> Stack {
    let (sdk, provisioned) = local_aws::testing::fresh_stack().await;
    let function = provisioned
        .functions
        .iter()
        .find(|f| f.binary == binary)
        .unwrap_or_else(|| panic!("{binary} function in template"));
    let config = Config::from_lookup(|k| set(k).or_else(|| function.env.get(k).cloned()))
        .expect("template env makes a valid config");
    let deps = build_deps(&config, &sdk, |_| {
        Ok::<_, std::convert::Infallible>(Arc::new(
            recorder_domain::memory::StaticProviders::default(),
        ))
    })
    .unwrap();
    Stack { deps, config, sdk }
}

/// A member of `org`.
pub fn member(org: &str) -> Caller {
    Caller {
        org_id: org.into(),
        user_id: "ana".into(),
        role: Role::Member,
    }
}

/// Asks for an upload URL as `caller`.
pub async fn request_upload(
    deps: &Deps,
    caller: &Caller,
    name: &str,
    size: usize,
    content_type: &str,
) -> UploadTicket {
    let req = UploadRequest {
        name: name.into(),
        size: size as u64,
        content_type: content_type.into(),
        connector_id: None,
    };
    uploads::request_upload(deps, caller, req).await.unwrap()
}

/// The headers signed into a presigned URL, as `X-Amz-SignedHeaders` lists them.
pub fn signed_headers(url: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "X-Amz-SignedHeaders")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Where the ticket's document keeps its original.
pub async fn key_of(deps: &Deps, t: &UploadTicket) -> String {
    let doc = deps.documents.get(&t.document_id).await.unwrap().unwrap();
    doc.original_key.unwrap()
}
