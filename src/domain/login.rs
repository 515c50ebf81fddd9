//! Login rules: back-off after failed attempts, and what a PIN may be.

use chrono::{DateTime, Duration, Utc};

/// Failures allowed before the back-off starts.
pub const FREE_ATTEMPTS: u32 = 3;
/// First back-off, doubled with each further failure, up to the cap.
pub const FIRST_BACKOFF_SECS: i64 = 30;
pub const MAX_BACKOFF_SECS: i64 = 3600;

/// When the next attempt may be made after `failures` consecutive failures,
/// the last at `last_failure`.
pub fn locked_until(failures: u32, last_failure: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if failures < FREE_ATTEMPTS {
        return None;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(16);
    let secs = (FIRST_BACKOFF_SECS << doublings).min(MAX_BACKOFF_SECS);
    Some(last_failure + Duration::seconds(secs))
}

/// A PIN is 4 to 8 digits, not all the same digit and not a run such as
/// 1234 or 9876.
/// Why a new PIN is not allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinRule {
    #[error("a PIN is 4 to 8 digits")]
    Length,
    #[error("a PIN cannot be one digit repeated")]
    Repeated,
    #[error("a PIN cannot be a run of digits like 1234")]
    Run,
}

pub fn check_new_pin(pin: &str) -> Result<(), PinRule> {
    if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PinRule::Length);
    }
    let d: Vec<i16> = pin.bytes().map(|b| i16::from(b - b'0')).collect();
    if d.iter().all(|x| *x == d[0]) {
        return Err(PinRule::Repeated);
    }
    let steps: Vec<i16> = d.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
        return Err(PinRule::Run);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(locked_until(2, t), None);
        assert_eq!(locked_until(3, t), Some(t + Duration::seconds(30)));
        assert_eq!(locked_until(4, t), Some(t + Duration::seconds(60)));
        assert_eq!(locked_until(40, t), Some(t + Duration::seconds(3600)));
    }

    #[test]
    fn pin_rules() {
        assert!(check_new_pin("4821").is_ok());
        for (bad, rule) in [
            ("123", PinRule::Length),
            ("1234", PinRule::Run),
            ("9876", PinRule::Run),
            ("0000", PinRule::Repeated),
            ("12a4", PinRule::Length),
            ("123456789", PinRule::Length),
        ] {
            assert_eq!(check_new_pin(bad), Err(rule), "{bad}");
        }
    }
}
