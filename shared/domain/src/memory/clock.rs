//! A clock tests can move.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::lock;
use crate::ports::Clock;

/// A clock tests can move.
pub struct FixedClock(pub Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(at))
    }
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = lock(&self.0);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}
