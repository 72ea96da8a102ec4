//! How fast a webhook delivery is acknowledged on the release local stack: Drive notifications on
//! a connected connector's channel (its real token), sent open-loop at a fixed rate, each
//! acknowledgement timed from the request to its answer. Then how long the worker takes to drain
//! what was queued, and how many syncs the burst gave.
//!
//! `cargo run --release -p e2e-tests --bin bench-webhooks -- --rate 200 --seconds 20 [--disabled]`

use std::time::{Duration, Instant};

mod local;

use local_stack::{HostEnv, Options, start};
use recorder_connectors::push_token::subscription_token;
use serde_json::Value;

const KEY: &str = "bench-webhook-key";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let rate = arg("--rate", 200);
    let seconds = arg("--seconds", 20);
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        fake_google: Some(3),
        fake_google_port: 0,
        host_env: HostEnv::from_pairs([("DRIVE_WEBHOOK_TOKEN".to_string(), KEY.to_string())]),
        ..Options::default()
    };
    let stack = start(options).await.expect("local stack");
    let base = format!("http://{}", stack.addr);
    let http = local::http();
    let token = local::admin_token(&http, &base, "org_bench").await;
    // Connect Drive through OAuth: its channel opens on connect.
    let (callback, cookie) = local::consented(&http, &base, &token).await;
    let connected = local::connect(&http, &callback, &cookie).await;
    let connector = &connected["connector"];
    let id = connector["id"].as_str().unwrap().to_string();
    let channel = connector["webhook"]["channel_id"]
        .as_str()
        .expect("the channel opened on connect")
        .to_string();
    let resource = connector["webhook"]["resource_id"]
        .as_str()
        .unwrap()
        .to_string();
    let channel_token = subscription_token(KEY, &id, &channel);
    // `--disabled`: the connector is paused first, so the worker records every event and queues
    // no sync (what the syncs add to the stack's load, by difference).
    if std::env::args().any(|a| a == "--disabled") {
        let resp = http
            .post(format!("{base}/api/connectors/{id}/disable"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }
    // Let the first sync finish so the burst meets a quiet connector.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let total = rate * seconds;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let t0 = Instant::now();
    // The sender is the provider: it runs on a runtime (and thread) of its own, so its timing is
    // not held up by the stack's tasks, only by the stack's answers.
    let url = format!("{base}/api/connectors/webhooks/drive");
    let sender = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let http = local::http();
            let mut tasks = Vec::with_capacity(total as usize);
            for n in 0..total {
                tokio::time::sleep_until((t0 + interval * n as u32).into()).await;
                let req = http
                    .post(&url)
                    .header("x-goog-channel-id", &channel)
                    .header("x-goog-channel-token", &channel_token)
                    .header("x-goog-resource-id", &resource)
                    .header("x-goog-resource-state", "change")
                    .header("x-goog-message-number", (1000 + n).to_string());
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let status = req.send().await.map(|r| r.status().as_u16()).unwrap_or(0);
                    (sent.elapsed(), status)
                }));
            }
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        })
    });
    let answers = tokio::task::spawn_blocking(move || sender.join().unwrap())
        .await
        .unwrap();
    let failed = answers.iter().filter(|(_, status)| *status != 200).count();
    let mut latencies: Vec<Duration> = answers.into_iter().map(|(took, _)| took).collect();
    let sent_secs = t0.elapsed().as_secs_f64();
    latencies.sort();

    // The worker drains the queue; count the syncs the burst gave.
    let drain = Instant::now();
    let sqs = aws_sdk_sqs::Client::new(&local_aws::moto::sdk_config_for(&stack.aws_endpoint).await);
    let queue = stack.provisioned.names.refs["WebhookEventsQueue"].clone();
    loop {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        let count = |k| {
            attrs
                .get(&k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let left = count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            + count(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
        if left == 0 || drain.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let drained_secs = drain.elapsed().as_secs_f64();
    let logs: Value = http
        .get(format!("{base}/api/connectors/{id}/sync-logs?limit=200"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webhook_syncs = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["sync_type"] == "webhook")
        .count();

    println!(
        "{total} deliveries at {rate}/s (sent in {sent_secs:.1} s): {failed} not 200; acknowledgement \
         p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
    );
    println!(
        "worker: queue drained {drained_secs:.1} s after the last delivery; {webhook_syncs} webhook sync(s) queued"
    );

    // What moto alone costs: the same number of SendMessage calls, at the same rate, straight to
    // the queue (no gateway, no handler), to a queue nothing reads.
    let probe = sqs
        .create_queue()
        .queue_name("bench-probe")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let t1 = Instant::now();
    let mut sends = Vec::with_capacity(total as usize);
    for n in 0..total {
        tokio::time::sleep_until((t1 + interval * n as u32).into()).await;
        let (sqs, probe) = (sqs.clone(), probe.clone());
        sends.push(tokio::spawn(async move {
            let sent = Instant::now();
            let body = format!("{{\"probe\":{n}}}");
            sqs.send_message()
                .queue_url(probe)
                .message_body(body)
                .send()
                .await
                .unwrap();
            sent.elapsed()
        }));
    }
    let mut direct = Vec::with_capacity(sends.len());
    for s in sends {
        direct.push(s.await.unwrap());
    }
    direct.sort();
    println!(
        "moto alone: {total} SendMessage at {rate}/s: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&direct, 0.50),
        percentile(&direct, 0.95),
        percentile(&direct, 0.99),
        percentile(&direct, 1.0),
    );
    let ok = failed == 0 && percentile(&latencies, 0.99) < 50.0;
    println!("result: {}", if ok { "OK" } else { "OVER GOAL" });
}
