//! Berth: an offline-first tablet shell. See ARCHITECTURE.md for the map.

pub mod bundle;
pub mod demo;
pub mod device;
pub mod domain;
pub mod facility;
pub mod install;
pub mod store;
pub mod sync;
pub mod tablet;
pub mod trust;

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
