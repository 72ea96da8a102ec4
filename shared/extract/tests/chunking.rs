//! Chunking keeps structure whole: headings lead chunks, and rows, items and code stay intact.

use recorder_extract::{ChunkOptions, Segment, chunk, chunk_transcript};

fn opts(target: usize, overlap: usize) -> ChunkOptions {
    ChunkOptions {
        target_chars: target,
        overlap_chars: overlap,
    }
}

#[test]
fn chunks_carry_the_heading_path_where_they_start() {
    let md = "# Guide\n\nIntro text that is long enough to matter here.\n\n## Install\n\nRun the installer and wait.\n\n### Linux\n\nUse the package.\n\n## Use\n\nOpen it.";
    let chunks = chunk(md, &opts(60, 0));
    let paths: Vec<Vec<&str>> = chunks
        .iter()
        .map(|c| c.heading_path.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(paths.first().expect("chunks"), &vec!["Guide"]);
    assert!(paths.contains(&vec!["Guide", "Install"]), "{paths:?}");
    assert!(paths.contains(&vec!["Guide", "Use"]), "{paths:?}");
    assert!(
        chunks.iter().any(|c| c.text.starts_with("## Install")),
        "a heading starts its chunk"
    );
}

#[test]
fn a_small_document_is_one_chunk_covering_it_all() {
    let md = "# T\n\nHello.\n\n- a\n- b";
    let chunks = chunk(md, &ChunkOptions::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text, md);
    assert_eq!(
        (chunks[0].start_offset, chunks[0].end_offset),
        (0, md.len())
    );
}

#[test]
fn table_rows_are_never_split_and_the_header_repeats() {
    let mut md = String::from("| id | name |\n| --- | --- |\n");
    for i in 0..200 {
        md.push_str(&format!(
            "| {i} | person number {i} with a fairly long name |\n"
        ));
    }
    let chunks = chunk(&md, &opts(400, 0));
    assert!(chunks.len() > 5);
    for c in &chunks {
        assert!(
            c.text.starts_with("| id | name |\n| --- | --- |\n"),
            "header repeated: {}",
            c.text
        );
        for line in c.text.lines() {
            assert!(
                line.starts_with('|') && line.ends_with('|'),
                "whole row: {line:?}"
            );
        }
    }
    for i in 0..200 {
        let row = format!("| {i} | person number {i} with a fairly long name |");
        assert!(
            chunks.iter().any(|c| c.text.lines().any(|l| l == row)),
            "row {i} kept whole"
        );
    }
}

#[test]
fn list_items_are_never_split() {
    let md: String = (0..50)
        .map(|i| {
            format!(
                "- item {i} {}\n    continued line of item {i}\n",
                "word ".repeat(i % 7 + 3)
            )
        })
        .collect();
    let chunks = chunk(&md, &opts(200, 0));
    assert!(chunks.len() > 3);
    for c in &chunks {
        let first = c.text.lines().next().unwrap_or("");
        assert!(
            first.starts_with("- item"),
            "chunk starts at an item: {first:?}"
        );
        let last = c.text.lines().last().unwrap_or("");
        assert!(
            last.trim_start().starts_with("continued line"),
            "chunk ends after an item's last line: {last:?}"
        );
    }
}

#[test]
fn long_code_blocks_are_cut_between_lines_and_refenced() {
    let body: String = (0..100).map(|i| format!("let x{i} = {i};\n")).collect();
    let md = format!("Before.\n\n```rust\n{body}```\n\nAfter.");
    let chunks = chunk(&md, &opts(300, 0));
    for c in chunks.iter().filter(|c| c.text.contains("let x")) {
        let fences = c.text.lines().filter(|l| l.starts_with("```")).count();
        assert_eq!(fences % 2, 0, "balanced fences in {}", c.text);
        assert!(c.text.contains("```rust\n"), "language kept: {}", c.text);
    }
    for i in 0..100 {
        let line = format!("let x{i} = {i};");
        assert!(chunks.iter().any(|c| c.text.lines().any(|l| l == line)));
    }
}

#[test]
fn overlap_repeats_the_tail_of_the_previous_chunk() {
    let md: String = (0..20)
        .map(|i| format!("Paragraph number {i} says something short.\n\n"))
        .collect();
    let chunks = chunk(&md, &opts(200, 60));
    assert!(chunks.len() > 2);
    for pair in chunks.windows(2) {
        let last_para = pair[0].text.rsplit("\n\n").next().expect("a paragraph");
        assert!(
            pair[1].text.starts_with(last_para),
            "{:?} then {:?}",
            pair[0].text,
            pair[1].text
        );
        assert!(pair[1].start_offset < pair[0].end_offset);
    }
}

#[test]
fn offsets_point_at_the_source_text() {
    let md = "# A\n\nFirst paragraph.\n\n# B\n\nSecond paragraph here.";
    for c in chunk(md, &opts(20, 0)) {
        assert_eq!(&md[c.start_offset..c.end_offset], c.text);
    }
}

#[test]
fn an_overlong_paragraph_is_cut_at_sentences() {
    let md = "One sentence here. ".repeat(200);
    let chunks = chunk(&md, &opts(300, 0));
    for c in &chunks {
        assert!(c.text.len() <= 300);
        assert!(c.text.ends_with('.'), "{:?}", c.text);
    }
}

#[test]
fn multibyte_text_is_cut_on_character_boundaries() {
    let md = "é".repeat(5000);
    let chunks = chunk(&md, &opts(301, 0));
    assert_eq!(
        chunks.iter().map(|c| c.text.chars().count()).sum::<usize>(),
        5000
    );
}

fn seg(speaker: &str, start: u64, text: &str) -> Segment {
    Segment {
        speaker: Some(speaker.to_owned()),
        start_ms: start,
        end_ms: start + 900,
        text: text.to_owned(),
    }
}

#[test]
fn transcripts_are_chunked_at_speaker_turns_with_times() {
    let segments = vec![
        seg("Alice", 0, "Hello everyone, welcome to the call."),
        seg("Alice", 1000, "Today we discuss the importer."),
        seg("Bob", 2000, "Thanks Alice, I have a question about PDFs."),
        seg("Bob", 3000, "Do we handle encrypted ones?"),
        seg("Alice", 4000, "Yes, they are refused with a clear reason."),
    ];
    let chunks = chunk_transcript(&segments, &opts(160, 0));
    assert!(chunks.len() >= 2, "{chunks:?}");
    assert_eq!(chunks[0].start_ms, Some(0));
    for c in &chunks {
        // A chunk never starts in the middle of a turn unless the turn alone is too long.
        let first_line = c.text.lines().next().unwrap_or("");
        assert!(first_line.starts_with("**"), "{first_line}");
        assert!(c.start_ms <= c.end_ms);
    }
    let bob = chunks
        .iter()
        .find(|c| c.text.contains("**Bob**"))
        .expect("Bob's turn");
    assert!(
        bob.text.contains("question about PDFs") && bob.text.contains("encrypted ones"),
        "Bob's turn kept together"
    );
    assert_eq!(chunks.last().and_then(|c| c.end_ms), Some(4900));
}

#[test]
fn a_table_with_only_a_long_header_is_kept() {
    let md = format!("| {} |\n| --- |", "h".repeat(500));
    let chunks = chunk(&md, &opts(100, 0));
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].text, md);
}

#[test]
fn nothing_is_lost_between_chunks() {
    let md = "# A\n\nPara one is here.\n\n- item one\n- item two\n\n| x | y |\n| --- | --- |\n| 1 | 2 |\n\n```\ncode\n```\n\n## B\n\nMore text follows.";
    for target in [10, 30, 80, 2000] {
        let chunks = chunk(md, &opts(target, 0));
        // Every word of the source appears, in order, across the chunks.
        let joined: Vec<&str> = chunks
            .iter()
            .flat_map(|c| c.text.split_whitespace())
            .collect();
        let mut rest = joined.iter();
        for word in md.split_whitespace() {
            assert!(
                rest.any(|w| *w == word),
                "target {target}: {word} missing or out of order"
            );
        }
    }
}

#[test]
fn chunks_of_a_pdf_know_their_starting_page() {
    let md = "<!-- page 1 -->\n\nFirst page text that runs on.\n\n<!-- page 2 -->\n\nSecond page text.\n\n<!-- page 3 -->\n\nThird.";
    let chunks = chunk(md, &opts(40, 0));
    let pages: Vec<Option<u32>> = chunks.iter().map(|c| c.page).collect();
    assert_eq!(pages.first(), Some(&Some(1)));
    assert_eq!(pages.last(), Some(&Some(3)));
    assert!(
        chunk("no markers", &ChunkOptions::default())[0]
            .page
            .is_none()
    );
}
