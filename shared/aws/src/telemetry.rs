//! Tracing setup: JSON lines in Lambda (CloudWatch parses them), plain text locally.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops. `LOG_FORMAT=json` picks JSON.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT")
        .map(|v| v == "json")
        .unwrap_or(false);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let result = if json {
        builder.json().flatten_event(true).without_time().try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests, local stack): keep the first one.
    let _ = result;
}
