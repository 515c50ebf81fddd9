//! Hardware-facing code: clocks now; input, display and dock detection later.

pub mod board;
pub mod clock;
#[cfg(feature = "device")]
pub mod evdev_devices;
pub mod input;
pub mod power;
