//! The console's review queue with 10,000 letters waiting (issue 17, goal:
//! p95 ≤ 50 ms server time), against a primary-key read of one letter in
//! the same run.
//!
//!   cargo bench --bench review        (BERTH_BENCH_LETTERS=2000 for a quick run)
//!
//! The demo facility and dock (`berth::demo`), then that many letters from
//! Ana imported through the mail gateway as the relay would deliver them,
//! one in 50 with a word on the facility's list. Each request goes through
//! the console's real router (`berth::console::router`: session gate,
//! query parsing, the dock's search, the template) with a signed-in mail
//! reviewer's cookie; no TLS and no socket, so the time is the server's.
//! Reported: p50/p95/max of the queue's first page, a deep page, a filtered
//! search and one letter's page, each as a ratio to the one letter, and
//! the library's own search and read beside them.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use berth::demo::DemoPaths;
use berth::domain::staff::{Role, Username};
use http_body_util::BodyExt;
use tower::ServiceExt;

const RUNS: usize = 200;

fn stats(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.95), *v.last().unwrap())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let letters: usize = std::env::var("BERTH_BENCH_LETTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    berth::demo::run(dir.path(), &assets, &mut std::io::sink()).unwrap();
    let p = DemoPaths::new(dir.path());
    std::fs::write(p.dock.join("dock.toml"), "keywords = [\"paquete\"]\n").unwrap();
    let mut dock = berth::dock::Dock::open(&p.facility, &p.dock).unwrap();

    let setup = Instant::now();
    let template = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/reply.eml"),
    )
    .unwrap();
    let maildir = dock.maildir();
    for i in 0..letters {
        let mut eml =
            template.replace("<reply-1@example.org>", &format!("<bench-{i}@example.org>"));
        eml = eml.replace(
            "Te escribo otra vez el domingo.",
            &if i % 50 == 7 {
                format!("Carta {i}. El paquete llega el domingo.")
            } else {
                format!("Carta {i}. Te escribo otra vez el domingo.")
            },
        );
        berth::dock::gateway::deliver_to_maildir(&maildir, eml.as_bytes()).unwrap();
    }
    let report = dock.import_mail(None).unwrap();
    assert_eq!(
        report.accepted.len(),
        letters,
        "{:?}",
        report.refused.first()
    );
    eprintln!(
        "setup: {letters} letters imported for review in {:.1?}",
        setup.elapsed()
    );

    // A mail reviewer, signed in.
    let now = chrono::Utc::now();
    let me: Username = "rosa".parse().unwrap();
    let pw = "copper kettle on the stove";
    let cli = berth::dock::staff::Actor::Cli {
        os_user: "bench".into(),
    };
    let mut member = dock
        .staff_add(
            &cli,
            &me,
            "Rosa",
            &[Role::MailReviewer],
            "temporary one two",
            now,
        )
        .unwrap();
    dock.staff_change_password(&me, "temporary one two", pw, now)
        .unwrap();
    member.must_change = false;
    let (token, _) = dock.staff_session_start(&member, now).unwrap();
    let cookie = format!("__Host-berth-session={token}");

    let waiting = berth::dock::ReviewFilter {
        state: Some("in-review".into()),
        attorney: Some(false),
        ..Default::default()
    };
    let first = dock.review_search(&waiting, 0, 50).unwrap();
    assert_eq!(
        first.total,
        letters + 1,
        "the demo's own reply is waiting too"
    );
    assert!(!first.items[0].flags.is_empty(), "flagged letters first");
    let one = first.items[20].id.clone();

    let router = berth::console::router(&dock, chrono::Duration::minutes(15)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let time = |path: &str, must: &str| -> Vec<Duration> {
        (0..RUNS)
            .map(|_| {
                let req = Request::get(path)
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap();
                let t = Instant::now();
                let (status, body) = rt.block_on(async {
                    let r = router.clone().oneshot(req).await.unwrap();
                    let status = r.status();
                    (status, r.into_body().collect().await.unwrap().to_bytes())
                });
                let d = t.elapsed();
                let text = std::str::from_utf8(&body).unwrap();
                assert_eq!(status, 200, "{path}: {text}");
                assert!(text.contains(must), "{path} lacks {must:?}");
                d
            })
            .collect()
    };
    let deep_page = letters / 50 / 2;
    let pages = [
        (
            "one letter's page (baseline)",
            format!("/review/{one}"),
            one.clone(),
        ),
        (
            "queue, first page",
            "/review".to_string(),
            "<mark>paquete</mark>".to_string(),
        ),
        (
            "queue, a middle page",
            format!("/review?page={deep_page}"),
            "Previous page".to_string(),
        ),
        (
            "search: person, contact and date",
            // The day the replies were sent (their Date: header).
            "/review?person=A12345&contact=ana&from=2026-11-22&to=2026-11-22".to_string(),
            "Letters 1–".to_string(),
        ),
    ];
    let mut base = None;
    println!("review queue, {letters} letters waiting, {RUNS} requests each (server time):");
    for (name, path, must) in &pages {
        let (p50, p95, max) = stats(time(path, must));
        let b = *base.get_or_insert(p95);
        println!(
            "  {name:<34} p50 {:>7.2} ms  p95 {:>7.2} ms  max {:>7.2} ms  p95/baseline {:>6.1}",
            ms(p50),
            ms(p95),
            ms(max),
            p95.as_secs_f64() / b.as_secs_f64()
        );
    }
    // The library alone, beneath the pages.
    let lib = |f: &dyn Fn()| {
        stats(
            (0..RUNS)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed()
                })
                .collect(),
        )
    };
    let (_, show95, _) = lib(&|| {
        dock.review_show(&one).unwrap();
    });
    let (_, search95, _) = lib(&|| {
        dock.review_search(&waiting, 0, 50).unwrap();
    });
    println!(
        "  library: review_show p95 {:.3} ms; review_search (first 50) p95 {:.2} ms = {:.1}× the read (goal: the page p95 ≤ 50 ms)",
        ms(show95),
        ms(search95),
        search95.as_secs_f64() / show95.as_secs_f64()
    );
}
