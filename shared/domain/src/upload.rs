//! UploadBatch: a group of files uploaded together, with counters workers move atomically; and
//! the plan a multipart upload is checked against before it is completed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A part a multipart upload holds, as the store reports it (not as the client says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    pub part_number: u32,
    pub size: u64,
    pub etag: String,
}

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

/// How a multipart upload of a declared size is cut: every part but the last is `part_size`
/// bytes, the last holds the rest. Each part URL is signed for its exact length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub declared: u64,
    pub part_size: u64,
}

/// S3 allows at most this many parts in one upload.
pub const MAX_PARTS: u64 = 10_000;

/// How the parts a store holds differ from the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartsMismatch {
    /// More bytes than declared: the upload cannot become the declared file.
    Oversized { uploaded: u64, declared: u64 },
    /// A part number the plan does not have.
    Unplanned { part: u32, count: u32 },
    /// A part is not there (yet).
    Missing { part: u32 },
    /// A part holds another length than planned; uploading it again fixes it.
    WrongSize { part: u32, size: u64, planned: u64 },
}

impl std::fmt::Display for PartsMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PartsMismatch::Oversized { uploaded, declared } => {
                f.write_str(&oversized_reason(*uploaded, *declared))
            }
            PartsMismatch::Unplanned { part, count } => write!(
                f,
                "part {part} is not one of the upload's {count} parts; start the upload again"
            ),
            PartsMismatch::Missing { part } => {
                write!(
                    f,
                    "part {part} was not uploaded; upload it, then complete again"
                )
            }
            PartsMismatch::WrongSize {
                part,
                size,
                planned,
            } => write!(
                f,
                "part {part} holds {size} bytes, not the planned {planned}; upload it again, \
                 then complete again"
            ),
        }
    }
}

impl PartPlan {
    /// Parts grow when a file would need more than S3's 10,000.
    pub fn new(declared: u64, min_part_size: u64) -> Self {
        PartPlan {
            declared,
            part_size: min_part_size.max(declared.div_ceil(MAX_PARTS)).max(1),
        }
    }

    pub fn count(&self) -> u32 {
        self.declared.div_ceil(self.part_size) as u32
    }

    /// The planned length of part `n` (1-based); 0 past the last part.
    pub fn part_len(&self, n: u32) -> u64 {
        let start = u64::from(n.saturating_sub(1)) * self.part_size;
        self.declared.saturating_sub(start).min(self.part_size)
    }

    /// Checks the stored parts against the plan: numbers 1..=count, each of its planned length,
    /// the total equal to the declared size.
    pub fn check(&self, parts: &[StoredPart]) -> Result<(), PartsMismatch> {
        let uploaded: u64 = parts.iter().map(|p| p.size).sum();
        if uploaded > self.declared {
            return Err(PartsMismatch::Oversized {
                uploaded,
                declared: self.declared,
            });
        }
        let count = self.count();
        if let Some(p) = parts
            .iter()
            .find(|p| p.part_number == 0 || p.part_number > count)
        {
            return Err(PartsMismatch::Unplanned {
                part: p.part_number,
                count,
            });
        }
        for n in 1..=count {
            let Some(p) = parts.iter().find(|p| p.part_number == n) else {
                return Err(PartsMismatch::Missing { part: n });
            };
            if p.size != self.part_len(n) {
                return Err(PartsMismatch::WrongSize {
                    part: n,
                    size: p.size,
                    planned: self.part_len(n),
                });
            }
        }
        Ok(())
    }
}

/// What a person reads when an upload held more than it declared.
pub fn oversized_reason(uploaded: u64, declared: u64) -> String {
    format!(
        "uploaded {} but declared {}; upload it again with its real size",
        human_size(uploaded),
        human_size(declared)
    )
}

fn human_size(n: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if n >= MB {
        format!("{} MB", n.div_ceil(MB))
    } else if n >= 1024 {
        format!("{} KB", n.div_ceil(1024))
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(n: u32, size: u64) -> StoredPart {
        StoredPart {
            part_number: n,
            size,
            etag: format!("e{n}"),
        }
    }

    #[test]
    fn a_plan_cuts_the_declared_size_into_full_parts_and_a_rest() {
        let plan = PartPlan::new(12, 5);
        assert_eq!(plan.count(), 3);
        assert_eq!(
            (plan.part_len(1), plan.part_len(3), plan.part_len(4)),
            (5, 2, 0)
        );
        assert_eq!(PartPlan::new(5 * 1024 * 1024 * 1024, 1).count(), 10_000);
        assert_eq!(plan.check(&[part(1, 5), part(2, 5), part(3, 2)]), Ok(()));
    }

    #[test]
    fn parts_over_the_plan_unplanned_missing_or_of_another_length_are_refused() {
        let plan = PartPlan::new(12, 5);
        assert_eq!(
            plan.check(&[part(1, 5), part(2, 5), part(3, 3)]),
            Err(PartsMismatch::Oversized {
                uploaded: 13,
                declared: 12
            })
        );
        assert_eq!(
            plan.check(&[part(1, 5), part(2, 5), part(4, 1)]),
            Err(PartsMismatch::Unplanned { part: 4, count: 3 })
        );
        assert_eq!(
            plan.check(&[part(1, 5), part(3, 2)]),
            Err(PartsMismatch::Missing { part: 2 })
        );
        assert_eq!(
            plan.check(&[part(1, 6), part(2, 4), part(3, 2)]),
            Err(PartsMismatch::WrongSize {
                part: 1,
                size: 6,
                planned: 5
            })
        );
    }

    #[test]
    fn the_reason_names_both_sizes() {
        assert_eq!(
            oversized_reason(12 * 1024 * 1024, 5 * 1024 * 1024),
            "uploaded 12 MB but declared 5 MB; upload it again with its real size"
        );
    }

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
