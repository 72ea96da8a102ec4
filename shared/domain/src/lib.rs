//! The domain of recorder-connectors: entities, the rules that govern them and the ports
//! (narrow traits) through which the domain reaches storage, queues, secrets and the clock.
//!
//! Nothing here depends on AWS, an HTTP framework or a provider, so every rule can be tested
//! with the in-memory adapters in `memory` (feature `test-support`, for tests only).

pub mod activity;
pub mod caller;
pub mod connector;
pub mod document;
pub mod download;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod keys;
// Test-only adapters: never compiled into a Lambda.
#[cfg(any(test, feature = "test-support"))]
pub mod memory;
pub mod paging;
pub mod ports;
pub mod provider;
pub mod provider_error;
pub mod push;
pub mod secret;
pub mod service;
pub mod settings;
pub mod source;
pub mod sync_log;
pub mod upload;
pub mod webhook;

pub use caller::{Caller, Role};
pub use error::{DomainError, StoreError};
pub use ports::Deps;
