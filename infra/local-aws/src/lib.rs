//! The project's local AWS: a moto server process and the resources of `template.yaml` created on
//! it from the template itself (no second, hand-kept list). Used by the local stack, the adapter
//! tests and the end-to-end tests.

pub mod moto;
pub mod provision;
pub mod template;

pub use moto::Moto;
pub use provision::{FunctionSpec, HttpRoute, Provisioned, QueueSource, provision};
pub use template::Template;

/// The workspace root (where template.yaml and .venv live).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| std::path::PathBuf::from("."))
}

/// A moto server shared by one test binary, and a fresh copy of the stack's resources per caller
/// (unique stack and stage names keep tests apart on the shared server).
pub mod testing {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};

    use aws_config::SdkConfig;

    use crate::{Moto, Provisioned, Template, provision};

    static MOTO: OnceLock<Moto> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);

    pub fn moto() -> &'static Moto {
        MOTO.get_or_init(|| Moto::start_serial().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Provisions template.yaml under a new stack name; returns the SDK config and what was made.
    pub async fn fresh_stack() -> (SdkConfig, Provisioned) {
        let sdk = moto().sdk_config().await;
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let stage = format!("t{}x{n}", std::process::id());
        let template = Template::load(&crate::workspace_root().join("template.yaml"))
            .expect("template.yaml loads");
        let params = BTreeMap::from([
            ("Stage".to_string(), stage.clone()),
            ("JwtIssuer".to_string(), "http://127.0.0.1/".to_string()),
        ]);
        let provisioned = provision(&sdk, &template, &format!("rc-{stage}"), &params)
            .await
            .expect("template provisions on moto");
        (sdk, provisioned)
    }
}
