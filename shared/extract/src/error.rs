//! The one error type of the extraction boundary. Each Display is a reason a person can act on.

/// Why a file could not be turned into Markdown.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the file is empty (0 bytes)")]
    Empty,

    #[error("encrypted {format}: remove the password and upload again")]
    Encrypted { format: &'static str },

    #[error("not a {declared} despite its name: the content is {actual}")]
    TypeMismatch { declared: String, actual: String },

    #[error("exceeds {limit_mb} MB {what} limit")]
    TooLarge { what: &'static str, limit_mb: u64 },

    #[error(
        "the PDF has {pages} pages, more than the {limit}-page limit; split it into smaller files"
    )]
    TooManyPages { pages: u64, limit: u64 },

    #[error("archive has more than {limit} entries; split it into smaller files")]
    TooManyEntries { limit: usize },

    #[error("nested deeper than {limit} levels; the file is probably machine-generated or hostile")]
    TooDeep { limit: usize },

    #[error("damaged {format} file: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
        /// The parser's own error, kept for logs.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    #[error("unsupported {what}")]
    Unsupported { what: String },
}

impl ExtractError {
    /// A damaged file described in words, with no underlying error.
    pub(crate) fn corrupt(format: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            format,
            detail: detail.to_string(),
            source: None,
        }
    }

    /// A damaged file as a parser reported it; the parser's error stays the source.
    pub(crate) fn corrupt_by<E>(format: &'static str, error: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self::Corrupt {
            format,
            detail: error.to_string(),
            source: Some(Box::new(error)),
        }
    }

    /// As `corrupt_by`, with where it happened in front of the parser's words.
    pub(crate) fn corrupt_at<E>(
        format: &'static str,
        context: impl std::fmt::Display,
        error: E,
    ) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        Self::Corrupt {
            format,
            detail: format!("{context}: {error}"),
            source: Some(Box::new(error)),
        }
    }

    /// A short stable code for APIs and logs (`{"error":{"code":…}}`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Encrypted { .. } => "encrypted",
            Self::TypeMismatch { .. } => "type_mismatch",
            Self::TooLarge { .. } => "too_large",
            Self::TooManyPages { .. } => "too_many_pages",
            Self::TooManyEntries { .. } => "too_many_entries",
            Self::TooDeep { .. } => "too_deep",
            Self::Corrupt { .. } => "corrupt",
            Self::Unsupported { .. } => "unsupported",
        }
    }
}
