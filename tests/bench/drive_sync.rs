//! Benchmark: a Google Drive of N files synced end to end on the local stack against the fake
//! Google with a configured rate limit, then an incremental sync after edits, deletions and
//! additions. Reports wall time, API calls, requests per second and the share of the rate limit
//! used, and checks that nothing was lost or duplicated.
//!
//! cargo run --release -p e2e-tests --bin bench-drive-sync -- --files 10000 --rate 100

use std::collections::HashSet;
use std::time::{Duration, Instant};

use fake_google::NewFile;
use local_stack::{start, Options};
use serde_json::Value;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap().json().await.unwrap()
    }

    async fn wait_sync(&self, id: &str, skip: usize) -> Value {
        loop {
            let logs = self.get(&format!("/api/connectors/{id}/sync-logs?limit=50")).await;
            let items = logs["items"].as_array().cloned().unwrap_or_default();
            if items.len() > skip {
                let newest = &items[0];
                if ["success", "partial", "failed"].contains(&newest["status"].as_str().unwrap_or("")) {
                    return newest.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn all_documents(&self, id: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = cursor.as_ref().map(|c| format!("&cursor={c}")).unwrap_or_default();
            let page = self.get(&format!("/api/connectors/{id}/documents?limit=200{q}")).await;
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
    let options = Options { listen: ([127, 0, 0, 1], 0).into(), moto_port: 0, fake_google: Some(0), fake_google_port: 0, ..Options::default() };
    let stack = start(options).await.expect("local stack");
    let fake = stack.fake_google.as_ref().unwrap();
    let ids: Vec<_> = (0..files).map(|i| fake.add_file(NewFile::new(format!("file-{i:05}.txt"), "text/plain", format!("content of file {i}").into_bytes()))).collect();
    let base = format!("http://{}", stack.addr);
    let t: Value = reqwest::get(format!("{base}/_local/token?org_id=org_bench&user_id=u&role=admin")).await.unwrap().json().await.unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let api = Api { http: http.clone(), base: base.clone(), token: t["token"].as_str().unwrap().to_string() };

    // Connect through OAuth; the rate limit applies to the Drive API from here on.
    fake.set_rate_limit(Some(rate));
    let start_resp = http.get(format!("{base}/api/connectors/auth/google_drive")).bearer_auth(&api.token).send().await.unwrap();
    let consent = start_resp.headers()["location"].to_str().unwrap().to_string();
    let back = http.get(&consent).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    fake.reset_stats();
    let t0 = Instant::now();
    let connected: Value = http.get(&callback).send().await.unwrap().json().await.unwrap();
    let id = connected["connector"]["id"].as_str().unwrap().to_string();
    let first = api.wait_sync(&id, 0).await;
    let full_secs = t0.elapsed().as_secs_f64();
    let full_stats = fake.stats();
    let full_calls: u64 = full_stats.calls.iter().filter(|(k, _)| k.starts_with("drive.")).map(|(_, v)| v).sum();
    let docs = api.all_documents(&id).await;
    let unique: HashSet<_> = docs.iter().map(|d| d["external_id"].as_str().unwrap().to_string()).collect();

    // 100 edits, 20 deletions, 10 new files (scaled down for small drives).
    let (edits, deletions, new) = ((files / 100).min(100).max(1), (files / 500).min(20).max(1), (files / 1000).min(10).max(1));
    for id in &ids[0..edits] {
        fake.update_content(id, b"edited".to_vec()).unwrap();
    }
    for id in &ids[edits..edits + deletions] {
        fake.delete(id).unwrap();
    }
    for i in 0..new {
        fake.add_file(NewFile::new(format!("new-{i}.txt"), "text/plain", format!("new {i}").into_bytes()));
    }
    fake.reset_stats();
    let t1 = Instant::now();
    let _ = http.post(format!("{base}/api/connectors/{id}/sync")).bearer_auth(&api.token).send().await.unwrap();
    let mut incremental = api.wait_sync(&id, 1).await;
    // A webhook-triggered sync may have run the changes first; sum every sync after the first.
    let logs = api.get(&format!("/api/connectors/{id}/sync-logs?limit=50")).await;
    let later: Vec<_> = logs["items"].as_array().unwrap().iter().filter(|l| l["id"] != first["id"]).cloned().collect();
    let sum = |k: &str| later.iter().map(|l| l["counts"][k].as_u64().unwrap_or(0)).sum::<u64>();
    incremental["counts"] = serde_json::json!({"updated": sum("updated"), "deleted": sum("deleted"), "synced": sum("synced"), "failed": sum("failed")});
    let inc_secs = t1.elapsed().as_secs_f64();
    let inc_stats = fake.stats();
    let inc_calls: u64 = inc_stats.calls.iter().filter(|(k, _)| k.starts_with("drive.")).map(|(_, v)| v).sum();

    let rps = full_calls as f64 / full_secs;
    println!("drive sync benchmark: {files} files, fake rate limit {rate} req/s");
    println!("full sync:        {:.1} s, status {}, synced {}, failed {}", full_secs, first["status"], first["counts"]["synced"], first["counts"]["failed"]);
    println!("                  {full_calls} Drive API calls, {rps:.1} req/s = {:.0}% of the rate limit, 429s served: {}", 100.0 * rps / rate as f64, full_stats.http_429_served);
    println!("                  documents: {} listed, {} unique external ids (lost: {}, duplicated: {})", docs.len(), unique.len(), files.saturating_sub(unique.len()), docs.len() - unique.len());
    println!("incremental sync: {:.1} s after {edits} edits, {deletions} deletions, {new} new: counts {}", inc_secs, incremental["counts"]);
    println!("                  {inc_calls} Drive API calls; files.list calls: {}", inc_stats.calls_to("drive.files.list"));
    let exact = sum("updated") == edits as u64 && sum("deleted") == deletions as u64 && sum("synced") == new as u64;
    let ok = first["status"] == "success" && unique.len() == files && docs.len() == files && exact;
    println!("result: {}", if ok { "OK" } else { "MISMATCH" });
    std::process::exit(if ok { 0 } else { 1 });
}
