//! Catalogue search over 100,000 synthetic items, against a baseline
//! measured in the same run.
//!
//!   cargo bench --bench catalogue     (BERTH_BENCH_ITEMS=10000 for a quick run)
//!
//! Items are courses, lessons, books and tracks with Spanish and English
//! words, accents included, indexed through the tablet store's real
//! `index_bundle` into a real SQLite file. Reported: search p50 and p99
//! (goal p99 ≤ 10 ms) for accent-free queries that must match accented
//! words, the ratio of p99 to a primary-key lookup of one catalogue row
//! (the baseline), and resident memory after indexing.

use std::time::Instant;

use berth::store::{CatalogueRow, SearchFilter, Store};

const WORDS: [&str; 24] = [
    "música",
    "lección",
    "matemáticas",
    "canción",
    "historia",
    "árbol",
    "corazón",
    "camión",
    "reading",
    "fractions",
    "welding",
    "guitar",
    "river",
    "mountain",
    "kitchen",
    "garden",
    "número",
    "éxito",
    "fácil",
    "difícil",
    "español",
    "inglés",
    "álgebra",
    "geometría",
];
const QUERIES: [&str; 8] = [
    "musica",
    "leccion",
    "matematicas",
    "cancion",
    "arbol corazon",
    "algebra",
    "reading river",
    "exito facil",
];

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::var("BERTH_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("berth.sqlite")).unwrap();
    let kinds = ["course", "lesson", "book", "track"];
    let mut seed = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut rows = Vec::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    for i in 0..n {
        let w = |k: u64| WORDS[(k % WORDS.len() as u64) as usize];
        let title = format!("{} {} {i}", w(next()), w(next()));
        let body: Vec<&str> = (0..30).map(|_| w(next())).collect();
        let item = format!("{}:bench.bundle/{i}", kinds[i % 4]);
        rows.push(CatalogueRow {
            item: item.clone(),
            kind: kinds[i % 4].into(),
            ref_id: format!("r{i}"),
            title,
            subject: ["reading", "math", "trade"][i % 3].into(),
            ..Default::default()
        });
        bodies.push((item, body.join(" ")));
    }
    let t = Instant::now();
    store
        .index_bundle(
            "bench.bundle",
            "00",
            &["facility".into()],
            &rows,
            &bodies,
            "",
        )
        .unwrap();
    let index_s = t.elapsed().as_secs_f64();
    let rss = rss_kib();
    let groups = vec![
        "facility".to_string(),
        "unit:b-east".into(),
        "person:A12345".into(),
    ];
    let f = SearchFilter {
        kinds: &[],
        subject: None,
        limit: 50,
    };
    // Warm up, then time.
    for q in QUERIES {
        assert!(
            !store.search(q, &groups, &f).unwrap().is_empty(),
            "{q} finds its accented words"
        );
    }
    let mut search = Vec::new();
    let mut lookup = Vec::new();
    for i in 0..2000 {
        let q = QUERIES[i % QUERIES.len()];
        let t = Instant::now();
        let hits = store.search(q, &groups, &f).unwrap();
        search.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!hits.is_empty());
        let item = &rows[(i * 7919) % n].item;
        let t = Instant::now();
        assert!(store.catalogue_item(item).unwrap().is_some());
        lookup.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (p50, p99) = (pct(&mut search, 0.5), pct(&mut search, 0.99));
    let base99 = pct(&mut lookup, 0.99);
    println!(
        "catalogue: {n} items indexed in {index_s:.1} s; resident memory {:.1} MB",
        rss as f64 / 1024.0
    );
    println!(
        "search p50 {p50:.2} ms, p99 {p99:.2} ms (goal ≤ 10 ms); primary-key lookup p99 {base99:.3} ms; ratio {:.0}×",
        p99 / base99
    );
}
