//! UploadBatch: a group of files uploaded together, with counters workers move atomically.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Uploading,
    Processing,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadBatch {
    pub id: String,
    pub org_id: String,
    pub user_id: String,
    pub name: Option<String>,
    pub total_files: u64,
    #[serde(default)]
    pub processed_files: u64,
    #[serde(default)]
    pub failed_files: u64,
    pub status: BatchStatus,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The batch's documents, in the order the files were given.
    #[serde(default)]
    pub document_ids: Vec<String>,
}

impl UploadBatch {
    /// Share of files finished (processed or failed), 0–100.
    pub fn progress_percent(&self) -> u8 {
        if self.total_files == 0 {
            return 100;
        }
        let done = (self.processed_files + self.failed_files).min(self.total_files);
        ((done * 100) / self.total_files) as u8
    }

    /// The status the counters imply once every file is finished.
    pub fn settled_status(&self) -> BatchStatus {
        let done = self.processed_files + self.failed_files;
        if done < self.total_files {
            self.status
        } else if self.processed_files == 0 && self.total_files > 0 {
            BatchStatus::Failed
        } else {
            BatchStatus::Completed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(total: u64, processed: u64, failed: u64) -> UploadBatch {
        UploadBatch {
            id: "b".into(),
            org_id: "o".into(),
            user_id: "u".into(),
            name: None,
            total_files: total,
            processed_files: processed,
            failed_files: failed,
            status: BatchStatus::Processing,
            created_at: Utc::now(),
            completed_at: None,
            document_ids: vec![],
        }
    }

    #[test]
    fn progress_counts_failed_files_as_finished() {
        assert_eq!(batch(120, 30, 30).progress_percent(), 50);
        assert_eq!(batch(3, 1, 0).progress_percent(), 33);
        assert_eq!(batch(0, 0, 0).progress_percent(), 100);
    }

    #[test]
    fn a_batch_settles_only_when_every_file_is_finished() {
        assert_eq!(batch(10, 5, 4).settled_status(), BatchStatus::Processing);
        assert_eq!(batch(10, 6, 4).settled_status(), BatchStatus::Completed);
        assert_eq!(batch(10, 0, 10).settled_status(), BatchStatus::Failed);
    }
}
