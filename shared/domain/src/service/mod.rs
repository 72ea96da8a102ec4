//! Domain operations. Each takes the [`Deps`](crate::Deps) and, for API calls, the [`Caller`](crate::Caller).

pub mod activity;
pub mod connector_writes;
pub mod connectors;
pub mod credentials;
pub mod documents;
pub mod oauth;
pub mod push;
pub mod quota;
pub mod scheduler;
pub mod subscriptions;
pub mod sync;
pub mod upload_checks;
pub mod uploads;
pub mod url_import;
pub mod webhook_events;
pub mod webhook_sync;
