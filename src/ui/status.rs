//! The status bar and the banner, and the home page's tiles: what the
//! policy decision, the clocks, the hardware and a running sync say, as a
//! view computed without a window. `show` is the one place their texts
//! are chosen.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, HomeAdapter, StatusAdapter, Tr};
use crate::domain::policy::{Feature, PolicyDecision, Reason};
use crate::sync::client::Stage;

/// What the status bar says about sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncShown {
    /// No sync this session.
    Idle,
    Running(Stage),
    Synced(DateTime<Utc>),
    Failed,
    /// The dock does not know this tablet yet.
    NotEnrolled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncLine {
    None,
    Running,
    Sending {
        done: usize,
        total: usize,
    },
    Receiving {
        entries: usize,
    },
    Content {
        title: String,
    },
    /// Local `HH:MM`.
    SyncedAt(String),
    Failed,
    NotEnrolled,
    /// Local `dd/mm HH:MM`.
    LastSync(String),
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Banner {
    None,
    /// Local `HH:MM` when it ends.
    Curfew(String),
    Lockdown(String),
    DailyCap,
    Cooldown(String),
    Grace {
        days_offline: i64,
    },
}

impl Banner {
    /// The banner's kind, as the page colours it.
    pub fn kind(&self) -> &'static str {
        match self {
            Banner::None => "",
            Banner::Curfew(_) => "curfew",
            Banner::Lockdown(_) => "lockdown",
            Banner::DailyCap => "cap",
            Banner::Cooldown(_) => "cooldown",
            Banner::Grace { .. } => "grace",
        }
    }
}

/// Which tiles are open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tiles {
    pub messages: bool,
    pub learn: bool,
    pub books: bool,
    pub music: bool,
    pub record: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusView {
    /// Local `HH:MM`.
    pub time: String,
    /// Weekday (0 = Sunday), day and month, for the translated date.
    pub date: (u32, u32, u32),
    pub battery: Option<u8>,
    pub docked: bool,
    pub sync: SyncLine,
    /// Minutes left in the session, when the bar shows them.
    pub minutes_left: Option<u32>,
    pub banner: Banner,
    pub tiles: Tiles,
}

/// What the bar reads.
pub struct Inputs<'a> {
    pub now: DateTime<Utc>,
    pub tz: Tz,
    pub battery: Option<u8>,
    pub docked: bool,
    pub sync: &'a SyncShown,
    pub last_dock: Option<DateTime<Utc>>,
    /// Whether this tablet is set up to sync with a dock.
    pub can_sync: bool,
    /// The decision for the person signed in; none on the lock screen.
    pub decision: Option<&'a PolicyDecision>,
}

fn hm(t: DateTime<Utc>, tz: Tz, f: &str) -> String {
    t.with_timezone(&tz).format(f).to_string()
}

pub fn sync_line(
    sync: &SyncShown,
    last_dock: Option<DateTime<Utc>>,
    can_sync: bool,
    tz: Tz,
) -> SyncLine {
    match sync {
        SyncShown::Running(Stage::Sending { done, total }) => SyncLine::Sending {
            done: *done,
            total: *total,
        },
        SyncShown::Running(Stage::Receiving { entries }) => {
            SyncLine::Receiving { entries: *entries }
        }
        SyncShown::Running(Stage::Content { title, .. }) => SyncLine::Content {
            title: title.clone(),
        },
        SyncShown::Running(_) => SyncLine::Running,
        SyncShown::Synced(t) => SyncLine::SyncedAt(hm(*t, tz, "%H:%M")),
        SyncShown::Failed => SyncLine::Failed,
        SyncShown::NotEnrolled => SyncLine::NotEnrolled,
        SyncShown::Idle => match last_dock {
            Some(t) => SyncLine::LastSync(hm(t, tz, "%d/%m %H:%M")),
            None if can_sync => SyncLine::Never,
            None => SyncLine::None,
        },
    }
}

pub fn banner(d: &PolicyDecision) -> Banner {
    match &d.reason {
        Reason::Open => Banner::None,
        Reason::Curfew { until } => Banner::Curfew(hm(*until, d.tz, "%H:%M")),
        Reason::Lockdown(r) => Banner::Lockdown(r.clone()),
        Reason::DailyCapReached => Banner::DailyCap,
        Reason::Cooldown { until } => Banner::Cooldown(hm(*until, d.tz, "%H:%M")),
        Reason::Grace { days_offline } => Banner::Grace {
            days_offline: *days_offline,
        },
    }
}

pub fn tiles(d: &PolicyDecision) -> Tiles {
    Tiles {
        messages: d.allowed.contains(&Feature::Messages),
        learn: d.allowed.contains(&Feature::Learn),
        books: d.allowed.contains(&Feature::Books) || d.free_content,
        music: d.allowed.contains(&Feature::Music),
        record: d.allowed.contains(&Feature::Record),
    }
}

/// Whether the page on show must close because its feature just did
/// (curfew began). `reading_free`: a free-tagged book is open.
pub fn page_closes(page: &str, d: &PolicyDecision, reading_free: bool) -> bool {
    match page {
        "record" => !d.allowed.contains(&Feature::Record),
        "messages" => !d.allowed.contains(&Feature::Messages),
        "learn" => !d.allowed.contains(&Feature::Learn),
        "music" => !d.allowed.contains(&Feature::Music),
        "books" => !d.allowed.contains(&Feature::Books) && !(d.free_content && reading_free),
        "feature" => d.allowed.is_empty() && !d.free_content,
        _ => false,
    }
}

pub fn view(i: &Inputs<'_>) -> StatusView {
    let t = i.now.with_timezone(&i.tz);
    let (minutes_left, banner_v, tiles_v) = match i.decision {
        None => (None, Banner::None, Tiles::default()),
        Some(d) => (
            d.remaining_minutes
                .filter(|_| d.reason == Reason::Open || matches!(d.reason, Reason::Grace { .. })),
            banner(d),
            tiles(d),
        ),
    };
    StatusView {
        time: t.format("%H:%M").to_string(),
        date: (t.weekday().num_days_from_sunday(), t.day(), t.month()),
        battery: i.battery,
        docked: i.docked,
        sync: sync_line(i.sync, i.last_dock, i.can_sync, i.tz),
        minutes_left,
        banner: banner_v,
        tiles: tiles_v,
    }
}

/// Show the view: the one place the bar's and the banner's texts are chosen.
pub fn show(ui: &AppWindow, v: &StatusView, signed_in: bool) {
    let status = ui.global::<StatusAdapter>();
    let tr = ui.global::<Tr>();
    status.set_time(v.time.as_str().into());
    let (weekday, day, month) = (v.date.0 as i32, v.date.1 as i32, v.date.2 as i32);
    status.set_date(tr.invoke_short_date(weekday, day, month));
    status.set_date_full(tr.invoke_date(weekday, day, month));
    status.set_battery(
        v.battery
            .map(|b| format!("{b}%"))
            .unwrap_or_else(|| "–".into())
            .into(),
    );
    status.set_docked(v.docked);
    status.set_sync(match &v.sync {
        SyncLine::None => SharedString::default(),
        SyncLine::Running => tr.invoke_sync_running(),
        SyncLine::Sending { done, total } => tr.invoke_sync_sending(*done as i32, *total as i32),
        SyncLine::Receiving { entries } => tr.invoke_sync_receiving(*entries as i32),
        SyncLine::Content { title } => tr.invoke_sync_content(title.as_str().into()),
        SyncLine::SyncedAt(t) => tr.invoke_synced_at(t.as_str().into()),
        SyncLine::Failed => tr.invoke_sync_failed(),
        SyncLine::NotEnrolled => tr.invoke_sync_not_enrolled(),
        SyncLine::LastSync(t) => tr.invoke_last_sync(t.as_str().into()),
        SyncLine::Never => tr.invoke_never_synced(),
    });
    status.set_sync_news(matches!(
        v.sync,
        SyncLine::Running
            | SyncLine::Sending { .. }
            | SyncLine::Receiving { .. }
            | SyncLine::Content { .. }
            | SyncLine::SyncedAt(_)
            | SyncLine::Failed
            | SyncLine::NotEnrolled
    ));
    status.set_banner_kind(v.banner.kind().into());
    status.set_banner_text(match &v.banner {
        Banner::None => SharedString::default(),
        Banner::Curfew(until) => tr.invoke_curfew_until(until.as_str().into()),
        Banner::Lockdown(r) => tr.invoke_lockdown(r.as_str().into()),
        Banner::DailyCap => tr.invoke_cap_reached(),
        Banner::Cooldown(until) => tr.invoke_cooldown_until(until.as_str().into()),
        Banner::Grace { days_offline } => tr.invoke_grace(*days_offline as i32),
    });
    status.set_minutes_left(match v.minutes_left {
        Some(m) => tr.invoke_minutes_left(m as i32),
        None => SharedString::default(),
    });
    if signed_in {
        let home = ui.global::<HomeAdapter>();
        home.set_messages_open(v.tiles.messages);
        home.set_learn_open(v.tiles.learn);
        home.set_books_open(v.tiles.books);
        home.set_music_open(v.tiles.music);
        home.set_record_open(v.tiles.record);
        // A closed tile says when it opens, where the tablet knows.
        home.set_closed_note(match &v.banner {
            Banner::Curfew(t) | Banner::Cooldown(t) => tr.invoke_opens_at(t.as_str().into()),
            Banner::DailyCap => tr.invoke_opens_tomorrow(),
            Banner::Grace { .. } => tr.invoke_opens_at_dock(),
            Banner::None | Banner::Lockdown(_) => tr.invoke_closed_now(),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn decision(reason: Reason, allowed: &[Feature]) -> PolicyDecision {
        PolicyDecision {
            allowed: allowed.iter().copied().collect::<BTreeSet<_>>(),
            free_content: true,
            remaining_minutes: Some(52),
            messages_left_today: 3,
            reason,
            grace: false,
            next_change: None,
            tz: chrono_tz::America::Chicago,
            idle_lock_seconds: 120,
            max_volume_percent: 75,
        }
    }

    const TZ: Tz = chrono_tz::America::Chicago;

    #[test]
    fn the_bar_shows_local_time_date_and_minutes_left_when_open() {
        let d = decision(Reason::Open, &Feature::ALL);
        let v = view(&Inputs {
            now: at("2026-06-03T15:00:00Z"),
            tz: TZ,
            battery: Some(82),
            docked: false,
            sync: &SyncShown::Idle,
            last_dock: None,
            can_sync: false,
            decision: Some(&d),
        });
        assert_eq!((v.time.as_str(), v.date), ("10:00", (3, 3, 6)));
        assert_eq!(
            (v.minutes_left, v.banner, v.sync),
            (Some(52), Banner::None, SyncLine::None)
        );
        assert!(v.tiles.messages && v.tiles.record);
    }

    #[test]
    fn curfew_gives_its_banner_closes_the_tiles_but_keeps_free_books() {
        let d = decision(
            Reason::Curfew {
                until: at("2026-06-04T11:00:00Z"),
            },
            &[],
        );
        let v = view(&Inputs {
            now: at("2026-06-04T04:00:00Z"),
            tz: TZ,
            battery: None,
            docked: true,
            sync: &SyncShown::Idle,
            last_dock: Some(at("2026-06-03T20:15:00Z")),
            can_sync: true,
            decision: Some(&d),
        });
        assert_eq!(v.banner, Banner::Curfew("06:00".into()));
        assert_eq!(v.minutes_left, None, "no countdown while closed");
        assert_eq!(
            v.tiles,
            Tiles {
                books: true,
                ..Tiles::default()
            }
        );
        assert_eq!(v.sync, SyncLine::LastSync("03/06 15:15".into()));
        assert!(page_closes("messages", &d, false));
        assert!(!page_closes("books", &d, true), "a free book stays open");
        assert!(page_closes("books", &d, false));
        assert!(!page_closes("home", &d, false));
    }

    #[test]
    fn a_running_sync_says_where_it_is() {
        let stage = |s| sync_line(&SyncShown::Running(s), None, true, TZ);
        assert_eq!(
            stage(Stage::Sending { done: 2, total: 5 }),
            SyncLine::Sending { done: 2, total: 5 }
        );
        assert_eq!(stage(Stage::Connecting), SyncLine::Running);
        assert_eq!(sync_line(&SyncShown::Idle, None, true, TZ), SyncLine::Never);
        assert_eq!(
            sync_line(
                &SyncShown::Synced(at("2026-06-03T16:05:00Z")),
                None,
                true,
                TZ
            ),
            SyncLine::SyncedAt("11:05".into())
        );
        assert_eq!(
            sync_line(&SyncShown::Failed, None, true, TZ),
            SyncLine::Failed
        );
    }

    #[test]
    fn grace_keeps_the_countdown_and_names_the_days() {
        let d = decision(Reason::Grace { days_offline: 9 }, &Feature::ALL);
        assert_eq!(banner(&d), Banner::Grace { days_offline: 9 });
        assert_eq!(banner(&d).kind(), "grace");
    }
}
