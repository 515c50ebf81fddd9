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
