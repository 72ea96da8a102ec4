//! The one way connectors call providers: every request waits for its connector's [`Pacer`],
//! and every answer is classified by the provider's rules into ok, throttled, retry or fail.
//!
//! Pacing adapts to what the provider says, not to what we assume: it starts at the configured
//! rate, slows down multiplicatively when the provider throttles (429, Google's 403 rate-limit
//! reasons) and adds the rate back slowly while calls succeed. A throttle or a Retry-After pauses
//! the whole connector, so the calls in flight beside the refused one do not keep hammering the
//! provider. The numbers were tuned in a simulation of a token-bucket provider and are measured
//! in `docs/benchmarks.md` (Drive against a fake at 20 req/s with the setting at 50).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use recorder_domain::source::SourceError;
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::time::Instant;

const MAX_ATTEMPTS: u32 = 8;
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(32);
/// A throttle without Retry-After pauses the connector this long, doubling while throttles
/// follow each other (Google: "wait 1 s + random, then 2 s, 4 s, …").
const THROTTLE_PAUSE: Duration = Duration::from_secs(1);
/// The rate kept after a throttle. Halving (TCP's choice) left 9–12 % of a 20 req/s limit unused
/// in the simulation; 0.7 converges in three throttles from 50 and keeps ≥ 95 % of the limit.
const DECREASE: f64 = 0.7;
/// Rate added back per second of calls at full pace, as a share of the configured rate.
const INCREASE_SHARE: f64 = 0.02;
/// Error bodies are read (to tell a 403 rate limit from a 403 refusal) up to this size.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Pacers of connectors no request holds are forgotten past this many.
const MAX_IDLE_PACERS: usize = 1024;

struct PacerState {
    rate: f64,
    tokens: f64,
    refilled: Instant,
    /// No request leaves before this (a throttle or a Retry-After).
    paused_until: Instant,
    /// A throttle of a request sent at or before this was already answered by a slow-down.
    last_decrease: Option<Instant>,
    /// Throttle epochs in a row without a success between them (for the pause's doubling).
    consecutive: u32,
}

/// One connector's request budget: a token bucket whose rate adapts (see the module docs).
pub struct Pacer {
    ceiling: f64,
    floor: f64,
    state: Mutex<PacerState>,
}

impl Pacer {
    pub fn new(rate_per_sec: f64) -> Self {
        let ceiling = rate_per_sec.max(0.1);
        let now = Instant::now();
        Pacer {
            ceiling,
            floor: (ceiling / 100.0).max(0.1),
            state: Mutex::new(PacerState {
                rate: ceiling,
                // A short burst only: a provider's bucket may be smaller than a second of ours.
                tokens: 1.0,
                refilled: now,
                paused_until: now,
                last_decrease: None,
                consecutive: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate in force now (requests per second).
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    /// Waits until a request may be sent; returns when it was let go (for [`Pacer::throttled`]).
    pub async fn acquire(&self) -> Instant {
        loop {
            let wait = {
                let mut s = self.lock();
                let now = Instant::now();
                if now < s.paused_until {
                    s.paused_until - now
                } else {
                    let since = now.duration_since(s.refilled.max(s.paused_until));
                    s.tokens = (s.tokens + since.as_secs_f64() * s.rate).min(burst(s.rate));
                    s.refilled = now;
                    if s.tokens >= 1.0 {
                        s.tokens -= 1.0;
                        return now;
                    }
                    Duration::from_secs_f64((1.0 - s.tokens) / s.rate)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// A call went through: add a little rate back (about `INCREASE_SHARE` of the ceiling per
    /// second at full pace).
    pub fn succeeded(&self) {
        let mut s = self.lock();
        s.consecutive = 0;
        s.rate = (s.rate + self.ceiling * INCREASE_SHARE / s.rate).min(self.ceiling);
    }

    /// The provider throttled a request sent at `sent_at`: slow down once per throttle (the
    /// requests in flight beside it are refused by the same overload) and pause every request.
    pub fn throttled(&self, sent_at: Instant, retry_after: Option<Duration>) {
        let mut s = self.lock();
        let now = Instant::now();
        if s.last_decrease.is_none_or(|d| sent_at > d) {
            s.rate = (s.rate * DECREASE).max(self.floor);
            s.tokens = 0.0;
            s.last_decrease = Some(now);
            s.consecutive = s.consecutive.saturating_add(1);
        }
        let pause = retry_after.unwrap_or_else(|| {
            THROTTLE_PAUSE
                .saturating_mul(2u32.saturating_pow(s.consecutive.saturating_sub(1)))
                .min(MAX_BACKOFF)
                + jitter(Duration::from_millis(250))
        });
        s.paused_until = s.paused_until.max(now + pause.min(MAX_BACKOFF));
    }

    /// The provider asked every caller to wait (Retry-After on an error that is not a throttle).
    pub fn pause(&self, wait: Duration) {
        let mut s = self.lock();
        let until = Instant::now() + wait.min(MAX_BACKOFF);
        s.paused_until = s.paused_until.max(until);
    }
}

fn burst(rate: f64) -> f64 {
    (rate / 10.0).clamp(1.0, 5.0)
}

fn jitter(max: Duration) -> Duration {
    max.mul_f64(rand::random::<f64>())
}

/// How a response should be treated.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// The provider says we are too fast: slow the connector down, wait, try again.
    Throttled(Option<Duration>),
    /// A passing failure (5xx): wait (at least the given time, when the provider said) and retry.
    Retry(Option<Duration>),
    Fail,
}

/// What every provider means: 2xx ok, 429 throttled, 500/502/503/504 retry, the rest fail.
/// Providers with their own throttle signals (Google's 403 reasons) check those first.
pub fn classify(status: StatusCode, headers: &HeaderMap, _body: &[u8]) -> Verdict {
    match status.as_u16() {
        200..=299 => Verdict::Ok,
        429 => Verdict::Throttled(retry_after(headers)),
        500 | 502 | 503 | 504 => Verdict::Retry(retry_after(headers)),
        _ => Verdict::Fail,
    }
}

/// Retry-After as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// Full jitter: a random wait up to the exponential ceiling for this attempt.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE_BACKOFF
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(MAX_BACKOFF);
    jitter(ceiling)
}

pub struct PacedClient {
    http: reqwest::Client,
    rate: f64,
    /// One pacer per connector: providers limit per user or token, not per Lambda.
    pacers: Mutex<HashMap<String, Arc<Pacer>>>,
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
            rate: rate_per_sec,
            pacers: Mutex::new(HashMap::new()),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The pacer of one connector (created at the configured rate on first use).
    pub fn pacer(&self, key: &str) -> Arc<Pacer> {
        let mut pacers = self.pacers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = pacers.get(key) {
            return p.clone();
        }
        if pacers.len() >= MAX_IDLE_PACERS {
            pacers.retain(|_, p| Arc::strong_count(p) > 1);
        }
        let p = Arc::new(Pacer::new(self.rate));
        pacers.insert(key.to_string(), p.clone());
        p
    }

    /// Sends the request built by `make` (rebuilt per attempt) for connector `key`, paced and
    /// retried as `classify` says (it sees the body of error answers). Returns the final
    /// response, successful or not, or a transient error when retries ran out.
    pub async fn send<F, C>(&self, key: &str, make: F, classify: C) -> Result<Response, SourceError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
        C: Fn(StatusCode, &HeaderMap, &[u8]) -> Verdict,
    {
        let pacer = self.pacer(key);
        let mut last = String::new();
        for attempt in 0..MAX_ATTEMPTS {
            let sent_at = pacer.acquire().await;
            let resp = match make(&self.http).send().await {
                Ok(resp) => resp,
                Err(e) if e.is_timeout() || e.is_connect() || e.is_request() => {
                    last = e.to_string();
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(SourceError::io("provider request failed", e));
                }
            };
            let status = resp.status();
            if status.is_success() {
                pacer.succeeded();
                return Ok(resp);
            }
            let (headers, body) = buffered(resp).await?;
            match classify(status, &headers, &body) {
                Verdict::Ok | Verdict::Fail => return Ok(rebuilt(status, headers, body)),
                Verdict::Throttled(after) => {
                    last = format!("HTTP {status} (throttled)");
                    tracing::debug!(%status, ?after, attempt, "provider throttled; slowing down");
                    pacer.throttled(sent_at, after);
                }
                Verdict::Retry(after) => {
                    last = format!("HTTP {status}");
                    tracing::debug!(%status, ?after, attempt, "provider failed; retrying");
                    match after {
                        Some(wait) => pacer.pause(wait),
                        None => tokio::time::sleep(backoff(attempt)).await,
                    }
                }
            }
        }
        Err(SourceError::Transient(format!(
            "the provider kept failing after {MAX_ATTEMPTS} attempts ({last})"
        )))
    }
}

/// Reads an error answer's headers and body (capped) so it can be classified and then handed
/// back as it came ([`rebuilt`]).
async fn buffered(mut resp: Response) -> Result<(HeaderMap, Bytes), SourceError> {
    let headers = std::mem::take(resp.headers_mut());
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| SourceError::io("provider answer unreadable", e))?
    {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    Ok((headers, Bytes::from(body)))
}

fn rebuilt(status: StatusCode, headers: HeaderMap, body: Bytes) -> Response {
    let mut out = http::Response::new(body);
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    Response::from(out)
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
        for _ in 0..31 {
            pacer.acquire().await;
        }
        // One in the initial burst, then 30 more at 10/s.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(2900) && elapsed <= Duration::from_millis(3100),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_slows_the_pacer_once_per_overload_and_pauses_every_request() {
        let pacer = Pacer::new(50.0);
        let sent: Vec<Instant> = futures::future::join_all((0..4).map(|_| pacer.acquire())).await;
        // Four requests in flight are refused by the same overload: one slow-down, not four.
        for at in &sent {
            pacer.throttled(*at, Some(Duration::from_secs(2)));
        }
        assert!((pacer.rate() - 35.0).abs() < 1e-9, "{}", pacer.rate());
        let before = Instant::now();
        pacer.acquire().await;
        assert!(
            before.elapsed() >= Duration::from_secs(2),
            "the Retry-After pause holds everyone"
        );
        // A request sent after the slow-down and throttled again slows it down again.
        let at = pacer.acquire().await;
        pacer.throttled(at, None);
        assert!((pacer.rate() - 24.5).abs() < 1e-9, "{}", pacer.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_comes_back_slowly_while_calls_succeed() {
        let pacer = Pacer::new(50.0);
        let at = pacer.acquire().await;
        pacer.throttled(at, None);
        assert!((pacer.rate() - 35.0).abs() < 1e-9);
        // About one second of calls at full pace adds back ~2 % of the ceiling (1 req/s).
        for _ in 0..35 {
            pacer.succeeded();
        }
        let r = pacer.rate();
        assert!(r > 35.9 && r < 36.1, "{r}");
        for _ in 0..100_000 {
            pacer.succeeded();
        }
        assert_eq!(pacer.rate(), 50.0, "never above the configured rate");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert("retry-after", later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
