//! `fake-whisper [--port N] [--api-key KEY | --no-auth] [--latency-ms N]`
//! Runs the fake until Ctrl-C and prints where it listens.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use fake_whisper::{FakeWhisper, FakeWhisperConfig};

const USAGE: &str = "usage: fake-whisper [--port N] [--api-key KEY | --no-auth] [--latency-ms N]";

fn parse_args() -> Result<(u16, FakeWhisperConfig), String> {
    let (mut port, mut config) = (4455, FakeWhisperConfig::default());
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--help" | "-h" => return Err(String::new()),
            "--no-auth" => {
                config.api_key = None;
                continue;
            }
            "--port" | "--api-key" | "--latency-ms" => {}
            _ => return Err(format!("unknown argument: {flag}")),
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--port" => {
                port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port: {value}"))?
            }
            "--api-key" => config.api_key = Some(value),
            "--latency-ms" => {
                let ms = value
                    .parse()
                    .map_err(|_| format!("--latency-ms: not a number: {value}"))?;
                config.latency = Some(Duration::from_millis(ms)).filter(|d| !d.is_zero());
            }
            _ => unreachable!("flags are checked above"),
        }
    }
    Ok((port, config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (port, config) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let auth = match &config.api_key {
        Some(_) => "bearer key required (--api-key)",
        None => "no auth",
    };
    let fake = match FakeWhisper::start_on(addr, config).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("fake-whisper: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", fake.base_url());
    eprintln!(
        "fake-whisper: POST {}/v1/audio/transcriptions, {auth}; Ctrl-C to stop",
        fake.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
