//! Provider connectors. Each provider lives in one folder (its description, OAuth client, pull
//! [`Source`](recorder_domain::source::Source), [`Push`](recorder_domain::push::Push) and
//! settings) and registers in one list ([`registry`]). Providers are reached only through
//! [`http::PacedClient`]. See `docs/adding-a-connector.md`.

pub mod google;
pub mod http;
pub mod push_token;
pub mod registry;
pub mod settings;

pub use registry::Registry;
pub use settings::SettingsError;
