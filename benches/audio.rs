//! The tablet's audio path without a sound card: decoding the demo album
//! (the baseline, the work every sink needs) against decoding it and
//! converting every track to the output's format (48 kHz stereo, as the
//! device build's one stream runs), measured in the same run.
//!
//!   cargo bench --bench audio
//!
//! Reported: seconds of audio per second of CPU for each (how far ahead of
//! real time the tablet's player thread runs) and the ratio of the two.

use std::path::Path;
use std::time::Instant;

use berth::content::audio::Stream;
use berth::player::convert::{Convert, Format};

const TRACKS: [&str; 3] = [
    "01-ode-to-joy.ogg",
    "02-twinkle.flac",
    "03-amazing-grace.mp3",
];
const ROUNDS: usize = 5;

#[inline(never)]
fn decode(path: &Path, to: Option<Format>) -> (f64, usize) {
    let mut s = Stream::open(path).unwrap();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut convert = to.map(|to| {
        Convert::new(
            Format {
                rate: s.sample_rate,
                channels: s.channels,
            },
            to,
        )
        .unwrap()
    });
    let (mut frames, mut produced) = (0u64, 0usize);
    while s.next_chunk(&mut buf).unwrap() {
        frames += (buf.len() / usize::from(s.channels)) as u64;
        if let Some(c) = &mut convert {
            out.clear();
            c.push(&buf, &mut out).unwrap();
            produced += out.len();
        }
    }
    if let Some(c) = &mut convert {
        out.clear();
        c.finish(&mut out).unwrap();
        produced += out.len();
    }
    (frames as f64 / f64::from(s.sample_rate), produced)
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/music");
    let to = Format {
        rate: 48_000,
        channels: 2,
    };
    let mut best = [f64::MAX; 2];
    let mut audio = 0.0;
    for _ in 0..ROUNDS {
        for (i, conv) in [None, Some(to)].into_iter().enumerate() {
            let t = Instant::now();
            let mut secs = 0.0;
            for f in TRACKS {
                let (s, produced) = decode(&dir.join(f), conv);
                secs += s;
                if conv.is_some() {
                    assert!(produced > 0);
                }
            }
            best[i] = best[i].min(t.elapsed().as_secs_f64());
            audio = secs;
        }
    }
    println!("the demo album: {audio:.1} s of audio, best of {ROUNDS}");
    println!(
        "decode only (baseline):          {:7.1} ms, {:6.0}× real time",
        best[0] * 1e3,
        audio / best[0]
    );
    println!(
        "decode and convert to 48k stereo: {:7.1} ms, {:6.0}× real time",
        best[1] * 1e3,
        audio / best[1]
    );
    println!(
        "ratio (with conversion / decode only): {:.2}",
        best[1] / best[0]
    );
}
