//! `extract FILE...`: prints each file's Markdown, or with `--json` one JSON object per file
//! ({file, format, metadata, markdown, chunks}). Exits non-zero if any file failed.
//!
//! Markdown is printed as it is read: a PDF's page by page, so a long one is never whole in
//! memory. A PDF that fails part-way (over the decompression limit) leaves the pages printed
//! before the reason on stderr. `--json` needs the whole Markdown to chunk it.

use std::io::Write;
use std::process::ExitCode;

use recorder_extract::{
    ChunkOptions, Extracted, Hints, Limits, chunk, chunk_transcript, extract, extract_to,
};

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
        match run(file, &limits, json) {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                eprintln!("{file}: {reason}");
                failed = true;
            }
            // A closed pipe (`| head`) ends the output quietly rather than in a panic.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cannot write the output: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One file printed; the inner error is why it could not be read, the outer one stdout's.
fn run(file: &str, limits: &Limits, json: bool) -> std::io::Result<Result<(), String>> {
    let bytes = match read(file, limits) {
        Ok(bytes) => bytes,
        Err(reason) => return Ok(Err(reason)),
    };
    let hints = Hints::named(file);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let result = if json {
        match extract(&bytes, &hints, limits) {
            Ok(extracted) => print_json(&mut out, file, &extracted).map(Ok),
            Err(e) => Ok(Err(e.to_string())),
        }
    } else {
        let mut counted = Counted(&mut out, 0);
        let result = extract_to(&bytes, &hints, limits, &mut counted)?;
        // Ends the file's Markdown, also when a PDF failed part-way after printing pages.
        if result.is_ok() || counted.1 > 0 {
            writeln!(out)?;
        }
        Ok(result.map(|_| ()).map_err(|e| e.to_string()))
    };
    out.flush()?;
    result
}

/// A writer that counts what went through it.
struct Counted<'a, W: Write>(&'a mut W, usize);

impl<W: Write> Write for Counted<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1 += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn read(file: &str, limits: &Limits) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > limits.max_input_bytes {
        return Err(format!(
            "too large ({size} bytes; limit {} bytes)",
            limits.max_input_bytes
        ));
    }
    std::fs::read(file).map_err(|e| format!("cannot read: {e}"))
}

fn print_json(out: &mut impl Write, file: &str, extracted: &Extracted) -> std::io::Result<()> {
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
