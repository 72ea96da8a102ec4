//! Audio and video through the pipeline against a fake Whisper-compatible endpoint over HTTP:
//! transcripts as WebVTT + chunks by segment, media over the upload limit cut and stitched, and
//! every way it can go wrong ending in a visible state.

use fake_whisper::{FakeWhisper, FakeWhisperConfig};
use recorder_domain::document::{ImportedDocument, ProcessingStatus};
use recorder_domain::memory::MemoryDeps;
use recorder_extract::{Format, Hints, Limits, Segment, extract};
use recorder_processing::transcribe::TranscriptionSettings;
use recorder_processing::{Options, Outcome, ProcessError, Run, process_document_as};

const KEY_SECRET: &str = "recorder/transcription-api-key";
const KEY: &str = "sk-test-transcription";

/// 8 kHz mono 16-bit PCM: each (value, seconds) run is one "tone" the fake endpoint hears.
fn wav(runs: &[(i16, f64)]) -> Vec<u8> {
    let mut data = Vec::new();
    for &(value, secs) in runs {
        for _ in 0..(secs * 8000.0).round() as usize {
            data.extend_from_slice(&value.to_le_bytes());
        }
    }
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    for field in [16u32.to_le_bytes().to_vec(), vec![1, 0, 1, 0]] {
        b.extend_from_slice(&field);
    }
    b.extend_from_slice(&8000u32.to_le_bytes());
    b.extend_from_slice(&16000u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 16, 0]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    b
}

/// MPEG-1 Layer III frames, 128 kbps at 44.1 kHz (26.1 ms each), silent payload.
fn mp3(frames: usize) -> Vec<u8> {
    let mut b = Vec::new();
    for i in 0..frames {
        let padded = i % 3 == 0;
        let start = b.len();
        b.extend_from_slice(&[0xFF, 0xFB, if padded { 0x92 } else { 0x90 }, 0x00]);
        b.resize(start + if padded { 418 } else { 417 }, 0);
    }
    b
}

/// An MP4 skeleton (ftyp, moov/mvhd with a duration) followed by `media` bytes of mdat.
fn mp4(media: usize) -> Vec<u8> {
    mp4_laid_out(media, false)
}

/// `moov_last`: the index after the media data, as cameras and phones write it.
fn mp4_laid_out(media: usize, moov_last: bool) -> Vec<u8> {
    let boxed = |kind: &[u8; 4], body: &[u8]| {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    };
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    let mut b = boxed(b"ftyp", b"isom\0\0\0\0isommp41");
    let moov = boxed(b"moov", &boxed(b"mvhd", &mvhd));
    if !moov_last {
        b.extend_from_slice(&moov);
    }
    b.extend(boxed(b"mdat", &vec![7u8; media]));
    if moov_last {
        b.extend(moov);
    }
    b
}

struct Case {
    m: MemoryDeps,
    options: Options,
    fake: Option<FakeWhisper>,
}

impl Case {
    async fn new(max_upload_bytes: usize) -> Case {
        let fake = FakeWhisper::start(FakeWhisperConfig {
            api_key: Some(KEY.into()),
            max_bytes: max_upload_bytes,
            ..FakeWhisperConfig::default()
        })
        .await
        .unwrap();
        let m = MemoryDeps::new();
        m.secrets
            .app
            .lock()
            .unwrap()
            .insert(KEY_SECRET.into(), KEY.into());
        let get = |k: &str| match k {
            "TRANSCRIPTION_BASE_URL" => Some(fake.base_url()),
            "TRANSCRIPTION_API_KEY_SECRET" => Some(KEY_SECRET.into()),
            "TRANSCRIPTION_MAX_BYTES" => Some(max_upload_bytes.to_string()),
            _ => None,
        };
        let options = Options::from_lookup(&get).unwrap();
        Case {
            m,
            options,
            fake: Some(fake),
        }
    }

    /// Originals above 512 kB count as too big to hold: they are read by range.
    fn reading_by_range(mut self) -> Case {
        self.options.max_whole_bytes = 512 * 1024;
        self
    }

    /// The largest single read from storage, apart from the first.
    fn largest_range_read(&self) -> u64 {
        let reads = self.m.blobs.range_reads.lock().unwrap();
        reads.iter().skip(1).map(|r| r.2).max().unwrap_or(0)
    }

    fn without_endpoint() -> Case {
        Case {
            m: MemoryDeps::new(),
            options: Options::from_lookup(&|_| None).unwrap(),
            fake: None,
        }
    }

    fn fake(&self) -> &FakeWhisper {
        self.fake.as_ref().unwrap()
    }

    async fn add(&self, id: &str, name: &str, bytes: Vec<u8>) {
        let key =
            format!("org_acme/connectors/file_upload/uploads/2026-11-24/original/{id}-{name}");
        self.m
            .blobs
            .objects
            .lock()
            .unwrap()
            .insert(key.clone(), (bytes, "application/octet-stream".into()));
        let now = chrono::Utc::now();
        let doc: ImportedDocument = serde_json::from_value(serde_json::json!({
            "id": id, "org_id": "org_acme", "connector_id": null, "external_id": id,
            "external_url": null, "parent_external_id": null, "title": name, "mime_type": null,
            "size_bytes": null, "content_hash": null, "processing_status": "pending",
            "processing_error": null, "first_synced_at": now, "last_synced_at": now,
            "deleted_at": null, "original_key": key, "extracted_key": null, "chunks_key": null,
            "duplicate_of": null, "batch_id": null, "updated_at": now
        }))
        .unwrap();
        self.m.deps.documents.create(&doc).await.unwrap();
    }

    /// One message per document, delivered again when called again.
    async fn process(&self, id: &str) -> Result<Outcome, ProcessError> {
        let run = Run {
            owner: format!("message-{id}"),
            deadline: None,
        };
        process_document_as(&self.m.deps, "org_acme", id, &self.options, &run).await
    }

    async fn doc(&self, id: &str) -> ImportedDocument {
        self.m.deps.documents.get(id).await.unwrap().unwrap()
    }

    fn blob(&self, key: &str) -> Vec<u8> {
        self.m.blobs.objects.lock().unwrap()[key].0.clone()
    }

    /// The stored WebVTT, read back through the VTT extractor.
    async fn transcript(&self, id: &str) -> Vec<Segment> {
        let doc = self.doc(id).await;
        let vtt = self.blob(doc.transcript_key.as_deref().expect("a transcript key"));
        extract(&vtt, &Hints::named("t.vtt"), &Limits::default())
            .unwrap()
            .segments
    }
}

/// Segments cut at a piece boundary come back as two; one tone is one segment again.
fn merged(segments: &[Segment]) -> Vec<(String, u64, u64)> {
    let mut out: Vec<(String, u64, u64)> = Vec::new();
    for s in segments {
        match out.last_mut() {
            Some(last) if last.0 == s.text && s.start_ms <= last.2 + 1 => last.2 = s.end_ms,
            _ => out.push((s.text.clone(), s.start_ms, s.end_ms)),
        }
    }
    out
}

#[tokio::test]
async fn media_without_an_endpoint_completes_with_metadata_only_and_says_so() {
    let case = Case::without_endpoint();
    case.add("d1", "standup.wav", wav(&[(100, 2.0)])).await;
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let doc = case.doc("d1").await;
    assert_eq!(doc.processing_status, ProcessingStatus::Completed);
    assert_eq!(
        doc.source_metadata["extracted"]["transcription"]["status"],
        "not_configured"
    );
    assert_eq!(doc.source_metadata["extracted"]["duration_secs"], 2.0);
    assert!(doc.transcript_key.is_none());
    let md = String::from_utf8(case.blob(doc.extracted_key.as_deref().unwrap())).unwrap();
    assert!(
        md.contains("duration 00:00:02") && md.contains("Not transcribed"),
        "{md}"
    );
}

#[tokio::test]
async fn a_recording_becomes_a_webvtt_transcript_and_chunks_by_segment() {
    let case = Case::new(25 * 1024 * 1024).await;
    case.add(
        "d1",
        "all-hands.wav",
        wav(&[(0, 0.5), (120, 1.25), (0, 0.25), (-45, 2.0)]),
    )
    .await;
    assert_eq!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { chunks: 1 }
    );
    let got: Vec<_> = case
        .transcript("d1")
        .await
        .into_iter()
        .map(|s| (s.text, s.start_ms, s.end_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            ("tone 120".to_string(), 500, 1750),
            ("tone -45".to_string(), 2000, 4000)
        ]
    );
    let doc = case.doc("d1").await;
    let t = &doc.source_metadata["extracted"]["transcription"];
    assert_eq!(
        (t["status"].as_str(), t["pieces"].as_u64()),
        (Some("transcribed"), Some(1))
    );
    let chunks = String::from_utf8(case.blob(doc.chunks_key.as_deref().unwrap())).unwrap();
    let chunk: serde_json::Value = serde_json::from_str(chunks.lines().next().unwrap()).unwrap();
    assert_eq!(
        (chunk["start_ms"].as_u64(), chunk["end_ms"].as_u64()),
        (Some(500), Some(4000))
    );
    let md = String::from_utf8(case.blob(doc.extracted_key.as_deref().unwrap())).unwrap();
    assert_eq!(md, "[00:00:00]: tone 120\n\n[00:00:02]: tone -45");
    let sent = case.fake().requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].model.as_deref(), Some("whisper-1"));
    assert_eq!(sent[0].response_format.as_deref(), Some("verbose_json"));
    assert_eq!(
        sent[0].file_name.as_deref(),
        Some("audio-0.wav"),
        "the user's file name stays home"
    );
}

#[tokio::test]
async fn a_wav_over_the_limit_is_sent_in_pieces_and_its_timestamps_stitched() {
    // 16 kB per second of audio; 60 kB pieces hold under 4 s each.
    let limit = 60_000;
    let case = Case::new(limit).await;
    let mut runs = Vec::new();
    for i in 1..=12 {
        runs.push((i * 100, 1.5));
        runs.push((0, 0.5));
    }
    case.add("d1", "long.wav", wav(&runs)).await;
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let sent = case.fake().requests();
    assert_eq!(sent.len(), 384_044usize.div_ceil(limit - 44));
    assert!(
        sent.iter()
            .all(|r| r.status == 200 && r.file_bytes <= limit)
    );
    let expected: Vec<_> = (0..12u64)
        .map(|i| (format!("tone {}", (i + 1) * 100), i * 2000, i * 2000 + 1500))
        .collect();
    assert_eq!(merged(&case.transcript("d1").await), expected);
}

#[tokio::test]
async fn an_mp3_over_the_limit_is_cut_at_frames_and_covers_the_whole_recording() {
    let case = Case::new(200_000).await;
    let frames = 2_000; // 52.2 s, 834 kB
    case.add("d1", "podcast.mp3", mp3(frames)).await;
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let sent = case.fake().requests();
    assert_eq!(sent.len(), 5);
    let segments = case.transcript("d1").await;
    let total_ms = (frames as u64 * 1152 * 1000) / 44100;
    assert!(
        segments
            .windows(2)
            .all(|w| w[0].end_ms <= w[1].start_ms + 1),
        "in order"
    );
    assert_eq!(segments[0].start_ms, 0);
    assert!(
        segments.last().unwrap().end_ms.abs_diff(total_ms) <= 30,
        "ends at {total_ms} ms"
    );
}

#[tokio::test]
async fn video_over_the_limit_that_cannot_be_cut_fails_with_the_sizes() {
    let case = Case::new(1024 * 1024).await;
    case.add("d1", "demo.mp4", mp4(3 * 1024 * 1024)).await;
    let Outcome::Failed { reason } = case.process("d1").await.unwrap() else {
        panic!("an MP4 over the limit must fail")
    };
    assert!(
        reason.starts_with("too large for transcription (4 MB > 1 MB)"),
        "{reason}"
    );
    assert!(
        case.fake().requests().is_empty(),
        "nothing over the limit was sent"
    );
    assert_eq!(
        case.doc("d1").await.processing_error.as_deref(),
        Some(reason.as_str())
    );
}

#[tokio::test]
async fn a_wrong_or_missing_api_key_fails_with_what_to_fix() {
    let case = Case::new(25 * 1024 * 1024).await;
    case.m
        .secrets
        .app
        .lock()
        .unwrap()
        .insert(KEY_SECRET.into(), "sk-revoked".into());
    case.add("d1", "a.wav", wav(&[(5, 1.0)])).await;
    let Outcome::Failed { reason } = case.process("d1").await.unwrap() else {
        panic!("a refused key must fail the document")
    };
    assert!(reason.contains("refused the API key (HTTP 401"), "{reason}");

    case.m.secrets.app.lock().unwrap().clear();
    case.add("d2", "b.wav", wav(&[(6, 1.0)])).await;
    let Outcome::Failed { reason } = case.process("d2").await.unwrap() else {
        panic!("a missing secret must fail the document")
    };
    assert!(reason.contains(KEY_SECRET), "{reason}");
}

#[tokio::test]
async fn a_busy_endpoint_is_waited_for_and_an_outage_leaves_the_message_to_retry() {
    let case = Case::new(25 * 1024 * 1024).await;
    case.add("d1", "a.wav", wav(&[(9, 1.0)])).await;
    case.fake().fail_next(2, 429, Some(0));
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    assert_eq!(case.fake().requests().len(), 3);

    case.add("d2", "b.wav", wav(&[(10, 1.0)])).await;
    case.fake().fail_next(4, 503, Some(0));
    let err = case.process("d2").await.unwrap_err();
    assert!(
        matches!(&err, ProcessError::Unavailable(m) if m.contains("after 4 attempts") && m.contains("HTTP 503")),
        "{err}"
    );
    assert_eq!(
        case.doc("d2").await.processing_status,
        ProcessingStatus::Processing
    );
    // SQS delivers the message again once the endpoint is back.
    assert!(matches!(
        case.process("d2").await.unwrap(),
        Outcome::Completed { .. }
    ));
    assert_eq!(case.transcript("d2").await[0].text, "tone 10");
}

#[test]
fn settings_are_off_unless_a_base_url_is_set() {
    assert_eq!(TranscriptionSettings::from_lookup(&|_| None), Ok(None));
    let s = TranscriptionSettings::from_lookup(&|k| {
        (k == "TRANSCRIPTION_BASE_URL").then(|| "https://api.openai.com/".to_string())
    })
    .unwrap()
    .unwrap();
    assert_eq!(
        (s.base_url.as_str(), s.model.as_str(), s.max_upload_bytes),
        ("https://api.openai.com", "whisper-1", 25 * 1024 * 1024)
    );
    assert!(Format::Mov.is_media() && !Format::Vtt.is_media());
}

#[tokio::test]
async fn a_recording_too_big_to_hold_is_hashed_described_and_transcribed_by_range() {
    let limit = 200_000;
    let case = Case::new(limit).await.reading_by_range();
    let mut runs = Vec::new();
    for i in 1..=25 {
        runs.push((i * 10, 3.0));
        runs.push((0, 1.0));
    }
    let wav = wav(&runs); // 100 s, 1.6 MB
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&wav))
    };
    case.add("d1", "town-hall.wav", wav).await;
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let doc = case.doc("d1").await;
    assert_eq!(
        doc.content_hash.as_deref(),
        Some(sha.as_str()),
        "hashed in steps"
    );
    assert_eq!(doc.size_bytes, Some(1_600_044));
    assert_eq!(doc.source_metadata["extracted"]["duration_secs"], 100.0);
    let expected: Vec<_> = (0..25u64)
        .map(|i| (format!("tone {}", (i + 1) * 10), i * 4000, i * 4000 + 3000))
        .collect();
    assert_eq!(merged(&case.transcript("d1").await), expected);
    let sent = case.fake().requests();
    assert_eq!(sent.len(), 1_600_000usize.div_ceil(limit - 44));
    assert!(case.largest_range_read() <= 8 * 1024 * 1024);
}

#[tokio::test]
async fn an_mp3_too_big_to_hold_is_cut_from_range_reads_of_one_piece_each() {
    let case = Case::new(200_000).await.reading_by_range();
    case.add("d1", "podcast.mp3", mp3(4_000)).await; // 104 s, 1.67 MB
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let segments = case.transcript("d1").await;
    let total_ms = (4_000u64 * 1152 * 1000) / 44100;
    assert!(
        segments
            .windows(2)
            .all(|w| w[0].end_ms <= w[1].start_ms + 1),
        "in order"
    );
    assert!(segments.last().unwrap().end_ms.abs_diff(total_ms) <= 30);
    assert_eq!(case.fake().requests().len(), 9);
    assert!(
        case.fake()
            .requests()
            .iter()
            .all(|r| r.file_bytes <= 200_000)
    );
    let duration = case.doc("d1").await.source_metadata["extracted"]["duration_secs"].as_f64();
    // No Xing header: estimated from size and bitrate, as players do (within 0.5 %).
    assert!(
        duration.is_some_and(|d| (d - total_ms as f64 / 1000.0).abs() < 0.5),
        "{duration:?}"
    );
}

#[tokio::test]
async fn a_large_video_with_its_index_at_the_end_gets_its_duration_and_no_read_of_the_whole() {
    let case = Case::without_endpoint().reading_by_range();
    case.add(
        "d1",
        "screen-recording.mov",
        mp4_laid_out(3 * 1024 * 1024, true),
    )
    .await;
    assert!(matches!(
        case.process("d1").await.unwrap(),
        Outcome::Completed { .. }
    ));
    let doc = case.doc("d1").await;
    assert_eq!(doc.source_metadata["extracted"]["duration_secs"], 60.0);
    assert_eq!(
        doc.source_metadata["extracted"]["transcription"]["status"],
        "not_configured"
    );

    let case = Case::new(1024 * 1024).await.reading_by_range();
    case.add(
        "d2",
        "screen-recording.mp4",
        mp4_laid_out(3 * 1024 * 1024, true),
    )
    .await;
    let Outcome::Failed { reason } = case.process("d2").await.unwrap() else {
        panic!("video over the limit cannot be cut")
    };
    assert!(
        reason.starts_with("too large for transcription (4 MB > 1 MB)"),
        "{reason}"
    );
}

#[tokio::test]
async fn other_files_too_big_to_hold_are_refused_with_the_limit() {
    let case = Case::without_endpoint().reading_by_range();
    case.add("d1", "notes.txt", b"just words\n".repeat(100_000))
        .await;
    let Outcome::Failed { reason } = case.process("d1").await.unwrap() else {
        panic!("a text file over the limit is refused")
    };
    assert!(
        reason.contains("processing limit") && reason.contains("only audio, video, CSV"),
        "{reason}"
    );
    assert_eq!(
        case.m.blobs.range_reads.lock().unwrap().len(),
        1,
        "only the head was read"
    );
}

#[tokio::test]
async fn a_csv_too_big_to_hold_is_streamed_into_tables_and_chunks() {
    let case = Case::without_endpoint().reading_by_range();
    let mut csv = String::from("date;account;amount;memo\n");
    for i in 0..40_000 {
        csv.push_str(&format!(
            "2026-11-{:02};ACC-{i:05};{}.50;\"paid; in full\"\n",
            i % 28 + 1,
            i * 3
        ));
    }
    assert!(csv.len() > 1_500_000);
    case.add("d1", "ledger.csv", csv.into_bytes()).await;
    let Outcome::Completed { chunks } = case.process("d1").await.unwrap() else {
        panic!("a large CSV is streamed, not refused")
    };
    let doc = case.doc("d1").await;
    let extra = &doc.source_metadata["extracted"]["extra"];
    assert_eq!(extra["rows"], "40001");
    assert_eq!(doc.chunk_count as usize, chunks);
    let markdown = String::from_utf8(case.blob(doc.extracted_key.as_deref().unwrap())).unwrap();
    let lines = String::from_utf8(case.blob(doc.chunks_key.as_deref().unwrap())).unwrap();
    assert_eq!(lines.lines().count(), chunks);
    for line in lines.lines() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        let (a, b) = (
            c["start_offset"].as_u64().unwrap() as usize,
            c["end_offset"].as_u64().unwrap() as usize,
        );
        assert_eq!(&markdown[a..b], c["text"].as_str().unwrap());
        assert!(
            c["text"]
                .as_str()
                .unwrap()
                .starts_with("| date | account | amount | memo |")
        );
    }
    assert!(
        markdown.contains("| 2026-11-16 | ACC-39999 | 119997.50 | paid; in full |"),
        "the last row"
    );
    let reads = case.m.blobs.range_reads.lock().unwrap();
    assert!(reads.iter().all(|r| r.2 <= 8 * 1024 * 1024));
}
