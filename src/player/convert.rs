//! From a track's format to the output's: channels mapped, then the rate
//! changed by a windowed-sinc resampler (rubato). The tablet's output runs
//! one stream in the format its device prefers, whatever each track is:
//! a vendor's 16 kHz mono narration and a 44.1 kHz stereo album play
//! through the same stream, and a change of track never reopens the device
//! (which a slow machine could not do in time, and some devices refuse).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

/// Frames the resampler takes per call.
const CHUNK: usize = 1024;

/// A sample format: rate and channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub rate: u32,
    pub channels: u16,
}

pub struct Convert {
    from: Format,
    to: Format,
    resampler: Option<Async<f32>>,
    /// Input frames (already in the output's channels) waiting for a chunk.
    pending: Vec<f32>,
    /// The resampler's delay still to drop from the front of its output.
    skip: usize,
    out: Vec<f32>,
    /// Frames taken in and given out (past the delay), for the end.
    frames_in: u64,
    frames_out: u64,
}

impl Convert {
    pub fn new(from: Format, to: Format) -> Result<Convert, String> {
        if from.rate == 0 || from.channels == 0 || to.rate == 0 || to.channels == 0 {
            return Err(format!("cannot convert {from:?} to {to:?}"));
        }
        let resampler = if from.rate == to.rate {
            None
        } else {
            let params = SincInterpolationParameters {
                sinc_len: 128,
                f_cutoff: None,
                oversampling_factor: 256,
                interpolation: SincInterpolationType::Linear,
                window: WindowFunction::BlackmanHarris2,
            };
            let r = Async::<f32>::new_sinc(
                f64::from(to.rate) / f64::from(from.rate),
                1.0,
                &params,
                CHUNK,
                usize::from(to.channels),
                FixedAsync::Input,
            )
            .map_err(|e| e.to_string())?;
            Some(r)
        };
        let skip = resampler.as_ref().map_or(0, |r| r.output_delay());
        let out_max = resampler.as_ref().map_or(0, |r| r.output_frames_max());
        Ok(Convert {
            from,
            to,
            resampler,
            pending: Vec::with_capacity(CHUNK * usize::from(to.channels) * 2),
            skip,
            out: vec![0.0; out_max * usize::from(to.channels)],
            frames_in: 0,
            frames_out: 0,
        })
    }

    pub fn from(&self) -> Format {
        self.from
    }
    pub fn to(&self) -> Format {
        self.to
    }

    /// Convert interleaved `samples` of the track's format, appending what
    /// is ready in the output's format to `out`.
    pub fn push(&mut self, samples: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        let (fc, tc) = (
            usize::from(self.from.channels),
            usize::from(self.to.channels),
        );
        let target: &mut Vec<f32> = if self.resampler.is_some() {
            &mut self.pending
        } else {
            out
        };
        for frame in samples.chunks_exact(fc) {
            map_channels(frame, tc, target);
        }
        self.frames_in += (samples.len() / fc) as u64;
        if self.resampler.is_some() {
            while self.pending.len() >= CHUNK * tc {
                self.resample(CHUNK, out)?;
            }
        }
        Ok(())
    }

    /// The end of the track: what is still in the resampler, so the
    /// output is as long as the input (to the frame).
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
        if self.resampler.is_none() {
            return Ok(());
        }
        let tc = usize::from(self.to.channels);
        let total = (self.frames_in as f64 * f64::from(self.to.rate) / f64::from(self.from.rate))
            .round() as u64;
        let mut tries = 0;
        while self.frames_out < total && tries < 64 {
            tries += 1;
            let n = (self.pending.len() / tc).min(CHUNK);
            self.resample(n, out)?;
        }
        if self.frames_out > total {
            let extra = (self.frames_out - total) as usize;
            out.truncate(out.len() - extra * tc);
            self.frames_out = total;
        }
        self.pending.clear();
        Ok(())
    }

    /// One call of the resampler on the first `n` pending frames (the rest
    /// of the chunk silence), its output appended past the delay.
    fn resample(&mut self, n: usize, out: &mut Vec<f32>) -> Result<(), String> {
        let tc = usize::from(self.to.channels);
        let Some(r) = &mut self.resampler else {
            return Ok(());
        };
        let need = r.input_frames_next();
        let used = n.min(need).min(self.pending.len() / tc);
        if self.pending.len() < need * tc {
            self.pending.resize(need * tc, 0.0);
        }
        let cap = self.out.len() / tc;
        let input = InterleavedSlice::new(&self.pending[..need * tc], tc, need)
            .map_err(|e| e.to_string())?;
        let mut output =
            InterleavedSlice::new_mut(&mut self.out, tc, cap).map_err(|e| e.to_string())?;
        let indexing = Indexing::new().partial_len(used);
        let (_, written) = r
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| e.to_string())?;
        // What was read goes; the silence padded in for a short chunk too.
        self.pending.drain(..used * tc);
        if used < need {
            self.pending
                .truncate(self.pending.len().saturating_sub((need - used) * tc));
        }
        let drop = self.skip.min(written);
        self.skip -= drop;
        out.extend_from_slice(&self.out[drop * tc..written * tc]);
        self.frames_out += (written - drop) as u64;
        Ok(())
    }
}

/// One frame of `frame.len()` channels as `to` channels: mono goes to
/// both sides, stereo to one is their mean, and past two channels only
/// the front pair is kept (a tablet has a speaker or two).
fn map_channels(frame: &[f32], to: usize, out: &mut Vec<f32>) {
    match (frame.len(), to) {
        (a, b) if a == b => out.extend_from_slice(frame),
        (1, _) => {
            out.extend(std::iter::repeat_n(frame[0], to.min(2)));
            out.extend(std::iter::repeat_n(0.0, to.saturating_sub(2)));
        }
        (_, 1) => out.push((frame[0] + frame[1]) * 0.5),
        (_, _) => {
            out.extend_from_slice(&frame[..2]);
            out.extend(std::iter::repeat_n(0.0, to - 2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, channels: u16, hz: f32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .flat_map(|i| {
                let v = (i as f32 * hz * std::f32::consts::TAU / rate as f32).sin() * 0.5;
                std::iter::repeat_n(v, usize::from(channels))
            })
            .collect()
    }

    /// Zero crossings per second of one channel: the tone's frequency × 2.
    fn crossings(s: &[f32], channels: usize, rate: u32) -> f32 {
        let ch: Vec<f32> = s.iter().step_by(channels).copied().collect();
        let n = ch
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        n as f32 / (ch.len() as f32 / rate as f32)
    }

    fn convert(from: Format, to: Format, input: &[f32], piece: usize) -> Vec<f32> {
        let mut c = Convert::new(from, to).unwrap();
        let mut out = Vec::new();
        for p in input.chunks(piece * usize::from(from.channels)) {
            c.push(p, &mut out).unwrap();
        }
        c.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn a_16_khz_mono_voice_comes_out_at_48_khz_stereo_same_pitch_same_length() {
        let from = Format {
            rate: 16_000,
            channels: 1,
        };
        let to = Format {
            rate: 48_000,
            channels: 2,
        };
        let input = sine(16_000, 1, 440.0, 2.0);
        let out = convert(from, to, &input, 777);
        let frames = out.len() / 2;
        assert!(
            (frames as i64 - 96_000).abs() <= 2,
            "2 s at 48 kHz is 96,000 frames, got {frames}"
        );
        let hz = crossings(&out, 2, 48_000) / 2.0;
        assert!((hz - 440.0).abs() < 3.0, "the tone is {hz} Hz");
        // Both sides carry it, at its level.
        let (l, r): (Vec<f32>, Vec<f32>) = out.chunks(2).map(|f| (f[0], f[1])).unzip();
        assert_eq!(l, r);
        let peak = l[1_000..90_000].iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.5).abs() < 0.02, "peak {peak}");
    }

    #[test]
    fn a_44_1_khz_album_comes_out_at_48_khz_and_the_start_is_not_delayed() {
        let from = Format {
            rate: 44_100,
            channels: 2,
        };
        let to = Format {
            rate: 48_000,
            channels: 2,
        };
        // Silence, then a click at 0.5 s: it must still be at 0.5 s.
        let mut input = vec![0.0f32; 44_100 * 2];
        input[22_050 * 2] = 1.0;
        input[22_050 * 2 + 1] = 1.0;
        let out = convert(from, to, &input, 4_096);
        assert!(
            ((out.len() / 2) as i64 - 48_000).abs() <= 2,
            "{}",
            out.len() / 2
        );
        let at = out
            .chunks(2)
            .enumerate()
            .max_by(|a, b| a.1[0].abs().total_cmp(&b.1[0].abs()))
            .unwrap()
            .0;
        assert!(
            (at as i64 - 24_000).abs() <= 2,
            "the click is at frame {at}"
        );
    }

    #[test]
    fn the_same_rate_only_maps_channels() {
        let from = Format {
            rate: 48_000,
            channels: 2,
        };
        let to = Format {
            rate: 48_000,
            channels: 1,
        };
        let out = convert(from, to, &[0.2, 0.4, -1.0, 1.0], 1);
        assert_eq!(out, vec![0.3f32, 0.0]);
        let six = Format {
            rate: 48_000,
            channels: 6,
        };
        let st = Format {
            rate: 48_000,
            channels: 2,
        };
        assert_eq!(
            convert(six, st, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 1),
            vec![1.0, 2.0]
        );
        assert!(
            Convert::new(
                Format {
                    rate: 0,
                    channels: 2
                },
                st
            )
            .is_err()
        );
    }
}
