//! Benchmark: one recording far larger than the function's memory (default 1 GiB of WAV) through
//! the doc-processor pipeline with the real S3/DynamoDB adapters on moto, transcribed through the
//! fake Whisper running as its own process. Reports wall time, pieces sent, and this process's
//! peak RSS while processing (the 512 MB Lambda is the bar).
//!
//! cargo build --release -p fake-whisper
//! cargo run --release -p e2e-tests --bin bench-large-media -- --mb 1024 [--format wav|mp3|csv]
//! cargo run --release -p e2e-tests --bin bench-large-media -- --file /tmp/extract-corpus/pdf-large/illustrated-200mb.pdf

use std::time::{Duration, Instant};

use bytes::Bytes;
use recorder_domain::connector::ConnectorType;
use recorder_domain::document::ImportedDocument;
use recorder_domain::keys::{ArtifactKind, object_key};
use recorder_processing::{Options, Outcome, process_document};

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// Peak resident memory of this process so far (kB), and a way to start counting again.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// 8 kHz mono 16-bit PCM, a new "tone" every 10 s, made 8 MB at a time.
fn wav_stream(data_len: u64) -> recorder_domain::source::ByteStream {
    let mut header = b"RIFF".to_vec();
    header.extend_from_slice(&((36 + data_len) as u32).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    header.extend_from_slice(&8000u32.to_le_bytes());
    header.extend_from_slice(&16000u32.to_le_bytes());
    header.extend_from_slice(b"\x02\0\x10\0data");
    header.extend_from_slice(&(data_len as u32).to_le_bytes());
    let step = 8 * 1024 * 1024u64;
    let chunks = (0..data_len.div_ceil(step)).map(move |i| {
        let from = i * step;
        let to = data_len.min(from + step);
        let mut out = Vec::with_capacity((to - from) as usize + 64);
        if i == 0 {
            out.extend_from_slice(&header);
        }
        for byte in (from..to).step_by(2) {
            let tone = (byte / 2 / 80_000 % 200 + 1) as i16 * 10;
            out.extend_from_slice(&tone.to_le_bytes());
        }
        Ok(Bytes::from(out))
    });
    Box::pin(futures::stream::iter(chunks))
}

/// MPEG-1 Layer III frames at 128 kbps (silent payload), made 8 MB at a time.
fn mp3_stream(len: u64) -> recorder_domain::source::ByteStream {
    let frames = len / 418;
    let per_chunk = 20_000u64;
    let chunks = (0..frames.div_ceil(per_chunk)).map(move |c| {
        let mut out = Vec::new();
        for i in c * per_chunk..frames.min((c + 1) * per_chunk) {
            let padded = i % 3 == 0;
            let start = out.len();
            out.extend_from_slice(&[0xFF, 0xFB, if padded { 0x92 } else { 0x90 }, 0x00]);
            out.resize(start + if padded { 418 } else { 417 }, 0);
        }
        Ok(Bytes::from(out))
    });
    Box::pin(futures::stream::iter(chunks))
}

/// A ledger CSV: 10 columns, one quoted field with the delimiter in it, made 8 MB at a time.
fn csv_stream(len: u64) -> recorder_domain::source::ByteStream {
    let header = "date,account,counterparty,amount,currency,category,region,owner,status,memo\n";
    let mut made = 0u64;
    let mut row = 0u64;
    let chunks = std::iter::from_fn(move || {
        if made >= len {
            return None;
        }
        let mut out = String::with_capacity(8 * 1024 * 1024 + 256);
        if made == 0 {
            out.push_str(header);
        }
        while out.len() < 8 * 1024 * 1024 && made + (out.len() as u64) < len {
            out.push_str(&format!(
                "2026-{:02}-{:02},ACC-{:06},Vendor {},{}.{:02},EUR,ops,emea,owner{},posted,\"net 30, paid\"\n",
                row % 12 + 1, row % 28 + 1, row, row % 977, row % 100_000, row % 100, row % 50
            ));
            row += 1;
        }
        made += out.len() as u64;
        Some(Ok(Bytes::from(out)))
    });
    Box::pin(futures::stream::iter(chunks))
}

/// A file from disk, 8 MB at a time.
fn file_stream(path: &str) -> recorder_domain::source::ByteStream {
    use std::io::Read;
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let chunks = std::iter::from_fn(move || {
        let mut buf = vec![0; 8 * 1024 * 1024];
        match file.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some(Ok(Bytes::from(buf)))
            }
            Err(e) => panic!("read: {e}"),
        }
    });
    Box::pin(futures::stream::iter(chunks))
}

#[tokio::main]
async fn main() {
    let mb: u64 = arg("--mb", "1024").parse().expect("--mb N");
    let file = arg("--file", "");
    let format = match file.rsplit_once('.') {
        Some((_, ext)) if !file.is_empty() => ext.to_lowercase(),
        _ => arg("--format", "wav"),
    };
    let port: u16 = 4466;
    let whisper_bin = local_aws::workspace_root().join("target/release/fake-whisper");
    let mut whisper = std::process::Command::new(&whisper_bin)
        .args(["--port", &port.to_string(), "--no-auth"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (cargo build --release -p fake-whisper)",
                whisper_bin.display()
            )
        });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (sdk, provisioned) = local_aws::testing::fresh_stack().await;
    let api = provisioned
        .functions
        .iter()
        .find(|f| f.binary == "doc-processor")
        .expect("doc-processor in template");
    let config = recorder_aws::config::Config::from_lookup(|k| api.env.get(k).cloned())
        .expect("template env makes a valid config");
    let deps = recorder_aws::build_deps(&config, &sdk, |_| {
        Ok::<_, std::convert::Infallible>(std::sync::Arc::new(
            recorder_domain::memory::StaticProviders::default(),
        ))
    })
    .unwrap();

    let id = recorder_domain::ids::new_id();
    let name = match file.rsplit_once('/') {
        Some((_, base)) => base.to_string(),
        None if !file.is_empty() => file.clone(),
        None => format!("all-hands.{format}"),
    };
    let now = chrono::Utc::now();
    let key = object_key(
        "org_bench",
        ConnectorType::FileUpload,
        "direct",
        now,
        ArtifactKind::Original,
        &id,
        &name,
    );
    let size = mb * 1024 * 1024;
    let (stream, content_type) = match format.as_str() {
        _ if !file.is_empty() => (file_stream(&file), "application/octet-stream"),
        "mp3" => (mp3_stream(size), "audio/mpeg"),
        "csv" => (csv_stream(size), "text/csv"),
        _ => (wav_stream(size - 44), "audio/wav"),
    };
    let t0 = Instant::now();
    let stored = deps
        .blobs
        .put_stream(&key, content_type, stream)
        .await
        .unwrap_or_else(|e| panic!("upload: {e:?}"));
    println!(
        "stored {:.1} MB in {:.1} s (peak RSS while uploading {} MB)",
        stored.size as f64 / 1e6,
        t0.elapsed().as_secs_f64(),
        peak_rss_kb() / 1024
    );
    let doc: ImportedDocument = serde_json::from_value(serde_json::json!({
        "id": id, "org_id": "org_bench", "connector_id": null, "external_id": id,
        "external_url": null, "parent_external_id": null, "title": name, "mime_type": content_type,
        "size_bytes": stored.size, "content_hash": null, "processing_status": "pending",
        "processing_error": null, "first_synced_at": now, "last_synced_at": now,
        "deleted_at": null, "original_key": key, "extracted_key": null, "chunks_key": null,
        "duplicate_of": null, "batch_id": null, "updated_at": now
    }))
    .unwrap();
    deps.documents.create(&doc).await.unwrap();

    let base = format!("http://127.0.0.1:{port}");
    let options = Options::from_lookup(&|k| match k {
        "TRANSCRIPTION_BASE_URL" => Some(base.clone()),
        _ => None,
    })
    .unwrap();
    reset_peak_rss();
    let before = peak_rss_kb();
    let t1 = Instant::now();
    let outcome = process_document(&deps, "org_bench", &id, &options).await;
    let took = t1.elapsed().as_secs_f64();
    let peak = peak_rss_kb();
    let _ = whisper.kill();
    let _ = whisper.wait();
    let doc = deps.documents.get(&id).await.unwrap().unwrap();
    let extracted = &doc.source_metadata["extracted"];
    let t = &extracted["transcription"];
    println!(
        "processed in {took:.1} s ({:.1} MB/s): {outcome:?}; pieces {}, segments {}, duration {} s, rows {}, pages {}, chunks {}",
        stored.size as f64 / 1e6 / took,
        t["pieces"],
        t["segments"],
        extracted["duration_secs"],
        extracted["extra"]["rows"],
        extracted["page_count"],
        doc.chunk_count,
    );
    println!(
        "peak RSS while processing: {} MB (at start {} MB); Lambda memory: 512 MB",
        peak / 1024,
        before / 1024
    );
    assert!(
        matches!(outcome, Ok(Outcome::Completed { .. })),
        "{outcome:?}"
    );
}
