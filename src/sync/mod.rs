//! Transports that bring bundles to the tablet. Every transport feeds the
//! same installer entry point, so a USB directory is verified exactly like
//! the dock stream.

pub mod client;
pub mod transport;
pub mod wire;

pub use transport::{BundleSource, FileSource};

/// Map `f` over `items` on every core, keeping order. Signature checks of a
/// batch are independent; on a two-core tablet or dock this halves them.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || items.len() < 64 {
        return items.iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| s.spawn(|| chunk.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a verifier thread panicked"))
            .collect()
    })
}
