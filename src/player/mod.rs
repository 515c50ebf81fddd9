//! Audio playback on its own thread: symphonia decodes, a [`Sink`] plays.
//! On the tablet the sink is ALSA through cpal (feature `device`); where no
//! audio device exists (CI, a desktop demo without sound) it is a paced
//! null sink, and tests use a WAV sink to check what would have been heard.
//!
//! The player knows one track at a time. The queue, what to play next and
//! what the person may play are the controller's business; the player
//! reports position and end of track through [`Status`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::content::audio::Stream;

/// Where decoded samples go.
pub trait Sink: Send {
    /// Prepare for a track's format (called before its first samples).
    fn start(&mut self, sample_rate: u32, channels: u16) -> std::io::Result<()>;
    /// Play interleaved samples; may block to keep real time.
    fn write(&mut self, samples: &[f32]) -> std::io::Result<()>;
    /// The track has ended: play what the sink still holds of it.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Pause or stop: drop what is buffered.
    fn stop(&mut self) {}
}

/// Plays nothing, at real speed (or as fast as it can, unpaced), counting
/// the frames it was given.
pub struct NullSink {
    paced: bool,
    rate: u32,
    channels: u16,
    started: Option<Instant>,
    played: u64,
    pub frames: Arc<AtomicU64>,
}

impl NullSink {
    pub fn new(paced: bool) -> Self {
        NullSink {
            paced,
            rate: 44_100,
            channels: 2,
            started: None,
            played: 0,
            frames: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Sink for NullSink {
    fn start(&mut self, sample_rate: u32, channels: u16) -> std::io::Result<()> {
        self.rate = sample_rate.max(1);
        self.channels = channels.max(1);
        self.started = None;
        self.played = 0;
        Ok(())
    }
    fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        let frames = (samples.len() / usize::from(self.channels)) as u64;
        self.frames.fetch_add(frames, Ordering::Relaxed);
        if self.paced {
            let t0 = *self.started.get_or_insert_with(Instant::now);
            self.played += frames;
            let due = Duration::from_micros(self.played * 1_000_000 / u64::from(self.rate));
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        Ok(())
    }
    fn stop(&mut self) {
        self.started = None;
        self.played = 0;
    }
}

/// Writes what it is given to a 16-bit WAV file (one file per player; the
/// format of the first track is kept).
pub struct WavSink {
    path: PathBuf,
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
}

impl WavSink {
    pub fn new(path: &Path) -> Self {
        WavSink {
            path: path.to_path_buf(),
            writer: None,
        }
    }
}

impl Sink for WavSink {
    fn start(&mut self, sample_rate: u32, channels: u16) -> std::io::Result<()> {
        if self.writer.is_none() {
            let spec = hound::WavSpec {
                channels,
                sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            self.writer =
                Some(hound::WavWriter::create(&self.path, spec).map_err(std::io::Error::other)?);
        }
        Ok(())
    }
    fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        if let Some(w) = &mut self.writer {
            for s in samples {
                w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                    .map_err(std::io::Error::other)?;
            }
            w.flush().map_err(std::io::Error::other)?;
        }
        Ok(())
    }
}

#[cfg(feature = "device")]
pub mod alsa;
pub mod convert;

/// What the player is doing, shared with the controller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The loaded track's id (the controller's), if any.
    pub track: Option<String>,
    pub playing: bool,
    pub position_ms: u64,
    pub duration_ms: u64,
    /// Tracks that reached their end since the player started.
    pub ended: u64,
    pub error: Option<PlayError>,
}

/// Why the player stopped, as the player bar says it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlayError {
    /// This track's file would not open or decode; the next one may.
    Track(String),
    /// The sound output failed: no track will play until it comes back.
    Output(String),
}

impl std::fmt::Display for PlayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlayError::Track(e) => write!(f, "the track: {e}"),
            PlayError::Output(e) => write!(f, "audio output: {e}"),
        }
    }
}

enum Cmd {
    Load {
        id: String,
        path: PathBuf,
        start_ms: u64,
        duration_ms: u64,
        play: bool,
    },
    Play,
    Pause,
    Stop,
    Volume(f32),
}

pub struct Player {
    tx: mpsc::Sender<Cmd>,
    status: Arc<Mutex<Status>>,
}

impl Player {
    /// Start the player thread with a sink.
    pub fn new(sink: Box<dyn Sink>) -> Self {
        let (tx, rx) = mpsc::channel();
        let status = Arc::new(Mutex::new(Status::default()));
        let st = status.clone();
        std::thread::Builder::new()
            .name("berth-player".into())
            .spawn(move || run(rx, st, sink))
            .expect("spawn the player thread");
        Player { tx, status }
    }

    /// The sink this machine has: ALSA on the tablet, else a paced null
    /// sink (or a WAV file, when `BERTH_AUDIO_WAV` names one).
    pub fn for_this_machine() -> Self {
        if let Some(p) = std::env::var_os("BERTH_AUDIO_WAV") {
            return Player::new(Box::new(WavSink::new(Path::new(&p))));
        }
        #[cfg(feature = "device")]
        match alsa::AlsaSink::open() {
            Ok(s) => return Player::new(Box::new(s)),
            Err(e) => tracing::warn!("no audio output ({e}); playing silently"),
        }
        Player::new(Box::new(NullSink::new(true)))
    }

    pub fn load(&self, id: &str, path: &Path, start_ms: u64, duration_ms: u64, play: bool) {
        {
            let mut s = self.lock();
            s.track = Some(id.to_string());
            s.position_ms = start_ms;
            s.duration_ms = duration_ms;
            s.playing = play;
            s.error = None;
        }
        let _ = self.tx.send(Cmd::Load {
            id: id.to_string(),
            path: path.to_path_buf(),
            start_ms,
            duration_ms,
            play,
        });
    }
    pub fn play(&self) {
        let loaded = self.lock_track();
        let mut s = self.lock();
        s.playing = loaded;
        s.error = None;
        drop(s);
        let _ = self.tx.send(Cmd::Play);
    }
    pub fn pause(&self) {
        self.lock().playing = false;
        let _ = self.tx.send(Cmd::Pause);
    }
    pub fn stop(&self) {
        {
            let mut s = self.lock();
            s.playing = false;
            s.track = None;
            s.position_ms = 0;
        }
        let _ = self.tx.send(Cmd::Stop);
    }
    /// Volume from 0.0 to 1.0 (the controller applies the policy's cap).
    pub fn set_volume(&self, v: f32) {
        let _ = self.tx.send(Cmd::Volume(v.clamp(0.0, 1.0)));
    }
    pub fn status(&self) -> Status {
        self.lock().clone()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn lock_track(&self) -> bool {
        self.lock().track.is_some()
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Stop);
    }
}

fn run(rx: mpsc::Receiver<Cmd>, status: Arc<Mutex<Status>>, mut sink: Box<dyn Sink>) {
    let set = |f: &dyn Fn(&mut Status)| f(&mut status.lock().unwrap_or_else(|p| p.into_inner()));
    let mut stream: Option<(String, Stream, u64)> = None; // id, stream, frames played
    let mut playing = false;
    let mut volume = 0.6f32;
    let mut buf = Vec::new();
    loop {
        // Block while idle; poll between chunks while playing.
        let cmd = if playing && stream.is_some() {
            match rx.try_recv() {
                Ok(c) => Some(c),
                Err(mpsc::TryRecvError::Empty) => None,
                Err(mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => return,
            }
        };
        match cmd {
            Some(Cmd::Load {
                id,
                path,
                start_ms,
                duration_ms,
                play,
            }) => {
                sink.stop();
                stream = None;
                playing = false;
                match open_at(&path, start_ms, sink.as_mut()) {
                    Ok((s, frames)) => {
                        let rate = u64::from(s.sample_rate);
                        set(&|st| {
                            st.position_ms = frames * 1000 / rate;
                            if duration_ms == 0 {
                                st.duration_ms = s.frames_hint.unwrap_or(0) * 1000 / rate;
                            }
                        });
                        stream = Some((id, s, frames));
                        playing = play;
                    }
                    Err(e) => {
                        tracing::warn!("playing {id}: {e}");
                        set(&|st| {
                            st.error = Some(e.clone());
                            st.playing = false;
                            // A damaged track is passed over like one
                            // that ended; a failed output stops the queue.
                            if matches!(e, PlayError::Track(_)) {
                                st.ended += 1;
                            }
                        })
                    }
                }
            }
            Some(Cmd::Play) => playing = stream.is_some(),
            Some(Cmd::Pause) => {
                playing = false;
                sink.stop();
            }
            Some(Cmd::Stop) => {
                playing = false;
                stream = None;
                sink.stop();
            }
            Some(Cmd::Volume(v)) => volume = v,
            None => {}
        }
        if !playing {
            continue;
        }
        let Some((_, s, frames)) = &mut stream else {
            continue;
        };
        let chunk =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.next_chunk(&mut buf)))
                .unwrap_or_else(|_| {
                    Err(crate::content::audio::AudioError::Damaged(
                        "the decoder failed".into(),
                    ))
                });
        match chunk {
            Ok(true) => {
                for x in buf.iter_mut() {
                    *x *= volume;
                }
                if let Err(e) = sink.write(&buf) {
                    tracing::warn!("audio output: {e}");
                    set(&|st| {
                        st.error = Some(PlayError::Output(e.to_string()));
                        st.playing = false;
                    });
                    playing = false;
                    sink.stop();
                    continue;
                }
                *frames += (buf.len() / usize::from(s.channels)) as u64;
                let ms = *frames * 1000 / u64::from(s.sample_rate);
                // The length is what plays: a track that runs past what
                // its listing said makes its bar longer, not stuck full.
                set(&|st| {
                    st.position_ms = ms;
                    st.duration_ms = st.duration_ms.max(ms);
                });
            }
            Ok(false) => {
                if let Err(e) = sink.finish() {
                    tracing::warn!("audio output, at the end of a track: {e}");
                }
                playing = false;
                stream = None;
                set(&|st| {
                    st.playing = false;
                    // It ended here: that was its length, whatever the
                    // listing said, so the bar ends full, not stalled.
                    st.duration_ms = st.position_ms;
                    st.ended += 1;
                });
            }
            Err(e) => {
                playing = false;
                stream = None;
                let msg = PlayError::Track(e.to_string());
                tracing::warn!("playing: {msg}");
                set(&|st| {
                    st.playing = false;
                    st.error = Some(msg.clone());
                    st.ended += 1;
                });
            }
        }
    }
}

/// Open a track and skip to `start_ms` by decoding (exact for every
/// format, and fast next to real time).
fn open_at(path: &Path, start_ms: u64, sink: &mut dyn Sink) -> Result<(Stream, u64), PlayError> {
    let mut s = std::panic::catch_unwind(|| Stream::open(path))
        .map_err(|_| PlayError::Track("the decoder failed on this track".to_string()))?
        .map_err(|e| PlayError::Track(e.to_string()))?;
    sink.start(s.sample_rate, s.channels)
        .map_err(|e| PlayError::Output(e.to_string()))?;
    let target = start_ms * u64::from(s.sample_rate) / 1000;
    let mut frames = 0u64;
    let mut buf = Vec::new();
    while frames < target {
        match s.next_chunk(&mut buf) {
            Ok(true) => frames += (buf.len() / usize::from(s.channels)) as u64,
            Ok(false) => break,
            Err(e) => return Err(PlayError::Track(e.to_string())),
        }
    }
    Ok((s, frames))
}
