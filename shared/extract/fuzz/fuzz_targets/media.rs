#![no_main]
mod common;

use recorder_extract::{Format, split_audio};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::run(
        data,
        &[
            "x.png", "x.jpg", "x.gif", "x.webp", "x.tiff", "x.mp3", "x.wav", "x.mp4", "x.webm",
        ],
    );
    // Every piece must lie inside the input, in order, and within the size asked for.
    for format in [Format::Wav, Format::Mp3] {
        if let Ok(pieces) = split_audio(data, format, 4096) {
            let mut end = 0;
            for p in &pieces {
                assert!(p.range.start >= end && p.range.end <= data.len() && p.len() <= 4096);
                end = p.range.end;
            }
        }
    }
});
