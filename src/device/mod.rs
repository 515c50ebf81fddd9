//! Hardware-facing code: clocks now; input, display and dock detection later.

pub mod clock;
pub mod input;
#[cfg(feature = "device")]
pub mod evdev_devices;
pub mod power;
