//! The one way connectors call providers: a per-connector request budget (token bucket) that keeps
//! under the provider's documented limit, Retry-After honoured on 429/503, and exponential backoff
//! with full jitter on 5xx and rate-limit answers. A burst of 429s slows a sync down; it does not
//! fail an item.

use std::time::Duration;

use recorder_domain::source::SourceError;
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::Mutex;
use tokio::time::Instant;

const MAX_ATTEMPTS: u32 = 8;
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(32);

/// A token bucket: `rate` requests per second, bursts up to one second's worth.
pub struct Pacer {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Pacer {
    pub fn new(rate_per_sec: f64) -> Self {
        let rate = rate_per_sec.max(0.1);
        Pacer {
            rate,
            state: Mutex::new((rate, Instant::now())),
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
                s.0 = (s.0 + refill).min(self.rate.max(1.0));
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// How a response should be treated.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Wait (at least the given time, when the provider said) and try again.
    Retry(Option<Duration>),
    Fail,
}

/// Retry-After as seconds or an HTTP date.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// Full jitter: a random wait up to the exponential ceiling for this attempt.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(MAX_BACKOFF);
    ceiling.mul_f64(rand::random::<f64>())
}

pub struct PacedClient {
    http: reqwest::Client,
    pacer: Pacer,
}

impl PacedClient {
    pub fn new(rate_per_sec: f64) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("recorder-connectors/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        PacedClient {
            http,
            pacer: Pacer::new(rate_per_sec),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends the request built by `make` (rebuilt per attempt), paced and retried as `classify`
    /// says. Returns the final response, successful or not, or a transient error when retries ran out.
    pub async fn send<F, C>(&self, make: F, classify: C) -> Result<Response, SourceError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
        C: Fn(StatusCode, &Response) -> Verdict,
    {
        let mut last = String::new();
        for attempt in 0..MAX_ATTEMPTS {
            self.pacer.acquire().await;
            match make(&self.http).send().await {
                Ok(resp) => match classify(resp.status(), &resp) {
                    Verdict::Ok | Verdict::Fail => return Ok(resp),
                    Verdict::Retry(after) => {
                        last = format!("HTTP {}", resp.status());
                        let wait = after.unwrap_or_else(|| backoff(attempt)).min(MAX_BACKOFF);
                        tracing::debug!(status = %resp.status(), ?wait, attempt, "provider asked us to slow down or failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                },
                Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => {
                    last = e.to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => {
                    return Err(SourceError::Transient(format!(
                        "provider request failed: {e}"
                    )));
                }
            }
        }
        Err(SourceError::Transient(format!(
            "the provider kept failing after {MAX_ATTEMPTS} attempts ({last})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_exponential_ceiling() {
        for attempt in 0..12 {
            let ceiling = BASE_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempt))
                .min(MAX_BACKOFF);
            assert!(backoff(attempt) <= ceiling);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_keeps_to_its_rate() {
        let pacer = Pacer::new(10.0);
        let start = Instant::now();
        for _ in 0..30 {
            pacer.acquire().await;
        }
        // 10 in the initial burst, then 20 more at 10/s.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1900) && elapsed <= Duration::from_millis(2100),
            "{elapsed:?}"
        );
    }
}
