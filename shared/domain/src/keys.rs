//! S3 object keys: `{org_id}/connectors/{connector_type}/{connector_id}/{YYYY-MM-DD}/{kind}/{file_id}-{safe_name}`,
//! and the originals of direct uploads under [`UPLOADS_PREFIX`] in front of that: the bucket
//! notifies the doc-processor of that prefix only (everything else we write ourselves and queue
//! explicitly). The original file name is kept as a document's title but only its sanitised form
//! reaches a key.

use chrono::{DateTime, Utc};

use crate::connector::ConnectorType;

/// What an object under a document holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    Original,
    Extracted,
    Chunks,
    Transcript,
}

impl ArtifactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Original => "original",
            ArtifactKind::Extracted => "extracted",
            ArtifactKind::Chunks => "chunks",
            ArtifactKind::Transcript => "transcript",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ArtifactKind::Original,
            ArtifactKind::Extracted,
            ArtifactKind::Chunks,
            ArtifactKind::Transcript,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

const MAX_SAFE_NAME: usize = 120;

/// Where clients PUT direct uploads; the only prefix whose new objects S3 announces (the
/// `FilesBucket` notification filter in template.yaml matches it).
pub const UPLOADS_PREFIX: &str = "uploads/";

/// A direct upload's original: the objects S3 notifications are for.
pub fn is_upload_original(key: &ObjectKey) -> bool {
    key.connector_type == ConnectorType::FileUpload && key.kind == ArtifactKind::Original
}

/// A file name that is safe as the last segment of a key: no path separators or traversal, no
/// control characters, no characters that need escaping in URLs, bounded length. Never empty.
pub fn safe_name(name: &str) -> String {
    // Only the last path segment counts: "../../etc/passwd" becomes "passwd".
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len().min(MAX_SAFE_NAME));
    for c in last.chars() {
        let mapped = if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            c
        } else if c.is_alphanumeric() {
            // Keep letters of other scripts readable; S3 keys are UTF-8.
            c
        } else {
            '_'
        };
        if out.len() + mapped.len_utf8() > MAX_SAFE_NAME {
            break;
        }
        out.push(mapped);
    }
    let trimmed = out.trim_matches(|c| c == '.' || c == '_');
    if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The parsed parts of one of our object keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey {
    pub org_id: String,
    pub connector_type: ConnectorType,
    pub connector_id: String,
    pub date: String,
    pub kind: ArtifactKind,
    pub file_id: String,
    pub safe_name: String,
}

pub fn object_key(
    org_id: &str,
    connector_type: ConnectorType,
    connector_id: &str,
    at: DateTime<Utc>,
    kind: ArtifactKind,
    file_id: &str,
    name: &str,
) -> String {
    let prefix = if connector_type == ConnectorType::FileUpload && kind == ArtifactKind::Original {
        UPLOADS_PREFIX
    } else {
        ""
    };
    format!(
        "{prefix}{org_id}/connectors/{}/{connector_id}/{}/{}/{file_id}-{}",
        connector_type.as_str(),
        at.format("%Y-%m-%d"),
        kind.as_str(),
        safe_name(name)
    )
}

/// Reads a key back (e.g. from an S3 notification); None for keys we did not write.
pub fn parse_object_key(key: &str) -> Option<ObjectKey> {
    // Uploads made before the prefix existed read alike (and an org named "uploads" still parses).
    parse_unprefixed(key).or_else(|| parse_unprefixed(key.strip_prefix(UPLOADS_PREFIX)?))
}

fn parse_unprefixed(key: &str) -> Option<ObjectKey> {
    let parts: Vec<&str> = key.split('/').collect();
    let [
        org_id,
        "connectors",
        connector_type,
        connector_id,
        date,
        kind,
        file,
    ] = parts.as_slice()
    else {
        return None;
    };
    let (file_id, safe_name) = file.split_once('-')?;
    Some(ObjectKey {
        org_id: org_id.to_string(),
        connector_type: ConnectorType::parse(connector_type)?,
        connector_id: connector_id.to_string(),
        date: date.to_string(),
        kind: ArtifactKind::parse(kind)?,
        file_id: file_id.to_string(),
        safe_name: safe_name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_follow_the_documented_layout() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let key = object_key(
            "org_acme",
            ConnectorType::FileUpload,
            "c1",
            at,
            ArtifactKind::Original,
            "d1",
            "Q3 report.pdf",
        );
        assert_eq!(
            key,
            "uploads/org_acme/connectors/file_upload/c1/2026-11-24/original/d1-Q3_report.pdf"
        );
        let parsed = parse_object_key(&key).unwrap();
        assert_eq!(parsed.file_id, "d1");
        assert_eq!(parsed.kind, ArtifactKind::Original);
        assert_eq!(parsed.connector_type, ConnectorType::FileUpload);
        assert!(is_upload_original(&parsed));
        // Only an upload's original sits under the notified prefix: its artifacts and every
        // synced file are queued explicitly.
        let extracted = object_key(
            "org_acme",
            ConnectorType::FileUpload,
            "c1",
            at,
            ArtifactKind::Extracted,
            "d1",
            "a.md",
        );
        let synced = object_key(
            "org_acme",
            ConnectorType::GoogleDrive,
            "c2",
            at,
            ArtifactKind::Original,
            "d2",
            "a.pdf",
        );
        for other in [&extracted, &synced] {
            assert!(!other.starts_with(UPLOADS_PREFIX), "{other}");
            assert!(
                !is_upload_original(&parse_object_key(other).unwrap()),
                "{other}"
            );
        }
    }

    #[test]
    fn names_cannot_escape_their_folder_or_carry_control_characters() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("a\u{0}b\nc\rd.txt"), "a_b_c_d.txt");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name("résumé 2026.docx"), "résumé_2026.docx");
        assert!(safe_name(&"x".repeat(1000)).len() <= 120);
        for hostile in ["%2e%2e%2fsecret", "a?b#c", "<script>.html"] {
            let s = safe_name(hostile);
            assert!(
                !s.contains(['/', '\\', '?', '#', '%', '<', '>']),
                "{hostile} -> {s}"
            );
        }
    }

    #[test]
    fn foreign_keys_are_not_parsed() {
        assert_eq!(parse_object_key("random/key.txt"), None);
        assert_eq!(
            parse_object_key("o/connectors/dropbox/c/2026-01-01/original/d-x"),
            None
        );
    }
}
