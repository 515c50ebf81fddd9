//! The tablet's audio output: ALSA's default device through cpal. cpal's
//! stream lives on a thread of its own (it is not `Send`); the player
//! thread hands it samples through a bounded buffer, which is what keeps
//! decoding at real speed.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, mpsc};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::Sink;

/// About a quarter of a second of stereo 48 kHz audio.
const BUFFER_SAMPLES: usize = 24_000;

struct Shared {
    queue: Mutex<VecDeque<f32>>,
    room: Condvar,
}

pub struct AlsaSink {
    shared: Arc<Shared>,
    config: mpsc::Sender<(u32, u16)>,
    errors: mpsc::Receiver<String>,
}

impl AlsaSink {
    /// Check there is an output device, and start the output thread.
    pub fn open() -> Result<Self, String> {
        let host = cpal::default_host();
        if host.default_output_device().is_none() {
            return Err("no audio output device".into());
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::with_capacity(BUFFER_SAMPLES * 2)),
            room: Condvar::new(),
        });
        let (config, config_rx) = mpsc::channel::<(u32, u16)>();
        let (err_tx, errors) = mpsc::channel();
        let sh = shared.clone();
        std::thread::Builder::new()
            .name("berth-audio".into())
            .spawn(move || {
                let mut _stream = None;
                // One stream per format; a new format replaces it.
                while let Ok((rate, channels)) = config_rx.recv() {
                    _stream = None;
                    let Some(device) = cpal::default_host().default_output_device() else {
                        let _ = err_tx.send("the audio device went away".to_string());
                        continue;
                    };
                    let cfg = cpal::StreamConfig {
                        channels,
                        sample_rate: rate,
                        buffer_size: cpal::BufferSize::Default,
                    };
                    let data = sh.clone();
                    let etx = err_tx.clone();
                    let built = device.build_output_stream(
                        cfg,
                        move |out: &mut [f32], _: &cpal::OutputCallbackInfo| {
                            let mut q = data.queue.lock().unwrap_or_else(|p| p.into_inner());
                            for s in out.iter_mut() {
                                *s = q.pop_front().unwrap_or(0.0);
                            }
                            data.room.notify_all();
                        },
                        move |e| {
                            let _ = etx.send(e.to_string());
                        },
                        None,
                    );
                    match built.and_then(|s| s.play().map(|_| s)) {
                        Ok(s) => _stream = Some(s),
                        Err(e) => {
                            let _ = err_tx.send(e.to_string());
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(AlsaSink {
            shared,
            config,
            errors,
        })
    }
}

impl Sink for AlsaSink {
    fn start(&mut self, sample_rate: u32, channels: u16) -> std::io::Result<()> {
        self.stop();
        self.config
            .send((sample_rate, channels))
            .map_err(|_| std::io::Error::other("the audio thread stopped"))
    }

    fn write(&mut self, samples: &[f32]) -> std::io::Result<()> {
        if let Ok(e) = self.errors.try_recv() {
            return Err(std::io::Error::other(e));
        }
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        while q.len() > BUFFER_SAMPLES {
            let (g, timeout) = self
                .shared
                .room
                .wait_timeout(q, std::time::Duration::from_millis(500))
                .unwrap_or_else(|p| p.into_inner());
            q = g;
            if timeout.timed_out() && q.len() > BUFFER_SAMPLES {
                return Err(std::io::Error::other(
                    "the audio device stopped taking samples",
                ));
            }
        }
        q.extend(samples.iter().copied());
        Ok(())
    }

    fn stop(&mut self) {
        self.shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
