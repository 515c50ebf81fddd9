//! The shell controller: owns the tablet and the session, answers the
//! pages' callbacks, and keeps the status bar, banner and tiles in step with
//! the policy engine.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

use crate::sync::client::{Stage, SyncSummary};
use std::rc::Rc;
use std::time::Duration;

use slint::{ComponentHandle, SharedString, Timer, TimerMode, Weak};

use super::library;
use super::lock as lock_screen;
use super::status::SyncShown;
use super::{
    Activity, AppState, AppWindow, FeatureAdapter, HomeAdapter, Icons, KeyboardAdapter,
    LockAdapter, MessagesAdapter, RecordAdapter, SettingsAdapter, StatusAdapter, Theme, Tr, keys,
    messages, record, services, settings, status,
};

use crate::domain::people::PersonalSettings;
use crate::domain::policy::Feature;
use crate::tablet::{Session, Tablet};

/// What the shell reads from the hardware for the status bar.
pub trait Hardware {
    fn battery_percent(&self) -> Option<u8>;
    fn docked(&self) -> bool;
}

/// Idle time before the session locks when no policy says otherwise.
const DEFAULT_IDLE: Duration = Duration::from_secs(120);
/// How long before the idle lock the person is warned; a touch cancels it.
pub const IDLE_WARNING: Duration = Duration::from_secs(20);

/// The idle lock and its warning. Any touch restarts both.
#[derive(Default)]
pub(super) struct Idle {
    lock: Timer,
    warn: Timer,
    /// Counts the warning's seconds down.
    tick: Timer,
}

impl Idle {
    fn restart(&self) {
        if self.lock.running() {
            self.lock.restart();
            self.warn.restart();
        }
        self.tick.stop();
    }
    fn stop(&self) {
        self.lock.stop();
        self.warn.stop();
        self.tick.stop();
    }
}

/// When the full integrity check starts, after the shell has (the first
/// seconds are the person's).
const CHECK_AFTER: Duration = Duration::from_secs(10);
/// How often a tablet that stays in the dock syncs again.
const RESYNC_EVERY: Duration = Duration::from_secs(15 * 60);
/// How often a docked tablet with nobody on it yet (not enrolled) tries.
const SET_UP_RETRY: Duration = Duration::from_secs(10);

pub(super) struct Core {
    /// Shared with the sync worker, which locks it only for store work.
    pub(super) tablet: Arc<Mutex<Tablet>>,
    hardware: Box<dyn Hardware>,
    /// Shared (weakly) with the lazy lists the pages show, which fetch
    /// for this person only while they are signed in.
    pub(super) session: Option<Rc<Session>>,
    /// The lock screen's controller.
    lock: lock_screen::LockController<lock_screen::TabletLogin>,
    pub(super) volume: u8,
    /// The dock switch, when the tablet has one; else external power.
    docked: Option<bool>,
    /// Where the dock listens, when this tablet is set up to sync.
    dock_addr: Option<String>,
    /// Events from a running sync worker.
    sync_rx: Option<mpsc::Receiver<SyncEvent>>,
    /// The answer of a login check running on its worker.
    login_rx: Option<mpsc::Receiver<LoginAnswer>>,
    /// What the status bar says about sync (translated at each refresh).
    sync_shown: SyncShown,
    /// Docked at the last refresh (a new dock starts a sync).
    was_docked: bool,
    /// Learn, Books, Music and the player.
    pub(super) lib: library::Library,
    /// Whether anyone is on the tablet's roster (a freshly flashed one
    /// has nobody until the dock enrols it).
    has_people: bool,
    /// The code staff enrol this tablet by.
    device_code: crate::domain::DeviceCode,
    /// When the last sync started (a docked tablet tries again).
    last_sync_start: Option<std::time::Instant>,
    /// A letter was queued: sync as soon as the tablet is docked.
    sync_soon: bool,
}

type LoginAnswer = lock_screen::Checked<Session, crate::tablet::EnrolmentTicket>;

/// From the sync worker to the UI thread (polled by the status timer, so
/// no Slint type crosses threads).
enum SyncEvent {
    Stage(Stage),
    Done(Result<SyncSummary, crate::sync::client::SyncError>),
}

pub struct Shell {
    ui: AppWindow,
    core: Rc<RefCell<Core>>,
    _clock: Timer,
    _meter: Timer,
    idle: Rc<Idle>,
    volume_timer: Timer,
}

impl Core {
    /// The tablet, locked. Bind results before matching on them, so the
    /// lock is released before an arm locks again.
    pub(super) fn t(&self) -> MutexGuard<'_, Tablet> {
        self.tablet.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Shell {
    pub fn new(tablet: Tablet, hardware: Box<dyn Hardware>) -> Result<Self, slint::PlatformError> {
        let ui = AppWindow::new()?;
        // The full integrity check runs beside the shell (the open checked
        // what cannot be rebuilt); the thread is left to finish on its own.
        drop(tablet.check_in_background(CHECK_AFTER));
        let device_code = crate::trust::device_code(&tablet.device_public_key());
        let tablet = Arc::new(Mutex::new(tablet));
        let core = Rc::new(RefCell::new(Core {
            lock: lock_screen::LockController::new(lock_screen::TabletLogin(tablet.clone())),
            tablet,
            hardware,
            session: None,
            volume: 60,
            docked: None,
            dock_addr: None,
            sync_rx: None,
            login_rx: None,
            sync_shown: SyncShown::Idle,
            was_docked: false,
            lib: library::Library::new(crate::player::Player::for_this_machine()),
            has_people: false,
            device_code,
            last_sync_start: None,
            sync_soon: false,
        }));
        let shell = Shell {
            ui,
            core,
            _clock: Timer::default(),
            _meter: Timer::default(),
            idle: Rc::new(Idle::default()),
            volume_timer: Timer::default(),
        };
        shell.wire();
        apply_settings(&shell.ui, &lock_screen_settings(&shell.core), "en");
        shell.to_lock_screen();
        let weak = shell.ui.as_weak();
        let core = shell.core.clone();
        shell
            ._clock
            .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                if let Some(ui) = weak.upgrade() {
                    refresh(&ui, &core);
                }
            });
        let weak = shell.ui.as_weak();
        let core = shell.core.clone();
        shell
            ._meter
            .start(TimerMode::Repeated, Duration::from_secs(60), move || {
                let Some(ui) = weak.upgrade() else { return };
                {
                    let mut c = core.borrow_mut();
                    let c = &mut *c;
                    // Reading a free-tagged book is never metered.
                    let metered = !c.lib.reading_free(&ui.global::<AppState>().get_page());
                    if let Some(s) = &c.session
                        && let Err(e) = c.t().people().record_activity(s, 60, metered)
                    {
                        tracing::error!("recording usage: {e}");
                    }
                }
                refresh(&ui, &core);
            });
        Ok(shell)
    }

    pub fn window(&self) -> &AppWindow {
        &self.ui
    }

    /// Update everything the policy and the clocks decide.
    pub fn refresh(&self) {
        refresh(&self.ui, &self.core);
    }

    /// Lock now: the session ends and the lock screen shows.
    pub fn lock(&self) {
        lock(&self.ui, &self.core, &self.idle);
    }

    /// The power button: lock and blank the screen. A touch wakes it.
    pub fn power_button(&self) {
        self.lock();
        self.ui.global::<AppState>().set_blank(true);
    }

    /// The volume keys: ten points a press, shown for two seconds.
    pub fn volume(&self, delta: i8) {
        let mut c = self.core.borrow_mut();
        let v = library::change_volume(&mut c, i32::from(delta));
        let status = self.ui.global::<StatusAdapter>();
        status.set_volume(i32::from(v));
        status.set_volume_shown(true);
        let weak = self.ui.as_weak();
        self.volume_timer
            .start(TimerMode::SingleShot, Duration::from_secs(2), move || {
                if let Some(ui) = weak.upgrade() {
                    ui.global::<StatusAdapter>().set_volume_shown(false);
                }
            });
    }

    /// The dock switch changed.
    /// Sync with the dock at `addr` whenever the tablet is docked, and
    /// offer "Sync now" while it is.
    pub fn set_dock_address(&self, addr: Option<String>) {
        self.core.borrow_mut().dock_addr = addr;
        refresh(&self.ui, &self.core);
    }

    /// Start a sync now, as the button does. Returns false when one is
    /// already running or no dock is set.
    pub fn sync_now(&self) -> bool {
        start_sync(&self.ui, &self.core)
    }

    /// The tablet the shell runs (shared with the sync worker).
    pub fn tablet(&self) -> Arc<Mutex<Tablet>> {
        self.core.borrow().tablet.clone()
    }

    /// Whether a sync is running.
    pub fn syncing(&self) -> bool {
        self.core.borrow().sync_rx.is_some()
    }

    pub fn set_docked(&self, docked: Option<bool>) {
        self.core.borrow_mut().docked = docked;
        refresh(&self.ui, &self.core);
    }

    /// Go to a page as a tap would: "home", "settings", or a tile name.
    pub fn open(&self, page: &str) {
        match page {
            "home" | "settings" => self.ui.global::<AppState>().set_page(page.into()),
            tile => open_page(&self.ui.as_weak(), &self.core, tile),
        }
    }

    /// A tap on one of the Music page's tabs ("albums", "artists",
    /// "tracks", "playlists") or, with `search`, a search typed there.
    pub fn music(&self, tab: &str, search: Option<&str>) {
        let g = self.ui.global::<crate::ui::MusicAdapter>();
        match search {
            Some(text) => {
                g.set_query(text.into());
                g.invoke_search(text.into());
            }
            None => g.invoke_show(tab.into()),
        }
    }

    /// How many rows the Music page's track list has (a paged list
    /// counts what it can fetch, not what it holds).
    pub fn music_rows(&self) -> usize {
        use slint::Model;
        self.ui
            .global::<crate::ui::MusicAdapter>()
            .get_tracks()
            .row_count()
    }

    /// Log a person in as the lock screen would (first login included).
    pub fn sign_in(&self, id: &str, secrets: &[&str]) {
        let weak = self.ui.as_weak();
        choose(&weak, &self.core, id);
        for s in secrets {
            submit(&weak, &self.core, s);
            self.settle();
        }
    }

    /// Wait for a login check on its worker and apply its answer, as the
    /// event loop would (tests and the screenshot tour run none).
    pub fn settle(&self) {
        checked(&self.ui, &self.core, &self.idle, true);
    }

    pub fn current_page(&self) -> String {
        self.ui.global::<AppState>().get_page().to_string()
    }

    pub fn current_volume(&self) -> u8 {
        self.core.borrow().volume
    }

    /// Play through this player instead (tests give a WAV or null sink).
    pub fn use_player(&self, player: crate::player::Player) {
        self.core.borrow_mut().lib.player.use_audio(player);
    }

    /// What the player is doing.
    pub fn player_status(&self) -> crate::player::Status {
        self.core.borrow().lib.player.status()
    }

    /// Show the window and run the event loop. Under systemd this also
    /// reports READY=1 and pings the watchdog from the UI thread, so a hung
    /// event loop gets the shell restarted.
    pub fn run(&self) -> Result<(), slint::PlatformError> {
        let watchdog = Timer::default();
        watchdog.start(TimerMode::Repeated, Duration::from_secs(10), || {
            let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
        });
        self.ui.show()?;
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
        slint::run_event_loop()
    }

    fn to_lock_screen(&self) {
        to_lock_screen(&self.ui, &self.core);
        refresh(&self.ui, &self.core);
    }

    fn wire(&self) {
        library::wire(&self.ui, &self.core);
        let ui = &self.ui;
        let lock_g = ui.global::<LockAdapter>();
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            lock_g.on_choose(move |id| choose(&weak, &core, id.as_str()));
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            lock_g.on_submit(move |digits| submit(&weak, &core, digits.as_str()));
        }
        {
            let (weak, core, idle) = (ui.as_weak(), self.core.clone(), self.idle.clone());
            lock_g.on_checked(move || {
                if let Some(ui) = weak.upgrade() {
                    checked(&ui, &core, &idle, false);
                }
            });
        }
        {
            // Lock-screen choices last until someone signs in.
            let (weak, core) = (ui.as_weak(), self.core.clone());
            lock_g.on_set_language(move |code| {
                if let Some(ui) = weak.upgrade() {
                    // Remembered for the next person at this tablet.
                    if let Err(e) = core.borrow().t().people().set_lock_language(&code) {
                        tracing::error!("remembering the lock screen's language: {e}");
                    }
                    let s = PersonalSettings {
                        language: Some(code.to_string()),
                        large_text: ui.global::<Theme>().get_large_text(),
                        ..Default::default()
                    };
                    apply_settings(&ui, &s, "en");
                }
            });
            let weak = ui.as_weak();
            lock_g.on_set_large_text(move |on| {
                if let Some(ui) = weak.upgrade() {
                    let s = PersonalSettings {
                        language: Some(ui.global::<LockAdapter>().get_language().to_string()),
                        large_text: on,
                        ..Default::default()
                    };
                    apply_settings(&ui, &s, "en");
                }
            });
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            lock_g.on_back(move || {
                if let Some(ui) = weak.upgrade() {
                    to_lock_screen(&ui, &core);
                }
            });
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<StatusAdapter>().on_sync_now(move || {
                if let Some(ui) = weak.upgrade() {
                    start_sync(&ui, &core);
                }
            });
        }
        {
            let (weak, core, idle) = (ui.as_weak(), self.core.clone(), self.idle.clone());
            ui.global::<StatusAdapter>().on_logout(move || {
                if let Some(ui) = weak.upgrade() {
                    lock(&ui, &core, &idle);
                }
            });
        }
        {
            let weak = ui.as_weak();
            ui.global::<StatusAdapter>().on_settings(move || {
                if let Some(ui) = weak.upgrade() {
                    ui.global::<AppState>().set_page("settings".into());
                }
            });
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<HomeAdapter>()
                .on_open(move |page| open_page(&weak, &core, page.as_str()));
        }
        let go_home = |weak: Weak<AppWindow>| {
            move || {
                if let Some(ui) = weak.upgrade() {
                    ui.global::<AppState>().set_page("home".into());
                }
            }
        };
        ui.global::<FeatureAdapter>().on_home(go_home(ui.as_weak()));
        ui.global::<MessagesAdapter>()
            .on_home(go_home(ui.as_weak()));
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>().on_select(move |id| {
                if let Some(ui) = weak.upgrade() {
                    fill_messages(&ui, &mut core.borrow_mut(), Some(id.to_string()));
                }
            });
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>().on_edited(move |text| {
                if let Some(ui) = weak.upgrade() {
                    letter_edited(&ui, &mut core.borrow_mut(), text.as_str());
                }
            });
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>().on_send(move |text| {
                if let Some(ui) = weak.upgrade() {
                    send_letter(&ui, &mut core.borrow_mut(), text.as_str());
                }
            });
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>().on_open_ask(move || {
                if let Some(ui) = weak.upgrade() {
                    let g = ui.global::<MessagesAdapter>();
                    g.set_asking(true);
                    fill_messages(&ui, &mut core.borrow_mut(), None);
                }
            });
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>()
                .on_ask(move |name, relationship, email| {
                    if let Some(ui) = weak.upgrade() {
                        ask_contact(&ui, &mut core.borrow_mut(), &name, &relationship, &email);
                    }
                });
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<MessagesAdapter>().on_remove(move |contact| {
                if let Some(ui) = weak.upgrade() {
                    let mut c = core.borrow_mut();
                    if let Some(v) = with_letters(&c, |m| m.remove(&contact)) {
                        if v.ask_notice == messages::AskNotice::RemoveQueued {
                            c.sync_soon = true;
                        }
                        messages::show(&ui, &v);
                    }
                }
            });
        }
        ui.global::<RecordAdapter>().on_home(go_home(ui.as_weak()));
        ui.global::<SettingsAdapter>()
            .on_home(go_home(ui.as_weak()));
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<SettingsAdapter>().on_set_language(move |code| {
                change_settings(&weak, &core, |s| s.language = Some(code.to_string()))
            });
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<SettingsAdapter>()
                .on_set_large_text(move |on| change_settings(&weak, &core, |s| s.large_text = on));
        }
        {
            let (weak, core) = (ui.as_weak(), self.core.clone());
            ui.global::<SettingsAdapter>()
                .on_set_high_contrast(move |on| {
                    change_settings(&weak, &core, |s| s.high_contrast = on)
                });
        }
        {
            let weak = ui.as_weak();
            ui.global::<KeyboardAdapter>().on_key(move |text| {
                if let Some(ui) = weak.upgrade() {
                    // A capital is for one letter; the field's page may
                    // turn it on again (a new sentence).
                    ui.global::<KeyboardAdapter>().set_shift(false);
                    keys::send_text(&ui, text.as_str());
                }
            });
            let weak = ui.as_weak();
            ui.global::<KeyboardAdapter>().on_backspace(move || {
                if let Some(ui) = weak.upgrade() {
                    keys::send_key(&ui, slint::platform::Key::Backspace);
                }
            });
            let weak = ui.as_weak();
            ui.global::<KeyboardAdapter>().on_enter(move || {
                if let Some(ui) = weak.upgrade() {
                    keys::send_key(&ui, slint::platform::Key::Return);
                }
            });
        }
        {
            let (weak, core, idle) = (ui.as_weak(), self.core.clone(), self.idle.clone());
            ui.global::<Activity>().on_touched(move || {
                if let Some(ui) = weak.upgrade() {
                    ui.global::<AppState>().set_blank(false);
                    ui.global::<AppState>().set_idle_warning(0);
                }
                if core.borrow().session.is_some() {
                    idle.restart();
                }
            });
        }
    }
}

fn to_lock_screen(ui: &AppWindow, core: &Rc<RefCell<Core>>) {
    let (people, v) = {
        let mut c = core.borrow_mut();
        let people = c.lock.people();
        c.has_people = !people.is_empty();
        (people, c.lock.reset())
    };
    lock_screen::show_people(ui, &people);
    lock_screen::show(ui, &v);
    ui.global::<LockAdapter>()
        .set_typed_id(SharedString::default());
    ui.global::<AppState>().set_page("lock".into());
}

fn choose(weak: &Weak<AppWindow>, core: &Rc<RefCell<Core>>, id: &str) {
    let Some(ui) = weak.upgrade() else { return };
    let v = core.borrow_mut().lock.choose(id);
    if let Some(v) = v {
        lock_screen::show(&ui, &v);
    }
}

/// Digits from the pad. A PIN or code is checked on a worker thread (its
/// key stretching takes tens of milliseconds): the screen says it is
/// checking, and the answer comes back through `login_rx`, announced by
/// the `checked` callback from the event loop.
fn submit(weak: &Weak<AppWindow>, core: &Rc<RefCell<Core>>, digits: &str) {
    let Some(ui) = weak.upgrade() else { return };
    let began = core.borrow_mut().lock.begin(digits);
    let check = match began {
        Ok(v) => return lock_screen::show(&ui, &v),
        Err(check) => check,
    };
    let v = core.borrow().lock.checking_view();
    lock_screen::show(&ui, &v);
    let svc = lock_screen::TabletLogin(core.borrow().tablet.clone());
    let (tx, rx) = mpsc::channel();
    core.borrow_mut().login_rx = Some(rx);
    let weak = weak.clone();
    let spawned = std::thread::Builder::new()
        .name("berth-login".into())
        .spawn(move || {
            let _ = tx.send(check.run(&svc));
            // No event loop (tests, screenshots): `Shell::settle` takes it.
            let _ = weak.upgrade_in_event_loop(|ui| ui.global::<LockAdapter>().invoke_checked());
        });
    if let Err(e) = spawned {
        tracing::error!("starting the login check: {e}");
        core.borrow_mut().login_rx = None;
        let v = core.borrow_mut().lock.reset();
        lock_screen::show(&ui, &v);
    }
}

/// Apply a finished login check, if one is in; `wait` blocks for it.
fn checked(ui: &AppWindow, core: &Rc<RefCell<Core>>, idle: &Rc<Idle>, wait: bool) {
    let Some(rx) = core.borrow_mut().login_rx.take() else {
        return;
    };
    let answer = if wait {
        rx.recv().ok()
    } else {
        match rx.try_recv() {
            Ok(a) => Some(a),
            Err(mpsc::TryRecvError::Empty) => {
                core.borrow_mut().login_rx = Some(rx);
                return;
            }
            Err(mpsc::TryRecvError::Disconnected) => None,
        }
    };
    let Some(answer) = answer else {
        tracing::error!("the login check ended without an answer");
        let v = core.borrow_mut().lock.reset();
        return lock_screen::show(ui, &v);
    };
    let outcome = core.borrow_mut().lock.finish(answer);
    match outcome {
        Ok(v) => lock_screen::show(ui, &v),
        Err(session) => start_session(ui, core, idle, session),
    }
}

/// The lock screen in the language last chosen on this tablet (the
/// facility's default on a new one), with the rest as a new person's.
fn lock_screen_settings(core: &Rc<RefCell<Core>>) -> PersonalSettings {
    let language = core
        .borrow()
        .t()
        .people()
        .lock_language()
        .map_err(|e| tracing::error!("reading the lock screen's language: {e}"))
        .unwrap_or_else(|_| "en".into());
    PersonalSettings {
        language: Some(language),
        ..Default::default()
    }
}

fn apply_settings(ui: &AppWindow, s: &PersonalSettings, fallback_language: &str) {
    settings::apply(ui, s, fallback_language);
}

fn start_session(ui: &AppWindow, core: &Rc<RefCell<Core>>, idle: &Rc<Idle>, s: Session) {
    {
        let mut c = core.borrow_mut();
        let chosen = settings::SettingsService::load(&settings::SessionSettings {
            tablet: &c.tablet,
            session: &s,
        })
        .map_err(|e| tracing::error!("reading settings: {e}"))
        .unwrap_or_default();
        apply_settings(ui, &chosen, s.language());
        let tr = ui.global::<Tr>();
        ui.global::<HomeAdapter>()
            .set_greeting(tr.invoke_hello(s.display_name().to_string().into()));
        ui.global::<StatusAdapter>()
            .set_person(s.display_name().to_string().into());
        let idle_for = c
            .t()
            .people()
            .decision_for(s.person())
            .map(|d| Duration::from_secs(u64::from(d.idle_lock_seconds)))
            .unwrap_or(DEFAULT_IDLE);
        c.session = Some(Rc::new(s));
        library::on_login(ui, &mut c);
        let (weak, core2, idle2) = (ui.as_weak(), core.clone(), idle.clone());
        idle.lock.start(TimerMode::SingleShot, idle_for, move || {
            if let Some(ui) = weak.upgrade() {
                lock(&ui, &core2, &idle2);
            }
        });
        // The warning comes 20 s before (or half way, for a short limit).
        let warn_after = idle_for
            .checked_sub(IDLE_WARNING)
            .filter(|d| *d >= IDLE_WARNING)
            .unwrap_or(idle_for / 2);
        let (weak, idle2) = (ui.as_weak(), idle.clone());
        idle.warn.start(TimerMode::SingleShot, warn_after, move || {
            let Some(ui) = weak.upgrade() else { return };
            let secs = (idle_for - warn_after).as_secs_f32().round() as i32;
            ui.global::<AppState>().set_idle_warning(secs);
            let weak = ui.as_weak();
            idle2
                .tick
                .start(TimerMode::Repeated, Duration::from_secs(1), move || {
                    if let Some(ui) = weak.upgrade() {
                        let a = ui.global::<AppState>();
                        if a.get_idle_warning() > 1 {
                            a.set_idle_warning(a.get_idle_warning() - 1);
                        }
                    }
                });
        });
    }
    ui.global::<AppState>().set_page("home".into());
    refresh(ui, core);
}

fn lock(ui: &AppWindow, core: &Rc<RefCell<Core>>, idle: &Rc<Idle>) {
    idle.stop();
    ui.global::<AppState>().set_idle_warning(0);
    {
        let mut c = core.borrow_mut();
        library::on_logout(ui, &mut c);
        if let Some(s) = c.session.take() {
            // Lists hold the session weakly, so this is its only owner.
            match Rc::try_unwrap(s) {
                Ok(s) => {
                    if let Err(e) = c.t().people().logout(s) {
                        tracing::error!("logout: {e}");
                    }
                }
                Err(_) => tracing::error!("logout: the session is still shared"),
            }
        }
    }
    ui.global::<StatusAdapter>()
        .set_person(SharedString::default());
    apply_settings(ui, &lock_screen_settings(core), "en");
    to_lock_screen(ui, core);
    refresh(ui, core);
}

fn change_settings(
    weak: &Weak<AppWindow>,
    core: &Rc<RefCell<Core>>,
    f: impl FnOnce(&mut PersonalSettings),
) {
    let Some(ui) = weak.upgrade() else { return };
    {
        let mut guard = core.borrow_mut();
        let c = &mut *guard;
        let Some(s) = &c.session else { return };
        let svc = settings::SessionSettings {
            tablet: &c.tablet,
            session: s,
        };
        let chosen = settings::change(&svc, f);
        apply_settings(&ui, &chosen, s.language());
        // The language last chosen on this tablet greets the next person.
        if let Some(l) = &chosen.language
            && let Err(e) = c.t().people().set_lock_language(l)
        {
            tracing::error!("remembering the lock screen's language: {e}");
        }
        let tr = ui.global::<Tr>();
        ui.global::<HomeAdapter>()
            .set_greeting(tr.invoke_hello(s.display_name().to_string().into()));
    }
    // Texts composed in Rust follow the new language at once.
    refresh(&ui, core);
}

fn feature_of(page: &str) -> Option<Feature> {
    match page {
        "messages" => Some(Feature::Messages),
        "learn" => Some(Feature::Learn),
        "books" => Some(Feature::Books),
        "music" => Some(Feature::Music),
        "record" => Some(Feature::Record),
        _ => None,
    }
}

fn open_page(weak: &Weak<AppWindow>, core: &Rc<RefCell<Core>>, page: &str) {
    // The image's watchdog test hangs the event loop here (ui:open-music).
    crate::failpoint(&format!("ui:open-{page}"));
    let Some(ui) = weak.upgrade() else { return };
    let Some(feature) = feature_of(page) else {
        return;
    };
    {
        let mut c = core.borrow_mut();
        let c = &mut *c;
        let Some(s) = &c.session else { return };
        // The tile may have closed since it was drawn.
        let open = c
            .t()
            .people()
            .decision_for(s.person())
            .is_ok_and(|d| d.allowed.contains(&feature));
        if !open {
            drop(ui);
            return;
        }
        if feature == Feature::Record {
            record::show(
                &ui,
                &record::lines(&services::SessionRecord::new(&c.tablet, s)),
            );
            ui.global::<AppState>().set_page("record".into());
        } else if feature == Feature::Learn {
            library::open_learn(&ui, c);
        } else if feature == Feature::Books {
            library::open_books(&ui, c);
        } else if feature == Feature::Music {
            library::open_music(&ui, c, library::MusicMode::Albums);
        } else if feature == Feature::Messages {
            // With no approved contact the page says what to do.
            fill_messages(&ui, c, None);
            ui.global::<AppState>().set_page("messages".into());
        } else {
            let g = ui.global::<FeatureAdapter>();
            g.set_title(ui.global::<Tr>().invoke_feature(page.into()));
            let icons = ui.global::<Icons>();
            g.set_icon(match feature {
                Feature::Messages => icons.get_messages(),
                Feature::Learn => icons.get_learn(),
                Feature::Books => icons.get_books(),
                _ => icons.get_music(),
            });
            ui.global::<AppState>().set_page("feature".into());
        }
    }
    refresh(&ui, core);
}

/// Run `f` on the Messages controller of the person signed in.
fn with_letters<R>(
    c: &Core,
    f: impl FnOnce(&messages::MessagesController<services::SessionLetters<'_>>) -> R,
) -> Option<R> {
    let session = c.session.as_ref()?;
    let ctl = messages::MessagesController::new(services::SessionLetters::new(&c.tablet, session));
    Some(f(&ctl))
}

/// Fill the Messages page: contacts, the draft for the chosen one, the
/// counter and quota, and every letter with its state.
fn fill_messages(ui: &AppWindow, c: &mut Core, select: Option<String>) {
    let current =
        select.unwrap_or_else(|| ui.global::<MessagesAdapter>().get_selected().to_string());
    if let Some(v) = with_letters(c, |m| m.open(Some(&current))) {
        messages::show(ui, &v);
    }
}

fn letter_edited(ui: &AppWindow, c: &mut Core, text: &str) {
    let contact = ui.global::<MessagesAdapter>().get_selected().to_string();
    if let Some(n) = with_letters(c, |m| m.edited(&contact, text)) {
        ui.global::<MessagesAdapter>()
            .set_notice(SharedString::default());
        messages::show_counter(ui, n);
    }
    messages::capitalize_next(ui, text);
}

fn send_letter(ui: &AppWindow, c: &mut Core, text: &str) {
    let contact = ui.global::<MessagesAdapter>().get_selected().to_string();
    if let Some(v) = with_letters(c, |m| m.send(&contact, text)) {
        // Sent: the keyboard goes down so the notice and the thread show.
        if v.notice == messages::Notice::Queued {
            ui.global::<KeyboardAdapter>().set_hidden(true);
            // In the dock, it leaves now rather than at the next sync.
            c.sync_soon = true;
        }
        messages::show(ui, &v);
    }
}

fn ask_contact(ui: &AppWindow, c: &mut Core, name: &str, relationship: &str, email: &str) {
    let current = ui.global::<MessagesAdapter>().get_selected().to_string();
    if let Some(v) = with_letters(c, |m| m.ask(&current, name, relationship, email)) {
        if v.ask_notice == messages::AskNotice::Queued {
            ui.global::<KeyboardAdapter>().set_hidden(true);
            c.sync_soon = true;
        }
        messages::show(ui, &v);
    }
}

/// Start the sync worker unless one runs or no dock is set. The worker
/// locks the tablet only for store work, and reports through a channel the
/// status timer reads.
fn start_sync(ui: &AppWindow, core: &Rc<RefCell<Core>>) -> bool {
    let mut c = core.borrow_mut();
    let Some(addr) = c.dock_addr.clone() else {
        return false;
    };
    if c.sync_rx.is_some() {
        return false;
    }
    let (tx, rx) = mpsc::channel();
    let tablet = c.tablet.clone();
    std::thread::spawn(move || {
        let progress_tx = tx.clone();
        let result = crate::sync::client::sync(&tablet, &addr, &mut |stage| {
            let _ = progress_tx.send(SyncEvent::Stage(stage));
        });
        if let Err(e) = &result {
            tracing::warn!("sync with {addr}: {e}");
        }
        let _ = tx.send(SyncEvent::Done(result));
    });
    c.sync_rx = Some(rx);
    c.sync_soon = false;
    c.last_sync_start = Some(std::time::Instant::now());
    c.sync_shown = SyncShown::Running(Stage::Connecting);
    ui.global::<StatusAdapter>().set_syncing(true);
    ui.global::<StatusAdapter>()
        .set_sync(ui.global::<Tr>().invoke_sync_running());
    true
}

/// Read the sync worker's events; when it is done, refill what the person
/// sees. Returns true when a sync finished.
fn poll_sync(c: &mut Core) -> bool {
    let Some(rx) = &c.sync_rx else { return false };
    let mut finished = false;
    while let Ok(ev) = rx.try_recv() {
        c.sync_shown = match ev {
            SyncEvent::Stage(stage) => SyncShown::Running(stage),
            SyncEvent::Done(Ok(_)) => {
                finished = true;
                let now = c.t().trusted_now();
                match now {
                    Ok(t) => SyncShown::Synced(t),
                    // The last dock time still shows.
                    Err(e) => {
                        tracing::error!("reading the trusted clock: {e}");
                        SyncShown::Idle
                    }
                }
            }
            SyncEvent::Done(Err(crate::sync::client::SyncError::NotEnrolled { .. })) => {
                finished = true;
                SyncShown::NotEnrolled
            }
            SyncEvent::Done(Err(_)) => {
                finished = true;
                SyncShown::Failed
            }
        };
    }
    if finished {
        c.sync_rx = None;
    }
    finished
}

fn refresh(ui: &AppWindow, core: &Rc<RefCell<Core>>) {
    let docked_now = {
        let c = core.borrow();
        c.docked.unwrap_or_else(|| c.hardware.docked())
    };
    let start = {
        let mut c = core.borrow_mut();
        let edge = docked_now && !c.was_docked;
        c.was_docked = docked_now;
        // A tablet that stays in the dock syncs again now and then; one
        // that is not set up yet tries often, so it comes up soon after
        // staff enrol it.
        let again = if c.has_people {
            RESYNC_EVERY
        } else {
            SET_UP_RETRY
        };
        // (The first sync is the dock's edge; these are the ones after.)
        let due = c.last_sync_start.is_some_and(|t| t.elapsed() >= again);
        (edge || (docked_now && (due || c.sync_soon))) && c.dock_addr.is_some()
    };
    if start {
        start_sync(ui, core);
    }
    let finished = poll_sync(&mut core.borrow_mut());
    if finished && ui.global::<AppState>().get_page() == "messages" {
        fill_messages(ui, &mut core.borrow_mut(), None);
    }
    // The first roster arrived: the names replace the set-up panel.
    let page = ui.global::<AppState>().get_page();
    if finished && page == "lock" && !core.borrow().has_people {
        to_lock_screen(ui, core);
    }
    {
        let c = core.borrow();
        let set_up = lock_screen::SetUp::from(c.has_people, docked_now, &c.sync_shown);
        lock_screen::show_set_up(ui, set_up, &c.device_code);
    }
    let mut c = core.borrow_mut();
    let c = &mut *c;
    library::update_player(ui, c);
    library::apply_volume(c);
    let (tz, now, last_dock, decision) = {
        let mut t = c.t();
        let tz = t.people().time_zone();
        let now = t.trusted_now();
        let last_dock = t.sync().last_dock();
        let decision = c
            .session
            .as_ref()
            .map(|s| t.people().decision_for(s.person()));
        (tz, now, last_dock, decision)
    };
    let now = match now {
        Ok(n) => n,
        Err(e) => {
            tracing::error!("reading the trusted clock: {e}");
            return;
        }
    };
    let decision = match decision.transpose() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!("policy decision: {e}");
            return;
        }
    };
    if decision
        .as_ref()
        .is_some_and(|d| !d.allowed.contains(&Feature::Music))
    {
        library::pause_music(c);
    }
    let last_dock = last_dock
        .map_err(|e| tracing::error!("last dock: {e}"))
        .ok()
        .flatten();
    let v = status::view(&status::Inputs {
        now,
        tz,
        battery: c.hardware.battery_percent(),
        docked: docked_now,
        sync: &c.sync_shown,
        last_dock,
        can_sync: c.dock_addr.is_some(),
        decision: decision.as_ref(),
    });
    let bar = ui.global::<StatusAdapter>();
    bar.set_can_sync(c.dock_addr.is_some());
    bar.set_syncing(c.sync_rx.is_some());
    bar.set_volume(c.volume as i32);
    status::show(ui, &v, decision.is_some());
    // A page whose feature just closed (curfew began) returns home.
    if let Some(d) = &decision {
        let app = ui.global::<AppState>();
        let page = app.get_page();
        if status::page_closes(page.as_str(), d, c.lib.reading_free("books")) {
            app.set_page("home".into());
        }
    }
}

impl Hardware for crate::device::power::PowerSupply {
    fn battery_percent(&self) -> Option<u8> {
        crate::device::power::PowerSupply::battery_percent(self)
    }
    fn docked(&self) -> bool {
        self.on_external_power()
    }
}
