//! Dock sync on loopback, against baselines measured in the same run.
//!
//!   cargo bench --bench sync       (BERTH_BENCH_LETTERS=2000 for a quick run)
//!
//! 1. One session moving 10,000 queued letters up and 1,000 approved
//!    letters down (plus each letter's "in review" state), through the real
//!    TLS dock. A counting relay between tablet and dock measures bytes on
//!    the wire. Reported: session time (goal ≤ 2 s), wire bytes / payload
//!    bytes (goal ≤ 1.2; payload = the signed letters, feed entries and
//!    audit export the session carries), and
//!    session time / the baseline of sending the same payload bytes once
//!    over plain loopback TCP.
//! 2. 50 tablets syncing at once against the same 50 one after another.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::device::clock::SystemClock;
use berth::dock::Dock;
use berth::domain::FacilityId;
use berth::facility::Facility;
use berth::install::DataDir;
use berth::tablet::{LoginOutcome, Session, Tablet, TabletOptions};
use chrono::Utc;

const ROSTER: &str = "group = \"unit:b-east\"\nversion = 1\n[[person]]\nid = \"A12345\"\nname = \"María González\"\nlanguage = \"es\"\nunit = \"unit:b-east\"\ncode = \"731904\"\n";
const POLICY: &str = "scope = \"facility\"\nversion = 1\n[rules]\ntimezone = \"UTC\"\nmessage_max_graphemes = 2000\ndaily_message_quota = 1000\n";
const CONTACTS: &str = "person = \"A12345\"\nversion = 1\n[[contact]]\nid = \"ana\"\nname = \"Ana González\"\nemail = \"ana@example.org\"\nrelationship = \"hermana\"\n[[contact]]\nid = \"lawyer\"\nname = \"Lic. Ramírez\"\nemail = \"ramirez@law.example.org\"\nrelationship = \"abogado\"\nattorney = true\n";

/// A relay that forwards a connection to `to` and counts bytes both ways.
fn counting_relay(to: std::net::SocketAddr, bytes: Arc<AtomicU64>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(a) = c else { continue };
            let b = TcpStream::connect(to).unwrap();
            a.set_nodelay(true).ok();
            b.set_nodelay(true).ok();
            for (mut from, mut into) in [(a.try_clone().unwrap(), b.try_clone().unwrap()), (b, a)] {
                let bytes = bytes.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                bytes.fetch_add(n as u64, Ordering::Relaxed);
                                if into.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = into.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    addr
}

/// Baseline: the same number of bytes, once, over plain loopback TCP.
fn tcp_baseline(bytes: usize) -> Duration {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        while got < bytes {
            got += s.read(&mut buf).unwrap();
        }
        s.write_all(b"k").unwrap();
    });
    let payload = vec![7u8; 64 * 1024];
    let t = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    let mut sent = 0;
    while sent < bytes {
        let n = payload.len().min(bytes - sent);
        s.write_all(&payload[..n]).unwrap();
        sent += n;
    }
    let mut k = [0u8; 1];
    s.read_exact(&mut k).unwrap();
    let d = t.elapsed();
    reader.join().unwrap();
    d
}

struct Site {
    dir: tempfile::TempDir,
    facility: Facility,
    dock: Dock,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let facility = Facility::init(
        &dir.path().join("facility"),
        FacilityId::parse("bench").unwrap(),
        Utc::now() + chrono::Duration::days(365),
    )
    .unwrap();
    Dock::init(&dir.path().join("facility"), &dir.path().join("dock")).unwrap();
    // Every tablet here connects from 127.0.0.1; a real fleet has an
    // address each, which the default per-address cap (8 handshakes at
    // once) is for.
    std::fs::write(
        dir.path().join("dock/dock.toml"),
        "max_unknown_connections = 64\nmax_unknown_per_address = 64\n",
    )
    .unwrap();
    let mut dock = Dock::open(&dir.path().join("facility"), &dir.path().join("dock")).unwrap();
    for (name, text) in [("r.toml", ROSTER), ("p.toml", POLICY), ("c.toml", CONTACTS)] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let env = match name {
            "r.toml" => facility.sign_roster(&p, Utc::now()).unwrap().0,
            "p.toml" => facility.sign_policy(&p, Utc::now()).unwrap().0,
            _ => facility.sign_contacts(&p, Utc::now()).unwrap().0,
        };
        dock.publish(&env).unwrap();
    }
    Site {
        dir,
        facility,
        dock,
    }
}

fn tablet(site: &mut Site, name: &str, addr: &str) -> (Arc<Mutex<Tablet>>, Session) {
    let (t, _) = Tablet::open(
        DataDir::new(site.dir.path().join(name)),
        TabletOptions {
            trust_file: Some(Facility::root_path(&site.dir.path().join("facility"))),
            groups: vec!["facility".parse().unwrap(), "unit:b-east".parse().unwrap()],
            ..TabletOptions::default()
        },
        Box::new(SystemClock),
    )
    .unwrap();
    site.dock
        .enroll(
            &"cli:test".parse().unwrap(),
            t.device_public_key(),
            name,
            &["unit:b-east".parse().unwrap()],
        )
        .unwrap();
    let t = Arc::new(Mutex::new(t));
    berth::sync::client::sync(&t, addr, &mut |_| {}).unwrap();
    let s = {
        let mut g = t.lock().unwrap();
        let LoginOutcome::SetPin(ticket) = g.people().login("A12345", "731904").unwrap() else {
            panic!("first login")
        };
        g.people().set_pin(ticket, "4821").unwrap()
    };
    (t, s)
}

fn replies(site: &mut Site, n: usize, tag: &str) {
    let inbound = site.dir.path().join("dock/gateway/maildir");
    for i in 0..n {
        let eml = mail_builder::MessageBuilder::new()
            .from(("Ana", "ana@example.org"))
            .to("a12345@letters.berth.invalid")
            .subject("Re")
            .message_id(format!("{tag}-{i}@example.org"))
            .text_body(format!(
                "Querida María: aquí todos bien, los niños te mandan besos. Carta {i}. 🌻"
            ))
            .write_to_vec()
            .unwrap();
        berth::dock::gateway::deliver_to_maildir(&inbound, &eml).unwrap();
    }
    site.dock.import_mail(None).unwrap();
    for item in site.dock.review_list().unwrap() {
        if item.kind == berth::dock::ReviewKind::Inbound {
            site.dock
                .review_approve(&item.id, &"bench".parse().unwrap())
                .unwrap();
        }
    }
}

fn main() {
    let letters: usize = std::env::var("BERTH_BENCH_LETTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let inbound = letters / 10;

    // ---- 1. one big session ----
    let mut s = site();
    let running = berth::dock::server::start(&s.dock, "127.0.0.1:0", false).unwrap();
    let bytes = Arc::new(AtomicU64::new(0));
    let relay = counting_relay(running.addr, bytes.clone());
    let (t, sess) = tablet(&mut s, "big", &relay);
    let setup = Instant::now();
    for i in 0..letters {
        // Legal mail is not counted against the daily quota.
        let to = if i < 900 { "ana" } else { "lawyer" };
        t.lock()
            .unwrap()
            .letters().queue_letter(
                &sess,
                to,
                &format!("Querida familia: esta es la carta número {i}. Aquí todo bien, ¿y ustedes? Un abrazo."),
            )
            .unwrap();
    }
    replies(&mut s, inbound, "big");
    eprintln!(
        "setup: {letters} letters queued, {inbound} replies approved in {:.1?}",
        setup.elapsed()
    );
    // This session's payload: the letters going up, and the feed entries
    // after the tablet's cursor that are not copies of its own letters.
    let cursor = t
        .lock()
        .unwrap()
        .sync()
        .feed_cursor(&berth::domain::people::PersonId::parse("A12345").unwrap())
        .unwrap();
    let me = t.lock().unwrap().device_public_key().to_hex();
    let reports_before: i64 = rusqlite::Connection::open(s.dir.path().join("dock/dock.db"))
        .unwrap()
        .query_row(
            "SELECT COALESCE(SUM(LENGTH(envelope)), 0) FROM reports",
            [],
            |r| r.get(0),
        )
        .unwrap();
    bytes.store(0, Ordering::SeqCst);
    let t0 = Instant::now();
    let mut stages = Vec::new();
    let sum =
        berth::sync::client::sync(&t, &relay, &mut |st| stages.push((t0.elapsed(), st))).unwrap();
    let session = t0.elapsed();
    if std::env::var_os("BERTH_BENCH_STAGES").is_some() {
        for (at, st) in &stages {
            eprintln!("  {:>8.3} s  {st:?}", at.as_secs_f64());
        }
    }
    let wire = bytes.load(Ordering::SeqCst);
    assert_eq!(sum.letters_sent, letters);
    let db = rusqlite::Connection::open(s.dir.path().join("dock/dock.db")).unwrap();
    let up: i64 = db
        .query_row("SELECT SUM(LENGTH(envelope)) FROM letters", [], |r| {
            r.get(0)
        })
        .unwrap();
    let down: i64 = db
        .query_row(
            "SELECT COALESCE(SUM(LENGTH(envelope)), 0) FROM feed WHERE person = 'A12345' AND seq > ?1 AND origin != ?2",
            rusqlite::params![cursor as i64, me],
            |r| r.get(0),
        )
        .unwrap();
    let reports: i64 = db
        .query_row(
            "SELECT COALESCE(SUM(LENGTH(envelope)), 0) FROM reports",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let payload = (up + down + reports - reports_before) as u64;
    let baseline = tcp_baseline(payload as usize);
    println!(
        "sync session: {letters} up + {inbound} down ({} feed entries applied): {:.3} s (goal ≤ 2 s)",
        sum.entries_applied,
        session.as_secs_f64()
    );
    println!(
        "  wire bytes {wire} / payload bytes {payload} = {:.3} (goal ≤ 1.2)",
        wire as f64 / payload as f64
    );
    println!(
        "  baseline (same payload once over plain loopback TCP): {:.4} s; session / baseline = {:.0}",
        baseline.as_secs_f64(),
        session.as_secs_f64() / baseline.as_secs_f64()
    );
    drop(running);

    // ---- 2. fifty tablets, serial vs concurrent ----
    let mut s = site();
    let running = berth::dock::server::start(&s.dock, "127.0.0.1:0", false).unwrap();
    let addr = running.addr.to_string();
    let per_tablet = 20;
    let mut fleet = Vec::new();
    for i in 0..50 {
        fleet.push(tablet(&mut s, &format!("t{i:02}"), &addr));
    }
    let fill = |fleet: &[(Arc<Mutex<Tablet>>, Session)], round: usize| {
        for (t, sess) in fleet {
            for k in 0..per_tablet {
                t.lock()
                    .unwrap()
                    .letters()
                    .queue_letter(sess, "lawyer", &format!("carta {round}.{k}"))
                    .unwrap();
            }
        }
    };
    // Rounds alternate, serial then concurrent, twice. Each starts with
    // every tablet caught up (an untimed sync), then queues 20 letters per
    // tablet and imports 10 replies, then times the syncs. The work of a
    // round is not fixed: a tablet also pulls what the others uploaded
    // before its pull (every tablet carries the person's feed), and more
    // of that is ready when all sync at once. So besides the times, each
    // round counts what moved (letters up + feed entries applied) and the
    // comparison is per item moved.
    let mut rounds = Vec::new();
    for (round, concurrent) in [false, true, false, true].into_iter().enumerate() {
        for (t, _) in &fleet {
            berth::sync::client::sync(t, &addr, &mut |_| {}).unwrap();
        }
        fill(&fleet, round);
        replies(&mut s, 10, &format!("round{round}"));
        let moved = AtomicU64::new(0);
        let count = |sum: berth::sync::client::SyncSummary| {
            moved.fetch_add(
                (sum.letters_sent + sum.entries_applied) as u64,
                Ordering::Relaxed,
            );
        };
        let t0 = Instant::now();
        if concurrent {
            std::thread::scope(|sc| {
                for (t, _) in &fleet {
                    let (addr, count) = (addr.clone(), &count);
                    sc.spawn(move || {
                        count(berth::sync::client::sync(t, &addr, &mut |_| {}).unwrap())
                    });
                }
            });
        } else {
            for (t, _) in &fleet {
                count(berth::sync::client::sync(t, &addr, &mut |_| {}).unwrap());
            }
        }
        let took = t0.elapsed().as_secs_f64();
        let moved = moved.load(Ordering::Relaxed);
        println!(
            "  round {round} {}: {took:.2} s, {moved} items moved, {:.1} µs per item",
            if concurrent {
                "concurrent"
            } else {
                "serial    "
            },
            took * 1e6 / moved as f64
        );
        rounds.push((concurrent, took, moved));
    }
    let per = |c: bool| {
        let (t, m) = rounds
            .iter()
            .filter(|r| r.0 == c)
            .fold((0.0, 0u64), |(t, m), r| (t + r.1, m + r.2));
        (t, t / m as f64)
    };
    let ((ts, ps), (tc, pc)) = (per(false), per(true));
    println!(
        "50 tablets × {per} letters up, 10 replies down each, two rounds of each: serial {ts:.2} s, concurrent {tc:.2} s (time ratio {:.2}); per item moved, concurrent / serial = {:.2} (goal ≤ 1.15)",
        tc / ts,
        pc / ps,
        per = 20
    );
    drop(running);

    // ---- 3. the dock's own CPU per letter and per feed entry ----
    // Each phase runs against its own `berth-dock serve` process, and the
    // CPU it used (user + system, all threads, from wait4's rusage) is the
    // dock's alone. An idle phase (start, stop) is the baseline.
    let letters3 = (letters / 2).max(500);
    let mut s = site();
    let facility_dir = s.dir.path().join("facility");
    let dock_dir = s.dir.path().join("dock");
    let dock_cpu = |phase: &mut dyn FnMut(&str)| -> f64 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_berth-dock"))
            .arg("serve")
            .arg("--dir")
            .arg(&facility_dir)
            .arg("--data")
            .arg(&dock_dir)
            .args(["--listen", "127.0.0.1:0", "--no-console"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let addr = line
            .split(" listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("the dock prints its address")
            .to_string();
        phase(&addr);
        let pid = child.id() as libc::pid_t;
        let mut status = 0;
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::wait4(pid, &mut status, 0, &mut ru);
        }
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
        ms(ru.ru_utime) + ms(ru.ru_stime)
    };
    let idle = dock_cpu(&mut |_| std::thread::sleep(Duration::from_millis(200)));
    let mut fixture = None;
    dock_cpu(&mut |addr| fixture = Some(tablet(&mut s, "cpu", addr)));
    let (t, sess) = fixture.unwrap();
    let sessions = 20;
    let empty = dock_cpu(&mut |addr| {
        for _ in 0..sessions {
            berth::sync::client::sync(&t, addr, &mut |_| {}).unwrap();
        }
    });
    let per_session = (empty - idle) / sessions as f64;
    replies(&mut s, letters3, "cpu");
    let mut down = None;
    let pulled = dock_cpu(&mut |addr| {
        down = Some(berth::sync::client::sync(&t, addr, &mut |_| {}).unwrap())
    });
    let down = down.unwrap();
    let per_entry = (pulled - idle - per_session) / down.entries_applied as f64;
    for i in 0..letters3 {
        t.lock()
            .unwrap()
            .letters()
            .queue_letter(&sess, "lawyer", &format!("carta {i}"))
            .unwrap();
    }
    let mut up = None;
    let pushed =
        dock_cpu(&mut |addr| up = Some(berth::sync::client::sync(&t, addr, &mut |_| {}).unwrap()));
    let up = up.unwrap();
    let per_letter = (pushed - idle - per_session - up.entries_applied as f64 * per_entry)
        / up.letters_sent as f64;
    // A planning figure: a night's session of 5 letters up and 40 entries
    // down (replies, states, copies).
    let typical = per_session + 5.0 * per_letter + 40.0 * per_entry;
    println!(
        "dock CPU (its own process; idle start and stop {idle:.0} ms): {per_session:.2} ms per session, {per_letter:.3} ms per letter up, {per_entry:.4} ms per feed entry down ({} entries, {} letters measured)",
        down.entries_applied, up.letters_sent
    );
    println!(
        "  a session of 5 letters up + 40 entries down: {typical:.2} ms of dock CPU, so one dock core serves {:.0} such sessions an hour",
        3_600_000.0 / typical
    );
    let _ = &s.facility;
}
