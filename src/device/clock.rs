//! Reading the tablet's clocks. The rules that combine them live in
//! `domain::time`; this module only reads hardware.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::domain::time::ClockReading;

/// Where clock readings come from.
pub trait ClockSource: Send + Sync {
    fn read(&self) -> ClockReading;
}

/// The real clocks: the RTC via the system time, the kernel boot id, and
/// CLOCK_BOOTTIME (which keeps counting through suspend) via /proc/uptime.
pub struct SystemClock;

impl ClockSource for SystemClock {
    fn read(&self) -> ClockReading {
        let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        let monotonic_ms = std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|s| s.split_whitespace().next().map(str::to_string))
            .and_then(|s| s.parse::<f64>().ok())
            .map(|secs| (secs * 1000.0) as u64)
            .unwrap_or(0);
        ClockReading {
            rtc: Utc::now(),
            boot_id,
            monotonic_ms,
        }
    }
}

/// A clock whose RTC and monotonic time are set by hand. Stands in for the
/// RTC hardware in tests and in the RTC-rollback drills.
pub struct ManualClock(Mutex<ClockReading>);

impl ManualClock {
    pub fn new(rtc: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(ClockReading {
            rtc,
            boot_id: "manual".into(),
            monotonic_ms: 0,
        }))
    }

    /// Set the RTC (as a person with a screwdriver might).
    pub fn set_rtc(&self, rtc: DateTime<Utc>) {
        self.lock().rtc = rtc;
    }

    /// Let real time pass: the RTC and the monotonic clock both advance.
    pub fn advance(&self, by: chrono::Duration) {
        let mut r = self.lock();
        r.rtc += by;
        r.monotonic_ms += by.num_milliseconds().max(0) as u64;
    }

    /// Simulate a reboot: a new boot id and the monotonic clock restarts.
    pub fn reboot(&self, new_boot_id: &str) {
        let mut r = self.lock();
        r.boot_id = new_boot_id.into();
        r.monotonic_ms = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockReading> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ClockSource for ManualClock {
    fn read(&self) -> ClockReading {
        self.lock().clone()
    }
}

impl<T: ClockSource + ?Sized> ClockSource for std::sync::Arc<T> {
    fn read(&self) -> ClockReading {
        (**self).read()
    }
}
