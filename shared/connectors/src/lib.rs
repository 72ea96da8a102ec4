//! Provider connectors. Each provider brings a [`Source`](recorder_domain::source::Source) for the
//! sync engine and an [`OAuthClient`](recorder_domain::source::OAuthClient); the [`registry`]
//! maps connector types to them. Providers are reached only through [`http::PacedClient`].

pub mod google;
pub mod http;
pub mod registry;
pub mod settings;

pub use registry::Registry;
pub use settings::ProviderSettings;
