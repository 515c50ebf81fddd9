//! Berth: an offline-first tablet shell. See ARCHITECTURE.md for the map.

pub mod audit;
pub mod bundle;
pub mod cli;
#[cfg(feature = "console")]
pub mod console;
pub mod content;
#[cfg(feature = "staff")]
pub mod demo;
pub mod device;
#[cfg(feature = "staff")]
pub mod dock;
pub mod domain;
#[cfg(feature = "staff")]
pub mod facility;
pub mod install;
pub mod player;
pub mod sql;
pub mod store;
pub mod sync;
pub mod tablet;
pub mod trust;
#[cfg(feature = "shell")]
pub mod ui;
pub mod wire;

/// One line for an error and its causes, for people: each cause is added
/// unless an outer message already says it.
pub fn describe_chain<'a>(
    chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut out = String::new();
    for cause in chain {
        let s = cause.to_string();
        if !out.contains(&s) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&s);
        }
    }
    out
}

/// Crash-test hook: when `BERTH_FAILPOINT` names this point, the process
/// aborts on the spot, exactly as `kill -9` or a power cut would stop it.
/// The crash tests select points by name; in normal use the variable is unset
/// and this is one cached comparison.
///
/// `BERTH_FAILPOINT` may name several points, comma-separated. A point
/// written `hang:NAME` hangs the calling thread instead of aborting (a
/// stuck event loop, for the watchdog test).
///
/// With `BERTH_FAILPOINT_ONCE=FILE` as well, each point fires only while
/// `FILE.NAME` does not exist, and makes it first: a process that systemd
/// restarts crashes once, not in a loop (the image's boot test).
pub fn failpoint(name: &str) {
    static SELECTED: std::sync::OnceLock<Vec<(bool, String)>> = std::sync::OnceLock::new();
    let selected = SELECTED.get_or_init(|| {
        std::env::var("BERTH_FAILPOINT")
            .map(|v| {
                v.split(',')
                    .map(|p| match p.trim().strip_prefix("hang:") {
                        Some(n) => (true, n.to_string()),
                        None => (false, p.trim().to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    let Some((hang, _)) = selected.iter().find(|(_, n)| n == name) else {
        return;
    };
    if let Some(once) = std::env::var_os("BERTH_FAILPOINT_ONCE") {
        let mut marker = once;
        marker.push(format!(".{name}"));
        let made = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
            .and_then(|f| f.sync_all());
        if made.is_err() {
            return;
        }
    }
    if *hang {
        eprintln!("failpoint {name}: hanging");
        loop {
            std::thread::park();
        }
    }
    eprintln!("failpoint {name}: aborting");
    std::process::abort();
}
