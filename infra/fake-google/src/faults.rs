//! What can go wrong on a Drive call, on purpose: injected 429s and 503s, added latency, and a
//! per-token rate limit. These apply to Drive calls only, never to OAuth or `/_fake`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use serde::Serialize;

use crate::errors::ApiError;
use crate::state::{FakeState, lock};

#[derive(Debug)]
pub(crate) struct Faults {
    pending_429: u32,
    pending_5xx: u32,
    latency: Duration,
    rate_limit: Option<u32>,
    buckets: HashMap<String, Bucket>,
    /// Refusals by the rate limit so far: every other one is a 403, as Drive answers a per-user
    /// quota (`403 userRateLimitExceeded`) beside its backend's `429 rateLimitExceeded`.
    limit_refusals: u64,
    pub deny_next_consent: bool,
}

/// A token bucket holding up to one second's worth of calls, refilled continuously.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The fault settings in force, as `/_fake/faults` reports them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultSettings {
    pub http_429: u32,
    pub http_5xx: u32,
    pub latency_ms: u64,
    pub rate_limit_per_sec: Option<u32>,
    pub deny_next_consent: bool,
}

enum Refusal {
    RateLimited,
    /// Drive's per-user quota answer: 403 `userRateLimitExceeded`, no Retry-After.
    UserRateLimited,
    Backend,
}

impl Faults {
    pub fn new(rate_limit: Option<u32>) -> Self {
        Self {
            pending_429: 0,
            pending_5xx: 0,
            latency: Duration::ZERO,
            rate_limit,
            buckets: HashMap::new(),
            limit_refusals: 0,
            deny_next_consent: false,
        }
    }

    /// Injected faults first (they model Google having a bad moment), then the caller's own budget.
    fn admit(&mut self, token: &str) -> Option<Refusal> {
        if self.pending_429 > 0 {
            self.pending_429 -= 1;
            return Some(Refusal::RateLimited);
        }
        if self.pending_5xx > 0 {
            self.pending_5xx -= 1;
            return Some(Refusal::Backend);
        }
        let limit = self.rate_limit? as f64;
        let now = Instant::now();
        let bucket = self.buckets.entry(token.to_string()).or_insert(Bucket {
            tokens: limit,
            updated: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.updated).as_secs_f64() * limit).min(limit);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            self.limit_refusals += 1;
            Some(if self.limit_refusals.is_multiple_of(2) {
                Refusal::UserRateLimited
            } else {
                Refusal::RateLimited
            })
        }
    }

    fn settings(&self) -> FaultSettings {
        FaultSettings {
            http_429: self.pending_429,
            http_5xx: self.pending_5xx,
            latency_ms: self.latency.as_millis() as u64,
            rate_limit_per_sec: self.rate_limit,
            deny_next_consent: self.deny_next_consent,
        }
    }
}

impl FakeState {
    /// The next `n` Drive calls answer 429 rateLimitExceeded.
    pub fn inject_429(&self, n: u32) {
        lock(&self.faults).pending_429 = n;
    }

    /// The next `n` Drive calls answer 503 backendError (after any pending 429s).
    pub fn inject_5xx(&self, n: u32) {
        lock(&self.faults).pending_5xx = n;
    }

    /// Every Drive call waits this long before answering.
    pub fn set_latency(&self, ms: u64) {
        lock(&self.faults).latency = Duration::from_millis(ms);
    }

    /// Calls per second allowed per access token; `None` lifts the limit.
    pub fn set_rate_limit(&self, per_sec: Option<u32>) {
        let mut faults = lock(&self.faults);
        faults.rate_limit = per_sec.filter(|n| *n > 0);
        faults.buckets.clear();
    }

    /// The next authorization redirects back with `error=access_denied`, as if the user said no.
    pub fn deny_next_consent(&self) {
        lock(&self.faults).deny_next_consent = true;
    }

    pub fn fault_settings(&self) -> FaultSettings {
        lock(&self.faults).settings()
    }

    /// The gate every Drive call goes through: counts it, waits out the latency, checks the bearer
    /// token and its scopes, then applies faults and the rate limit. Returns the token on success.
    pub(crate) async fn admit(
        &self,
        endpoint: &str,
        headers: &HeaderMap,
    ) -> Result<String, ApiError> {
        self.count_call(endpoint);
        let latency = lock(&self.faults).latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let grant = token
            .as_deref()
            .and_then(|t| lock(&self.oauth).check_access(t));
        let (Some(token), Some(grant)) = (token, grant) else {
            lock(&self.stats).http_401_served += 1;
            return Err(ApiError::unauthenticated());
        };
        if !grant
            .scope
            .split(' ')
            .any(|s| s.starts_with("https://www.googleapis.com/auth/drive"))
        {
            return Err(ApiError::insufficient_scopes());
        }
        let refusal = lock(&self.faults).admit(&token);
        match refusal {
            None => Ok(token),
            Some(Refusal::RateLimited) => {
                lock(&self.stats).http_429_served += 1;
                Err(ApiError::rate_limited())
            }
            Some(Refusal::UserRateLimited) => {
                lock(&self.stats).http_403_rate_limit_served += 1;
                Err(ApiError::user_rate_limited())
            }
            Some(Refusal::Backend) => {
                lock(&self.stats).http_5xx_served += 1;
                Err(ApiError::backend_error())
            }
        }
    }
}
