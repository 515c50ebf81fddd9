//! The kiosk shell. Architecture invariant: this module is the only place
//! that names generated Slint types; everything below it speaks domain types.
//!
//! - `shell.rs`: the controller that owns the tablet and the session and
//!   wires each page's adapter global.
//! - `headless.rs`: the software renderer into PNG files (screenshots, CI).
//! - `keys.rs`: the on-screen keyboard and hardware buttons as window events.

slint::include_modules!();

pub mod headless;
pub mod input;
pub mod keys;
pub mod library;
pub mod lock;
pub mod messages;
pub mod quiz;
pub mod reader;
pub mod record;
pub mod services;
pub mod settings;
pub mod shell;
pub mod status;
pub mod tour;

pub use shell::{Hardware, Shell};

/// Languages with bundled translations.
pub const LANGUAGES: [&str; 2] = ["en", "es"];

/// Switch every @tr string at once (no environment variables involved).
pub fn set_language(code: &str) {
    let code = if LANGUAGES.contains(&code) {
        code
    } else {
        "en"
    };
    // "en" is the source language: selecting it restores the originals.
    if let Err(e) = slint::select_bundled_translation(code) {
        tracing::warn!("language {code}: {e}");
    }
}
