#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(
    data,
    &[
        "x.txt", "x.csv", "x.tsv", "x.json", "x.yaml", "x.md", "x.vtt", "x.srt", "chat.txt"
    ]
));
