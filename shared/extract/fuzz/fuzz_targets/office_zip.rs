#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::run(
    data,
    &[
        "x.docx", "x.xlsx", "x.pptx", "x.odt", "x.ods", "x.odp", "x.epub"
    ]
));
