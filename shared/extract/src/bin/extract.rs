//! `extract FILE...`: prints each file's Markdown, or with `--json` one JSON object per file
//! ({file, format, metadata, markdown, chunks}). Exits non-zero if any file failed.

use std::io::Write;
use std::process::ExitCode;

use recorder_extract::{ChunkOptions, Extracted, Hints, Limits, chunk, chunk_transcript, extract};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    if files.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        eprintln!("usage: extract [--json] FILE...");
        return ExitCode::from(2);
    }
    let limits = Limits::default();
    let mut failed = false;
    for file in files {
        match run(file, &limits) {
            Ok(extracted) => {
                // A closed pipe (`| head`) ends the output quietly rather than in a panic.
                if print(file, &extracted, json).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
            Err(reason) => {
                eprintln!("{file}: {reason}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run(file: &str, limits: &Limits) -> Result<Extracted, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > limits.max_input_bytes {
        return Err(format!(
            "too large ({size} bytes; limit {} bytes)",
            limits.max_input_bytes
        ));
    }
    let bytes = std::fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    extract(&bytes, &Hints::named(file), limits).map_err(|e| e.to_string())
}

fn print(file: &str, extracted: &Extracted, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if !json {
        return writeln!(out, "{}", extracted.markdown);
    }
    let opts = ChunkOptions::default();
    let chunks = if extracted.segments.is_empty() {
        chunk(&extracted.markdown, &opts)
    } else {
        chunk_transcript(&extracted.segments, &opts)
    };
    let value = serde_json::json!({
        "file": file,
        "format": extracted.format,
        "metadata": extracted.metadata,
        "warnings": extracted.warnings,
        "markdown": extracted.markdown,
        "chunks": chunks,
    });
    writeln!(out, "{value}")
}
