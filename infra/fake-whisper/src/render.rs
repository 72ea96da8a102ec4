//! The five `response_format`s, shaped as OpenAI returns them.

use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::audio::Transcript;

pub const FORMATS: [&str; 5] = ["json", "text", "srt", "verbose_json", "vtt"];

pub fn render(transcript: &Transcript, format: &str) -> Response {
    let text = transcript.text();
    let plain = |body: String| {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    };
    match format {
        "text" => plain(format!("{text}\n")),
        "srt" => plain(cues(transcript, ',', true)),
        "vtt" => plain(format!("WEBVTT\n\n{}", cues(transcript, '.', false))),
        "verbose_json" => {
            let segments: Vec<_> = transcript
                .segments
                .iter()
                .enumerate()
                .map(|(id, s)| {
                    json!({
                        "id": id, "seek": 0, "start": s.start, "end": s.end,
                        // Whisper's segment texts carry their leading space.
                        "text": format!(" {}", s.text), "tokens": [], "temperature": 0.0,
                        "avg_logprob": -0.2, "compression_ratio": 1.0, "no_speech_prob": 0.01
                    })
                })
                .collect();
            Json(json!({
                "task": "transcribe", "language": "english", "duration": transcript.duration,
                "text": text, "segments": segments
            }))
            .into_response()
        }
        _ => Json(json!({ "text": text })).into_response(),
    }
}

fn cues(transcript: &Transcript, separator: char, numbered: bool) -> String {
    let mut out = String::new();
    for (i, segment) in transcript.segments.iter().enumerate() {
        if numbered {
            out.push_str(&format!("{}\n", i + 1));
        }
        out.push_str(&format!(
            "{} --> {}\n{}\n\n",
            timestamp(segment.start, separator),
            timestamp(segment.end, separator),
            segment.text
        ));
    }
    out
}

fn timestamp(seconds: f64, separator: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    format!("{h:02}:{m:02}:{s:02}{separator}{:03}", ms % 1000)
}
