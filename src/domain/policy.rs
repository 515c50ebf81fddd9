//! Facility policy and the rules engine.
//!
//! A policy document is signed by the policy role and bound to one scope:
//! the whole facility, a housing unit, or one person. Several apply to a
//! person; for each rule the most specific document that sets it wins.
//! [`decide`] is a pure function of (policy, usage, trusted time).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::Error;
use super::names::{FacilityId, GroupId};

/// What a person can open on the tablet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Feature {
    Messages,
    Learn,
    Books,
    Music,
    Record,
}

impl Feature {
    pub const ALL: [Feature; 5] = [
        Feature::Messages,
        Feature::Learn,
        Feature::Books,
        Feature::Music,
        Feature::Record,
    ];
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Feature::Messages => "Messages",
            Feature::Learn => "Learn",
            Feature::Books => "Books",
            Feature::Music => "Music",
            Feature::Record => "My record",
        })
    }
}

/// For logs and the command line (the shell words reasons through `Tr`).
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = |at: &DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
        match self {
            Reason::Open => f.write_str("open"),
            Reason::Lockdown(why) if why.is_empty() => f.write_str("lockdown"),
            Reason::Lockdown(why) => write!(f, "lockdown: {why}"),
            Reason::Curfew { until } => write!(f, "curfew until {}", t(until)),
            Reason::DailyCapReached => f.write_str("today's time is used up"),
            Reason::Cooldown { until } => write!(f, "a break until {}", t(until)),
            Reason::Grace { days_offline } => {
                write!(f, "no dock for {days_offline} days (grace mode)")
            }
        }
    }
}

/// A curfew window in the facility's local time. `start > end` crosses
/// midnight: it begins on the listed day and ends on the next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurfewWindow {
    pub days: Vec<Weekday>,
    #[serde(with = "hhmm")]
    pub start: NaiveTime,
    #[serde(with = "hhmm")]
    pub end: NaiveTime,
}

/// Times of day as `"HH:MM"`.
mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveTime::parse_from_str(&s, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("time {s:?} must be HH:MM, e.g. 22:00")))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockdown {
    pub active: bool,
    /// Features still open during the lockdown.
    #[serde(default)]
    pub allowed: Vec<Feature>,
    /// Shown to the person, e.g. "Count in progress".
    #[serde(default)]
    pub reason: String,
}

/// Rules; every one optional, so a unit or person document can override
/// just what it needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub timezone: Option<String>,
    pub session_minutes: Option<u32>,
    pub cooldown_minutes: Option<u32>,
    pub daily_cap_minutes: Option<u32>,
    pub curfew: Option<Vec<CurfewWindow>>,
    pub lockdown: Option<Lockdown>,
    pub message_max_graphemes: Option<u32>,
    pub daily_message_quota: Option<u32>,
    pub max_offline_days: Option<u32>,
    pub grace_allows: Option<Vec<Feature>>,
    /// Features that stay open during curfew (quiet ones: books, the
    /// person's record). `[]` closes everything at night.
    pub curfew_allows: Option<Vec<Feature>>,
    pub free_tags: Option<Vec<String>>,
    pub idle_lock_seconds: Option<u32>,
    /// The loudest the tablet plays, in percent of full volume.
    pub max_volume_percent: Option<u32>,
    /// The lock screen's language on a new tablet (`en` or `es`); after
    /// that, the last language chosen there.
    pub default_language: Option<String>,
}

/// A signed policy document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDoc {
    pub facility: FacilityId,
    /// `facility`, `unit:NAME` or `person:ID`.
    pub scope: GroupId,
    pub version: u64,
    pub issued: DateTime<Utc>,
    pub rules: Rules,
}

/// How specific a scope is: person beats unit beats facility.
pub fn scope_rank(scope: &GroupId) -> u8 {
    let s = scope.as_str();
    if s.starts_with("person:") {
        2
    } else if s.starts_with("unit:") {
        1
    } else {
        0
    }
}

impl PolicyDoc {
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Error::Invalid { doc: "policy", why };
        let s = self.scope.as_str();
        if !(s == "facility" || s.starts_with("unit:") || s.starts_with("person:")) {
            return Err(bad(format!(
                "scope {s} must be facility, unit:NAME or person:ID"
            )));
        }
        if self.version == 0 {
            return Err(bad("version must be 1 or more".into()));
        }
        let r = &self.rules;
        if let Some(tz) = &r.timezone {
            tz.parse::<Tz>().map_err(|_| {
                bad(format!(
                    "unknown time zone {tz:?}; use an IANA name such as America/Chicago"
                ))
            })?;
        }
        let range = |name: &str, v: Option<u32>, lo: u32, hi: u32| match v {
            Some(v) if !(lo..=hi).contains(&v) => {
                Err(bad(format!("{name} is {v}, allowed {lo} to {hi}")))
            }
            _ => Ok(()),
        };
        range("session_minutes", r.session_minutes, 5, 24 * 60)?;
        range("cooldown_minutes", r.cooldown_minutes, 0, 24 * 60)?;
        range("daily_cap_minutes", r.daily_cap_minutes, 0, 24 * 60)?;
        range("message_max_graphemes", r.message_max_graphemes, 1, 100_000)?;
        range("daily_message_quota", r.daily_message_quota, 0, 1000)?;
        range("max_offline_days", r.max_offline_days, 1, 365)?;
        range("idle_lock_seconds", r.idle_lock_seconds, 15, 3600)?;
        range("max_volume_percent", r.max_volume_percent, 10, 100)?;
        if let Some(l) = &r.default_language
            && !crate::domain::content::LANGUAGES.contains(&l.as_str())
        {
            return Err(bad(format!(
                "default_language {l:?}: the tablet speaks {}",
                crate::domain::content::LANGUAGES.join(", ")
            )));
        }
        if let Some(c) = &r.curfew {
            if c.len() > 32 {
                return Err(bad("at most 32 curfew windows".into()));
            }
            for w in c {
                if w.days.is_empty() || w.start == w.end {
                    return Err(bad(
                        "a curfew window needs days and a start different from its end".into(),
                    ));
                }
            }
        }
        if let Some(tags) = &r.free_tags
            && (tags.len() > 64 || tags.iter().any(|t| t.is_empty() || t.len() > 64))
        {
            return Err(bad(
                "free_tags: at most 64 tags of 1 to 64 characters".into()
            ));
        }
        if let Some(l) = &r.lockdown
            && l.reason.len() > 200
        {
            return Err(bad("lockdown reason is longer than 200 bytes".into()));
        }
        Ok(())
    }
}

/// The rules in force for one person: every field resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    pub tz: Tz,
    pub session_minutes: u32,
    pub cooldown_minutes: u32,
    pub daily_cap_minutes: u32,
    pub curfew: Vec<CurfewWindow>,
    pub lockdown: Option<Lockdown>,
    pub message_max_graphemes: u32,
    pub daily_message_quota: u32,
    pub max_offline_days: u32,
    pub grace_allows: BTreeSet<Feature>,
    pub curfew_allows: BTreeSet<Feature>,
    pub free_tags: Vec<String>,
    pub idle_lock_seconds: u32,
    pub max_volume_percent: u32,
    pub default_language: String,
}

impl Default for Effective {
    /// Used where no policy has arrived yet: conservative, never bricking.
    fn default() -> Self {
        Effective {
            tz: chrono_tz::UTC,
            session_minutes: 60,
            cooldown_minutes: 30,
            daily_cap_minutes: 240,
            curfew: Vec::new(),
            lockdown: None,
            message_max_graphemes: 13_000,
            daily_message_quota: 10,
            max_offline_days: 7,
            grace_allows: [Feature::Messages, Feature::Music, Feature::Record].into(),
            // Reading stays open at night: books (the facility handbook
            // among them) and the person's own record.
            curfew_allows: [Feature::Books, Feature::Record].into(),
            free_tags: vec!["public-domain".into()],
            idle_lock_seconds: 120,
            max_volume_percent: 80,
            default_language: "en".into(),
        }
    }
}

/// Resolve the documents that apply (any order): for each rule, the most
/// specific document that sets it wins.
pub fn effective(docs: &[&PolicyDoc]) -> Effective {
    let mut sorted: Vec<&&PolicyDoc> = docs.iter().collect();
    sorted.sort_by_key(|d| scope_rank(&d.scope));
    let mut e = Effective::default();
    for d in sorted {
        let r = &d.rules;
        if let Some(tz) = r.timezone.as_ref().and_then(|t| t.parse().ok()) {
            e.tz = tz;
        }
        macro_rules! take {
            ($($f:ident),*) => { $( if let Some(v) = &r.$f { e.$f = v.clone(); } )* };
        }
        take!(
            session_minutes,
            cooldown_minutes,
            daily_cap_minutes,
            curfew,
            message_max_graphemes,
            daily_message_quota,
            max_offline_days,
            free_tags,
            idle_lock_seconds,
            max_volume_percent,
            default_language
        );
        if let Some(l) = &r.lockdown {
            e.lockdown = Some(l.clone());
        }
        if let Some(g) = &r.grace_allows {
            e.grace_allows = g.iter().copied().collect();
        }
        if let Some(c) = &r.curfew_allows {
            e.curfew_allows = c.iter().copied().collect();
        }
    }
    e
}

/// What the person has used, as the store counts it on trusted time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Active minutes used in the current session. Logging out pauses a
    /// session; it ends when these reach the session length.
    pub session_used_minutes: u32,
    /// When the last session ran out (its break runs from here).
    pub session_exhausted_at: Option<DateTime<Utc>>,
    /// Metered minutes used today (facility-local day); free content excluded.
    pub used_today_minutes: u32,
    pub messages_sent_today: u32,
    /// Last successful dock sync.
    pub last_dock: Option<DateTime<Utc>>,
}

/// Why the tablet is in its current state. The UI translates these; the
/// `Display` text is the English wording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    Open,
    Lockdown(String),
    Curfew {
        until: DateTime<Utc>,
    },
    DailyCapReached,
    /// The session is over, or its break is running.
    Cooldown {
        until: DateTime<Utc>,
    },
    Grace {
        days_offline: i64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDecision {
    /// Features open now.
    pub allowed: BTreeSet<Feature>,
    /// Whether free-tagged content (public-domain books) stays open even
    /// where metered features are closed.
    pub free_content: bool,
    /// Minutes left in this session (None when no session limit applies).
    pub remaining_minutes: Option<u32>,
    pub messages_left_today: u32,
    pub reason: Reason,
    /// Also true in grace mode, which combines with the other states.
    pub grace: bool,
    /// When the schedule next changes this decision (curfew, break end, day
    /// reset, grace). The session countdown is `remaining_minutes`.
    pub next_change: Option<DateTime<Utc>>,
    pub tz: Tz,
    /// Idle time before the session locks itself.
    pub idle_lock_seconds: u32,
    /// The loudest the tablet may play, in percent.
    pub max_volume_percent: u32,
}

impl fmt::Display for PolicyDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = |t: &DateTime<Utc>| t.with_timezone(&self.tz).format("%a %H:%M").to_string();
        match &self.reason {
            Reason::Open => write!(f, "Open")?,
            Reason::Lockdown(r) if r.is_empty() => write!(f, "Lockdown")?,
            Reason::Lockdown(r) => write!(f, "Lockdown: {r}")?,
            Reason::Curfew { until } => write!(f, "Curfew until {}", local(until))?,
            Reason::DailyCapReached => write!(f, "Daily time used up; it resets at midnight")?,
            Reason::Cooldown { until } => write!(f, "Break until {}", local(until))?,
            Reason::Grace { .. } => write!(f, "Dock soon")?,
        }
        if self.grace {
            if let Reason::Grace { days_offline } = self.reason {
                write!(
                    f,
                    " (not docked for {days_offline} days: only some features work until the tablet docks)"
                )?;
            } else {
                write!(f, " (grace mode: dock the tablet)")?;
            }
        }
        Ok(())
    }
}

fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        // Fall back: the first of the two instants.
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        // Spring forward: the wall-clock time does not exist; the boundary
        // happens at the first instant after the gap.
        LocalResult::None => {
            let mut t = date.and_time(time);
            for _ in 0..180 {
                t += Duration::minutes(1);
                if let Some(x) = tz.from_local_datetime(&t).earliest() {
                    return x.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&date.and_time(time))
        }
    }
}

/// Is `now` inside any curfew window?
pub fn in_curfew(e: &Effective, now: DateTime<Utc>) -> bool {
    curfew_spans(e, now, 1)
        .iter()
        .any(|(s, t)| *s <= now && now < *t)
}

/// Curfew spans (UTC) that start from `days_back` days before `now` to a
/// week after.
fn curfew_spans(
    e: &Effective,
    now: DateTime<Utc>,
    days_back: i64,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let today = now.with_timezone(&e.tz).date_naive();
    let mut out = Vec::new();
    for offset in -days_back..=8 {
        let day = today + Duration::days(offset);
        for w in &e.curfew {
            if !w.days.contains(&day.weekday()) {
                continue;
            }
            let start = local_to_utc(e.tz, day, w.start);
            let end_day = if w.start < w.end {
                day
            } else {
                day + Duration::days(1)
            };
            let end = local_to_utc(e.tz, end_day, w.end);
            if end > start {
                out.push((start, end));
            }
        }
    }
    out
}

/// Next local midnight after `now`.
fn next_midnight(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&tz).date_naive() + Duration::days(1);
    local_to_utc(tz, tomorrow, NaiveTime::MIN)
}

/// The facility-local calendar day of an instant, as `YYYY-MM-DD`: the key
/// of daily use and of the letter quota.
pub fn local_day(now: DateTime<Utc>, tz: Tz) -> String {
    now.with_timezone(&tz).date_naive().to_string()
}

/// The rules engine.
pub fn decide(e: &Effective, usage: &Usage, now: DateTime<Utc>) -> PolicyDecision {
    let all: BTreeSet<Feature> = Feature::ALL.into_iter().collect();
    let messages_left_today = e
        .daily_message_quota
        .saturating_sub(usage.messages_sent_today);
    let days_offline = usage.last_dock.map(|d| (now - d).num_days());
    let grace = days_offline.is_some_and(|d| d > i64::from(e.max_offline_days));
    let grace_start = usage
        .last_dock
        .map(|d| d + Duration::days(i64::from(e.max_offline_days) + 1));

    // Every instant at which something may change: the next state is found
    // by evaluating just after each, which handles overlapping windows.
    let spans = curfew_spans(e, now, 1);
    let mut boundaries: Vec<DateTime<Utc>> = spans.iter().flat_map(|(s, t)| [*s, *t]).collect();
    boundaries.push(next_midnight(e.tz, now));
    if let Some(g) = grace_start {
        boundaries.push(g);
    }

    let (mut allowed, mut free_content, mut remaining, reason) =
        if let Some(l) = e.lockdown.as_ref().filter(|l| l.active) {
            (
                l.allowed.iter().copied().collect(),
                l.allowed.contains(&Feature::Books),
                None,
                Reason::Lockdown(l.reason.clone()),
            )
        } else if in_curfew(e, now) {
            let until = spans
                .iter()
                .filter(|(s, t)| *s <= now && now < *t)
                .map(|(_, t)| *t)
                .max()
                .expect("in curfew");
            // Follow overlapping or touching windows to the real end.
            let mut end = until;
            loop {
                let next = spans
                    .iter()
                    .filter(|(s, t)| *s <= end && *t > end)
                    .map(|(_, t)| *t)
                    .max();
                match next {
                    Some(t) => end = t,
                    None => break,
                }
            }
            (
                e.curfew_allows.clone(),
                e.curfew_allows.contains(&Feature::Books),
                None,
                Reason::Curfew { until: end },
            )
        } else if usage.used_today_minutes >= e.daily_cap_minutes {
            (BTreeSet::new(), true, Some(0), Reason::DailyCapReached)
        } else {
            let cap_left = e.daily_cap_minutes - usage.used_today_minutes;
            let cooldown = Duration::minutes(i64::from(e.cooldown_minutes));
            match usage.session_exhausted_at {
                Some(x) if now < x + cooldown => (
                    BTreeSet::new(),
                    true,
                    Some(0),
                    Reason::Cooldown {
                        until: x + cooldown,
                    },
                ),
                exhausted => {
                    // After a break the session starts afresh.
                    let used = if exhausted.is_some() {
                        0
                    } else {
                        usage.session_used_minutes
                    };
                    if used >= e.session_minutes {
                        (
                            BTreeSet::new(),
                            true,
                            Some(0),
                            Reason::Cooldown {
                                until: now + cooldown,
                            },
                        )
                    } else {
                        let left = (e.session_minutes - used).min(cap_left);
                        (all.clone(), true, Some(left), Reason::Open)
                    }
                }
            }
        };
    let mut reason = reason;
    if grace {
        allowed = allowed.intersection(&e.grace_allows).copied().collect();
        free_content &= e.grace_allows.contains(&Feature::Books);
        if reason == Reason::Open {
            reason = Reason::Grace {
                days_offline: days_offline.unwrap_or_default(),
            };
        }
    }
    if allowed.is_empty() && !matches!(reason, Reason::Open | Reason::Grace { .. }) {
        remaining = remaining.map(|_| 0);
    }
    boundaries.retain(|b| *b > now);
    boundaries.sort();
    boundaries.dedup();
    let next_change = match &reason {
        Reason::Curfew { until } => Some(*until),
        Reason::Cooldown { until } => Some(*until),
        _ => boundaries.into_iter().find(|b| {
            // The first boundary where curfew, the day or the session changes.
            in_curfew(e, *b) != in_curfew(e, now)
                || next_midnight(e.tz, now) == *b
                || Some(*b) == grace_start
        }),
    };
    PolicyDecision {
        allowed,
        free_content,
        remaining_minutes: remaining,
        messages_left_today,
        reason,
        grace,
        next_change,
        tz: e.tz,
        idle_lock_seconds: e.idle_lock_seconds,
        max_volume_percent: e.max_volume_percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_words_not_debug() {
        let until = DateTime::parse_from_rfc3339("2026-06-04T11:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            Reason::Curfew { until }.to_string(),
            "curfew until 2026-06-04 11:00 UTC"
        );
        assert_eq!(
            Reason::Lockdown("count".into()).to_string(),
            "lockdown: count"
        );
        assert_eq!(
            Reason::DailyCapReached.to_string(),
            "today's time is used up"
        );
        assert_eq!(Feature::Record.to_string(), "My record");
    }

    fn ny() -> Effective {
        Effective {
            tz: chrono_tz::America::New_York,
            curfew: vec![CurfewWindow {
                days: vec![
                    Weekday::Sun,
                    Weekday::Mon,
                    Weekday::Tue,
                    Weekday::Wed,
                    Weekday::Thu,
                ],
                start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(6, 0, 0).unwrap(),
            }],
            ..Effective::default()
        }
    }

    /// Local New York wall-clock time to UTC (earliest if ambiguous).
    fn at(s: &str) -> DateTime<Utc> {
        let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::America::New_York
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn local(t: DateTime<Utc>) -> String {
        t.with_timezone(&chrono_tz::America::New_York)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    #[test]
    fn curfew_table_midnight_and_weekdays() {
        let e = ny();
        // (local time, in curfew?, next change, local)
        let table = [
            ("2026-06-03 21:59", false, "2026-06-03 22:00 EDT"), // Wednesday evening
            ("2026-06-03 22:00", true, "2026-06-04 06:00 EDT"),
            ("2026-06-03 23:59", true, "2026-06-04 06:00 EDT"),
            ("2026-06-04 00:00", true, "2026-06-04 06:00 EDT"), // midnight, still curfew
            ("2026-06-04 05:59", true, "2026-06-04 06:00 EDT"),
            ("2026-06-04 06:00", false, "2026-06-04 22:00 EDT"),
            ("2026-06-05 23:00", false, "2026-06-06 00:00 EDT"), // Friday: no curfew; next change is the day reset
            ("2026-06-06 01:00", false, "2026-06-07 00:00 EDT"), // Saturday 01:00: Friday has no window
        ];
        for (t, curfew, next) in table {
            let d = decide(&e, &Usage::default(), at(t));
            assert_eq!(
                matches!(d.reason, Reason::Curfew { .. }),
                curfew,
                "{t}: {d}"
            );
            let quiet: BTreeSet<Feature> = [Feature::Books, Feature::Record].into();
            assert_eq!(
                d.allowed == quiet,
                curfew,
                "{t}: only the quiet features at night"
            );
            assert_eq!(local(d.next_change.unwrap()), next, "{t}");
        }
    }

    #[test]
    fn the_policy_says_what_stays_open_at_night() {
        let mut e = ny();
        let night = at("2026-06-03 23:00");
        let d = decide(&e, &Usage::default(), night);
        assert!(d.allowed.contains(&Feature::Books) && d.allowed.contains(&Feature::Record));
        assert!(!d.allowed.contains(&Feature::Messages) && !d.allowed.contains(&Feature::Music));
        assert!(d.free_content, "the handbook and free books stay readable");
        e.curfew_allows = BTreeSet::new();
        let d = decide(&e, &Usage::default(), night);
        assert!(
            d.allowed.is_empty() && !d.free_content,
            "a facility can close everything"
        );
    }

    #[test]
    fn curfew_across_dst_both_ways() {
        let e = ny();
        // Spring forward, Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT.
        // Curfew began Saturday? No: Saturday has no window. Sunday 22:00 starts one.
        let d = decide(&e, &Usage::default(), at("2026-03-08 01:30"));
        assert!(!matches!(d.reason, Reason::Curfew { .. }));
        let d = decide(&e, &Usage::default(), at("2026-03-08 22:30"));
        assert_eq!(local(d.next_change.unwrap()), "2026-03-09 06:00 EDT");
        // The curfew Sunday night -> Monday lasts 8 hours of real time.
        // Thursday before spring forward: window Thu 22:00 EST -> Fri 06:00 EST.
        // Fall back, Sunday 2026-11-01: 02:00 EDT becomes 01:00 EST.
        // Saturday night has no window; Sunday 22:00 EST to Monday 06:00 EST.
        let d = decide(&e, &Usage::default(), at("2026-11-01 01:30"));
        assert!(!matches!(d.reason, Reason::Curfew { .. }));
        let d = decide(&e, &Usage::default(), at("2026-11-01 23:00"));
        let Reason::Curfew { until } = d.reason else {
            panic!("{d}")
        };
        assert_eq!(local(until), "2026-11-02 06:00 EST");
        // A window that crosses the change itself: Saturday 22:00 -> Sunday 06:00.
        let mut e2 = ny();
        e2.curfew[0].days = vec![Weekday::Sat];
        let start = at("2026-11-01 00:30");
        let Reason::Curfew { until } = decide(&e2, &Usage::default(), start).reason else {
            panic!()
        };
        assert_eq!(local(until), "2026-11-01 06:00 EST");
        // 25 real hours pass between Saturday 06:00 and Sunday 06:00 this weekend;
        // the window Sat 22:00 EDT -> Sun 06:00 EST lasts 9 hours.
        assert_eq!((until - at("2026-10-31 22:00")).num_hours(), 9);
        let Reason::Curfew { until } =
            decide(&e2, &Usage::default(), at("2026-03-08 01:00")).reason
        else {
            panic!()
        };
        assert_eq!(
            (until - at("2026-03-07 22:00")).num_hours(),
            7,
            "spring forward: 7 hours"
        );
        // A boundary inside the spring-forward gap happens at the first real instant.
        e2.curfew[0] = CurfewWindow {
            days: vec![Weekday::Sun],
            start: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            end: NaiveTime::from_hms_opt(5, 0, 0).unwrap(),
        };
        let d = decide(&e2, &Usage::default(), at("2026-03-08 01:59"));
        assert_eq!(local(d.next_change.unwrap()), "2026-03-08 03:00 EDT");
    }

    #[test]
    fn overlapping_windows_end_at_the_end_of_their_union() {
        let mut e = ny();
        e.curfew.push(CurfewWindow {
            days: vec![Weekday::Wed],
            start: NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
        });
        let d = decide(&e, &Usage::default(), at("2026-06-03 21:30"));
        let Reason::Curfew { until } = d.reason else {
            panic!("{d}")
        };
        assert_eq!(local(until), "2026-06-04 06:00 EDT");
        assert_eq!(
            local(
                decide(&e, &Usage::default(), at("2026-06-03 20:00"))
                    .next_change
                    .unwrap()
            ),
            "2026-06-03 21:00 EDT"
        );
    }

    #[test]
    fn lockdown_wins_and_keeps_only_its_features() {
        let mut e = ny();
        e.lockdown = Some(Lockdown {
            active: true,
            allowed: vec![Feature::Messages],
            reason: "Count".into(),
        });
        let d = decide(&e, &Usage::default(), at("2026-06-03 23:00"));
        assert_eq!(d.reason, Reason::Lockdown("Count".into()));
        assert_eq!(d.allowed, [Feature::Messages].into());
        assert!(!d.free_content);
        e.lockdown.as_mut().unwrap().active = false;
        assert!(matches!(
            decide(&e, &Usage::default(), at("2026-06-03 23:00")).reason,
            Reason::Curfew { .. }
        ));
    }

    #[test]
    fn session_cooldown_and_daily_cap() {
        let e = Effective {
            session_minutes: 30,
            cooldown_minutes: 30,
            daily_cap_minutes: 120,
            ..Effective::default()
        };
        let t = DateTime::parse_from_rfc3339("2026-06-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let u = Usage {
            session_used_minutes: 10,
            ..Usage::default()
        };
        let d = decide(&e, &u, t);
        // The session countdown is `remaining_minutes`; `next_change` is the
        // schedule (here: the day resets at midnight UTC).
        assert_eq!(d.remaining_minutes, Some(20));
        assert_eq!(
            d.next_change,
            Some(
                t.date_naive()
                    .succ_opt()
                    .unwrap()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc()
            )
        );
        let u = Usage {
            session_used_minutes: 30,
            session_exhausted_at: Some(t),
            ..Usage::default()
        };
        let d = decide(&e, &u, t + Duration::minutes(1));
        assert_eq!(
            d.reason,
            Reason::Cooldown {
                until: t + Duration::minutes(30)
            }
        );
        assert_eq!(d.next_change, Some(t + Duration::minutes(30)));
        assert!(
            d.allowed.is_empty() && d.free_content,
            "free content stays open"
        );
        let d = decide(&e, &u, t + Duration::minutes(30));
        assert_eq!(
            (d.reason, d.remaining_minutes),
            (Reason::Open, Some(30)),
            "a fresh session after the break"
        );
        let u = Usage {
            used_today_minutes: 110,
            ..Usage::default()
        };
        assert_eq!(
            decide(&e, &u, t).remaining_minutes,
            Some(10),
            "the cap shortens the session"
        );
        let u = Usage {
            used_today_minutes: 120,
            ..Usage::default()
        };
        let d = decide(&e, &u, t);
        assert_eq!(d.reason, Reason::DailyCapReached);
        assert_eq!(
            d.next_change,
            Some(
                DateTime::parse_from_rfc3339("2026-06-04T00:00:00Z")
                    .unwrap()
                    .with_timezone(&Utc)
            )
        );
    }

    #[test]
    fn grace_mode_restricts_but_never_bricks() {
        let e = Effective::default();
        let t = DateTime::parse_from_rfc3339("2026-06-20T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let u = Usage {
            last_dock: Some(t - Duration::days(9)),
            ..Usage::default()
        };
        let d = decide(&e, &u, t);
        assert!(d.grace);
        assert_eq!(d.allowed, e.grace_allows);
        assert!(d.allowed.contains(&Feature::Messages) && d.allowed.contains(&Feature::Music));
        let u = Usage {
            last_dock: Some(t - Duration::days(2)),
            ..Usage::default()
        };
        let d = decide(&e, &u, t);
        assert!(!d.grace && d.allowed.len() == 5);
        assert_eq!(
            d.next_change,
            Some(t.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + Duration::days(1))
        );
    }

    #[test]
    fn most_specific_scope_wins_per_rule() {
        let doc = |scope: &str, rules: Rules| PolicyDoc {
            facility: FacilityId::parse("f").unwrap(),
            scope: GroupId::parse(scope).unwrap(),
            version: 1,
            issued: DateTime::from_timestamp(0, 0).unwrap(),
            rules,
        };
        let f = doc(
            "facility",
            Rules {
                session_minutes: Some(30),
                daily_message_quota: Some(5),
                timezone: Some("America/Chicago".into()),
                ..Rules::default()
            },
        );
        let u = doc(
            "unit:b",
            Rules {
                session_minutes: Some(45),
                ..Rules::default()
            },
        );
        let p = doc(
            "person:a1",
            Rules {
                daily_message_quota: Some(20),
                ..Rules::default()
            },
        );
        let e = effective(&[&p, &f, &u]);
        assert_eq!((e.session_minutes, e.daily_message_quota), (45, 20));
        assert_eq!(e.tz, chrono_tz::America::Chicago);
        assert_eq!(e.cooldown_minutes, Effective::default().cooldown_minutes);
    }
}
