//! Golden screenshots: every page rendered by the software renderer with
//! the embedded fonts, compared with tests/screenshots/*.png within a
//! tolerance. `BERTH_UPDATE_GOLDENS=1 cargo test --test screenshots`
//! rewrites them (look at each one before committing).

use std::path::{Path, PathBuf};

/// A pixel differs when any channel differs by more than this.
const CHANNEL_TOLERANCE: u8 = 24;
/// A page matches when at most this share of its pixels differ.
const MAX_DIFFERING: f64 = 0.002;

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn differing_share(a: &[u8], b: &[u8]) -> f64 {
    let px = a.len() / 3;
    let differing = a
        .chunks(3)
        .zip(b.chunks(3))
        .filter(|(x, y)| {
            x.iter()
                .zip(y.iter())
                .any(|(p, q)| p.abs_diff(*q) > CHANNEL_TOLERANCE)
        })
        .count();
    differing as f64 / px as f64
}

#[test]
fn pages_match_their_golden_screenshots() {
    let work = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let assets = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo"));
    let files = berth::demo::screenshots(work.path(), assets, out.path()).unwrap();
    let golden_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/screenshots"));
    let update = std::env::var_os("BERTH_UPDATE_GOLDENS").is_some();
    let required = [
        "lock-en",
        "lock-es",
        "home-en",
        "home-es",
        "home-en-large",
        "home-es-large",
        "settings-en",
        "settings-es",
        "settings-en-large",
        "settings-es-large",
    ];
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    for r in required {
        assert!(names.iter().any(|n| n == r), "page {r} was not rendered");
    }
    let mut failures = Vec::new();
    for file in &files {
        let golden = golden_dir.join(file.file_name().unwrap());
        if update {
            std::fs::copy(file, &golden).unwrap();
            continue;
        }
        assert!(
            golden.exists(),
            "no golden {}; run with BERTH_UPDATE_GOLDENS=1",
            golden.display()
        );
        let (w, h, got) = decode(file);
        let (gw, gh, want) = decode(&golden);
        assert_eq!((w, h), (1280, 800));
        assert_eq!((w, h), (gw, gh), "{}", golden.display());
        let share = differing_share(&got, &want);
        if share > MAX_DIFFERING {
            let keep = std::env::temp_dir().join(format!(
                "berth-actual-{}",
                file.file_name().unwrap().to_string_lossy()
            ));
            std::fs::copy(file, &keep).unwrap();
            failures.push(format!(
                "{}: {:.2}% of pixels differ (actual kept at {})",
                golden.display(),
                share * 100.0,
                keep.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The comparison itself can fail: two different pages differ a lot.
    let (_, _, a) = decode(&golden_dir.join("home-en.png"));
    let (_, _, b) = decode(&golden_dir.join("settings-en.png"));
    assert!(differing_share(&a, &b) > 0.01);
}
