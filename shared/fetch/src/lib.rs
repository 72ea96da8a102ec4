//! URL import for recorder-connectors: fetch a user-submitted URL without reaching our own
//! network ([`fetch`]), then keep the page's main content as Markdown ([`html`]).
//! No AWS and no providers: a URL in, bytes and an [`Article`] out.

pub mod fetch;
pub mod html;
pub mod quality;
mod settings;

pub use fetch::{FetchError, FetchPolicy, Fetched, check_url, display_url, fetch, is_forbidden_ip};
pub use html::{Article, main_content};
pub use quality::word_precision_recall;
pub use recorder_settings::SettingsError;
