//! Cutting audio into pieces a transcription endpoint accepts (Whisper's limit is 25 MB) without
//! re-encoding: WAV by whole PCM blocks, each piece with its own header; MP3 at frame boundaries
//! (every frame is independently decodable, apart from a few ms of bit reservoir at a cut).
//! Containers whose audio cannot be cut without remuxing (MP4, MOV, M4A, WebM) are refused, so the
//! caller can say so instead of sending a broken piece.

use std::ops::Range;

use crate::Format;

/// One piece: `header` (rewritten for WAV, empty for MP3) followed by `source[range]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioPiece {
    pub header: Vec<u8>,
    pub range: Range<usize>,
    /// Where the piece starts in the whole recording (seconds, unrounded so stitched timestamps
    /// do not drift); add it to the piece's own timestamps.
    pub start_secs: f64,
}

impl AudioPiece {
    /// The piece's bytes, built only when it is sent (one piece in memory at a time).
    pub fn bytes(&self, source: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header.len() + self.range.len());
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&source[self.range.clone()]);
        out
    }

    pub fn len(&self) -> usize {
        self.header.len() + self.range.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("{0} audio cannot be cut into pieces without re-encoding")]
    NotSplittable(&'static str),
    #[error("the {0} audio stream could not be read")]
    Unreadable(&'static str),
}

/// Splits `bytes` into pieces of at most `max_piece` bytes each, in order.
pub fn split_audio(
    bytes: &[u8],
    format: Format,
    max_piece: usize,
) -> Result<Vec<AudioPiece>, SplitError> {
    match plan_cut(bytes, bytes.len(), format, max_piece)? {
        CutPlan::Pieces(pieces) => Ok(pieces),
        CutPlan::Frames { audio_start } => {
            let (mut pieces, mut pos, mut samples) = (Vec::new(), audio_start, 0u64);
            while pos < bytes.len() {
                let window = &bytes[pos..bytes.len().min(pos + max_piece)];
                let Some(run) = mp3_run(window).filter(|r| r.bytes > 0) else {
                    break; // an ID3v1 tag or trailing junk
                };
                pieces.push(AudioPiece {
                    header: Vec::new(),
                    range: pos..pos + run.bytes,
                    start_secs: samples as f64 / run.sample_rate as f64,
                });
                samples += run.samples;
                pos += run.bytes;
            }
            if pieces.is_empty() {
                return Err(SplitError::Unreadable("MP3"));
            }
            Ok(pieces)
        }
    }
}

/// How a recording is cut, worked out from its first bytes and its length, so a file too big to
/// hold can be cut by range reads.
#[derive(Debug, Clone, PartialEq)]
pub enum CutPlan {
    /// WAV: every piece is known up front (ranges are offsets in the whole file).
    Pieces(Vec<AudioPiece>),
    /// MP3: audio frames start at `audio_start`; read up to `max_piece` bytes from where the last
    /// piece ended and [`mp3_run`] says how much of it is the next piece.
    Frames { audio_start: usize },
}

/// `head` is the start of the file (1 MB is plenty), `total_len` its full length.
pub fn plan_cut(
    head: &[u8],
    total_len: usize,
    format: Format,
    max_piece: usize,
) -> Result<CutPlan, SplitError> {
    match format {
        Format::Wav => wav_pieces(head, total_len, max_piece)
            .map(CutPlan::Pieces)
            .ok_or(SplitError::Unreadable("WAV")),
        Format::Mp3 => mp3_audio_start(head)
            .map(|audio_start| CutPlan::Frames { audio_start })
            .ok_or(SplitError::Unreadable("MP3")),
        other => Err(SplitError::NotSplittable(other.label())),
    }
}

/// Whole MPEG audio frames at the start of `window`: how many bytes, samples, at what rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRun {
    pub bytes: usize,
    pub samples: u64,
    pub sample_rate: u32,
}

/// The longest run of whole frames from the start of `window` (which must start on a frame).
/// `None` when it does not start on one.
pub fn mp3_run(window: &[u8]) -> Option<FrameRun> {
    let first = mpeg_frame(window)?;
    let mut run = FrameRun {
        bytes: 0,
        samples: 0,
        sample_rate: first.sample_rate,
    };
    while let Some(frame) =
        mpeg_frame(&window[run.bytes..]).filter(|f| f.len > 4 && run.bytes + f.len <= window.len())
    {
        run.bytes += frame.len;
        run.samples += frame.samples as u64;
    }
    Some(run)
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn wav_pieces(b: &[u8], total_len: usize, max_piece: usize) -> Option<Vec<AudioPiece>> {
    if !(b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WAVE")) {
        return None;
    }
    let (mut pos, mut fmt, mut data) = (12usize, None, None);
    while pos + 8 <= b.len() {
        let size = u32_le(b, pos + 4)? as usize;
        let body = pos + 8;
        match &b[pos..pos + 4] {
            b"fmt " => fmt = Some(b.get(body..body.checked_add(size)?)?),
            b"data" => {
                // Streaming writers leave the size at 0 or u32::MAX: the data runs to the end.
                let end = if size == 0 || size == u32::MAX as usize {
                    total_len
                } else {
                    total_len.min(body + size)
                };
                data = Some(body..end);
                break;
            }
            _ => {}
        }
        pos = body.checked_add(size)?.checked_add(size % 2)?;
    }
    let (fmt, data) = (fmt?, data?);
    let byte_rate = u32_le(fmt, 8)? as u64;
    let block = u16_le(fmt, 12)?.max(1) as usize;
    let header_len = 12 + 8 + fmt.len() + fmt.len() % 2 + 8;
    let per_piece = max_piece.checked_sub(header_len)? / block * block;
    if byte_rate == 0 || per_piece == 0 {
        return None;
    }
    let mut pieces = Vec::new();
    let mut at = data.start;
    while at < data.end {
        let end = data.end.min(at + per_piece);
        let len = (end - at) as u32;
        let mut header = Vec::with_capacity(header_len);
        header.extend_from_slice(b"RIFF");
        header.extend_from_slice(&((header_len as u32 - 8) + len).to_le_bytes());
        header.extend_from_slice(b"WAVEfmt ");
        header.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        header.extend_from_slice(fmt);
        if fmt.len() % 2 == 1 {
            header.push(0);
        }
        header.extend_from_slice(b"data");
        header.extend_from_slice(&len.to_le_bytes());
        pieces.push(AudioPiece {
            header,
            range: at..end,
            start_secs: (at - data.start) as f64 / byte_rate as f64,
        });
        at = end;
    }
    Some(pieces)
}

/// One MPEG audio frame header's facts.
struct Frame {
    len: usize,
    samples: u32,
    sample_rate: u32,
}

fn mpeg_frame(b: &[u8]) -> Option<Frame> {
    let h = u32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    if h >> 21 != 0x7FF {
        return None;
    }
    let version = (h >> 19) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5, 1 reserved
    let layer = 4 - ((h >> 17) & 3); // header bits 3,2,1 = layers I, II, III
    let bitrate_index = ((h >> 12) & 0xF) as usize;
    let rate_index = ((h >> 10) & 3) as usize;
    let padding = (h >> 9) & 1;
    if version == 1 || layer == 4 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None; // reserved values, or free format (no way to know the frame length)
    }
    let mpeg1 = version == 3;
    const V1: [[u32; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[u32; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let kbps = if mpeg1 {
        V1[layer as usize - 1][bitrate_index]
    } else {
        V2[(layer as usize - 1).min(1)][bitrate_index]
    };
    let sample_rate = [44100u32, 48000, 32000][rate_index]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let bps = kbps * 1000;
    let (len, samples) = match (layer, mpeg1) {
        (1, _) => ((12 * bps / sample_rate + padding) * 4, 384),
        (3, false) => (72 * bps / sample_rate + padding, 576),
        _ => (144 * bps / sample_rate + padding, 1152),
    };
    Some(Frame {
        len: len as usize,
        samples,
        sample_rate,
    })
}

/// Where the audio frames begin: after an ID3v2 tag, any junk, and a Xing/Info frame.
fn mp3_audio_start(b: &[u8]) -> Option<usize> {
    let mut pos = 0;
    if b.starts_with(b"ID3") {
        let size = b
            .get(6..10)?
            .iter()
            .fold(0usize, |acc, &x| (acc << 7) | (x & 0x7F) as usize);
        let footer = if b.get(5)? & 0x10 != 0 { 10 } else { 0 };
        pos = 10 + size + footer;
    }
    // Junk between the tag and the first frame: look for two frames in a row.
    let limit = b.len().min(pos + 64 * 1024);
    pos = (pos..limit).find(|&i| {
        mpeg_frame(&b[i..]).is_some_and(|f| match b.get(i + f.len..) {
            Some([]) => true,
            Some(next) => mpeg_frame(next).is_some(),
            None => false, // the frame runs past the end
        })
    })?;
    let first = mpeg_frame(&b[pos..])?;
    let first_bytes = &b[pos..b.len().min(pos + first.len)];
    if crate::detect::find(first_bytes, b"Xing").is_some()
        || crate::detect::find(first_bytes, b"Info").is_some()
    {
        pos += first.len; // a silent frame holding the VBR table: its counts describe the whole
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(samples: &[i16], rate: u32) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(b"INFO");
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&data);
        b
    }

    /// MPEG1 Layer III, 128 kbps, 44.1 kHz: 417 bytes, 418 with padding.
    fn mp3_frame(padding: bool) -> Vec<u8> {
        let mut f = vec![0xFF, 0xFB, if padding { 0x92 } else { 0x90 }, 0x00];
        f.resize(if padding { 418 } else { 417 }, 0);
        f
    }

    #[test]
    fn wav_pieces_have_valid_headers_whole_samples_and_offsets() {
        let samples: Vec<i16> = (0..8000 * 10).map(|i| (i % 1000) as i16).collect();
        let src = wav(&samples, 8000);
        let pieces = split_audio(&src, Format::Wav, 30_000).unwrap();
        assert_eq!(
            pieces.len(),
            (160_000f64 / (30_000 - 44) as f64).ceil() as usize
        );
        let mut joined = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            let bytes = p.bytes(&src);
            assert!(bytes.len() <= 30_000);
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(u32_le(&bytes, 4).unwrap() as usize, bytes.len() - 8);
            assert_eq!(u32_le(&bytes, 40).unwrap() as usize, bytes.len() - 44);
            assert_eq!(p.range.len() % 2, 0, "piece {i} cuts a sample");
            assert_eq!(p.start_secs, (joined.len() / 2) as f64 / 8000.0);
            joined.extend_from_slice(&bytes[44..]);
        }
        assert_eq!(joined, &src[src.len() - 160_000..]);
    }

    #[test]
    fn mp3_cuts_at_frames_skips_the_xing_frame_and_counts_time() {
        let mut src = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        let mut xing = mp3_frame(false);
        xing[36..40].copy_from_slice(b"Xing");
        src.extend_from_slice(&xing);
        let audio_start = src.len();
        for i in 0..1000 {
            src.extend_from_slice(&mp3_frame(i % 3 == 0));
        }
        src.extend_from_slice(b"TAG");
        src.resize(src.len() + 125, b' ');
        let pieces = split_audio(&src, Format::Mp3, 100_000).unwrap();
        assert_eq!(pieces[0].range.start, audio_start);
        let mut expected_start = audio_start;
        let mut frames_before = 0u64;
        for p in &pieces {
            assert!(p.len() <= 100_000 && p.header.is_empty());
            assert_eq!(p.range.start, expected_start);
            assert!(
                mpeg_frame(&src[p.range.start..]).is_some(),
                "starts on a frame"
            );
            assert_eq!(p.start_secs, (frames_before * 1152) as f64 / 44100.0);
            let mut at = p.range.start;
            while at < p.range.end {
                at += mpeg_frame(&src[at..]).unwrap().len;
                frames_before += 1;
            }
            assert_eq!(at, p.range.end, "ends on a frame boundary");
            expected_start = p.range.end;
        }
        assert_eq!(frames_before, 1000);
        assert_eq!(pieces.len(), 5);
    }

    /// Found by the `media` fuzz target: a frame header whose length runs past the end.
    #[test]
    fn a_frame_header_near_the_end_is_not_read_past_it() {
        let mut b = vec![0x80, 0x3e, 0x00, 0x4e];
        b.extend_from_slice(&[0xFF; 34]);
        b.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        assert_eq!(
            split_audio(&b, Format::Mp3, 4096),
            Err(SplitError::Unreadable("MP3"))
        );
    }

    #[test]
    fn containers_that_need_remuxing_are_refused() {
        assert_eq!(
            split_audio(b"....ftypisom", Format::Mp4, 1000),
            Err(SplitError::NotSplittable("MP4"))
        );
        assert_eq!(
            split_audio(b"RIFF\0\0\0\0WAVE", Format::Wav, 1000),
            Err(SplitError::Unreadable("WAV"))
        );
        assert_eq!(
            split_audio(&[0u8; 5000], Format::Mp3, 1000),
            Err(SplitError::Unreadable("MP3"))
        );
    }
}
