//! `local-stack`: runs the whole product on this machine. See the README's Quick start.

use std::time::Duration;

use local_stack::{HostEnv, Options, Stack, start};

fn usage() -> ! {
    eprintln!(
        "usage: local-stack [--port N] [--moto-port N] [--aws-endpoint URL] [--schedule-every SECS]\n\
         \x20                  [--fake-google] [--seed-files N] [--fake-google-port N] [--allow-url-host HOST:PORT]\n\
         \x20                  [--fake-whisper] [--fake-whisper-port N] [--import-quota N]\n\
         Starts moto (unless --aws-endpoint), creates template.yaml's resources, serves the API on 127.0.0.1:PORT.\n\
         --fake-google runs a fake Google (OAuth + Drive) and points the Google Drive connector at it;\n\
         --seed-files N puts N files in its Drive (implies --fake-google);\n\
         --fake-whisper transcribes audio/video through a fake Whisper endpoint (port 4455 by default);\n\
         --import-quota N sets a monthly import quota of N documents per org.\n\
         Settings the functions read (PUBLIC_BASE_URL, GOOGLE_AUTH_URL, URL_IMPORT_ALLOW_HOSTS, ...) and\n\
         app-secret fields (GOOGLE_CLIENT_ID for google_client_id, ...) are taken from the environment;\n\
         an option wins over the environment. Only names are printed."
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    recorder_aws::telemetry::init();
    let mut options = Options {
        host_env: HostEnv::from_process(),
        ..Options::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--port" => options
                .listen
                .set_port(value().parse().unwrap_or_else(|_| usage())),
            "--moto-port" => options.moto_port = value().parse().unwrap_or_else(|_| usage()),
            "--aws-endpoint" => options.aws_endpoint = Some(value()),
            "--schedule-every" => {
                options.schedule_override = Some(Duration::from_secs(
                    value().parse().unwrap_or_else(|_| usage()),
                ))
            }
            "--fake-google" => options.fake_google = Some(options.fake_google.unwrap_or(0)),
            "--seed-files" => {
                options.fake_google = Some(value().parse().unwrap_or_else(|_| usage()))
            }
            "--fake-google-port" => {
                options.fake_google_port = value().parse().unwrap_or_else(|_| usage())
            }
            "--fake-whisper" => options.fake_whisper = Some(options.fake_whisper.unwrap_or(4455)),
            "--fake-whisper-port" => {
                options.fake_whisper = Some(value().parse().unwrap_or_else(|_| usage()))
            }
            "--import-quota" => {
                let n: u64 = value().parse().unwrap_or_else(|_| usage());
                options
                    .env_overrides
                    .insert("MONTHLY_IMPORT_QUOTA".into(), n.to_string());
            }
            // URL imports may reach this loopback host:port (the sandbox has no internet).
            "--allow-url-host" => {
                let host = value();
                let entry = options
                    .env_overrides
                    .entry("URL_IMPORT_ALLOW_HOSTS".into())
                    .or_default();
                if !entry.is_empty() {
                    entry.push(',');
                }
                entry.push_str(&host);
            }
            _ => usage(),
        }
    }
    let stack = match start(options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("local-stack: {e}");
            std::process::exit(1);
        }
    };
    let base = format!("http://{}", stack.addr);
    println!("recorder-connectors local stack is running\n");
    println!("  AWS (moto):   {}", stack.aws_endpoint);
    for (name, value) in &stack.provisioned.names.refs {
        if [
            "Table",
            "FilesBucket",
            "SyncJobsQueue",
            "DocumentsQueue",
            "AppSecret",
        ]
        .contains(&name.as_str())
        {
            println!("  {name:<13} {value}");
        }
    }
    println!("\n  HTTP API:     {base}");
    for f in &stack.functions {
        for r in &f.spec.routes {
            println!(
                "    {:<6} {:<45} -> {}{}",
                r.method,
                r.path,
                f.spec.binary,
                if r.public { " (no token)" } else { "" }
            );
        }
        for q in &f.spec.queues {
            println!("  poller: {} <- {}", f.spec.binary, q.queue_url);
        }
        for s in &f.spec.schedules {
            println!("  timer:  {} every {s}", f.spec.binary);
        }
    }
    if let Some(fake) = &stack.fake_google {
        println!(
            "\n  Fake Google:  {} ({} files in its Drive; controls under /_fake, e.g. GET {}/_fake/stats)",
            fake.base_url,
            fake.file_count(),
            fake.base_url
        );
    }
    if let Some(whisper) = &stack.fake_whisper {
        println!(
            "\n  Fake Whisper: {} (audio and video are transcribed through it)",
            whisper.base_url()
        );
    }
    print_configuration(&stack);
    println!(
        "\n  Get a token:  curl -s '{base}/_local/token?org_id=org_demo&user_id=user_demo&role=admin'"
    );
    println!("  OpenAPI:      {base}/api/openapi.json");
    println!("\nPress Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    drop(stack);
}

/// What came from the environment and the options (names only for secrets), and the provider
/// endpoints the functions use.
fn print_configuration(stack: &Stack) {
    let src = &stack.sources;
    let names = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let with = |v: &[(String, &str)]| {
        v.iter()
            .map(|(name, by)| format!("{name} ({by})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("\n  From the environment (names only):");
    println!("    settings:   {}", names(&src.settings));
    println!("    app secret: {}", names(&src.secret_fields));
    if !src.secret_fields_set.is_empty() {
        println!("  App secret set here: {}", with(&src.secret_fields_set));
    }
    if !src.replaced.is_empty() {
        println!("  Replaced by an option: {}", with(&src.replaced));
    }
    let Some(env) = stack
        .functions
        .iter()
        .find(|f| f.spec.binary == "oauth")
        .map(|f| &f.spec.env)
    else {
        return;
    };
    let get = |k: &str| env.get(k).map(String::as_str).unwrap_or("");
    println!("  Public URL:   {}", get("PUBLIC_BASE_URL"));
    println!(
        "  Google:       auth {}  token {}  API {}",
        get("GOOGLE_AUTH_URL"),
        get("GOOGLE_TOKEN_URL"),
        get("GOOGLE_API_BASE_URL")
    );
}
