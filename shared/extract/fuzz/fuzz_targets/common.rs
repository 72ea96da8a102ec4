// Shared by every target: small caps so each run is quick, and the checks that must hold for any
// input (a result or a clear error, never a panic; Markdown that chunks).
use recorder_extract::{ChunkOptions, Hints, Limits, chunk, chunk_transcript, extract};

pub fn limits() -> Limits {
    Limits {
        max_decompressed_bytes: 32 * 1024 * 1024,
        max_zip_entries: 2_000,
        max_nesting_depth: 128,
        max_input_bytes: 8 * 1024 * 1024,
    }
}

/// The first byte picks the declared name, so detection by content and by hint both get fuzzed.
pub fn run(data: &[u8], names: &[&str]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let hints = Hints::named(names[pick as usize % names.len()]);
    if let Ok(out) = extract(rest, &hints, &limits()) {
        let opts = ChunkOptions {
            target_chars: 200,
            overlap_chars: 40,
        };
        for c in chunk(&out.markdown, &opts) {
            assert!(c.start_offset <= c.end_offset && c.end_offset <= out.markdown.len());
        }
        chunk_transcript(&out.segments, &opts);
    }
}
