//! The fake over real HTTP, as a Whisper client sees it. Audio is built here, so every expected
//! transcript and timestamp follows from the bytes sent.

use fake_whisper::{FakeWhisper, FakeWhisperConfig, ReceivedRequest};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const KEY: &str = "local-whisper-key";

async fn fake() -> FakeWhisper {
    FakeWhisper::start(FakeWhisperConfig::default())
        .await
        .unwrap()
}

fn form(file: Vec<u8>, name: &str, format: Option<&str>) -> Form {
    let form = Form::new()
        .part("file", Part::bytes(file).file_name(name.to_owned()))
        .text("model", "whisper-1")
        .text("language", "en")
        .text("timestamp_granularities[]", "segment");
    match format {
        Some(format) => form.text("response_format", format.to_owned()),
        None => form,
    }
}

async fn post(fake: &FakeWhisper, key: Option<&str>, form: Form) -> reqwest::Response {
    let url = format!("{}/v1/audio/transcriptions", fake.base_url());
    let mut request = reqwest::Client::new().post(url).multipart(form);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

async fn verbose(fake: &FakeWhisper, file: Vec<u8>, name: &str) -> Value {
    let response = post(fake, Some(KEY), form(file, name, Some("verbose_json"))).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `(start, end, text)` of every segment, checking the shape OpenAI gives each one.
fn segments(body: &Value) -> Vec<(f64, f64, String)> {
    let segments = body["segments"].as_array().unwrap();
    for (i, segment) in segments.iter().enumerate() {
        assert_eq!(segment["id"], i);
        assert!(segment["text"].as_str().unwrap().starts_with(' '));
    }
    segments
        .iter()
        .map(|s| {
            let text = s["text"].as_str().unwrap().trim_start().to_owned();
            (
                s["start"].as_f64().unwrap(),
                s["end"].as_f64().unwrap(),
                text,
            )
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Channel-0 sample values as runs of `(value, count)`.
fn runs(runs: &[(i16, usize)]) -> Vec<i16> {
    runs.iter()
        .flat_map(|&(value, n)| std::iter::repeat_n(value, n))
        .collect()
}

/// A 16-bit PCM WAV; `extra` chunks (id, body) go before `fmt ` to exercise the chunk walk.
fn wav(rate: u32, channels: u16, interleaved: &[i16], extra: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut chunks = Vec::new();
    let mut chunk = |id: &[u8; 4], body: &[u8]| {
        chunks.extend_from_slice(id);
        chunks.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunks.extend_from_slice(body);
        if body.len() % 2 == 1 {
            chunks.push(0);
        }
    };
    for (id, body) in extra {
        chunk(id, body);
    }
    let mut fmt = vec![1, 0];
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    fmt.extend_from_slice(&(channels * 2).to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    chunk(b"fmt ", &fmt);
    let data: Vec<u8> = interleaved.iter().flat_map(|s| s.to_le_bytes()).collect();
    chunk(b"data", &data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(chunks.len() as u32 + 4).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(&chunks);
    out
}

/// 8 kHz mono: 1 s of 100, 0.5 s of silence, 2 s of -7.
fn three_runs() -> Vec<u8> {
    wav(8000, 1, &runs(&[(100, 8000), (0, 4000), (-7, 16000)]), &[])
}

/// An MPEG-1 Layer III frame, 128 kbps, 44.1 kHz: 417 bytes, 418 when padded; silent payload.
fn mp3_frame(padded: bool) -> Vec<u8> {
    let mut frame = vec![0u8; if padded { 418 } else { 417 }];
    frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90 | if padded { 2 } else { 0 }, 0x00]);
    frame
}

/// An ID3v2 tag of 1000 bytes (syncsafe 00 00 07 68; read as a plain integer it would be 1896),
/// holding a false frame sync; then a Xing frame; then `frames` audio frames.
fn mp3(frames: usize) -> Vec<u8> {
    let mut out = b"ID3\x04\x00\x00\x00\x00\x07\x68".to_vec();
    let mut tag = vec![0u8; 1000];
    tag[10..14].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
    out.extend(tag);
    let mut xing = mp3_frame(false);
    xing[36..40].copy_from_slice(b"Xing");
    out.extend(xing);
    for i in 0..frames {
        out.extend(mp3_frame(i % 3 != 0));
    }
    out
}

#[tokio::test]
async fn each_nonzero_run_of_a_wav_tone_is_one_segment_with_exact_times() {
    let fake = fake().await;
    let body = verbose(&fake, three_runs(), "tones.wav").await;
    assert_eq!(body["task"], "transcribe");
    assert_eq!(body["language"], "english");
    assert_eq!(body["duration"], 3.5);
    assert_eq!(body["text"], "tone 100 tone -7");
    let expected = vec![
        (0.0, 1.0, "tone 100".to_owned()),
        (1.5, 3.5, "tone -7".to_owned()),
    ];
    assert_eq!(segments(&body), expected);
}

#[tokio::test]
async fn a_stereo_wav_is_heard_on_channel_zero_past_unknown_chunks() {
    let fake = fake().await;
    // Channel 0: 0.25 s of 5, then 0.75 s of silence; channel 1 holds a steady 9 throughout.
    let left = runs(&[(5, 4000), (0, 12000)]);
    let stereo: Vec<i16> = left.iter().flat_map(|&l| [l, 9]).collect();
    let file = wav(16000, 2, &stereo, &[(b"LIST", b"odd"), (b"junk", &[7; 10])]);
    let body = verbose(&fake, file, "stereo.wav").await;
    assert_eq!(body["duration"], 1.0);
    assert_eq!(segments(&body), vec![(0.0, 0.25, "tone 5".to_owned())]);
}

#[tokio::test]
async fn a_wav_that_is_not_16_bit_pcm_is_one_segment_timed_by_its_byte_rate() {
    let fake = fake().await;
    let mut file = wav(8000, 1, &[1; 12000], &[]);
    file[20] = 3; // IEEE float tag: 24000 data bytes at a byte rate of 16000 = 1.5 s
    let body = verbose(&fake, file, "float.wav").await;
    assert_eq!(body["duration"], 1.5);
    assert_eq!(segments(&body), vec![(0.0, 1.5, "audio".to_owned())]);
}

#[tokio::test]
async fn an_mp3_is_timed_by_its_frames_and_cut_into_ten_second_windows() {
    let fake = fake().await;
    let body = verbose(&fake, mp3(1000), "talk.mp3").await;
    let duration = 1000.0 * 1152.0 / 44100.0;
    assert!(
        close(body["duration"].as_f64().unwrap(), duration),
        "{}",
        body["duration"]
    );
    let got = segments(&body);
    let expected = [
        (0.0, 10.0, "speech 0"),
        (10.0, 20.0, "speech 1"),
        (20.0, duration, "speech 2"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((start, end, text), (s, e, t)) in got.iter().zip(expected) {
        assert!(close(*start, s) && close(*end, e) && text == t, "{got:?}");
    }
    assert_eq!(body["text"], "speech 0 speech 1 speech 2");
}

#[tokio::test]
async fn other_containers_are_one_second_of_audio() {
    let fake = fake().await;
    for (name, head) in [
        ("a.ogg", b"OggS\0\x02\0\0".to_vec()),
        ("a.flac", b"fLaC\0\0\0\x22".to_vec()),
        ("a.m4a", b"\0\0\0\x20ftypM4A ".to_vec()),
        ("a.webm", vec![0x1A, 0x45, 0xDF, 0xA3, 0, 0, 0, 0]),
    ] {
        let response = post(&fake, Some(KEY), form(head, name, None)).await;
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"text": "audio"})
        );
    }
}

#[tokio::test]
async fn the_text_json_srt_and_vtt_formats_have_their_shapes() {
    let fake = fake().await;
    let answer = |format: &'static str| {
        let fake = &fake;
        async move {
            let response = post(fake, Some(KEY), form(three_runs(), "t.wav", Some(format))).await;
            assert_eq!(response.status(), 200, "{format}");
            response.text().await.unwrap()
        }
    };
    assert_eq!(answer("text").await, "tone 100 tone -7\n");
    let json: Value = serde_json::from_str(&answer("json").await).unwrap();
    assert_eq!(json, json!({"text": "tone 100 tone -7"}));
    assert_eq!(
        answer("srt").await,
        "1\n00:00:00,000 --> 00:00:01,000\ntone 100\n\n2\n00:00:01,500 --> 00:00:03,500\ntone -7\n\n"
    );
    assert_eq!(
        answer("vtt").await,
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\ntone 100\n\n00:00:01.500 --> 00:00:03.500\ntone -7\n\n"
    );
    let response = post(&fake, Some(KEY), form(three_runs(), "t.wav", Some("xml"))).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_refused_with_openais_401() {
    let fake = fake().await;
    let response = post(
        &fake,
        Some("sk-wrong-key-123456"),
        form(three_runs(), "t.wav", None),
    )
    .await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Incorrect API key provided: sk-"),
        "{message}"
    );
    assert!(
        !message.contains("wrong-key"),
        "the key is masked: {message}"
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert_eq!(body["error"]["param"], Value::Null);
    let response = post(&fake, None, form(three_runs(), "t.wav", None)).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn without_a_configured_key_no_authorization_is_needed() {
    let config = FakeWhisperConfig {
        api_key: None,
        ..FakeWhisperConfig::default()
    };
    let fake = FakeWhisper::start(config).await.unwrap();
    let response = post(&fake, None, form(three_runs(), "t.wav", None)).await;
    assert_eq!(response.status(), 200);
}

fn error_of(body: &Value) -> (&str, &str) {
    (
        body["error"]["message"].as_str().unwrap(),
        body["error"]["type"].as_str().unwrap(),
    )
}

#[tokio::test]
async fn a_file_over_max_bytes_gets_openais_413() {
    let config = FakeWhisperConfig {
        max_bytes: 1000,
        ..FakeWhisperConfig::default()
    };
    let fake = FakeWhisper::start(config).await.unwrap();
    let response = post(&fake, Some(KEY), form(vec![0; 1500], "big.wav", None)).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    let expected = (
        "Maximum content size limit (1000) exceeded (1500 bytes read)",
        "server_error",
    );
    assert_eq!(error_of(&body), expected);
    assert_eq!(body["error"]["code"], Value::Null);
    // Exactly at the limit is fine.
    let at_limit = wav(8000, 1, &[3; 478], &[]);
    assert_eq!(at_limit.len(), 1000);
    let response = post(&fake, Some(KEY), form(at_limit, "ok.wav", None)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_limit_above_axums_default_body_limit_is_the_one_enforced() {
    // axum refuses bodies over 2 MB by default; the fake's own limit must be the one that counts.
    let max = 3 << 20;
    let config = FakeWhisperConfig {
        max_bytes: max,
        ..FakeWhisperConfig::default()
    };
    let fake = FakeWhisper::start(config).await.unwrap();
    let mut samples = runs(&[(1, 8000)]);
    samples.resize((max - 44) / 2, 0);
    let response = post(
        &fake,
        Some(KEY),
        form(wav(8000, 1, &samples, &[]), "ok.wav", None),
    )
    .await;
    assert_eq!(response.status(), 200);
    let response = post(&fake, Some(KEY), form(vec![0; max + 1], "big.wav", None)).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    let message = format!(
        "Maximum content size limit ({max}) exceeded ({} bytes read)",
        max + 1
    );
    assert_eq!(error_of(&body), (message.as_str(), "server_error"));
}

#[tokio::test]
async fn a_missing_model_or_file_is_a_400() {
    let fake = fake().await;
    let no_model = Form::new().part("file", Part::bytes(three_runs()).file_name("t.wav"));
    let response = post(&fake, Some(KEY), no_model).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let expected = (
        "you must provide a model parameter",
        "invalid_request_error",
    );
    assert_eq!(error_of(&body), expected);
    let response = post(&fake, Some(KEY), Form::new().text("model", "whisper-1")).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_of(&body).0, "you must provide a file parameter");
}

#[tokio::test]
async fn content_that_is_not_audio_is_an_invalid_file_format() {
    let fake = fake().await;
    let response = post(
        &fake,
        Some(KEY),
        form(b"%PDF-1.7 not audio".to_vec(), "a.mp3", None),
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let message = "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']";
    assert_eq!(error_of(&body), (message, "invalid_request_error"));
}

#[tokio::test]
async fn fail_next_answers_the_fault_then_recovers() {
    let fake = fake().await;
    fake.fail_next(1, 429, Some(7));
    let response = post(&fake, Some(KEY), form(three_runs(), "t.wav", None)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    let response = post(&fake, Some(KEY), form(three_runs(), "t.wav", None)).await;
    assert_eq!(response.status(), 200);

    fake.fail_next(2, 503, None);
    for _ in 0..2 {
        let response = post(&fake, Some(KEY), form(three_runs(), "t.wav", None)).await;
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("retry-after").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "server_error");
    }
    let response = post(&fake, Some(KEY), form(three_runs(), "t.wav", None)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn every_request_is_recorded_with_its_answer() {
    let fake = fake().await;
    let file = three_runs();
    let size = file.len();
    post(&fake, Some(KEY), form(file.clone(), "a.wav", Some("srt"))).await;
    post(&fake, Some("nope"), form(file.clone(), "b.wav", None)).await;
    post(
        &fake,
        Some(KEY),
        Form::new().part("file", Part::bytes(file).file_name("c.wav")),
    )
    .await;
    let record = |model: Option<&str>, name: &str, format: Option<&str>, status| ReceivedRequest {
        model: model.map(str::to_owned),
        file_name: Some(name.to_owned()),
        file_bytes: size,
        response_format: format.map(str::to_owned),
        status,
    };
    assert_eq!(
        fake.requests(),
        vec![
            record(Some("whisper-1"), "a.wav", Some("srt"), 200),
            record(Some("whisper-1"), "b.wav", None, 401),
            record(None, "c.wav", None, 400),
        ]
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let fake = fake().await;
    let addr = fake.base_url().trim_start_matches("http://").to_owned();
    assert!(tokio::net::TcpStream::connect(&addr).await.is_ok());
    drop(fake);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("still listening on {addr}");
}
