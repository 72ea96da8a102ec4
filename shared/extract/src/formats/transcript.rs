//! Transcripts and chats: WebVTT, SRT and Zoom chat exports, into timed segments with speakers.

use std::collections::BTreeSet;

use crate::formats::text::decode;
use crate::{ExtractError, Extracted, Format, Metadata, Segment};

pub(crate) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    let (text, _) = decode(bytes);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let segments = match format {
        Format::ZoomChat => parse_zoom_chat(&text),
        _ => parse_cues(&text),
    };
    if segments.is_empty() && !text.trim().is_empty() && format != Format::Vtt {
        return Err(ExtractError::corrupt(
            format.label(),
            "no timed lines could be read",
        ));
    }
    let mut metadata = Metadata {
        duration_secs: segments
            .iter()
            .map(|s| s.end_ms)
            .max()
            .map(|ms| ms as f64 / 1000.0),
        ..Metadata::default()
    };
    let speakers: BTreeSet<&str> = segments
        .iter()
        .filter_map(|s| s.speaker.as_deref())
        .collect();
    if !speakers.is_empty() {
        metadata.extra.insert(
            "speakers".to_owned(),
            speakers.into_iter().collect::<Vec<_>>().join(", "),
        );
    }
    let markdown = transcript_markdown(&segments);
    let mut out = Extracted::new(format, markdown, metadata);
    out.segments = segments;
    Ok(out)
}

/// A transcript as Markdown, one line per segment: the layout `chunk_transcript` offsets refer to.
pub fn transcript_markdown(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(segment_line)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A transcript as WebVTT (speakers as `<v>` voice spans), readable back by `extract`.
pub fn webvtt(segments: &[Segment]) -> String {
    let stamp = |ms: u64| {
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    // Cue text may not contain "-->", and `&` and `<` start entities and tags.
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = String::from("WEBVTT\n");
    for (i, s) in segments.iter().enumerate() {
        let text = escape(s.text.trim());
        let text = match &s.speaker {
            Some(v) => format!("<v {}>{text}", escape(v)),
            None => text,
        };
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{text}\n",
            i + 1,
            stamp(s.start_ms),
            stamp(s.end_ms.max(s.start_ms))
        ));
    }
    out
}

/// `**Speaker** [00:01:02]: text`
pub(crate) fn segment_line(segment: &Segment) -> String {
    let stamp = clock(segment.start_ms);
    match &segment.speaker {
        Some(speaker) => format!("**{speaker}** [{stamp}]: {}", segment.text),
        None => format!("[{stamp}]: {}", segment.text),
    }
}

pub(crate) fn clock(ms: u64) -> String {
    let secs = ms / 1000;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// WebVTT and SRT share the shape: blocks separated by blank lines, a `start --> end` line,
/// then text. Header, NOTE, STYLE and REGION blocks have no timing line and are skipped.
fn parse_cues(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for block in text.split("\n\n") {
        let mut lines = block.lines().skip_while(|l| !l.contains("-->"));
        let Some(timing) = lines.next() else { continue };
        let Some((start, end)) = parse_timing(timing) else {
            continue;
        };
        let raw: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
        if raw.is_empty() {
            continue;
        }
        let (voice, body) = voice_and_text(&raw.join(" "));
        let (speaker, body) = match voice {
            Some(v) => (Some(v), body),
            None => split_name_prefix(&body),
        };
        if !body.is_empty() {
            segments.push(Segment {
                speaker,
                start_ms: start,
                end_ms: end.max(start),
                text: body,
            });
        }
    }
    segments
}

fn parse_timing(line: &str) -> Option<(u64, u64)> {
    let (start, rest) = line.split_once("-->")?;
    let end = rest.split_whitespace().next()?;
    Some((parse_timestamp(start.trim())?, parse_timestamp(end)?))
}

/// `hh:mm:ss.mmm`, `mm:ss.mmm` or SRT's `hh:mm:ss,mmm`.
pub(crate) fn parse_timestamp(s: &str) -> Option<u64> {
    let s = s.replace(',', ".");
    let (clock_part, millis) = match s.split_once('.') {
        Some((c, m)) => (
            c.to_owned(),
            m.get(..3.min(m.len()))?.parse::<u64>().ok()? * 10u64.pow(3 - m.len().min(3) as u32),
        ),
        None => (s.clone(), 0),
    };
    let fields: Vec<u64> = clock_part
        .split(':')
        .map(|f| f.trim().parse().ok())
        .collect::<Option<_>>()?;
    let secs = match fields.as_slice() {
        [h, m, s] => h * 3600 + m * 60 + s,
        [m, s] => m * 60 + s,
        _ => return None,
    };
    Some(secs * 1000 + millis)
}

/// Pulls the speaker out of a `<v Name>` tag and strips the other cue tags.
fn voice_and_text(cue: &str) -> (Option<String>, String) {
    let mut speaker = None;
    let mut text = String::new();
    let mut rest = cue;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            text.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        if let Some(voice) = tag.strip_prefix('v').filter(|t| t.starts_with([' ', '.'])) {
            let name = voice.split_once(' ').map_or("", |(_, n)| n).trim();
            if speaker.is_none() && !name.is_empty() {
                speaker = Some(name.to_owned());
            }
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&"); // last, so an escaped "&lt;" stays literal
    (
        speaker,
        text.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

/// `Alice Smith: hello` → (Alice Smith, hello), when the prefix looks like a name.
fn split_name_prefix(text: &str) -> (Option<String>, String) {
    if let Some((name, rest)) = text.split_once(": ") {
        let name = name.trim();
        let plausible = !name.is_empty()
            && name.len() <= 60
            && name.split_whitespace().count() <= 5
            && !name.contains("http")
            && !name.chars().all(|c| c.is_ascii_digit() || c == ':');
        if plausible {
            return (Some(name.to_owned()), rest.trim().to_owned());
        }
    }
    (None, text.to_owned())
}

/// A chat line's time, speaker and the text after the header (possibly empty).
fn zoom_line(line: &str) -> Option<(u64, String, String)> {
    let (stamp, rest) = line.split_once(['\t', ' '])?;
    if stamp.len() != 8 || stamp.matches(':').count() != 2 {
        return None;
    }
    let start = parse_timestamp(stamp)?;
    let rest = rest.trim_start();
    if let Some(from) = rest.strip_prefix("From ") {
        // `From  Alice to  Everyone:` then the message, on this line or the next ones.
        let (header, message) = from.split_once(':')?;
        let sender = header.split(" to ").next().unwrap_or(header);
        let sender = sender.split_whitespace().collect::<Vec<_>>().join(" ");
        return Some((start, sender, message.trim().to_owned()));
    }
    // Newer exports: `HH:MM:SS\tName:\tmessage`.
    let (name, message) = rest.split_once(":\t").or_else(|| rest.split_once(": "))?;
    let name = name.trim();
    (!name.is_empty() && name.len() <= 80)
        .then(|| (start, name.to_owned(), message.trim().to_owned()))
}

pub(crate) fn looks_like_zoom_chat(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(zoom_line)
        .is_some()
}

fn parse_zoom_chat(text: &str) -> Vec<Segment> {
    let mut segments: Vec<Segment> = Vec::new();
    for line in text.lines() {
        match zoom_line(line) {
            Some((start, speaker, message)) => segments.push(Segment {
                speaker: Some(speaker),
                start_ms: start,
                end_ms: start,
                text: message,
            }),
            None => {
                // A continuation of the previous message.
                if let (Some(last), false) = (segments.last_mut(), line.trim().is_empty()) {
                    if !last.text.is_empty() {
                        last.text.push(' ');
                    }
                    last.text.push_str(line.trim());
                }
            }
        }
    }
    segments.retain(|s| !s.text.is_empty());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webvtt_reads_back_as_the_same_segments() {
        let segments = vec![
            Segment {
                speaker: Some("Ana Ruiz".into()),
                start_ms: 0,
                end_ms: 4_250,
                text: "Q3 <draft> & the \"--> arrow\" &lt;kept&gt;".into(),
            },
            Segment {
                speaker: None,
                start_ms: 3_723_004,
                end_ms: 3_725_000,
                text: "an hour in".into(),
            },
        ];
        let vtt = webvtt(&segments);
        assert!(vtt.starts_with("WEBVTT\n"));
        assert!(vtt.contains("01:02:03.004 --> 01:02:05.000"), "{vtt}");
        let back = extract(vtt.as_bytes(), Format::Vtt).unwrap();
        assert_eq!(back.segments, segments);
        assert_eq!(back.markdown, transcript_markdown(&segments));
    }
}
