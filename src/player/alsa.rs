//! The tablet's audio output: ALSA's default device through cpal. cpal's
//! stream lives on a thread of its own (it is not `Send`); the player
//! thread hands it samples through a bounded buffer, which is what keeps
//! decoding at real speed.
//!
//! Two things a booted image taught (tests/boot.rs records what the
//! tablet plays):
//! - A sound card's mixer starts muted: nothing restores a saved state on
//!   the read-only image, so [`set_levels`] unmutes the card's playback
//!   controls and sets them to 0 dB when the sink opens. The person's
//!   volume (under the policy's cap) is applied to the samples.
//! - One stream, in the format the device prefers, plays every track:
//!   [`Convert`] maps each track's channels and rate to it. A stream per
//!   track format lost the next track on a slow machine (tearing down and
//!   opening took too long) and a 16 kHz mono track was refused by the
//!   device outright. [`Sink::start`] waits until the stream runs (or says
//!   why it could not), and a failed stream is built again at the next
//!   track.
//! - An underrun is not the end of the output: cpal restarts the stream,
//!   and the track plays on after a gap. Only an error that leaves no
//!   stream stops the player.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::Sink;
use super::convert::{Convert, Format};

/// About a quarter of a second of stereo 48 kHz audio.
const BUFFER_SAMPLES: usize = 24_000;
/// How long a new stream may take to open and start.
const START_WITHIN: Duration = Duration::from_secs(10);
/// How long the device may go without asking for samples before the
/// output counts as stopped.
const STALL: Duration = Duration::from_secs(3);
/// How long a stream may play only silence before it is closed.
const IDLE_CLOSE: Duration = Duration::from_secs(10);

struct Shared {
    queue: Mutex<VecDeque<f32>>,
    room: Condvar,
    /// Callbacks so far: the device is taking samples while this moves.
    pulls: AtomicU64,
    idle: Mutex<Idle>,
}

/// Whether the stream is open, and since when it has played only silence.
/// The audio thread closes a stream idle for [`IDLE_CLOSE`] (a running
/// stream keeps the sound card and a core awake); the next track opens it
/// again. Both sides decide under this one lock.
#[derive(Default)]
struct Idle {
    open: bool,
    since: Option<std::time::Instant>,
}

pub struct AlsaSink {
    shared: Arc<Shared>,
    config: mpsc::Sender<()>,
    started: mpsc::Receiver<Result<Format, String>>,
    errors: mpsc::Receiver<String>,
    /// The running stream's format, if one runs.
    format: Option<Format>,
    /// From the track's format to the stream's.
    convert: Option<Convert>,
    converted: Vec<f32>,
}

impl AlsaSink {
    /// Check there is an output device, set the card's levels, and start
    /// the output thread.
    pub fn open() -> Result<Self, String> {
        let host = cpal::default_host();
        if host.default_output_device().is_none() {
            return Err("no audio output device".into());
        }
        match set_levels("default") {
            Ok(set) if set.is_empty() => tracing::info!("audio: the card has no playback controls"),
            Ok(set) => tracing::info!("audio: levels set: {}", set.join(", ")),
            Err(e) => tracing::warn!("audio: setting the card's levels: {e}"),
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::with_capacity(BUFFER_SAMPLES * 2)),
            room: Condvar::new(),
            pulls: AtomicU64::new(0),
            idle: Mutex::new(Idle::default()),
        });
        let (config, config_rx) = mpsc::channel::<()>();
        let (started_tx, started) = mpsc::channel();
        let (err_tx, errors) = mpsc::channel();
        let sh = shared.clone();
        std::thread::Builder::new()
            .name("berth-audio".into())
            .spawn(move || {
                let mut stream = None;
                loop {
                    // Asked for a stream: a new one (after a failure or an
                    // idle close). Else, close one that has idled too long.
                    match config_rx.recv_timeout(Duration::from_secs(1)) {
                        Ok(()) => {
                            stream = None;
                            let built = build(&sh, err_tx.clone());
                            let answer = built.map(|(s, format)| {
                                stream = Some(s);
                                format
                            });
                            let mut idle = sh.idle.lock().unwrap_or_else(|p| p.into_inner());
                            idle.open = stream.is_some();
                            idle.since = None;
                            drop(idle);
                            if started_tx.send(answer).is_err() {
                                return;
                            }
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            let mut idle = sh.idle.lock().unwrap_or_else(|p| p.into_inner());
                            if stream.is_some()
                                && idle.since.is_some_and(|t| t.elapsed() >= IDLE_CLOSE)
                            {
                                stream = None;
                                idle.open = false;
                                idle.since = None;
                                tracing::debug!("audio: the output closed while idle");
                            }
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(AlsaSink {
            shared,
            config,
            started,
            errors,
            format: None,
            convert: None,
            converted: Vec::new(),
        })
    }

    fn failed(&mut self, e: String) -> std::io::Error {
        // The next track builds a fresh stream.
        self.format = None;
        tracing::warn!("audio output: {e}");
        std::io::Error::other(e)
    }
}

/// A playing stream on the default device, in the format it prefers.
fn build(
    shared: &Arc<Shared>,
    errors: mpsc::Sender<String>,
) -> Result<(cpal::Stream, Format), String> {
    let device = cpal::default_host()
        .default_output_device()
        .ok_or("the audio device went away")?;
    let preferred = device
        .default_output_config()
        .map_err(|e| format!("asking the device for its format: {e}"))?;
    let format = Format {
        rate: preferred.sample_rate(),
        channels: preferred.channels().clamp(1, 2),
    };
    let cfg = cpal::StreamConfig {
        channels: format.channels,
        sample_rate: format.rate,
        buffer_size: cpal::BufferSize::Default,
    };
    let data = shared.clone();
    let stream = device
        .build_output_stream(
            cfg,
            move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                let mut q = data.queue.lock().unwrap_or_else(|p| p.into_inner());
                let empty = q.is_empty();
                for s in out.iter_mut() {
                    *s = q.pop_front().unwrap_or(0.0);
                }
                drop(q);
                let mut idle = data.idle.lock().unwrap_or_else(|p| p.into_inner());
                match (empty, idle.since) {
                    (true, None) => idle.since = Some(std::time::Instant::now()),
                    (false, _) => idle.since = None,
                    _ => {}
                }
                drop(idle);
                data.pulls.fetch_add(1, Ordering::Relaxed);
                data.room.notify_all();
            },
            move |e: cpal::Error| match e.kind() {
                // cpal prepares and restarts the stream itself after an
                // underrun (a slow machine, a busy moment): a gap, not
                // the end of the output.
                cpal::ErrorKind::Xrun | cpal::ErrorKind::DeviceChanged => {
                    tracing::debug!("audio output: {e}")
                }
                _ => {
                    let _ = errors.send(e.to_string());
                }
            },
            None,
        )
        .map_err(|e| e.to_string())?;
    stream.play().map_err(|e| e.to_string())?;
    tracing::info!(
        "audio: the output runs at {} Hz, {} channels",
        format.rate,
        format.channels
    );
    Ok((stream, format))
}

/// Unmute every playback control of the card behind `device` and set its
/// volume to 0 dB (its top, where the control has no dB scale or stops
/// short of 0 dB). Returns what it set, for the log.
pub fn set_levels(device: &str) -> Result<Vec<String>, String> {
    use alsa::mixer::{MilliBel, Mixer, Selem, SelemId};
    let mixer = Mixer::new(device, false).map_err(|e| e.to_string())?;
    let mut set = Vec::new();
    for elem in mixer.iter() {
        let Some(selem) = Selem::new(elem) else {
            continue;
        };
        let id: SelemId = selem.get_id();
        let name = id.get_name().unwrap_or("?").to_string();
        if selem.has_playback_switch() {
            selem
                .set_playback_switch_all(1)
                .map_err(|e| format!("{name}: {e}"))?;
        }
        if selem.has_playback_volume() {
            let (lo, hi) = selem.get_playback_volume_range();
            let (db_lo, db_hi) = selem.get_playback_db_range();
            let zero = MilliBel(0);
            let v = if db_lo <= zero && zero <= db_hi && db_lo < db_hi {
                selem
                    .ask_playback_db_vol(zero, alsa::Round::Floor)
                    .unwrap_or(hi)
            } else {
                hi
            };
            let v = v.clamp(lo, hi);
            selem
                .set_playback_volume_all(v)
                .map_err(|e| format!("{name}: {e}"))?;
            set.push(format!("{name} {v} of {lo}..{hi}"));
        } else if selem.has_playback_switch() {
            set.push(format!("{name} on"));
        }
    }
    Ok(set)
}

impl Sink for AlsaSink {
    fn start(&mut self, sample_rate: u32, channels: u16) -> std::io::Result<()> {
        self.stop();
        while let Ok(e) = self.errors.try_recv() {
            tracing::warn!("audio output, before this track: {e}");
        }
        let to = self.ensure_open()?;
        let from = Format {
            rate: sample_rate,
            channels,
        };
        self.convert = Some(Convert::new(from, to).map_err(|e| self.failed(e))?);
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        let mut tail = std::mem::take(&mut self.converted);
        tail.clear();
        if let Some(c) = &mut self.convert {
            c.finish(&mut tail).map_err(std::io::Error::other)?;
        }
        let r = self.queue(&tail);
        self.converted = tail;
        r
    }

    fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        let mut out = std::mem::take(&mut self.converted);
        out.clear();
        let to = self.ensure_open()?;
        if let Some(c) = &self.convert
            && c.to() != to
        {
            self.convert = Some(Convert::new(c.from(), to).map_err(|e| self.failed(e))?);
        }
        let pushed = match &mut self.convert {
            Some(c) => c.push(samples, &mut out).map_err(std::io::Error::other),
            None => Err(std::io::Error::other("the output was not started")),
        };
        let r = pushed.and_then(|()| self.queue(&out));
        self.converted = out;
        r
    }

    fn stop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl AlsaSink {
    /// The running stream's format, opening it if it is not running (never
    /// opened, failed, or closed while idle, as after a long pause).
    fn ensure_open(&mut self) -> std::io::Result<Format> {
        // A stream closed while idle is opened again; one still open is
        // kept from closing (not idle any more) under the same lock.
        let open = {
            let mut idle = self.shared.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.since = None;
            idle.open
        };
        match self.format.filter(|_| open) {
            Some(f) => Ok(f),
            None => {
                self.config
                    .send(())
                    .map_err(|_| self.failed("the audio thread stopped".into()))?;
                match self.started.recv_timeout(START_WITHIN) {
                    Ok(Ok(f)) => {
                        self.format = Some(f);
                        Ok(f)
                    }
                    Ok(Err(e)) => return Err(self.failed(format!("opening the output: {e}"))),
                    Err(_) => {
                        return Err(self.failed(format!(
                            "the output did not start within {} s",
                            START_WITHIN.as_secs()
                        )));
                    }
                }
            }
        }
    }

    /// Hand converted samples to the stream, waiting while its buffer is
    /// full; an output that takes nothing for [`STALL`] has failed.
    fn queue(&mut self, samples: &[f32]) -> std::io::Result<()> {
        if let Ok(e) = self.errors.try_recv() {
            return Err(self.failed(e));
        }
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        let mut pulls = self.shared.pulls.load(Ordering::Relaxed);
        let mut waited = Duration::ZERO;
        while q.len() > BUFFER_SAMPLES {
            let step = Duration::from_millis(250);
            let (g, _) = self
                .shared
                .room
                .wait_timeout(q, step)
                .unwrap_or_else(|p| p.into_inner());
            q = g;
            let now = self.shared.pulls.load(Ordering::Relaxed);
            if now != pulls {
                pulls = now;
                waited = Duration::ZERO;
            } else {
                waited += step;
            }
            if waited >= STALL && q.len() > BUFFER_SAMPLES {
                drop(q);
                return Err(self.failed(format!(
                    "the audio device took no samples for {} s",
                    STALL.as_secs()
                )));
            }
        }
        q.extend(samples.iter().copied());
        Ok(())
    }
}
