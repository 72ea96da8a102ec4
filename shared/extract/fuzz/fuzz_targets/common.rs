// Shared by every target: small caps so each run is quick, and the checks that must hold for any
// input (a result or a clear error, never a panic; Markdown that chunks).
use recorder_extract::{ChunkOptions, Hints, Limits, chunk, chunk_transcript, extract};

pub fn limits() -> Limits {
    Limits {
        max_decompressed_bytes: 32 * 1024 * 1024,
        max_zip_entries: 2_000,
        max_nesting_depth: 128,
        max_input_bytes: 8 * 1024 * 1024,
        max_pdf_pages: 2_000,
    }
}

/// libFuzzer's hook aborts on every panic. A panic inside a third-party parser is contained by
/// `extract` (catch_unwind → a `Corrupt` error; `tests/hostile.rs` replays the ones found), so
/// only panics in our own code count as crashes here.
fn contain_dependency_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let ours = info
                .location()
                .is_none_or(|l| l.file().contains("shared/extract/src"));
            if ours {
                abort(info);
            }
        }));
    });
}

/// The first byte picks the declared name, so detection by content and by hint both get fuzzed.
pub fn run(data: &[u8], names: &[&str]) {
    contain_dependency_panics();
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
