//! Benchmark: a Google Drive of N files synced end to end on the local stack against the fake
//! Google with a configured rate limit, then an incremental sync after edits, deletions and
//! additions. Reports wall time, API calls, requests per second and the share of the rate limit
//! used, and checks that nothing was lost or duplicated.
//!
//! cargo run --release -p e2e-tests --bin bench-drive-sync -- --files 2000 --rate 100
//! cargo run --release -p e2e-tests --bin bench-drive-sync -- --files 10000 --rate 200 --stores memory
//! cargo run --release -p e2e-tests --bin bench-drive-sync -- --files 2000 --rate 20 --connector-rate 50 --stores memory
//!
//! `--stores local` (default) runs the whole local stack (moto for DynamoDB/S3/SQS, the pollers,
//! the doc-processor): moto answers about a hundred requests a second, so it sets the pace there.
//! `--stores memory` runs the same sync engine and Drive connector over HTTP against the fake, with
//! in-memory stores, to show what the connector itself sustains against a provider's rate limit.
//! `--connector-rate N` sets the connector's own rate above the fake's `--rate` (half the fake's
//! refusals are 429, half 403 userRateLimitExceeded): how the pacer adapts to a stricter provider.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fake_google::NewFile;
use local_stack::{Options, start};
use serde_json::Value;

mod local;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn wait_sync(&self, id: &str, skip: usize) -> Value {
        for round in 0u64.. {
            let logs = self
                .get(&format!("/api/connectors/{id}/sync-logs?limit=50"))
                .await;
            let items = logs["items"].as_array().cloned().unwrap_or_default();
            if items.len() > skip {
                let newest = &items[0];
                if ["success", "partial", "failed"]
                    .contains(&newest["status"].as_str().unwrap_or(""))
                {
                    return newest.clone();
                }
                if round % 20 == 19 {
                    eprintln!("sync {}: {}", newest["status"], newest["progress"]);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        unreachable!("the loop only ends by returning")
    }

    async fn all_documents(&self, id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let page = self
                .get(&format!("/api/connectors/{id}/documents?limit=200{q}"))
                .await;
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let files = arg("--files", 1000) as usize;
    let rate = arg("--rate", 100) as u32;
    if std::env::args().any(|a| a == "memory") {
        let ours = arg("--connector-rate", rate as u64) as u32;
        return memory::run(files, rate, ours).await;
    }
    let options = Options {
        listen: ([127, 0, 0, 1], 0).into(),
        moto_port: 0,
        fake_google: Some(0),
        fake_google_port: 0,
        pollers_per_queue: arg("--pollers", 1) as usize,
        ..Options::default()
    };
    let stack = start(options).await.expect("local stack");
    let fake = stack.fake_google.as_ref().unwrap();
    let ids: Vec<_> = (0..files)
        .map(|i| {
            fake.add_file(NewFile::new(
                format!("file-{i:05}.txt"),
                "text/plain",
                format!("content of file {i}").into_bytes(),
            ))
        })
        .collect();
    let base = format!("http://{}", stack.addr);
    let http = local::http();
    let api = Api {
        http: http.clone(),
        base: base.clone(),
        token: local::admin_token(&http, &base, "org_bench").await,
    };

    // Connect through OAuth; the rate limit applies to the Drive API from here on.
    fake.set_rate_limit(Some(rate));
    let (callback, cookie) = local::consented(&http, &base, &api.token).await;
    fake.reset_stats();
    let t0 = Instant::now();
    let connected = local::connect(&http, &callback, &cookie).await;
    let id = connected["connector"]["id"].as_str().unwrap().to_string();
    api.wait_sync(&id, 0).await;
    // A webhook may have queued a second sync meanwhile: the full sync is every log so far.
    let mut first = api.wait_sync(&id, 0).await;
    if first["status"] != "success" {
        eprintln!("first sync: {first}");
    }
    let so_far = api
        .get(&format!("/api/connectors/{id}/sync-logs?limit=50"))
        .await;
    let logs_so_far = so_far["items"].as_array().cloned().unwrap_or_default();
    let total = |k: &str| {
        logs_so_far
            .iter()
            .map(|l| l["counts"][k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    first["counts"] = serde_json::json!({"synced": total("synced"), "failed": total("failed"), "syncs": logs_so_far.len()});
    if logs_so_far.iter().all(|l| l["status"] == "success") {
        first["status"] = "success".into();
    }
    let full_secs = t0.elapsed().as_secs_f64();
    let full_stats = fake.stats();
    let full_calls: u64 = full_stats
        .calls
        .iter()
        .filter(|(k, _)| k.starts_with("drive."))
        .map(|(_, v)| v)
        .sum();
    let docs = api.all_documents(&id).await;
    let unique: HashSet<_> = docs
        .iter()
        .map(|d| d["external_id"].as_str().unwrap().to_string())
        .collect();
    // Synced is not the end: wait until the doc-processor has finished every document.
    // Listing 10,000 documents is itself heavy work for moto, so progress comes from the count of
    // `document.processed` events (one per completed document) and the full listing is read once
    // that count is reached (or stops moving for two minutes).
    let sqs = aws_sdk_sqs::Client::new(&local_aws::moto::sdk_config_for(&stack.aws_endpoint).await);
    let events_queue = stack.provisioned.names.refs["DocumentEventsQueue"].clone();
    let (mut last, mut since) = (0u64, Instant::now());
    loop {
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&events_queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .ok()
            .and_then(|o| o.attributes)
            .unwrap_or_default();
        let events: u64 = attrs
            .get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if events != last {
            (last, since) = (events, Instant::now());
        }
        if events >= files as u64 || since.elapsed() > Duration::from_secs(120) {
            break;
        }
        eprintln!(
            "[{:.0} s] processed {events} of {files} documents",
            t0.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let processed_docs = loop {
        let docs = api.all_documents(&id).await;
        let done = docs
            .iter()
            .filter(|d| d["processing_status"] == "completed" || d["processing_status"] == "failed")
            .count();
        if done == docs.len() {
            break docs;
        }
        eprintln!(
            "[{:.0} s] listed: {done} of {} documents done",
            t0.elapsed().as_secs_f64(),
            docs.len()
        );
        tokio::time::sleep(Duration::from_secs(30)).await;
    };
    let processed_secs = t0.elapsed().as_secs_f64();
    let completed = processed_docs
        .iter()
        .filter(|d| d["processing_status"] == "completed")
        .count();

    // 100 edits, 20 deletions, 10 new files (scaled down for small drives).
    let (edits, deletions, new) = (
        (files / 100).clamp(1, 100),
        (files / 500).clamp(1, 20),
        (files / 1000).clamp(1, 10),
    );
    for id in &ids[0..edits] {
        fake.update_content(id, b"edited".to_vec()).unwrap();
    }
    for id in &ids[edits..edits + deletions] {
        fake.delete(id).unwrap();
    }
    for i in 0..new {
        fake.add_file(NewFile::new(
            format!("new-{i}.txt"),
            "text/plain",
            format!("new {i}").into_bytes(),
        ));
    }
    fake.reset_stats();
    let t1 = Instant::now();
    let _ = http
        .post(format!("{base}/api/connectors/{id}/sync"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let mut incremental = api.wait_sync(&id, 1).await;
    // A webhook-triggered sync may have run the changes first; sum every sync after the first.
    let logs = api
        .get(&format!("/api/connectors/{id}/sync-logs?limit=50"))
        .await;
    let later: Vec<_> = logs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !logs_so_far.iter().any(|f| f["id"] == l["id"]))
        .cloned()
        .collect();
    let sum = |k: &str| {
        later
            .iter()
            .map(|l| l["counts"][k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    incremental["counts"] = serde_json::json!({"updated": sum("updated"), "deleted": sum("deleted"), "synced": sum("synced"), "failed": sum("failed")});
    let inc_secs = t1.elapsed().as_secs_f64();
    let inc_stats = fake.stats();
    let inc_calls: u64 = inc_stats
        .calls
        .iter()
        .filter(|(k, _)| k.starts_with("drive."))
        .map(|(_, v)| v)
        .sum();

    let rps = full_calls as f64 / full_secs;
    println!("drive sync benchmark: {files} files, fake rate limit {rate} req/s");
    println!(
        "full sync:        {:.1} s, status {}, synced {}, failed {}",
        full_secs, first["status"], first["counts"]["synced"], first["counts"]["failed"]
    );
    println!(
        "                  {full_calls} Drive API calls, {rps:.1} req/s = {:.0}% of the rate limit, throttled: {} × 429, {} × 403",
        100.0 * rps / rate as f64,
        full_stats.http_429_served,
        full_stats.http_403_rate_limit_served
    );
    println!(
        "                  documents: {} listed, {} unique external ids (lost: {}, duplicated: {})",
        docs.len(),
        unique.len(),
        files.saturating_sub(unique.len()),
        docs.len() - unique.len()
    );
    println!(
        "synced and processed: {processed_secs:.1} s from connect ({completed} completed, {} failed)",
        processed_docs.len() - completed
    );
    println!(
        "incremental sync: {:.1} s after {edits} edits, {deletions} deletions, {new} new: counts {}",
        inc_secs, incremental["counts"]
    );
    println!(
        "                  {inc_calls} Drive API calls; files.list calls: {}",
        inc_stats.calls_to("drive.files.list")
    );
    let exact = sum("updated") == edits as u64
        && sum("deleted") == deletions as u64
        && sum("synced") == new as u64;
    let ok = first["status"] == "success" && unique.len() == files && docs.len() == files && exact;
    println!("result: {}", if ok { "OK" } else { "MISMATCH" });
    std::process::exit(if ok { 0 } else { 1 });
}

mod memory {
    use std::sync::Arc;
    use std::time::Instant;

    use fake_google::{FakeConfig, FakeGoogle, NewFile};
    use recorder_connectors::google::drive::{DriveSource, SCOPES};
    use recorder_connectors::google::oauth::GoogleOAuth;
    use recorder_connectors::google::settings::GoogleSettings;
    use recorder_domain::connector::ConnectorType;
    use recorder_domain::memory::{MemoryDeps, test_connector};
    use recorder_domain::ports::TokenStore;
    use recorder_domain::secret::{OAuthTokens, Secret};
    use recorder_domain::service::connector_writes::queue_sync;
    use recorder_domain::service::sync::run_sync_job;
    use recorder_domain::sync_log::SyncType;

    /// `rate`: the fake's limit; `ours`: the connector's setting (above the limit to measure how
    /// the pacer adapts to a provider stricter than we assumed).
    pub async fn run(files: usize, rate: u32, ours: u32) {
        let fake = FakeGoogle::start(FakeConfig::default()).await.unwrap();
        let ids: Vec<_> = (0..files)
            .map(|i| {
                fake.add_file(NewFile::new(
                    format!("file-{i:05}.txt"),
                    "text/plain",
                    format!("content of file {i}").into_bytes(),
                ))
            })
            .collect();
        let m = MemoryDeps::new();
        let s = GoogleSettings {
            auth_url: fake.auth_url(),
            token_url: fake.token_url(),
            api_base_url: fake.api_base_url(),
            rate_limit_per_sec: ours as f64,
            ..GoogleSettings::defaults()
        };
        m.providers.register(
            ConnectorType::GoogleDrive,
            Arc::new(DriveSource::new(s.clone())),
        );
        m.providers.register_oauth(
            ConnectorType::GoogleDrive,
            Arc::new(GoogleOAuth::new(s, m.secrets.clone(), SCOPES)),
        );
        let now = m.deps.clock.now();
        let connector = test_connector("c1", "org", ConnectorType::GoogleDrive, "Drive", now);
        m.deps.connectors.create(&connector).await.unwrap();
        let token = fake.issue_access_token(fake_google::mime::DRIVE_READONLY_SCOPE);
        let tokens = OAuthTokens {
            access_token: Secret::new(token),
            refresh_token: None,
            expires_at: Some(now + chrono::Duration::hours(2)),
            scope: None,
        };
        m.secrets.put_tokens("c1", &tokens).await.unwrap();
        fake.set_rate_limit(Some(rate));
        fake.reset_stats();

        let sync = || async {
            let log = queue_sync(&m.deps, &connector, SyncType::Manual, None)
                .await
                .unwrap();
            let job = m.queue.sent_sync_jobs().last().cloned().unwrap();
            run_sync_job(&m.deps, &job, None).await.unwrap();
            m.deps.sync_logs.get("c1", &log.id).await.unwrap().unwrap()
        };
        let t0 = Instant::now();
        let first = sync().await;
        let secs = t0.elapsed().as_secs_f64();
        let stats = fake.stats();
        let calls: u64 = stats
            .calls
            .iter()
            .filter(|(k, _)| k.starts_with("drive."))
            .map(|(_, v)| v)
            .sum();
        let rps = calls as f64 / secs;
        let docs = count_documents(&m).await;

        let (edits, deletions, new) = (100.min(files / 10), 20.min(files / 50), 10);
        for id in &ids[0..edits] {
            fake.update_content(id, b"edited".to_vec()).unwrap();
        }
        for id in &ids[edits..edits + deletions] {
            fake.delete(id).unwrap();
        }
        for i in 0..new {
            fake.add_file(NewFile::new(
                format!("new-{i}.txt"),
                "text/plain",
                b"new".to_vec(),
            ));
        }
        fake.reset_stats();
        let t1 = Instant::now();
        let inc = sync().await;
        let inc_secs = t1.elapsed().as_secs_f64();
        let inc_calls: u64 = fake
            .stats()
            .calls
            .iter()
            .filter(|(k, _)| k.starts_with("drive."))
            .map(|(_, v)| v)
            .sum();
        let throttled = stats.http_429_served + stats.http_403_rate_limit_served;
        println!(
            "drive sync benchmark (memory stores): {files} files, fake rate limit {rate} req/s, connector set to {ours} req/s"
        );
        println!(
            "full sync:        {secs:.1} s, {:?}, synced {}, failed {}",
            first.status, first.counts.synced, first.counts.failed
        );
        println!(
            "                  {calls} Drive API calls, {rps:.1} req/s = {:.0}% of the rate limit",
            100.0 * rps / rate as f64,
        );
        println!(
            "                  throttled: {throttled} ({:.2}% of calls; {} × 429, {} × 403 userRateLimitExceeded)",
            100.0 * throttled as f64 / calls.max(1) as f64,
            stats.http_429_served,
            stats.http_403_rate_limit_served
        );
        println!(
            "                  documents: {} (lost: {})",
            docs,
            files.saturating_sub(docs)
        );
        println!(
            "incremental sync: {inc_secs:.1} s after {edits} edits, {deletions} deletions, {new} new: updated {}, deleted {}, synced {} ({inc_calls} API calls)",
            inc.counts.updated, inc.counts.deleted, inc.counts.synced
        );
        let ok = first.counts.synced as usize == files
            && first.counts.failed == 0
            && docs == files
            && inc.counts.updated as usize == edits
            && inc.counts.deleted as usize == deletions
            && inc.counts.synced as usize == new;
        println!("result: {}", if ok { "OK" } else { "MISMATCH" });
        std::process::exit(if ok { 0 } else { 1 });
    }

    /// Distinct documents of the connector, paging through the store like the API does.
    async fn count_documents(m: &MemoryDeps) -> usize {
        let mut seen = std::collections::HashSet::new();
        let mut cursor = None;
        loop {
            let page = m
                .deps
                .documents
                .list_by_connector(
                    "c1",
                    &recorder_domain::paging::PageRequest::new(Some(200), cursor),
                )
                .await
                .unwrap();
            seen.extend(page.items.into_iter().map(|d| d.external_id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return seen.len(),
            }
        }
    }
}
