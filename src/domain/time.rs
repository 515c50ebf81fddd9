//! The trusted clock, as a pure function.
//!
//! `trusted_now = max(rtc, last_trusted + monotonic time elapsed since it was saved)`.
//! `last_trusted` only rises: it is raised by every reading and by signed
//! times (dock time, approval times). Monotonic time is only comparable within
//! one boot, so across a reboot the saved value is the floor. Moving the RTC
//! backwards therefore never moves trusted time backwards; it is reported as
//! a tamper event when the gap exceeds [`TAMPER_THRESHOLD_SECS`].

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use super::Error;

/// A stored timestamp: RFC 3339 in UTC with nanoseconds, so text order is
/// time order. Both sides' databases use it.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A length as minutes and seconds, `m:ss` (a track's, a narration's).
pub fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A length (of a track, a narration) as `m:ss`: one under a second but
/// above zero shows as 0:01, so no sound is listed as lasting nothing.
pub fn length_mmss(ms: u64) -> String {
    mmss(if ms > 0 && ms < 1000 { 1000 } else { ms })
}

/// An RTC this far behind trusted time is a tamper event, not drift.
pub const TAMPER_THRESHOLD_SECS: i64 = 300;

/// What is persisted between readings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockState {
    pub last_trusted: DateTime<Utc>,
    /// Kernel boot id when `last_trusted` was saved.
    pub boot_id: String,
    /// Monotonic (boot-time) clock when `last_trusted` was saved, in ms.
    pub monotonic_ms: u64,
}

/// One reading of the hardware clocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockReading {
    pub rtc: DateTime<Utc>,
    pub boot_id: String,
    pub monotonic_ms: u64,
}

/// The RTC was found behind trusted time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tamper {
    pub rtc: DateTime<Utc>,
    pub trusted: DateTime<Utc>,
}

/// Combine the saved state with a reading: the trusted time, the state to
/// save, and a tamper event if the RTC went back.
pub fn advance(
    saved: Option<&ClockState>,
    reading: &ClockReading,
) -> (DateTime<Utc>, ClockState, Option<Tamper>) {
    let floor = saved.map(|s| {
        let elapsed = if s.boot_id == reading.boot_id && reading.monotonic_ms >= s.monotonic_ms {
            reading.monotonic_ms - s.monotonic_ms
        } else {
            0
        };
        s.last_trusted + Duration::milliseconds(elapsed.min(i64::MAX as u64) as i64)
    });
    let now = match floor {
        Some(f) if f > reading.rtc => f,
        _ => reading.rtc,
    };
    let tamper = floor
        .filter(|f| (*f - reading.rtc).num_seconds() > TAMPER_THRESHOLD_SECS)
        .map(|f| Tamper {
            rtc: reading.rtc,
            trusted: f,
        });
    let state = ClockState {
        last_trusted: now,
        boot_id: reading.boot_id.clone(),
        monotonic_ms: reading.monotonic_ms,
    };
    (now, state, tamper)
}

/// Within one boot, a saved state this recent needs no new save: the next
/// reading derives the same time from it and the monotonic clock. Only a
/// power cut can lose the difference, so trusted time after a reboot is at
/// most this far behind the last time read, still never behind the last
/// time saved. This keeps a durable write (an fsync) off every reading.
pub const SAVE_INTERVAL_SECS: i64 = 60;

/// Whether `next` (from [`advance`]) must be persisted over `saved`.
pub fn needs_save(saved: Option<&ClockState>, next: &ClockState) -> bool {
    match saved {
        None => true,
        Some(s) => {
            s.boot_id != next.boot_id
                || next.monotonic_ms < s.monotonic_ms
                || (next.last_trusted - s.last_trusted).num_seconds() >= SAVE_INTERVAL_SECS
                // The RTC jumped ahead of the monotonic clock's count (a
                // correction): keep the new floor.
                || next.last_trusted
                    > s.last_trusted
                        + Duration::milliseconds((next.monotonic_ms - s.monotonic_ms) as i64)
                        + Duration::seconds(1)
        }
    }
}

/// Raise the saved state with a time the facility signed.
pub fn with_signed_time(mut state: ClockState, signed: DateTime<Utc>) -> ClockState {
    if signed > state.last_trusted {
        state.last_trusted = signed;
    }
    state
}

/// `YYYY-MM-DD` on the command line means the end of that day, UTC.
pub fn parse_expiry_date(s: &str) -> Result<DateTime<Utc>, Error> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| Error::BadName {
        what: "date",
        value: s.escape_debug().to_string(),
        why: format!("{e}; write it as YYYY-MM-DD"),
    })?;
    let t = NaiveTime::from_hms_opt(23, 59, 59).expect("valid constant time");
    Ok(d.and_time(t).and_utc())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_recent_saved_state_is_not_saved_again() {
        let saved = ClockState {
            last_trusted: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            boot_id: "b1".into(),
            monotonic_ms: 10_000,
        };
        let read = |boot: &str, mono: u64, rtc_secs: i64| {
            advance(
                Some(&saved),
                &ClockReading {
                    rtc: DateTime::from_timestamp(rtc_secs, 0).unwrap(),
                    boot_id: boot.into(),
                    monotonic_ms: mono,
                },
            )
            .1
        };
        // 5 s later in the same boot, RTC agreeing: derivable, no save.
        assert!(!needs_save(
            Some(&saved),
            &read("b1", 15_000, 1_800_000_005)
        ));
        // A minute later: saved, so a power cut loses at most a minute.
        assert!(needs_save(Some(&saved), &read("b1", 70_000, 1_800_000_060)));
        // Another boot: the monotonic clock is not comparable any more.
        assert!(needs_save(Some(&saved), &read("b2", 15_000, 1_800_000_005)));
        // The RTC was set an hour ahead: the new floor is kept.
        assert!(needs_save(Some(&saved), &read("b1", 15_000, 1_800_003_600)));
        assert!(needs_save(None, &saved));
    }
    use super::*;

    #[test]
    fn a_short_sound_is_not_listed_as_lasting_nothing() {
        assert_eq!(length_mmss(139), "0:01");
        assert_eq!(length_mmss(0), "0:00");
        assert_eq!(length_mmss(61_500), "1:01");
        assert_eq!(mmss(500), "0:00", "a position counts whole seconds");
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }
    fn r(rtc: i64, boot: &str, mono_s: u64) -> ClockReading {
        ClockReading {
            rtc: t(rtc),
            boot_id: boot.into(),
            monotonic_ms: mono_s * 1000,
        }
    }

    #[test]
    fn rtc_moved_back_keeps_time_and_reports_tamper() {
        let (now, s, tamper) = advance(None, &r(0, "a", 10));
        assert_eq!(now, t(0));
        assert!(tamper.is_none());
        // An hour later on the monotonic clock, the RTC says 30 days ago.
        let (now, s2, tamper) = advance(Some(&s), &r(-30 * 86400, "a", 3610));
        assert_eq!(now, t(3600));
        assert!(tamper.is_some());
        // After a reboot the monotonic clock restarts; the floor holds.
        let (now, _, tamper) = advance(Some(&s2), &r(-30 * 86400, "b", 5));
        assert_eq!(now, t(3600));
        assert!(tamper.is_some());
    }

    #[test]
    fn small_drift_is_not_tamper_and_forward_rtc_wins() {
        let (_, s, _) = advance(None, &r(0, "a", 0));
        let (now, _, tamper) = advance(Some(&s), &r(-60, "a", 0));
        assert_eq!(now, t(0));
        assert!(tamper.is_none());
        let (now, _, _) = advance(Some(&s), &r(500, "a", 1));
        assert_eq!(now, t(500));
    }

    #[test]
    fn signed_time_only_raises() {
        let (_, s, _) = advance(None, &r(0, "a", 0));
        assert_eq!(with_signed_time(s.clone(), t(-5)).last_trusted, t(0));
        assert_eq!(with_signed_time(s, t(99)).last_trusted, t(99));
    }

    #[test]
    fn expiry_date_is_end_of_day() {
        let e = parse_expiry_date("2027-03-01").unwrap();
        assert_eq!(e.to_rfc3339(), "2027-03-01T23:59:59+00:00");
        assert!(parse_expiry_date("2027-02-30").is_err());
        assert!(parse_expiry_date("tomorrow").is_err());
    }
}
