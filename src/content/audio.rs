//! Audio files: probing (codec, rate, channels, length, tags) and decoding
//! to interleaved `f32`, with symphonia. The same decoder validates tracks
//! at pack time and feeds the player on the tablet.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::common::Limit;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, StandardTag};

/// Longest track accepted: three hours.
pub const MAX_SECONDS: u64 = 3 * 3600;
const MAX_CHANNELS: usize = 8;
/// The largest tag read from a file; a bigger one (a 1 MB comment, say) is
/// skipped.
pub const MAX_TAG_BYTES: usize = 16 * 1024;
/// The largest embedded picture read (covers come from the bundle's PNG).
pub const MAX_PICTURE_BYTES: usize = 1 << 20;

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

/// Refuse a file whose tags are bigger than [`MAX_TAG_BYTES`] (pictures
/// [`MAX_PICTURE_BYTES`]), from the sizes its headers declare, before any
/// reader holds them: FLAC metadata blocks and an ID3v2 tag.
fn check_tag_sizes(path: &Path) -> Result<(), AudioError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path)?;
    let mut head = [0u8; 10];
    let n = f.read(&mut head)?;
    let too_big = |what: &str, size: usize, cap: usize| {
        AudioError::Limit(format!(
            "its {what} take {size} bytes, more than the {cap} allowed: remove or shorten them"
        ))
    };
    if n >= 10 && &head[..3] == b"ID3" {
        // ID3v2: a synchsafe size after the 6-byte header; pictures and
        // text share the tag.
        let size = head[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        if size > MAX_TAG_BYTES + MAX_PICTURE_BYTES {
            return Err(too_big("ID3 tags", size, MAX_TAG_BYTES + MAX_PICTURE_BYTES));
        }
    } else if n >= 4 && &head[..4] == b"OggS" {
        // Vorbis comments are the second packet: add up its lacing values
        // across pages, from the page after the first.
        let cap = (MAX_TAG_BYTES + MAX_PICTURE_BYTES) * 4 / 3;
        f.seek(SeekFrom::Start(0))?;
        let mut packet = 0usize;
        let mut packets_done = 0;
        'pages: for _ in 0..4096 {
            let mut h = [0u8; 27];
            if f.read_exact(&mut h).is_err() || &h[..4] != b"OggS" {
                break;
            }
            let mut table = vec![0u8; usize::from(h[26])];
            if f.read_exact(&mut table).is_err() {
                break;
            }
            for lace in &table {
                if packets_done == 1 {
                    packet += usize::from(*lace);
                    if packet > cap {
                        return Err(too_big("Vorbis comment tags", packet, cap));
                    }
                }
                if *lace < 255 {
                    packets_done += 1;
                    if packets_done == 2 {
                        break 'pages;
                    }
                }
            }
            let body: u64 = table.iter().map(|b| u64::from(*b)).sum();
            f.seek(SeekFrom::Current(body as i64))?;
        }
    } else if n >= 4 && &head[..4] == b"fLaC" {
        f.seek(SeekFrom::Start(4))?;
        for _ in 0..128 {
            let mut h = [0u8; 4];
            if f.read_exact(&mut h).is_err() {
                break;
            }
            let size = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            match h[0] & 0x7f {
                4 if size > MAX_TAG_BYTES => {
                    return Err(too_big("Vorbis comment tags", size, MAX_TAG_BYTES));
                }
                6 if size > MAX_PICTURE_BYTES => {
                    return Err(too_big("embedded pictures", size, MAX_PICTURE_BYTES));
                }
                _ => {}
            }
            if h[0] & 0x80 != 0 {
                break;
            }
            f.seek(SeekFrom::Current(size as i64))?;
        }
    }
    Ok(())
}

use crate::domain::time::mmss;

fn is_ogg(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"OggS")
}

/// Whether an OGG file's last page carries the end-of-stream flag. Pages
/// are at most 65,307 bytes, so the last one starts within the final
/// 64 KiB.
fn ogg_ends(path: &Path) -> Result<bool, AudioError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let from = len.saturating_sub(65_536);
    f.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    // The last page whose header and body fit before the end.
    let mut last_complete: Option<u8> = None;
    let mut i = 0;
    while let Some(at) = tail[i..].windows(4).position(|w| w == b"OggS") {
        let p = i + at;
        if let Some(h) = tail.get(p..p + 27) {
            let segs = usize::from(h[26]);
            if let Some(table) = tail.get(p + 27..p + 27 + segs) {
                let body: usize = table.iter().map(|b| usize::from(*b)).sum();
                if p + 27 + segs + body <= tail.len() {
                    last_complete = Some(h[5]);
                }
            }
        }
        i = p + 4;
    }
    Ok(last_complete.is_some_and(|flags| flags & 0x04 != 0))
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
        _ => "its first bytes match none of these formats".into(),
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
        check_tag_sizes(path)?;
        let file = File::open(path)?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(&ext.to_ascii_lowercase());
        }
        // A tag or picture over these is skipped, never held in memory.
        let meta = MetadataOptions::default()
            .limit_tag_bytes(Limit::Maximum(MAX_TAG_BYTES))
            .limit_visual_bytes(Limit::Maximum(MAX_PICTURE_BYTES));
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

/// A file's length from its header, without decoding it (what a lesson's
/// Listen bar shows before it is played). `None` when the header does not
/// say; installed files were probed whole at install, so it agrees with
/// what plays.
pub fn header_length_ms(path: &Path) -> Option<u64> {
    let path = path.to_path_buf();
    std::panic::catch_unwind(move || {
        let s = Stream::open(&path).ok()?;
        let frames = s.frames_hint?;
        Some(frames * 1000 / u64::from(s.sample_rate.max(1)))
    })
    .ok()
    .flatten()
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
        // A cut file decodes to less than its header says, or (OGG) lacks
        // its end-of-stream page: refused, so the length a tablet shows is
        // the length it plays.
        let rate = u64::from(s.sample_rate.max(1));
        if let Some(hint) = s.frames_hint {
            let tolerance = (hint / 50).max(rate);
            if frames + tolerance < hint {
                return Err(AudioError::Damaged(format!(
                    "the file is cut: its header says {} but only {} of sound decodes; \
                     pack the whole file",
                    mmss(hint * 1000 / rate),
                    mmss(frames * 1000 / rate)
                )));
            }
        }
        if is_ogg(&path) && !ogg_ends(&path)? {
            return Err(AudioError::Damaged(format!(
                "the file is cut: its last page is not the end of the stream \
                 ({} of sound decodes); pack the whole file",
                mmss(frames * 1000 / rate)
            )));
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
        assert!(msg("c.ogg", b"hello there, world").contains("first bytes match none"));
    }

    fn demo(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/assets/demo/music/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn a_cut_track_is_refused_and_a_whole_one_plays_to_its_length() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["02-twinkle.flac", "01-ode-to-joy.ogg"] {
            let whole = demo(name);
            let p = dir.path().join(name);
            std::fs::write(&p, &whole).unwrap();
            let info = probe(&p).unwrap_or_else(|e| panic!("{name} whole: {e}"));
            assert!(info.duration_ms() > 5_000, "{name}");
            std::fs::write(&p, &whole[..whole.len() * 2 / 5]).unwrap();
            let e = probe(&p)
                .err()
                .unwrap_or_else(|| panic!("{name} cut passed"));
            assert!(e.to_string().contains("the file is cut"), "{name}: {e}");
        }
    }

    /// The demo MP3's audio frames, without its own tags.
    fn bare_mp3() -> Vec<u8> {
        let b = demo("03-amazing-grace.mp3");
        let mut start = 0;
        if &b[..3] == b"ID3" {
            start = 10
                + b[6..10]
                    .iter()
                    .fold(0usize, |a, x| (a << 7) | usize::from(*x));
        }
        let mut end = b.len();
        if &b[end - 128..end - 125] == b"TAG" {
            end -= 128;
        }
        b[start..end].to_vec()
    }

    fn synchsafe(n: usize) -> [u8; 4] {
        [
            (n >> 21) as u8 & 0x7f,
            (n >> 14) as u8 & 0x7f,
            (n >> 7) as u8 & 0x7f,
            n as u8 & 0x7f,
        ]
    }

    /// An ID3v2 tag of `version` (3 or 4) with a TIT2 and a TPE1 frame.
    fn id3v2(version: u8, encoding: u8, text: &[u8], artist: &[u8]) -> Vec<u8> {
        let frame = |id: &[u8], body: &[u8]| {
            let mut f = id.to_vec();
            let n = body.len() + 1;
            if version == 4 {
                f.extend_from_slice(&synchsafe(n));
            } else {
                f.extend_from_slice(&(n as u32).to_be_bytes());
            }
            f.extend_from_slice(&[0, 0, encoding]);
            f.extend_from_slice(body);
            f
        };
        let frames = [frame(b"TIT2", text), frame(b"TPE1", artist)].concat();
        let mut tag = [b"ID3".as_slice(), &[version, 0, 0]].concat();
        tag.extend_from_slice(&synchsafe(frames.len()));
        tag.extend_from_slice(&frames);
        tag
    }

    fn utf16(s: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out.extend_from_slice(&[0, 0]);
        out
    }

    #[test]
    fn titles_come_from_every_id3_version() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.mp3");
        let audio = bare_mp3();
        let title_of = |bytes: Vec<u8>| {
            std::fs::write(&p, bytes).unwrap();
            let t = Stream::open(&p).unwrap().tags;
            (t.title, t.artist)
        };
        let expect = (Some("Canción".to_string()), Some("Coro".to_string()));
        // v2.3, Latin-1 (ó is 0xF3).
        let v23 = [id3v2(3, 0, b"Canci\xf3n", b"Coro"), audio.clone()].concat();
        assert_eq!(title_of(v23), expect, "ID3v2.3 Latin-1");
        // v2.3, UTF-16 with a byte-order mark.
        let v23u = [
            id3v2(3, 1, &utf16("Canción"), &utf16("Coro")),
            audio.clone(),
        ]
        .concat();
        assert_eq!(title_of(v23u), expect, "ID3v2.3 UTF-16");
        // v2.4, UTF-8.
        let v24 = [id3v2(4, 3, "Canción".as_bytes(), b"Coro"), audio.clone()].concat();
        assert_eq!(title_of(v24), expect, "ID3v2.4 UTF-8");
        // v1: 128 bytes at the end, Latin-1.
        let mut v1 = vec![0u8; 128];
        v1[..3].copy_from_slice(b"TAG");
        v1[3..10].copy_from_slice(b"Canci\xf3n");
        v1[33..37].copy_from_slice(b"Coro");
        let with_v1 = [audio.clone(), v1].concat();
        assert_eq!(title_of(with_v1), expect, "ID3v1");
    }

    /// The demo FLAC with a Vorbis comment block of `title` put in front
    /// of its own tags.
    fn flac_with_title(title: &str) -> Vec<u8> {
        let b = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/demo/music/02-twinkle.flac"
        ))
        .unwrap();
        assert_eq!(&b[..4], b"fLaC");
        let streaminfo_end = 4 + 4 + 34;
        let comment = format!("TITLE={title}");
        let mut block = Vec::new();
        block.extend_from_slice(&6u32.to_le_bytes());
        block.extend_from_slice(b"berth!");
        block.extend_from_slice(&1u32.to_le_bytes());
        block.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        block.extend_from_slice(comment.as_bytes());
        let mut out = b[..streaminfo_end].to_vec();
        out.push(4); // VORBIS_COMMENT, not last
        out.extend_from_slice(&(block.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&block);
        out.extend_from_slice(&b[streaminfo_end..]);
        out
    }

    #[test]
    fn a_huge_tag_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.flac");
        std::fs::write(&p, flac_with_title("Short title")).unwrap();
        let s = Stream::open(&p).unwrap();
        assert_eq!(
            s.tags.title.as_deref(),
            Some("Short title"),
            "a small tag is read"
        );
        std::fs::write(&p, flac_with_title(&"x".repeat(1 << 20))).unwrap();
        let e = Stream::open(&p).err().expect("a 1 MB comment is refused");
        assert!(
            matches!(&e, AudioError::Limit(m) if m.contains("Vorbis comment tags")),
            "{e}"
        );
        // An OGG whose comment packet runs past the cap, from its pages.
        let ogg = demo("01-ode-to-joy.ogg");
        let first_len = 27
            + usize::from(ogg[26])
            + ogg[27..27 + usize::from(ogg[26])]
                .iter()
                .map(|b| usize::from(*b))
                .sum::<usize>();
        let mut big = ogg[..first_len].to_vec();
        for _ in 0..40 {
            let mut page = b"OggS".to_vec();
            page.extend_from_slice(&[0; 22]);
            page.push(255);
            page.extend_from_slice(&[255; 255]);
            page.extend_from_slice(&vec![b'x'; 255 * 255]);
            big.extend_from_slice(&page);
        }
        std::fs::write(&p.with_extension("ogg"), &big).unwrap();
        let e = Stream::open(&p.with_extension("ogg")).err().unwrap();
        assert!(
            matches!(&e, AudioError::Limit(m) if m.contains("Vorbis comment")),
            "{e}"
        );
        // The demo OGG itself passes.
        std::fs::write(&p.with_extension("ogg"), &ogg).unwrap();
        assert!(Stream::open(&p.with_extension("ogg")).is_ok());
        // An ID3v2 tag that declares 100 MB is refused from its header.
        let id3 = [b"ID3".as_slice(), &[4, 0, 0], &[0x30, 0, 0, 0]].concat();
        std::fs::write(&p.with_extension("mp3"), id3).unwrap();
        let e = Stream::open(&p.with_extension("mp3")).err().unwrap();
        assert!(
            matches!(&e, AudioError::Limit(m) if m.contains("ID3 tags")),
            "{e}"
        );
    }
}
