//! The optional monthly import quota: new documents per org per calendar month (UTC), counted
//! across every source (uploads, URL imports, connector syncs) when they are admitted. Updates of
//! documents already imported are free. Off unless MONTHLY_IMPORT_QUOTA is set.

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::{Deps, DomainError};

/// Counts `n` new documents for `org_id`, or refuses all of them with when the quota resets.
pub async fn reserve(deps: &Deps, org_id: &str, n: u64) -> Result<(), DomainError> {
    reserve_in_month(deps, org_id, n).await.map(|_| ())
}

/// As [`reserve`], and says which month was charged (None with no quota), so an import that
/// then fails can be taken back with [`release`].
pub async fn reserve_in_month(
    deps: &Deps,
    org_id: &str,
    n: u64,
) -> Result<Option<String>, DomainError> {
    let Some(limit) = deps.settings.monthly_import_quota else {
        return Ok(None);
    };
    let now = deps.clock.now();
    let month = now.format("%Y-%m").to_string();
    match deps.usage.reserve_imports(org_id, &month, n, limit).await? {
        Ok(_) => Ok(Some(month)),
        Err(used) => {
            let resets_at = next_month(now);
            let left = limit.saturating_sub(used);
            Err(DomainError::QuotaExceeded {
                message: format!(
                    "the monthly import quota of {limit} documents would be exceeded \
                     ({used} used, {left} left, {n} requested); it resets at {}",
                    resets_at.format("%Y-%m-%dT%H:%M:%SZ")
                ),
                resets_at,
            })
        }
    }
}

/// Takes back `n` documents charged to `month` that were never imported (a download that
/// failed), so an item retried on every sync is charged once, when it finally imports.
pub async fn release(deps: &Deps, org_id: &str, month: &str, n: u64) -> Result<(), DomainError> {
    Ok(deps.usage.release_imports(org_id, month, n).await?)
}

/// Midnight UTC on the first day of the month after `now`.
pub fn next_month(now: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDeps;
    use crate::settings::Settings;
    use std::sync::Arc;

    #[tokio::test]
    async fn counts_up_to_the_limit_refuses_whole_requests_and_resets_next_month() {
        let mut m = MemoryDeps::new();
        m.deps.settings = Arc::new(Settings {
            monthly_import_quota: Some(5),
            ..Settings::default()
        });
        *m.clock.0.lock().unwrap() = Utc.with_ymd_and_hms(2026, 12, 30, 9, 0, 0).unwrap();
        reserve(&m.deps, "org_a", 3).await.unwrap();
        let Err(DomainError::QuotaExceeded { message, resets_at }) =
            reserve(&m.deps, "org_a", 3).await
        else {
            panic!("3 + 3 > 5 must be refused");
        };
        assert_eq!(
            resets_at,
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        assert!(
            message.contains("(3 used, 2 left, 3 requested)"),
            "{message}"
        );
        reserve(&m.deps, "org_a", 2).await.unwrap();
        reserve(&m.deps, "org_b", 5).await.unwrap();
        assert!(reserve(&m.deps, "org_a", 1).await.is_err());
        m.clock.advance(chrono::Duration::days(2));
        reserve(&m.deps, "org_a", 5).await.unwrap();
    }

    #[tokio::test]
    async fn no_quota_counts_nothing() {
        let m = MemoryDeps::new();
        for _ in 0..3 {
            reserve(&m.deps, "org_a", u64::MAX / 4).await.unwrap();
        }
    }
}
