//! Hardware-facing code: clocks now; input, display and dock detection later.

pub mod clock;
pub mod power;
