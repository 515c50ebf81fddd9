//! Shell start-up and page changes, each against a bare Slint window built
//! the same way (software renderer, same headless platform), in one run.
//!
//!   cargo bench --bench shell
//!
//! Start: wall time from spawning a process to its first frame rendered
//! (the child exits right after), median of alternating runs.
//! Page change: render time of the frame after a page switch in the shell,
//! against the frame after a property change in the bare window.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

slint::slint! {
    // The same embedded font as the shell, so neither scans system fonts.
    import "../assets/fonts/DejaVuSans.ttf";
    export component Bare inherits Window {
        width: 1280px;
        height: 800px;
        default-font-family: "DejaVu Sans";
        in property <bool> flip;
        Rectangle { background: flip ? #1d3447 : #f4f1ea; }
        Text { text: "Berth"; font-size: 38px; }
    }
}

const RUNS: usize = 9;
const CHANGES: usize = 60;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Resident memory of this process (VmRSS), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The demo's B20417: the first login sets the PIN, later ones use it.
fn sign_in(shell: &berth::ui::Shell) {
    shell.sign_in("B20417", &["582316", "4821", "4821"]);
    if shell.current_page() != "home" {
        shell.sign_in("B20417", &["4821"]);
    }
    assert_eq!(shell.current_page(), "home", "B20417 is signed in");
}

fn child(kind: &str, data: &Path) {
    let window = berth::ui::headless::install().unwrap();
    let mut frames = Vec::new();
    match kind {
        "bare" | "bare-frames" => {
            let ui = Bare::new().unwrap();
            slint::ComponentHandle::show(&ui).unwrap();
            berth::ui::headless::render(&window);
            println!("first-frame");
            let changes = if kind == "bare-frames" { CHANGES } else { 0 };
            for i in 0..changes {
                ui.set_flip(i % 2 == 0);
                let t = Instant::now();
                berth::ui::headless::render(&window);
                frames.push(t.elapsed());
            }
        }
        _ => {
            let paths = berth::demo::DemoPaths::new(data);
            let (tablet, _) = berth::tablet::Tablet::open(
                berth::install::DataDir::new(&paths.tablet),
                berth::demo::tablet_options(&paths),
                Box::new(berth::device::clock::SystemClock),
            )
            .unwrap();
            let shell = berth::ui::Shell::new(tablet, Box::new(berth::ui::headless::FixedHardware))
                .unwrap();
            slint::ComponentHandle::show(shell.window()).unwrap();
            berth::ui::headless::render(&window);
            println!("first-frame");
            if kind == "library-rss" {
                sign_in(&shell);
                berth::ui::headless::render(&window);
                println!("rss-home-kib {}", rss_kib());
                shell.open("music");
                shell.music("tracks", None);
                berth::ui::headless::render(&window);
                println!("rss-music-kib {}", rss_kib());
                println!("music-rows {}", shell.music_rows());
                shell.music("tracks", Some("river"));
                berth::ui::headless::render(&window);
                println!("rss-search-kib {}", rss_kib());
                shell.open("learn");
                berth::ui::headless::render(&window);
                println!("rss-learn-kib {}", rss_kib());
            }
            if kind == "shell-pages" {
                sign_in(&shell);
                berth::ui::headless::render(&window);
                let pages = ["record", "home", "settings", "home", "messages", "home"];
                for i in 0..CHANGES {
                    shell.open(pages[i % pages.len()]);
                    let t = Instant::now();
                    berth::ui::headless::render(&window);
                    frames.push(t.elapsed());
                }
            }
        }
    }
    if !frames.is_empty() {
        println!("frame-median-us {}", median(frames).as_micros());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let work = tempfile::tempdir().unwrap();
    berth::demo::run(
        work.path(),
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo")),
        &mut std::io::sink(),
    )
    .unwrap();
    let spawn = |kind: &str| -> (Duration, Option<u64>) {
        let t = Instant::now();
        let out = Command::new(&exe)
            .args(["--child", kind, work.path().to_str().unwrap()])
            .output()
            .unwrap();
        let d = t.elapsed();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success() && text.contains("first-frame"),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let frame = text
            .lines()
            .find_map(|l| l.strip_prefix("frame-median-us "))
            .and_then(|v| v.parse().ok());
        (d, frame)
    };
    let (mut bare, mut shell) = (Vec::new(), Vec::new());
    for i in 0..RUNS {
        if i % 2 == 0 {
            bare.push(spawn("bare").0);
            shell.push(spawn("shell").0);
        } else {
            shell.push(spawn("shell").0);
            bare.push(spawn("bare").0);
        }
    }
    let (b, s) = (median(bare), median(shell));
    println!(
        "start to first frame (process), median of {RUNS}: bare {:.1} ms, shell {:.1} ms, ratio {:.2} (goal <= 2)",
        b.as_secs_f64() * 1e3,
        s.as_secs_f64() * 1e3,
        s.as_secs_f64() / b.as_secs_f64()
    );
    let bare_frame = spawn("bare-frames").1.unwrap();
    let shell_frame = spawn("shell-pages").1.unwrap();
    println!(
        "page change frame, median of {CHANGES}: bare {:.2} ms, shell {:.2} ms (goal: shell <= 8 ms), ratio {:.2}",
        bare_frame as f64 / 1e3,
        shell_frame as f64 / 1e3,
        shell_frame as f64 / bare_frame.max(1) as f64
    );

    library(&exe, b);
}

/// P6 and P2 with a full tablet: a generated data directory with 10,000
/// tracks and a catalogue of about 100,000 items, installed as bundles.
fn library(exe: &Path, bare: Duration) {
    let keep = std::env::var_os("BERTH_BENCH_DATA").map(std::path::PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    let size = berth::demo::LibrarySize {
        tracks: 10_000,
        lessons: 90_000,
    };
    let t = Instant::now();
    berth::demo::large_library(
        &dir,
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo")),
        size,
        &mut std::io::sink(),
    )
    .unwrap();
    let items = {
        let p = berth::demo::DemoPaths::new(&dir);
        let db = berth::install::DataDir::new(&p.tablet).db();
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row("SELECT count(*) FROM catalogue", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    println!(
        "library: {} tracks, {items} catalogue items, set up in {:.0} s",
        size.tracks,
        t.elapsed().as_secs_f64()
    );
    let run = |kind: &str| -> (Duration, String) {
        let t = Instant::now();
        let out = Command::new(exe)
            .args(["--child", kind, dir.to_str().unwrap()])
            .output()
            .unwrap();
        let d = t.elapsed();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (d, String::from_utf8_lossy(&out.stdout).to_string())
    };
    let mut shell = Vec::new();
    for _ in 0..RUNS {
        shell.push(run("shell").0);
    }
    let s = median(shell);
    println!(
        "start to first frame with the library, median of {RUNS}: shell {:.1} ms, bare {:.1} ms (above), ratio {:.2} (goal <= 2)",
        s.as_secs_f64() * 1e3,
        bare.as_secs_f64() * 1e3,
        s.as_secs_f64() / bare.as_secs_f64()
    );
    let (_, text) = run("library-rss");
    let mb = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    let rows = text
        .lines()
        .find_map(|l| l.strip_prefix("music-rows "))
        .unwrap_or("?");
    println!(
        "resident memory after login (goal <= 60 MB): home {:.1} MB, Music with every track listed ({rows} rows) {:.1} MB, after a search {:.1} MB, Learn {:.1} MB",
        mb("rss-home-kib"),
        mb("rss-music-kib"),
        mb("rss-search-kib"),
        mb("rss-learn-kib")
    );
}
