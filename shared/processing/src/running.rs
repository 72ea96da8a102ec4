//! The time an extraction may take, and the threads it runs on. Extractions run on blocking
//! threads that a timeout cannot stop: one abandoned after its time cap keeps running, and
//! holding its memory, until it ends. A new extraction waits for it (as long as the invocation's
//! deadline allows) rather than running beside it and running the function out of memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use recorder_domain::ports::Clock;

use crate::{EXTRACT_TIMEOUT, Run};

/// Time kept after an extraction for storing its artifacts and writing the record.
pub const FINISH_MARGIN: Duration = Duration::from_secs(30);
/// What one message needs of an invocation's remaining time to be started at all: a whole
/// extraction and its finish. The batch stops taking messages below it.
pub const MESSAGE_BUDGET: Duration =
    Duration::from_secs(EXTRACT_TIMEOUT.as_secs() + FINISH_MARGIN.as_secs());
/// Shorter extractions than this are not started: they could not finish.
const MIN_EXTRACT: Duration = Duration::from_secs(5);

/// How long this run's extraction may take from `now`: [`EXTRACT_TIMEOUT`], or less when the
/// invocation's deadline comes first (`true`). None when too little is left to start one.
pub(crate) fn extract_cap(now: DateTime<Utc>, run: &Run) -> Option<(Duration, bool)> {
    let Some(deadline) = run.deadline else {
        return Some((EXTRACT_TIMEOUT, false));
    };
    let left = (deadline - now).to_std().unwrap_or_default();
    let left = left.saturating_sub(FINISH_MARGIN);
    if left >= EXTRACT_TIMEOUT {
        Some((EXTRACT_TIMEOUT, false))
    } else if left >= MIN_EXTRACT {
        Some((left, true))
    } else {
        None
    }
}

static RUNNING: AtomicUsize = AtomicUsize::new(0);

const POLL: Duration = Duration::from_millis(250);

/// Held by the blocking thread for as long as its extraction runs.
pub(crate) struct Running(());

impl Running {
    pub(crate) fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Waits until no other extraction runs in this process. False when the run's deadline came too
/// close first (nothing should be started then).
pub(crate) async fn wait_for_others(clock: &dyn Clock, run: &Run) -> bool {
    if RUNNING.load(Ordering::SeqCst) > 0 {
        tracing::warn!("an extraction abandoned after its time cap still runs; waiting for it");
    }
    while RUNNING.load(Ordering::SeqCst) > 0 {
        if extract_cap(clock.now(), run).is_none() {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use recorder_domain::ports::SystemClock;

    use super::*;

    /// A clock that stands still at a given time.
    struct At(DateTime<Utc>);

    impl Clock for At {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    // One test: the count is process-wide.
    #[tokio::test]
    async fn a_new_extraction_waits_for_an_abandoned_one_while_the_deadline_allows() {
        let held = Running::start();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(600)).await;
            drop(held);
        });
        let started = std::time::Instant::now();
        assert!(wait_for_others(&SystemClock, &Run::unlimited()).await);
        assert!(started.elapsed() >= Duration::from_millis(500));
        release.await.unwrap();

        let _never_ends = Running::start();
        let run = Run {
            owner: "m".into(),
            // 36 s left: 6 s past the finish margin, so about a second of waiting.
            deadline: Some(Utc::now() + chrono::Duration::seconds(36)),
        };
        let started = std::time::Instant::now();
        assert!(
            !wait_for_others(&SystemClock, &run).await,
            "too close to the deadline"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        // Past the deadline by the clock it is given, though not by the machine's: no wait.
        let late = At(Utc::now() + chrono::Duration::hours(1));
        let started = std::time::Instant::now();
        assert!(!wait_for_others(&late, &run).await);
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn the_cap_is_what_is_left_of_the_deadline_from_the_time_given() {
        let now = Utc::now() + chrono::Duration::days(365);
        let run = Run {
            owner: "m".into(),
            deadline: Some(now + chrono::Duration::seconds(100)),
        };
        assert_eq!(
            extract_cap(now, &run),
            Some((Duration::from_secs(70), true))
        );
        let later = now + chrono::Duration::seconds(70);
        assert_eq!(extract_cap(later, &run), None);
    }
}
