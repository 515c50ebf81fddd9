//! Transports that bring bundles to the tablet. Every transport feeds the
//! same installer entry point, so a USB directory is verified exactly like
//! the dock stream.

pub mod client;
pub mod transport;

pub use transport::{BundleSource, FileSource};
