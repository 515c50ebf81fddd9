//! Queueing one letter on the tablet, against a baseline measured in the
//! same run.
//!
//!   cargo bench --bench letter     (BERTH_BENCH_OUTBOX=1000 for a quick run)
//!
//! Set-up (not timed): the demo pipeline (facility, dock, one tablet synced
//! with its roster, policy and contact list), María signed in, and
//! `BERTH_BENCH_OUTBOX` letters (default 10,000) already in her outbox, so
//! that a cost that grows with the outbox shows. Timed: 300 calls of
//! `Letters::queue_letter` (contact check, policy decision, quota, device
//! signature, one durable SQLite transaction). Baseline: one durable
//! transaction of the same shape on the same disk (WAL, synchronous=FULL):
//! insert a row of the letter's size and append one audit row. The goal
//! (≤ 5 ms) is absolute; the ratio says how much of it is the commit.

use std::time::Instant;

use berth::demo::{DemoPaths, tablet_options};
use berth::device::clock::{ClockSource, SystemClock};
use berth::domain::time::ClockReading;
use berth::install::DataDir;
use berth::tablet::{LoginOutcome, Session, Tablet};

const BODY: &str =
    "Querida familia: esta es una carta de prueba. Aquí todo bien, ¿y ustedes? Un abrazo.";

/// The system clocks, moved to 18:00 UTC (midday at the demo facility),
/// so the demo policy's curfew never closes Messages during the run.
struct Midday(chrono::Duration);
impl Midday {
    fn new() -> Midday {
        let now = chrono::Utc::now();
        let noon = now.date_naive().and_hms_opt(18, 0, 0).unwrap().and_utc();
        Midday(noon - now)
    }
}
impl ClockSource for Midday {
    fn read(&self) -> ClockReading {
        let mut r = SystemClock.read();
        r.rtc += self.0;
        r
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

// Not inlined, so that callgrind can count it on its own
// (`--toggle-collect=letter::queue_one`).
#[inline(never)]
fn queue_one(t: &mut Tablet, s: &Session, i: usize) {
    t.letters()
        .queue_letter(s, "lawyer", &format!("{BODY} {i}"))
        .unwrap();
}

#[inline(never)]
fn bare_commit(db: &mut rusqlite::Connection, i: usize) {
    let tx = db.transaction().unwrap();
    tx.execute(
        "INSERT INTO letters (body, envelope) VALUES (?1, ?2)",
        rusqlite::params![format!("{BODY} {i}"), vec![7u8; 600]],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO audit (at, what) VALUES (datetime('now'), ?1)",
        [i.to_string()],
    )
    .unwrap();
    tx.commit().unwrap();
}

fn main() {
    let prefill: usize = std::env::var("BERTH_BENCH_OUTBOX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rounds = 300;
    let dir = tempfile::tempdir().unwrap();
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let clock = Midday::new();
    let start = clock.read().rtc;
    berth::demo::run_at(
        dir.path(),
        &assets,
        &mut std::io::sink(),
        start,
        Box::new(Midday(clock.0)),
    )
    .unwrap();
    let p = DemoPaths::new(dir.path());
    let (mut t, _) = Tablet::open(
        DataDir::new(p.tablet.clone()),
        tablet_options(&p),
        Box::new(clock),
    )
    .unwrap();
    let s = match t.people().login("A12345", "731904").unwrap() {
        LoginOutcome::SetPin(ticket) => t.people().set_pin(ticket, "4821").unwrap(),
        other => panic!("first login: {other:?}"),
    };
    let t0 = Instant::now();
    for i in 0..prefill {
        queue_one(&mut t, &s, i);
    }
    let fill = t0.elapsed().as_secs_f64();

    let mut bare = rusqlite::Connection::open(p.tablet.join("baseline.sqlite")).unwrap();
    bare.pragma_update(None, "journal_mode", "WAL").unwrap();
    bare.pragma_update(None, "synchronous", "FULL").unwrap();
    bare.execute_batch(
        "CREATE TABLE letters (id INTEGER PRIMARY KEY, body TEXT, envelope BLOB);
         CREATE TABLE audit (id INTEGER PRIMARY KEY, at TEXT, what TEXT);",
    )
    .unwrap();

    let (mut queue, mut base) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate, so that disk drift falls on both.
        let t0 = Instant::now();
        queue_one(&mut t, &s, prefill + i);
        queue.push(t0.elapsed().as_secs_f64() * 1000.0);
        let t0 = Instant::now();
        bare_commit(&mut bare, i);
        base.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let (q50, q99) = (pct(&mut queue, 0.5), pct(&mut queue, 0.99));
    let (b50, b99) = (pct(&mut base, 0.5), pct(&mut base, 0.99));
    println!(
        "letter: {prefill} letters already queued (in {fill:.1} s, {:.2} ms each)",
        fill * 1000.0 / prefill.max(1) as f64
    );
    println!(
        "  queue_letter p50 {q50:.2} ms, p99 {q99:.2} ms (goal ≤ 5 ms); bare durable commit p50 {b50:.2} ms, p99 {b99:.2} ms; p50 ratio {:.2}",
        q50 / b50
    );
}
