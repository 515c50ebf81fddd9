//! Audio files: probing (codec, rate, channels, length, tags) and decoding
//! to interleaved `f32`, with symphonia. The same decoder validates tracks
//! at pack time and feeds the player on the tablet.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, StandardTag};

/// Longest track accepted: three hours.
pub const MAX_SECONDS: u64 = 3 * 3600;
const MAX_CHANNELS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("cannot open the audio file: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a playable OGG Vorbis, FLAC or MP3 file: {0}")]
    Format(String),
    #[error("the audio is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Limit(String),
}

/// What the tags say, when they say it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: u16,
    /// Sample frames (one sample per channel), counted by decoding.
    pub frames: u64,
    pub tags: Tags,
}

impl AudioInfo {
    pub fn duration_ms(&self) -> u64 {
        self.frames * 1000 / u64::from(self.sample_rate.max(1))
    }
}

/// An open track, decoding packet by packet.
pub struct Stream {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track: u32,
    pub sample_rate: u32,
    pub channels: u16,
    pub tags: Tags,
    /// Frames in the track, when the container says (cheap; `probe`
    /// counts them by decoding).
    pub frames_hint: Option<u64>,
    /// Decode errors skipped so far (a damaged packet is skipped, as
    /// players do; too many and the file is refused).
    skipped: u32,
}

/// What a file that no reader takes really is, from its first bytes.
fn sniff(head: &[u8]) -> Option<&'static str> {
    let at = |i: usize, m: &[u8]| head.get(i..i + m.len()) == Some(m);
    Some(if at(0, b"RIFF") && at(8, b"WAVE") {
        "WAV"
    } else if at(0, b"OggS") {
        "OGG"
    } else if at(0, b"fLaC") {
        "FLAC"
    } else if at(0, b"ID3") || (head.len() > 1 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        "MP3"
    } else if at(4, b"ftyp") {
        "MP4 or M4A (AAC)"
    } else if at(0, &[0x30, 0x26, 0xB2, 0x75]) {
        "WMA"
    } else if at(0, b"FORM") && at(8, b"AIFF") {
        "AIFF"
    } else {
        return None;
    })
}

/// The refusal for a file no reader takes: empty, another format, or
/// nothing recognisable.
fn not_audio(path: &Path) -> AudioError {
    let mut head = Vec::new();
    let read = File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(12).read_to_end(&mut head)
    });
    let named = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_uppercase());
    AudioError::Format(match (read, sniff(&head)) {
        (Ok(0), _) => "the file is empty".into(),
        (_, Some(kind)) if named.as_deref().is_some_and(|n| kind.contains(n)) => format!(
            "it starts like a {kind} file but no {kind} reader can read it: it is damaged or cut"
        ),
        (_, Some(kind)) => format!(
            "this is a {kind} file{}; Berth plays OGG Vorbis, FLAC and MP3: convert it",
            named.map(|n| format!(", not {n}")).unwrap_or_default()
        ),
        _ => "its first bytes are not those of an OGG Vorbis, FLAC or MP3 file".into(),
    })
}

fn sym(e: SymError) -> AudioError {
    match e {
        SymError::IoError(e) => AudioError::Damaged(e.to_string()),
        e => AudioError::Format(e.to_string()),
    }
}

impl Stream {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let file = File::open(path)?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        let meta = MetadataOptions::default();
        let mut format = symphonia::default::get_probe()
            .probe(&hint, mss, FormatOptions::default(), meta)
            .map_err(|e| match e {
                SymError::Unsupported(_) | SymError::IoError(_) => not_audio(path),
                e => sym(e),
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| AudioError::Format("it has no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::Format("its codec is unknown".into()))?
            .clone();
        let id = track.id;
        let frames_hint = track.num_frames;
        let sample_rate = params
            .sample_rate
            .filter(|r| (8_000..=192_000).contains(r))
            .ok_or_else(|| {
                AudioError::Format("its sample rate is missing or out of range".into())
            })?;
        let channels = params
            .channels
            .as_ref()
            .map(|c| c.count())
            .filter(|c| (1..=MAX_CHANNELS).contains(c))
            .ok_or_else(|| AudioError::Format("its channel count is missing or over 8".into()))?
            as u16;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(sym)?;
        let mut tags = Tags::default();
        let mut meta = format.metadata();
        if let Some(rev) = meta.skip_to_latest() {
            read_tags(&rev.media.tags, &mut tags);
            for t in &rev.per_track {
                read_tags(&t.metadata.tags, &mut tags);
            }
        }
        Ok(Stream {
            format,
            decoder,
            track: id,
            sample_rate,
            channels,
            tags,
            frames_hint,
            skipped: 0,
        })
    }

    /// Decode the next packet into `out` (interleaved, replacing its
    /// contents). `Ok(false)` at the end of the track.
    pub fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(false),
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return Err(sym(e)),
            };
            if packet.track_id != self.track {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    if buf.spec().channels().count() != usize::from(self.channels) {
                        return Err(AudioError::Damaged(
                            "the channel count changes inside the track".into(),
                        ));
                    }
                    out.clear();
                    buf.copy_to_vec_interleaved(out);
                    return Ok(true);
                }
                Err(SymError::DecodeError(e)) => {
                    self.skipped += 1;
                    if self.skipped > 16 {
                        return Err(AudioError::Damaged(format!(
                            "more than 16 packets fail to decode ({e})"
                        )));
                    }
                }
                Err(e) => return Err(sym(e)),
            }
        }
    }
}

fn read_tags(list: &[symphonia::core::meta::Tag], tags: &mut Tags) {
    for t in list {
        let (slot, v) = match &t.std {
            Some(StandardTag::TrackTitle(v)) => (&mut tags.title, v),
            Some(StandardTag::Artist(v)) => (&mut tags.artist, v),
            Some(StandardTag::Album(v)) => (&mut tags.album, v),
            _ => continue,
        };
        let v: String = v.chars().filter(|c| !c.is_control()).take(200).collect();
        if slot.is_none() && !v.trim().is_empty() {
            *slot = Some(v.trim().to_string());
        }
    }
}

/// Decode a whole file: proves it plays from start to end, and counts its
/// frames. Decoding runs behind `catch_unwind`, so a decoder bug on a
/// hostile file is an error, never a crash.
pub fn probe(path: &Path) -> Result<AudioInfo, AudioError> {
    let path = path.to_path_buf();
    std::panic::catch_unwind(move || {
        let mut s = Stream::open(&path)?;
        let mut frames = 0u64;
        let mut buf = Vec::new();
        let limit = MAX_SECONDS * u64::from(s.sample_rate);
        while s.next_chunk(&mut buf)? {
            frames += (buf.len() / usize::from(s.channels)) as u64;
            if frames > limit {
                return Err(AudioError::Limit(format!(
                    "the track is longer than {} hours",
                    MAX_SECONDS / 3600
                )));
            }
        }
        if frames == 0 {
            return Err(AudioError::Damaged("it holds no sound".into()));
        }
        Ok(AudioInfo {
            sample_rate: s.sample_rate,
            channels: s.channels,
            frames,
            tags: s.tags,
        })
    })
    .unwrap_or_else(|_| Err(AudioError::Damaged("the decoder failed on it".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_no_reader_takes_is_named_for_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let msg = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            Stream::open(&p).err().expect("refused").to_string()
        };
        assert!(msg("a.mp3", b"").contains("the file is empty"));
        let wav = [b"RIFF".as_slice(), &[0; 4], b"WAVEfmt "].concat();
        let m = msg("b.mp3", &wav);
        assert!(m.contains("this is a WAV file, not MP3"), "{m}");
        assert!(msg("c.ogg", b"hello there, world").contains("first bytes are not"));
    }
}
