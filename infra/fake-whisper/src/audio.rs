//! The fake's "recogniser": it sniffs the container by magic bytes and derives segments from the
//! signal itself, so tests can build audio whose transcript (and timings) they know in advance.

/// One recognised stretch of audio; times in seconds from the start of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub duration: f64,
    pub segments: Vec<Segment>,
}

impl Transcript {
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.segments.iter().map(|s| s.text.as_str()).collect();
        texts.join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioError {
    /// No audio or video container we recognise.
    NotAudio,
    /// Looks like audio, but holds nothing we can time (no `data` chunk, no MPEG frames, ...).
    Corrupt,
}

pub fn transcribe(bytes: &[u8]) -> Result<Transcript, AudioError> {
    let magic = |at: usize, tag: &[u8]| bytes.get(at..at + tag.len()) == Some(tag);
    if magic(0, b"RIFF") && magic(8, b"WAVE") {
        wav(bytes)
    } else if magic(0, b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
    {
        mp3(bytes)
    } else if magic(4, b"ftyp")
        || magic(0, &[0x1A, 0x45, 0xDF, 0xA3])
        || magic(0, b"OggS")
        || magic(0, b"fLaC")
    {
        Ok(one_segment("audio", 1.0))
    } else {
        Err(AudioError::NotAudio)
    }
}

fn one_segment(text: &str, duration: f64) -> Transcript {
    Transcript {
        duration,
        segments: vec![Segment {
            start: 0.0,
            end: duration,
            text: text.into(),
        }],
    }
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// 16-bit PCM is read as a tone detector on channel 0: each run of one non-zero sample value is a
/// segment "tone {value}"; zero is silence. Anything else is one "audio" segment.
fn wav(b: &[u8]) -> Result<Transcript, AudioError> {
    let (mut fmt, mut data) = (None, None);
    let mut pos = 12;
    while pos + 8 <= b.len() {
        let size = u32le(b, pos + 4) as usize;
        // Streaming writers leave the size at 0xFFFFFFFF; take what is there.
        let body = &b[pos + 8..(pos + 8).saturating_add(size).min(b.len())];
        match &b[pos..pos + 4] {
            b"fmt " => fmt = Some(body),
            b"data" => data = Some(body),
            _ => {}
        }
        // Chunks are padded to an even length.
        pos = pos.saturating_add(8 + size + (size & 1));
    }
    let (fmt, data) = match (fmt, data) {
        (Some(fmt), Some(data)) if fmt.len() >= 16 => (fmt, data),
        _ => return Err(AudioError::Corrupt),
    };
    let (tag, channels, rate) = (u16le(fmt, 0), u16le(fmt, 2) as usize, u32le(fmt, 4));
    let (byte_rate, bits) = (u32le(fmt, 8), u16le(fmt, 14));
    // WAVE_FORMAT_EXTENSIBLE carries the real format tag in its sub-format GUID.
    let pcm = tag == 1 || (tag == 0xFFFE && fmt.len() >= 26 && u16le(fmt, 24) == 1);
    if !(pcm && bits == 16) {
        if byte_rate == 0 {
            return Err(AudioError::Corrupt);
        }
        return Ok(one_segment(
            "audio",
            data.len() as f64 / f64::from(byte_rate),
        ));
    }
    if channels == 0 || rate == 0 {
        return Err(AudioError::Corrupt);
    }
    let rate = f64::from(rate);
    let samples: Vec<i16> = data
        .chunks_exact(channels * 2)
        .map(|frame| i16::from_le_bytes([frame[0], frame[1]]))
        .collect();
    let mut segments = Vec::new();
    let mut start = 0;
    while start < samples.len() {
        let value = samples[start];
        let end = start + samples[start..].iter().take_while(|s| **s == value).count();
        if value != 0 {
            segments.push(Segment {
                start: start as f64 / rate,
                end: end as f64 / rate,
                text: format!("tone {value}"),
            });
        }
        start = end;
    }
    Ok(Transcript {
        duration: samples.len() as f64 / rate,
        segments,
    })
}

struct Frame {
    len: usize,
    samples: u64,
    rate: u32,
}

/// kbit/s by bitrate index, for MPEG-1 layers I, II, III, then MPEG-2/2.5 layer I, then II and III.
#[rustfmt::skip]
const BITRATES: [[u16; 15]; 4] = [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
];
const BITRATES_V2_L23: [u16; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/// Parses an MPEG audio frame header (ISO 11172-3 / 13818-3, plus the MPEG 2.5 extension).
fn frame_header(b: &[u8]) -> Option<Frame> {
    if b.len() < 4 || b[0] != 0xFF || b[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b[1] >> 3) & 3; // 0 = 2.5, 1 = reserved, 2 = MPEG2, 3 = MPEG1
    let layer = (b[1] >> 1) & 3; // 1 = III, 2 = II, 3 = I, 0 = reserved
    let bitrate_index = usize::from(b[2] >> 4);
    let rate_index = usize::from((b[2] >> 2) & 3);
    let padding = usize::from((b[2] >> 1) & 1);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None; // reserved values, or free format (which has no computable length)
    }
    let mpeg1 = version == 3;
    let table = match (mpeg1, layer) {
        (true, 3) => &BITRATES[0],
        (true, 2) => &BITRATES[1],
        (true, _) => &BITRATES[2],
        (false, 3) => &BITRATES[3],
        (false, _) => &BITRATES_V2_L23,
    };
    let bitrate = usize::from(table[bitrate_index]) * 1000;
    let rate = [44_100u32, 48_000, 32_000][rate_index] >> [2, 0, 1, 0][usize::from(version)];
    let per_rate = |n: usize| n * bitrate / rate as usize;
    let (len, samples) = match layer {
        3 => ((per_rate(12) + padding) * 4, 384),
        2 => (per_rate(144) + padding, 1152),
        _ if mpeg1 => (per_rate(144) + padding, 1152),
        _ => (per_rate(72) + padding, 576),
    };
    Some(Frame { len, samples, rate })
}

/// MP3 is timed by walking its frames; the transcript is one "speech {i}" per 10 s window.
fn mp3(b: &[u8]) -> Result<Transcript, AudioError> {
    let mut pos = 0;
    if b.starts_with(b"ID3") && b.len() >= 10 {
        // The tag size is a syncsafe integer (7 bits a byte) and excludes the 10-byte header.
        let size = b[6..10]
            .iter()
            .fold(0usize, |acc, x| (acc << 7) | usize::from(x & 0x7F));
        let footer = if b[5] & 0x10 != 0 { 10 } else { 0 };
        pos = 10 + size + footer;
    }
    while pos < b.len() && frame_header(&b[pos..]).is_none() {
        pos += 1;
    }
    let (mut samples, mut rate, mut first) = (0u64, 0u32, true);
    while let Some(frame) = b.get(pos..).and_then(frame_header) {
        let Some(body) = b.get(pos..pos + frame.len) else {
            break; // a truncated last frame
        };
        // Encoders put VBR metadata (no audio) in an otherwise silent first frame.
        let metadata = first
            && body
                .windows(4)
                .any(|w| w == b"Xing" || w == b"Info" || w == b"VBRI");
        if !metadata {
            samples += frame.samples;
            if rate == 0 {
                rate = frame.rate;
            }
        }
        first = false;
        pos += frame.len;
    }
    if samples == 0 {
        return Err(AudioError::Corrupt);
    }
    let duration = samples as f64 / f64::from(rate);
    let windows = (duration / 10.0).ceil() as usize;
    let segments = (0..windows)
        .map(|i| Segment {
            start: i as f64 * 10.0,
            end: ((i + 1) as f64 * 10.0).min(duration),
            text: format!("speech {i}"),
        })
        .collect();
    Ok(Transcript { duration, segments })
}
