//! `fake-google [--port N] [--seed-files N] [--seed S] [--rate-limit N] [--client-id X --client-secret Y]`
//! Runs the fake until Ctrl-C and prints the environment that points the product at it.

use std::net::SocketAddr;
use std::process::ExitCode;

use fake_google::{FakeConfig, FakeGoogle};

struct Args {
    port: u16,
    seed_files: usize,
    seed: u64,
    config: FakeConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        seed_files: 0,
        seed: 1,
        config: FakeConfig::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag.as_str() {
            "--port" => {
                args.port = u16::try_from(number(&value)?)
                    .map_err(|_| format!("--port: out of range: {value}"))?
            }
            "--seed-files" => args.seed_files = number(&value)? as usize,
            "--seed" => args.seed = number(&value)?,
            "--rate-limit" => {
                args.config.rate_limit_per_sec = Some(number(&value)? as u32).filter(|n| *n > 0)
            }
            "--client-id" => args.config.client_id = value,
            "--client-secret" => args.config.client_secret = value,
            _ => return Err(format!("unknown argument: {flag}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!(
                "usage: fake-google [--port N] [--seed-files N] [--seed S] [--rate-limit N] [--client-id X --client-secret Y]"
            );
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let (client_id, client_secret) = (
        args.config.client_id.clone(),
        args.config.client_secret.clone(),
    );
    let fake = match FakeGoogle::start_on(addr, args.config).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!("fake-google: cannot listen on {addr}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if args.seed_files > 0 {
        fake.seed(args.seed_files, args.seed);
    }
    println!("fake-google listening on {}", fake.base_url);
    println!("GOOGLE_AUTH_URL={}", fake.auth_url());
    println!("GOOGLE_TOKEN_URL={}", fake.token_url());
    println!("GOOGLE_API_BASE_URL={}", fake.api_base_url());
    println!("GOOGLE_CLIENT_ID={client_id}");
    println!("GOOGLE_CLIENT_SECRET={client_secret}");
    println!(
        "(controls: {}/_fake/stats, /_fake/faults, /_fake/files, /_fake/seed)",
        fake.base_url
    );
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
