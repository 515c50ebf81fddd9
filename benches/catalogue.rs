//! Catalogue search over 100,000 synthetic items, against a baseline
//! measured in the same run.
//!
//!   cargo bench --bench catalogue     (BERTH_BENCH_ITEMS=10000 for a quick run)
//!
//! Items are courses, lessons, books and tracks with Spanish and English
//! words, accents included, indexed through the tablet store's real
//! `index_bundle` into a real SQLite file. Two vocabularies:
//!
//! * **small**: 24 words, so every word is in most items (the worst case:
//!   every query matches tens of thousands of rows);
//! * **zipf**: the words of the demo's public-domain Aesop fables, most
//!   frequent first, extended to 30,000 words with generated Spanish-like
//!   words (a fifth of them accented), drawn with Zipf's law (s = 1.07) as
//!   words are in real text.
//!
//! Reported for each: search p50 and p99 (goal p99 ≤ 10 ms) for
//! accent-free queries, the ratio of p99 to a primary-key lookup of one
//! catalogue row (the baseline, same run), index time, index size and
//! resident memory.
//!
//! Environment:
//! * `BERTH_BENCH_VOCAB=small|zipf` runs one vocabulary (default: both);
//! * `BERTH_BENCH_DB=DIR` keeps each vocabulary's database in DIR and
//!   reuses it on the next run (no indexing), which is how the instruction
//!   counts are taken under callgrind (docs/performance.md);
//! * `BERTH_BENCH_QUERIES=N` (default 2000).

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use berth::store::{CatalogueRow, SearchFilter, Store};

const SMALL: [&str; 24] = [
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
const SMALL_QUERIES: [&str; 8] = [
    "musica",
    "leccion",
    "matematicas",
    "cancion",
    "arbol corazon",
    "algebra",
    "reading river",
    "exito facil",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The Aesop fables' words (public domain, in assets/demo), most frequent
/// first.
fn aesop_words() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/books/aesop-fables.epub");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        if f.name().is_ok_and(|n| n.ends_with(".xhtml")) {
            f.read_to_string(&mut text).unwrap();
        }
    }
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for w in plain
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.len() > 1)
    {
        *counts.entry(w.to_lowercase()).or_default() += 1;
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}

/// A Zipf vocabulary: Aesop's words first, then generated ones.
fn zipf_vocabulary(rng: &mut Rng, size: usize) -> Vec<String> {
    const SYL: [&str; 24] = [
        "ma", "lo", "ra", "che", "des", "pu", "ri", "to", "an", "mi", "sol", "ver", "ca", "no",
        "ti", "bre", "gu", "es", "lu", "fa", "do", "que", "sen", "ba",
    ];
    const ACC: [(&str, &str); 5] = [("a", "á"), ("e", "é"), ("i", "í"), ("o", "ó"), ("u", "ú")];
    let mut seen = std::collections::HashSet::new();
    let mut words = Vec::with_capacity(size);
    for w in aesop_words() {
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    while words.len() < size {
        let n = 2 + (rng.next() % 3) as usize;
        let mut w: String = (0..n)
            .map(|_| SYL[(rng.next() % SYL.len() as u64) as usize])
            .collect();
        if rng.next() % 5 == 0 {
            let (plain, acc) = ACC[(rng.next() % 5) as usize];
            if let Some(at) = w.rfind(plain) {
                w.replace_range(at..at + 1, acc);
            }
        }
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    words
}

/// Draws ranks 0..n with probability ∝ 1 / (rank + 1)^s.
struct Zipf(Vec<f64>);
impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut acc = 0.0;
        let cdf = (1..=n)
            .map(|k| {
                acc += 1.0 / (k as f64).powf(s);
                acc
            })
            .collect::<Vec<_>>();
        let total = acc;
        Zipf(cdf.into_iter().map(|c| c / total).collect())
    }
    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|&c| c < u).min(self.0.len() - 1)
    }
}

fn strip_accents(w: &str) -> String {
    w.chars()
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

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

// Not inlined, so that callgrind can count each on its own
// (`--toggle-collect=catalogue::timed_search`).
#[inline(never)]
fn timed_search(
    store: &Store,
    q: &str,
    groups: &[String],
    f: &SearchFilter<'_>,
) -> Vec<CatalogueRow> {
    store.search(q, groups, f).unwrap()
}

#[inline(never)]
fn timed_lookup(store: &Store, item: &str) -> Option<CatalogueRow> {
    store.catalogue_item(item).unwrap()
}

struct Corpus {
    rows: Vec<CatalogueRow>,
    bodies: Vec<(String, String)>,
    queries: Vec<String>,
}

fn corpus(vocab: &str, n: usize, queries: usize) -> Corpus {
    let kinds = ["course", "lesson", "book", "track"];
    let mut rng = Rng(0x2545F4914F6CDD1D);
    let (words, zipf): (Vec<String>, Option<Zipf>) = match vocab {
        "small" => (SMALL.iter().map(|w| w.to_string()).collect(), None),
        _ => {
            let w = zipf_vocabulary(&mut rng, 30_000);
            let z = Zipf::new(w.len(), 1.07);
            (w, Some(z))
        }
    };
    let word = |rng: &mut Rng| -> usize {
        match &zipf {
            None => (rng.next() % words.len() as u64) as usize,
            Some(z) => z.draw(rng),
        }
    };
    let mut rows = Vec::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    for i in 0..n {
        let title = format!("{} {} {i}", words[word(&mut rng)], words[word(&mut rng)]);
        let body: Vec<&str> = (0..30).map(|_| words[word(&mut rng)].as_str()).collect();
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
    let queries = match vocab {
        "small" => (0..queries)
            .map(|i| SMALL_QUERIES[i % SMALL_QUERIES.len()].to_string())
            .collect(),
        // What people type: one word (most often), two words, or the
        // first three letters of a word still being typed; never accents.
        _ => (0..queries)
            .map(|i| {
                let a = strip_accents(&words[word(&mut rng)]);
                match i % 4 {
                    0 | 1 => a,
                    2 => format!("{a} {}", strip_accents(&words[word(&mut rng)])),
                    _ => a.chars().take(3).collect(),
                }
            })
            .collect(),
    };
    Corpus {
        rows,
        bodies,
        queries,
    }
}

fn run(vocab: &str, n: usize, queries: usize, keep: Option<&Path>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.unwrap_or(tmp.path());
    std::fs::create_dir_all(dir).unwrap();
    let db = dir.join(format!("catalogue-{vocab}-{n}.sqlite"));
    let reuse = keep.is_some() && db.exists();
    let c = corpus(vocab, n, queries);
    let mut store = Store::open(&db).unwrap();
    let mut index_s = 0.0;
    if !reuse {
        let t = Instant::now();
        store
            .index_bundle(
                "bench.bundle",
                "00",
                &["facility".into()],
                &c.rows,
                &c.bodies,
                "",
            )
            .unwrap();
        index_s = t.elapsed().as_secs_f64();
    }
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
    if vocab == "small" {
        for q in SMALL_QUERIES {
            assert!(
                !timed_search(&store, q, &groups, &f).is_empty(),
                "{q} finds its accented words"
            );
        }
    }
    let mut search = Vec::new();
    let mut lookup = Vec::new();
    let mut hits_total = 0usize;
    let mut empty = 0usize;
    for (i, q) in c.queries.iter().enumerate() {
        let t = Instant::now();
        let hits = timed_search(&store, q, &groups, &f);
        search.push(t.elapsed().as_secs_f64() * 1000.0);
        hits_total += hits.len();
        empty += hits.is_empty() as usize;
        let item = &c.rows[(i * 7919) % n].item;
        let t = Instant::now();
        assert!(timed_lookup(&store, item).is_some());
        lookup.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut slow: Vec<(f64, &str)> = search
        .iter()
        .copied()
        .zip(c.queries.iter().map(|q| q.as_str()))
        .collect();
    slow.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    let (p50, p99) = (pct(&mut search, 0.5), pct(&mut search, 0.99));
    let (base50, base99) = (pct(&mut lookup, 0.5), pct(&mut lookup, 0.99));
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "catalogue [{vocab}]: {n} items{}; database {:.1} MB; resident memory {:.1} MB",
        if reuse {
            " (reused)".to_string()
        } else {
            format!(" indexed in {index_s:.1} s")
        },
        size as f64 / 1e6,
        rss as f64 / 1024.0
    );
    println!(
        "  {} queries, {:.1} hits each, {empty} with none",
        c.queries.len(),
        hits_total as f64 / c.queries.len() as f64
    );
    println!(
        "  search p50 {p50:.2} ms, p99 {p99:.2} ms (goal ≤ 10 ms); primary-key lookup p50 {base50:.3} ms, p99 {base99:.3} ms; p99 ratio {:.0}×",
        p99 / base99
    );
    let slowest: Vec<String> = slow
        .iter()
        .take(5)
        .map(|(ms, q)| format!("{q:?} {ms:.1} ms"))
        .collect();
    println!("  slowest: {}", slowest.join(", "));
}

fn main() {
    let n: usize = std::env::var("BERTH_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let queries: usize = std::env::var("BERTH_BENCH_QUERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let keep = std::env::var_os("BERTH_BENCH_DB").map(std::path::PathBuf::from);
    let vocab = std::env::var("BERTH_BENCH_VOCAB").unwrap_or_default();
    for v in ["small", "zipf"] {
        if vocab.is_empty() || vocab == v {
            run(v, n, queries, keep.as_deref());
        }
    }
}
