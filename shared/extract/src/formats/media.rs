//! Audio and video: container, duration and codecs from headers. No transcription.
//!
//! The headers needed are small and stable, so they are read here rather than through a full
//! demuxer: RIFF/WAVE chunks, MPEG audio frames (+ Xing/Info), ISO-BMFF boxes, Matroska EBML.

use crate::{ExtractError, Extracted, Format, Metadata};

#[derive(Default)]
struct MediaInfo {
    duration_secs: Option<f64>,
    codecs: Vec<String>,
    width: Option<u32>,
    height: Option<u32>,
    extra: Vec<(&'static str, String)>,
}

pub(crate) fn extract(bytes: &[u8], format: Format) -> Result<Extracted, ExtractError> {
    extract_sized(bytes, bytes.len() as u64, format)
}

/// `bytes` may be only the start of a file of `total_len` bytes (for ISO media: its `ftyp` and
/// `moov` boxes): durations that depend on the length use `total_len`.
pub(crate) fn extract_sized(
    bytes: &[u8],
    total_len: u64,
    format: Format,
) -> Result<Extracted, ExtractError> {
    let total = usize::try_from(total_len)
        .unwrap_or(usize::MAX)
        .max(bytes.len());
    let info = match format {
        Format::Wav => wav(bytes, total),
        Format::Mp3 => mp3(bytes, total),
        Format::Webm => webm(bytes),
        _ => mp4(bytes),
    }
    .ok_or_else(|| ExtractError::corrupt(format.label(), "the header could not be read"))?;
    let mut description = format!("Media file ({})", format.label());
    if let Some(d) = info.duration_secs {
        description.push_str(&format!(
            ", duration {}",
            crate::formats::transcript::clock((d * 1000.0) as u64)
        ));
    }
    if !info.codecs.is_empty() {
        description.push_str(&format!(", codecs {}", info.codecs.join(", ")));
    }
    if let (Some(w), Some(h)) = (info.width, info.height) {
        description.push_str(&format!(", {w} × {h} px"));
    }
    description.push('.');
    let mut metadata = Metadata {
        duration_secs: info.duration_secs,
        width: info.width,
        height: info.height,
        ..Metadata::default()
    };
    metadata
        .extra
        .insert("container".to_owned(), format.label().to_owned());
    if !info.codecs.is_empty() {
        metadata
            .extra
            .insert("codecs".to_owned(), info.codecs.join(", "));
    }
    for (k, v) in info.extra {
        metadata.extra.insert(k.to_owned(), v);
    }
    Ok(Extracted::new(format, description, metadata))
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_be(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn wav(b: &[u8], total: usize) -> Option<MediaInfo> {
    let mut info = MediaInfo::default();
    let (mut pos, mut byte_rate) = (12usize, 0u32);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let size = u32_le(b, pos + 4)? as usize;
        let body = pos + 8;
        if id == b"fmt " {
            let tag = u16_le(b, body)?;
            let channels = u16_le(b, body + 2)?;
            let rate = u32_le(b, body + 4)?;
            byte_rate = u32_le(b, body + 8)?;
            let bits = u16_le(b, body + 14)?;
            info.codecs.push(if tag == 1 {
                format!("PCM {bits}-bit")
            } else {
                format!("WAVE format 0x{tag:04x}")
            });
            info.extra.push(("sample_rate", rate.to_string()));
            info.extra.push(("channels", channels.to_string()));
        } else if id == b"data" && byte_rate > 0 {
            // Streaming writers leave the size at 0 or max; the file length is the better guess.
            let data = if size == 0 || size == u32::MAX as usize {
                total - body
            } else {
                size
            };
            info.duration_secs = Some(data as f64 / byte_rate as f64);
        }
        pos = body.checked_add(size)?.checked_add(size % 2)?;
    }
    (!info.codecs.is_empty()).then_some(info)
}

fn mp3(b: &[u8], total: usize) -> Option<MediaInfo> {
    let mut pos = 0;
    if b.starts_with(b"ID3") {
        let size = b
            .get(6..10)?
            .iter()
            .fold(0usize, |acc, &x| (acc << 7) | (x & 0x7F) as usize);
        pos = 10 + size;
    }
    // Find the first frame sync within a small window after the tag.
    let window_end = b.len().min(pos + 64 * 1024);
    let start =
        (pos..window_end.saturating_sub(4)).find(|&i| b[i] == 0xFF && (b[i + 1] & 0xE0) == 0xE0)?;
    let header = u32_be(b, start)?;
    let version_bits = (header >> 19) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
    let layer_bits = (header >> 17) & 3; // 1 = Layer III
    let bitrate_index = ((header >> 12) & 0xF) as usize;
    let rate_index = ((header >> 10) & 3) as usize;
    let mpeg1 = version_bits == 3;
    let rates = [44100u32, 48000, 32000];
    let sample_rate = rates.get(rate_index)?
        >> if mpeg1 {
            0
        } else if version_bits == 2 {
            1
        } else {
            2
        };
    let bitrates_v1 = [
        0u32, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    let bitrates_v2 = [
        0u32, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160,
    ];
    let kbps = *if mpeg1 { &bitrates_v1 } else { &bitrates_v2 }.get(bitrate_index)?;
    let samples_per_frame = if mpeg1 { 1152.0 } else { 576.0 };
    let mut info = MediaInfo {
        codecs: vec![format!("MPEG audio layer {}", 4 - layer_bits)],
        ..MediaInfo::default()
    };
    info.extra.push(("sample_rate", sample_rate.to_string()));
    // A Xing/Info header holds the frame count of VBR files.
    let frames = ["Xing", "Info"].iter().find_map(|tag| {
        let at = crate::detect::find(&b[start..b.len().min(start + 200)], tag.as_bytes())? + start;
        let flags = u32_be(b, at + 4)?;
        (flags & 1 == 1).then(|| u32_be(b, at + 8)).flatten()
    });
    info.duration_secs = match (frames, kbps) {
        (Some(n), _) => Some(n as f64 * samples_per_frame / sample_rate as f64),
        (None, k) if k > 0 => Some((total - start) as f64 * 8.0 / (k as f64 * 1000.0)),
        _ => None,
    };
    info.extra.push(("bitrate_kbps", kbps.to_string()));
    Some(info)
}

/// ISO base media (MP4, MOV, M4A): `mvhd` for duration, each track's `stsd` for its codec.
fn mp4(b: &[u8]) -> Option<MediaInfo> {
    let mut info = MediaInfo::default();
    let moov = boxes(b).find(|(kind, _)| kind == b"moov")?.1;
    for (kind, body) in boxes(moov) {
        match &kind {
            b"mvhd" => {
                let version = *body.first()?;
                let (scale, duration) = if version == 1 {
                    (u32_be(body, 20)? as u64, u64_be(body, 24)?)
                } else {
                    (u32_be(body, 12)? as u64, u32_be(body, 16)? as u64)
                };
                if scale > 0 {
                    info.duration_secs = Some(duration as f64 / scale as f64);
                }
            }
            b"trak" => track(body, &mut info),
            _ => {}
        }
    }
    Some(info)
}

fn track(trak: &[u8], info: &mut MediaInfo) {
    for (kind, body) in boxes(trak) {
        if &kind == b"tkhd" && body.len() >= 8 {
            let w = u32_be(body, body.len() - 8)
                .map(|v| v >> 16)
                .filter(|&v| v > 0);
            let h = u32_be(body, body.len() - 4)
                .map(|v| v >> 16)
                .filter(|&v| v > 0);
            if w.is_some() && info.width.is_none() {
                info.width = w;
                info.height = h;
            }
        }
    }
    let stsd = path(trak, &[b"mdia", b"minf", b"stbl", b"stsd"]);
    // stsd: version/flags (4), entry count (4), then the first entry: size (4) + format (4).
    if let Some(codec) = stsd.and_then(|s| s.get(12..16)) {
        let name = String::from_utf8_lossy(codec).trim().to_owned();
        if !name.is_empty() && !info.codecs.contains(&name) {
            info.codecs.push(name);
        }
    }
}

fn path<'a>(mut data: &'a [u8], kinds: &[&[u8; 4]]) -> Option<&'a [u8]> {
    for kind in kinds {
        data = boxes(data).find(|(k, _)| k == *kind)?.1;
    }
    Some(data)
}

/// Iterates the boxes at one level: (type, body).
/// An ISO base media box header at the start of `b`, in a file with `remaining` bytes from
/// there: its type, whole size and header length. Lets a caller find `moov` by range reads.
pub fn iso_box(b: &[u8], remaining: u64) -> Option<([u8; 4], u64, usize)> {
    let kind: [u8; 4] = b.get(4..8)?.try_into().ok()?;
    let (size, header) = match u32_be(b, 0)? {
        1 => (u64_be(b, 8)?, 16),
        0 => (remaining, 8),
        n => (n as u64, 8),
    };
    (size >= header as u64).then_some((kind, size, header))
}

fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let size32 = u32_be(data, pos)? as usize;
        let kind: [u8; 4] = data.get(pos + 4..pos + 8)?.try_into().ok()?;
        let (header, size) = match size32 {
            1 => (16, usize::try_from(u64_be(data, pos + 8)?).ok()?),
            0 => (8, data.len() - pos),
            n => (8, n),
        };
        if size < header {
            return None;
        }
        let end = pos.checked_add(size)?.min(data.len());
        let body = data.get(pos + header..end)?;
        pos = end;
        Some((kind, body))
    })
}

/// Matroska/WebM: Segment → Info (TimecodeScale, Duration) and Tracks → CodecID.
fn webm(b: &[u8]) -> Option<MediaInfo> {
    let mut info = MediaInfo::default();
    let (_, segment) = ebml_elements(b).find(|(id, _)| *id == 0x1853_8067)?;
    let mut scale = 1_000_000f64;
    let mut duration = None;
    for (id, body) in ebml_elements(segment) {
        match id {
            0x1549_A966 => {
                for (field, value) in ebml_elements(body) {
                    match field {
                        0x2A_D7B1 => {
                            scale = value.iter().fold(0u64, |a, &x| (a << 8) | x as u64) as f64
                        }
                        0x4489 => duration = ebml_float(value),
                        _ => {}
                    }
                }
            }
            0x1654_AE6B => {
                for (_, entry) in ebml_elements(body).filter(|(id, _)| *id == 0xAE) {
                    if let Some((_, codec)) = ebml_elements(entry).find(|(id, _)| *id == 0x86) {
                        info.codecs.push(
                            String::from_utf8_lossy(codec)
                                .trim_end_matches('\0')
                                .to_owned(),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    info.duration_secs = duration.map(|d| d * scale / 1e9);
    Some(info)
}

fn ebml_float(value: &[u8]) -> Option<f64> {
    match value.len() {
        4 => Some(f32::from_be_bytes(value.try_into().ok()?) as f64),
        8 => Some(f64::from_be_bytes(value.try_into().ok()?)),
        _ => None,
    }
}

/// A variable-length EBML integer: (value, length). `keep_marker` is for element IDs.
fn ebml_vint(data: &[u8], pos: usize, keep_marker: bool) -> Option<(u64, usize)> {
    let first = *data.get(pos)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = if keep_marker {
        first as u64
    } else {
        (first as u64) & (0xFF >> len)
    };
    for i in 1..len {
        value = (value << 8) | *data.get(pos + i)? as u64;
    }
    Some((value, len))
}

fn ebml_elements(data: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let (id, id_len) = ebml_vint(data, pos, true)?;
        let (size, size_len) = ebml_vint(data, pos + id_len, false)?;
        let start = pos + id_len + size_len;
        // All ones means "unknown size" (live streams): the element runs to the end.
        let unknown = size == (1u64 << (7 * size_len)) - 1;
        let end = if unknown {
            data.len()
        } else {
            start
                .checked_add(usize::try_from(size).ok()?)?
                .min(data.len())
        };
        let body = data.get(start..end)?;
        pos = end;
        Some((id, body))
    })
}
