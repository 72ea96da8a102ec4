//! Limits and switches the domain applies, read once at cold start (by the AWS crate's config).

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct UploadLimits {
    /// Largest file accepted (MAX_FILE_SIZE, default 5 GB).
    pub max_file_size: u64,
    /// Most files in one batch (MAX_BATCH_SIZE, default 100).
    pub max_batch_size: usize,
    /// Allowed MIME types or wildcards (ALLOWED_FILE_TYPES, comma-separated; empty = all).
    pub allowed_types: Vec<String>,
    /// Above this size an upload is multipart (MULTIPART_THRESHOLD, default 100 MB).
    pub multipart_threshold: u64,
    /// Size of each multipart part (MULTIPART_PART_SIZE, default 64 MB; S3 needs ≥ 5 MB).
    pub part_size: u64,
    /// How long presigned URLs work.
    pub url_ttl: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_file_size: 5 * 1024 * 1024 * 1024,
            max_batch_size: 100,
            allowed_types: Vec::new(),
            multipart_threshold: 100 * 1024 * 1024,
            part_size: 64 * 1024 * 1024,
            url_ttl: Duration::from_secs(3600),
        }
    }
}

impl UploadLimits {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let d = UploadLimits::default();
        let num = |k: &str, default: u64| -> Result<u64, String> {
            match get(k).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("{k} must be a whole number, got '{v}'")),
            }
        };
        let part_size = num("MULTIPART_PART_SIZE", d.part_size)?;
        if part_size < 5 * 1024 * 1024 {
            return Err(
                "MULTIPART_PART_SIZE must be at least 5 MB (S3's minimum part size)".into(),
            );
        }
        Ok(UploadLimits {
            max_file_size: num("MAX_FILE_SIZE", d.max_file_size)?,
            max_batch_size: num("MAX_BATCH_SIZE", d.max_batch_size as u64)? as usize,
            allowed_types: get("ALLOWED_FILE_TYPES")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            multipart_threshold: num("MULTIPART_THRESHOLD", d.multipart_threshold)?,
            part_size,
            url_ttl: d.url_ttl,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub uploads: UploadLimits,
    /// Documents an org may import per calendar month (UTC), counted across every source
    /// (MONTHLY_IMPORT_QUOTA; unset or 0 = no quota).
    pub monthly_import_quota: Option<u64>,
}

impl Settings {
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let quota =
            match get("MONTHLY_IMPORT_QUOTA").filter(|v| !v.trim().is_empty()) {
                None => None,
                Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                    format!("MONTHLY_IMPORT_QUOTA must be a whole number, got '{v}'")
                })?),
            };
        Ok(Settings {
            uploads: UploadLimits::from_lookup(get)?,
            monthly_import_quota: quota.filter(|&q| q > 0),
        })
    }
}
