#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(
    data,
    &["x.html", "x.xml", "x.rtf", "x.eml", "x.svg"]
));
