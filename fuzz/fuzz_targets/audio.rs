#![no_main]
//! The audio probe `pack` and the tablet run on every track: any bytes
//! give track facts or an error, never a panic, a hang or a length the
//! decoder could not play. The first byte picks the file extension the
//! probe is hinted with.
use berth::content::audio;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let ext = ["ogg", "flac", "mp3", "wav"][usize::from(pick) % 4];
    let path = std::env::temp_dir().join(format!("berth-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&path, bytes).expect("write the input");
    if let Ok(info) = audio::probe(&path) {
        // What the probe accepts, the player can open.
        assert!(audio::Stream::open(&path).is_ok(), "{info:?}");
    }
});
