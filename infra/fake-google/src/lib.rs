//! Fake Google.
