//! EventBridge schedules as timers: the function gets a real-shaped "Scheduled Event".

use std::sync::Arc;
use std::time::Duration;

use crate::Function;

/// `rate(5 minutes)` → 300 s. Cron expressions are not run locally.
pub fn parse_rate(expr: &str) -> Option<Duration> {
    let inner = expr.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86400,
        _ => return None,
    };
    Some(Duration::from_secs(n * secs))
}

pub async fn run(function: Arc<Function>, every: Duration) {
    let mut interval = tokio::time::interval(every);
    interval.tick().await; // the first tick is immediate: wait one period like EventBridge does
    loop {
        interval.tick().await;
        let now = chrono::Utc::now();
        let event = serde_json::json!({
            "version": "0", "id": recorder_domain::ids::new_id(), "detail-type": "Scheduled Event",
            "source": "aws.scheduler", "account": local_aws::provision::ACCOUNT_ID, "time": now.to_rfc3339(),
            "region": local_aws::provision::REGION, "resources": [format!("local:schedule/{}", function.spec.logical_id)], "detail": {}
        });
        match serde_json::from_value(event) {
            Ok(e) => function.scheduled(e).await,
            Err(e) => tracing::error!(error = %e, "could not build a scheduled event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_crons_do_not() {
        assert_eq!(
            parse_rate("rate(5 minutes)"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_rate("cron(0 * * * ? *)"), None);
    }
}
