//! The layout test: every page, in every state that matters, checked by
//! geometry. For every element with an accessible label it asserts that
//!
//! - it lies fully inside the window, or inside the scrolling list that
//!   holds it (an element scrolled out of its list is reached by scrolling);
//! - no touch target covers it, and it covers no touch target (nested
//!   elements, a text inside its button, are not "covering");
//! - a touch target (a button, a key, a tile, a checkbox) is at least
//!   44×44 px;
//! - a text fits its box: every text is a `Label` (ui/widgets/label.slint),
//!   which reports "text-clipped" through its accessible-id when its text
//!   is wider or taller than its box. An elided text ("…") is allowed only
//!   in the long-names world, where 64-character names cannot fit a row.
//!
//! The states: English and Spanish, normal and large text, normal and high
//! contrast, docked (with "Sync now"), syncing, and neither, the curfew
//! banner shown or not, the keyboard up or not, and a second world whose
//! people, contacts and titles are 64 characters long, with accents.
//!
//! It runs on Slint's testing backend, which measures text with the
//! fonts the window embeds (assets/fonts), as the software renderer draws it.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use berth::demo::{self, DemoPaths};
use berth::device::clock::ManualClock;
use berth::install::DataDir;
use berth::tablet::Tablet;
use berth::ui::{
    AppState, AppWindow, BooksAdapter, HomeAdapter, KeyboardAdapter, LearnAdapter, LockAdapter,
    MessagesAdapter, MusicAdapter, PlayerAdapter, RecordAdapter, SettingsAdapter, Shell,
    StatusAdapter, Theme, Tr,
};
use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use slint::{ComponentHandle, Model};

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets");
/// Apple's and Google's smallest touch target.
const MIN_TARGET: f32 = 44.0;

#[derive(Clone, Debug)]
struct Rect {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Rect {
    fn of(e: &ElementHandle) -> Rect {
        let p = e.absolute_position();
        let s = e.size();
        Rect {
            x: p.x,
            y: p.y,
            w: s.width,
            h: s.height,
        }
    }
    fn right(&self) -> f32 {
        self.x + self.w
    }
    fn bottom(&self) -> f32 {
        self.y + self.h
    }
    /// Half a pixel of slack for rounding.
    fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x - 0.5
            && o.y >= self.y - 0.5
            && o.right() <= self.right() + 0.5
            && o.bottom() <= self.bottom() + 0.5
    }
    /// Overlap by more than a pixel each way (touching borders are fine).
    fn overlaps(&self, o: &Rect) -> bool {
        self.x.max(o.x) + 1.0 < self.right().min(o.right())
            && self.y.max(o.y) + 1.0 < self.bottom().min(o.bottom())
    }
    fn empty(&self) -> bool {
        self.w < 1.0 || self.h < 1.0
    }
}

#[derive(Clone, Debug)]
struct Item {
    label: String,
    rect: Rect,
    target: bool,
    text_state: String,
    /// The scrolling list that holds it, if any (index into `lists`).
    list: Option<usize>,
}

fn is_target(e: &ElementHandle) -> bool {
    matches!(
        e.accessible_role(),
        Some(
            AccessibleRole::Button
                | AccessibleRole::Checkbox
                | AccessibleRole::Switch
                | AccessibleRole::Slider
                | AccessibleRole::Tab
                | AccessibleRole::ListItem
                | AccessibleRole::TextInput
                | AccessibleRole::Combobox
                | AccessibleRole::Spinbox
        )
    )
}

/// A key for an element: its place, size and label.
fn key(e: &ElementHandle) -> (i64, i64, i64, i64, String) {
    let r = Rect::of(e);
    (
        (r.x * 4.0) as i64,
        (r.y * 4.0) as i64,
        (r.w * 4.0) as i64,
        (r.h * 4.0) as i64,
        e.accessible_label().unwrap_or_default().to_string(),
    )
}

fn collect(ui: &AppWindow) -> (Vec<Item>, Vec<Rect>) {
    let root = ui.root_element();
    // Scrolling lists, and what each one holds.
    let mut lists = Vec::new();
    let mut held = std::collections::HashMap::new();
    let _ = root.visit_descendants(|e| {
        if e.type_name().as_deref() == Some("Flickable") {
            let n = lists.len();
            lists.push(Rect::of(&e));
            let _ = e.visit_descendants(|d| {
                held.insert(key(&d), n);
                ControlFlow::<()>::Continue(())
            });
        }
        ControlFlow::<()>::Continue(())
    });
    let mut items = Vec::new();
    let _ = root.visit_descendants(|e| {
        let label = e.accessible_label().unwrap_or_default().to_string();
        if label.trim().is_empty() || e.computed_opacity() < 0.01 {
            return ControlFlow::<()>::Continue(());
        }
        let rect = Rect::of(&e);
        if rect.empty() {
            return ControlFlow::Continue(());
        }
        items.push(Item {
            target: is_target(&e),
            text_state: e.accessible_id().unwrap_or_default().to_string(),
            list: held.get(&key(&e)).copied(),
            label,
            rect,
        });
        ControlFlow::Continue(())
    });
    (items, lists)
}

/// Whether every element whose type is the built-in Text was replaced by a
/// Label (so its fit is measured).
fn bare_texts(ui: &AppWindow) -> Vec<String> {
    let mut found = Vec::new();
    let root = ui.root_element();
    let _ = root.visit_descendants(|e| {
        if e.type_name().as_deref() == Some("Text") {
            found.push(e.accessible_label().unwrap_or_default().to_string());
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// The problems of one state, as sentences.
fn problems(ui: &AppWindow, allow_elided: bool) -> Vec<String> {
    let window = Rect {
        x: 0.0,
        y: 0.0,
        w: ui.window().size().width as f32,
        h: ui.window().size().height as f32,
    };
    let (items, lists) = collect(ui);
    let mut out = Vec::new();
    let shown = |i: &Item| -> Option<Rect> {
        // The part of the element that can be seen.
        match i.list {
            None => Some(i.rect.clone()),
            Some(n) => {
                let l = &lists[n];
                if !l.overlaps(&i.rect) {
                    return None; // scrolled away
                }
                Some(i.rect.clone())
            }
        }
    };
    for (n, i) in items.iter().enumerate() {
        let Some(r) = shown(i) else { continue };
        let inside = match i.list {
            None => window.contains(&r),
            // At a list's edge an element may be half scrolled in, but the
            // list itself must be on screen.
            Some(l) => window.contains(&lists[l]),
        };
        if !inside {
            out.push(format!(
                "{:?} at {:.0},{:.0} {:.0}×{:.0} is not fully on screen",
                i.label, r.x, r.y, r.w, r.h
            ));
        }
        if i.target && (r.w < MIN_TARGET - 0.5 || r.h < MIN_TARGET - 0.5) {
            out.push(format!(
                "touch target {:?} is {:.0}×{:.0}, smaller than 44×44",
                i.label, r.w, r.h
            ));
        }
        match i.text_state.as_str() {
            "text-clipped" => out.push(format!("text {:?} does not fit its box", i.label)),
            "text-elided" if !allow_elided => out.push(format!("text {:?} is cut with …", i.label)),
            _ => {}
        }
        // Covering: a later touch target over this element, or this
        // element over an earlier touch target, unless one holds the other.
        for (m, o) in items.iter().enumerate() {
            if m == n || !o.target || shown(o).is_none() {
                continue;
            }
            if !r.overlaps(&o.rect) {
                continue;
            }
            // Inside a target drawn before it: a child (its text, its icon).
            if m < n && o.rect.contains(&r) {
                continue;
            }
            // A target inside this element, drawn after it: a child of a
            // card or row.
            if m > n && r.contains(&o.rect) {
                continue;
            }
            // Two items in different lists, or a list item and something
            // the list clips, are only a problem when both are visible
            // there; list items clipped at the edge are allowed.
            if i.list.is_some() != o.list.is_some() {
                let (inner, outer) = if i.list.is_some() { (i, o) } else { (o, i) };
                let l = &lists[inner.list.unwrap_or(0)];
                if !l.overlaps(&outer.rect) {
                    continue;
                }
            }
            if m > n {
                out.push(format!(
                    "{:?} is covered by touch target {:?}",
                    i.label, o.label
                ));
            } else if i.target {
                out.push(format!(
                    "touch targets {:?} and {:?} overlap",
                    o.label, i.label
                ));
            } else {
                out.push(format!(
                    "{:?} is drawn over touch target {:?}",
                    i.label, o.label
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

struct World {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    shell: Shell,
}

/// 64 characters, with accents.
fn long(base: &str) -> String {
    let mut s = format!("{base} Ñandú Ángeles de la Peña Íñiguez Ölmez-Ürgüplü Çağdaş ");
    while s.chars().count() < 64 {
        s.push('é');
    }
    s.chars().take(64).collect()
}

/// The demo assets, with every name and title made 64 characters long.
fn long_assets(to: &Path) {
    let copy = |from: &Path, to: &Path| {
        let out = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(out.success());
    };
    copy(&Path::new(ASSETS).join("demo"), to);
    copy(&Path::new(ASSETS).join("examples"), to);
    let edit = |file: &Path, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    edit(&to.join("demo/course/course.json"), &|v| {
        v["title"] = serde_json::json!({"en": long("Reading"), "es": long("Lectura")});
        v["units"][0]["title"] = serde_json::json!({"en": long("Sounds"), "es": long("Sonidos")});
    });
    edit(&to.join("demo/music/album.json"), &|v| {
        v["title"] = long("Album").into();
        v["artist"] = long("Artist").into();
        for t in v["tracks"].as_array_mut().unwrap() {
            t["title"] = long("Track").into();
        }
    });
    for file in ["examples/roster.toml", "examples/contacts.toml"] {
        let path = to.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text
            .lines()
            .map(|l| match l.strip_prefix("name = ") {
                Some(n) => format!("name = \"{}\"", long(n.trim_matches('"'))),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, text).unwrap();
    }
}

fn world(long_names: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let assets = if long_names {
        let a = dir.path().join("assets");
        std::fs::create_dir_all(&a).unwrap();
        long_assets(&a);
        a.join("demo")
    } else {
        Path::new(ASSETS).join("demo")
    };
    let now = berth::ui::tour::screenshot_time();
    let clock = Arc::new(ManualClock::new(now));
    let work = dir.path().join("work");
    demo::run_at(
        &work,
        &assets,
        &mut std::io::sink(),
        now,
        Box::new(clock.clone()),
    )
    .unwrap();
    let paths = DemoPaths::new(&work);
    let (tablet, _) = Tablet::open(
        DataDir::new(&paths.tablet),
        demo::tablet_options(&paths),
        Box::new(clock.clone()),
    )
    .unwrap();
    let shell = Shell::new(tablet, Box::new(berth::ui::headless::FixedHardware)).unwrap();
    shell.window().show().unwrap();
    shell.use_player(berth::player::Player::new(Box::new(
        berth::player::NullSink::new(true),
    )));
    World {
        _dir: dir,
        clock,
        shell,
    }
}

/// A freshly flashed tablet (the facility root and nobody on it), docked
/// at a dock that cannot be reached: the set-up panel with its longest
/// status.
fn fresh_world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let now = berth::ui::tour::screenshot_time();
    let clock = Arc::new(ManualClock::new(now));
    let work = dir.path().join("work");
    demo::run_at(
        &work,
        &Path::new(ASSETS).join("demo"),
        &mut std::io::sink(),
        now,
        Box::new(clock.clone()),
    )
    .unwrap();
    let paths = DemoPaths::new(&work);
    let (tablet, _) = Tablet::open(
        DataDir::new(dir.path().join("fresh")),
        berth::tablet::TabletOptions {
            trust_file: Some(berth::facility::Facility::root_path(&paths.facility)),
            ..Default::default()
        },
        Box::new(clock.clone()),
    )
    .unwrap();
    let shell = Shell::new(tablet, Box::new(berth::ui::headless::FixedHardware)).unwrap();
    shell.window().show().unwrap();
    // Nothing listens on port 1: the sync fails at once.
    shell.set_dock_address(Some("127.0.0.1:1".into()));
    shell.set_docked(Some(true));
    for _ in 0..200 {
        shell.refresh();
        if !shell.syncing() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!shell.syncing());
    World {
        _dir: dir,
        clock,
        shell,
    }
}

/// The status bar's and banner's variants, set as the shell would.
#[derive(Clone, Copy, Debug)]
enum Dock {
    Away,
    Docked,
    Syncing,
    Failed,
}

struct Checker {
    failures: Vec<String>,
    states: usize,
    /// Where the PIN pad's "1" (top) and "0" (bottom) are, by variant, on
    /// each lock step and with a refusal shown: the pad must not move or
    /// change size between them.
    pad: std::collections::BTreeMap<String, Vec<(String, (f32, f32))>>,
    /// Where Home is, by variant, on every page that has it: the same
    /// place everywhere.
    home: std::collections::BTreeMap<String, Vec<(String, (f32, f32))>>,
    /// Where each settings choice is, by language, text size and
    /// contrast: a notice or the dock must not move them.
    settings: std::collections::BTreeMap<String, Vec<(String, Vec<(f32, f32)>)>>,
}

impl Checker {
    /// Check the page as it is now, in every combination of the variants.
    fn check(&mut self, w: &World, state: &str, allow_elided: bool) {
        let ui = w.shell.window();
        let theme = ui.global::<Theme>();
        let status = ui.global::<StatusAdapter>();
        let language = ui.global::<LockAdapter>().get_language().to_string();
        let (large0, contrast0) = (theme.get_large_text(), theme.get_high_contrast());
        let bare = bare_texts(ui);
        if !bare.is_empty() {
            self.failures
                .push(format!("{state}: texts that are not a Label: {bare:?}"));
        }
        let tr = ui.global::<Tr>();
        for lang in ["en", "es"] {
            berth::ui::set_language(lang);
            // The texts Rust composes, in this language.
            w.shell.refresh();
            for large in [false, true] {
                theme.set_large_text(large);
                for contrast in [false, true] {
                    theme.set_high_contrast(contrast);
                    for dock in [Dock::Away, Dock::Docked, Dock::Syncing, Dock::Failed] {
                        status.set_docked(!matches!(dock, Dock::Away));
                        status.set_can_sync(!matches!(dock, Dock::Away));
                        status.set_syncing(matches!(dock, Dock::Syncing));
                        status.set_sync_news(matches!(dock, Dock::Syncing | Dock::Failed));
                        status.set_sync(match dock {
                            Dock::Away => "".into(),
                            Dock::Docked => tr.invoke_last_sync("03/06 09:12".into()),
                            Dock::Syncing => tr.invoke_sync_sending(3, 10),
                            Dock::Failed => tr.invoke_sync_failed(),
                        });
                        for banner in [false, true] {
                            if banner {
                                status.set_banner_kind("grace".into());
                                status.set_banner_text(tr.invoke_grace(9));
                            } else {
                                status.set_banner_kind("".into());
                                status.set_banner_text("".into());
                            }
                            // What the event loop does between frames: change
                            // handlers (the reader fits its page) and timers.
                            slint::platform::update_timers_and_animations();
                            self.states += 1;
                            // BERTH_LAYOUT_DUMP="messages [en Away]" prints
                            // what that state shows.
                            let variant = format!(
                                "{state} [{lang}{}{} {dock:?}{}]",
                                if large { " large" } else { "" },
                                if contrast { " contrast" } else { "" },
                                if banner { " banner" } else { "" },
                            );
                            if std::env::var("BERTH_LAYOUT_DUMP").is_ok_and(|d| d == variant) {
                                for i in collect(ui).0 {
                                    eprintln!(
                                        "{:?} {:?} {:?} {}",
                                        i.rect, i.label, i.text_state, i.target
                                    );
                                }
                            }
                            let home_label = if lang == "es" { "Inicio" } else { "Home" };
                            if let Some(h) = ElementHandle::find_by_accessible_label(ui, home_label)
                                .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
                            {
                                let p = h.absolute_position();
                                self.home
                                    .entry(variant[state.len()..].to_string())
                                    .or_default()
                                    .push((state.to_string(), (p.x, p.y)));
                            }
                            if state.starts_with("settings") {
                                let key = format!(
                                    "{lang}{}{}",
                                    if large { " large" } else { "" },
                                    if contrast { " contrast" } else { "" }
                                );
                                let labels = if lang == "es" {
                                    ["Español", "Texto grande", "Alto contraste"]
                                } else {
                                    ["Español", "Large text", "High contrast"]
                                };
                                let spots: Vec<(f32, f32)> = labels
                                    .iter()
                                    .filter_map(|l| {
                                        ElementHandle::find_by_accessible_label(ui, l).find(|e| {
                                            e.accessible_role() == Some(AccessibleRole::Button)
                                        })
                                    })
                                    .map(|e| (e.absolute_position().x, e.absolute_position().y))
                                    .collect();
                                self.settings
                                    .entry(format!("{key}{}", &state["settings".len()..]))
                                    .or_default()
                                    .push((variant.clone(), spots));
                            }
                            if state.starts_with("lock, enrolment code")
                                || state.starts_with("lock, new PIN")
                            {
                                let key =
                                    |l: &str| ElementHandle::find_by_accessible_label(ui, l).next();
                                if let (Some(one), Some(zero)) = (key("1"), key("0")) {
                                    let key = variant[state.len()..].to_string();
                                    let bottom = zero.absolute_position().y + zero.size().height;
                                    self.pad.entry(key).or_default().push((
                                        state.to_string(),
                                        (one.absolute_position().y, bottom),
                                    ));
                                }
                            }
                            for p in problems(ui, allow_elided) {
                                self.failures.push(format!("{variant}: {p}"));
                            }
                        }
                    }
                }
            }
        }
        // Back as it was, so the walk goes on in the person's settings.
        berth::ui::set_language(&language);
        theme.set_large_text(large0);
        theme.set_high_contrast(contrast0);
        w.shell.refresh();
    }
}

fn tap(ui: &AppWindow, label: &str) {
    ElementHandle::find_by_accessible_label(ui, label)
        .next()
        .unwrap_or_else(|| panic!("no element labelled {label:?}"))
        .invoke_accessible_default_action();
}

/// Put the focus in the page's text field, as a finger would, so the
/// on-screen keyboard comes up.
fn focus(ui: &AppWindow) {
    let e = ui
        .root_element()
        .query_descendants()
        .match_accessible_role(AccessibleRole::TextInput)
        .find_first()
        .expect("a text field on this page");
    e.mock_single_click(slint::platform::PointerEventButton::Left);
}

fn walk(w: &World, c: &mut Checker, long_names: bool) {
    let ui = w.shell.window();
    let shell = &w.shell;
    let lock = ui.global::<LockAdapter>();
    let check = |c: &mut Checker, name: &str| {
        let name = if long_names {
            format!("{name} (long names)")
        } else {
            name.to_string()
        };
        c.check(w, &name, long_names)
    };
    check(c, "lock");
    lock.set_step("type-id".into());
    focus(ui);
    check(c, "lock, typing an ID");
    lock.invoke_back();
    lock.invoke_choose("A12345".into());
    check(c, "lock, enrolment code");
    // A refusal below the pad must not move the keys: a second try lands
    // where the first did.
    lock.invoke_submit("000000".into());
    shell.settle();
    assert_ne!(lock.get_message(), "", "the wrong code is refused");
    check(c, "lock, enrolment code, refused");
    lock.invoke_submit("731904".into());
    shell.settle();
    check(c, "lock, new PIN");
    lock.invoke_submit("2468".into());
    shell.settle();
    lock.invoke_submit("2468".into());
    shell.settle();
    assert_eq!(shell.current_page(), "home");
    check(c, "home");
    ui.global::<StatusAdapter>().invoke_settings();
    check(c, "settings");
    ui.global::<SettingsAdapter>().invoke_home();
    ui.global::<HomeAdapter>().invoke_open("record".into());
    check(c, "my record");
    shell.open("home");
    ui.global::<HomeAdapter>().invoke_open("messages".into());
    check(c, "messages");
    let m = ui.global::<MessagesAdapter>();
    m.set_text("Querida Ana: ¿cómo están los niños? Aquí todo bien.".into());
    m.invoke_send(m.get_text());
    check(c, "messages, a letter sent");
    focus(ui);
    check(c, "messages, keyboard up");
    // Asking for a new contact: a refusal, then a queued request.
    ui.global::<KeyboardAdapter>().set_hidden(true);
    m.invoke_open_ask();
    check(c, "messages, new contact");
    m.invoke_ask(
        "Luis Pérez".into(),
        "primo".into(),
        "luis.example.org".into(),
    );
    assert_ne!(m.get_ask_notice(), "", "a bad address is refused");
    check(c, "messages, new contact, refused");
    m.invoke_ask(
        "Luis Pérez".into(),
        "primo".into(),
        "luis@example.org".into(),
    );
    assert!(m.get_ask_notice_good(), "the request is queued");
    check(c, "messages, new contact, asked");
    focus(ui);
    check(c, "messages, new contact, keyboard up");
    ui.global::<KeyboardAdapter>().set_hidden(true);
    m.set_asking(false);
    shell.open("home");
    let home = ui.global::<HomeAdapter>();
    let learn = ui.global::<LearnAdapter>();
    home.invoke_open("learn".into());
    check(c, "learn");
    let course = learn
        .get_courses()
        .row_data(0)
        .map(|c| c.item)
        .unwrap_or_default();
    learn.invoke_open_course(course);
    check(c, "course");
    learn.invoke_open_step("lesson:0".into());
    check(c, "lesson");
    learn.invoke_back();
    learn.invoke_open_step("quiz:0".into());
    learn.invoke_choose(1);
    check(c, "quiz");
    learn.invoke_next_question();
    learn.invoke_choose(0);
    learn.invoke_next_question();
    learn.invoke_choose(0);
    learn.invoke_choose(2);
    learn.invoke_next_question();
    check(c, "quiz result");
    learn.invoke_back();
    // Every lesson read, for the certificate.
    let places: Vec<String> = learn
        .get_steps()
        .iter()
        .map(|s| s.place.to_string())
        .filter(|p| p.starts_with("lesson:"))
        .collect();
    for p in places {
        learn.invoke_open_step(p.into());
        learn.invoke_finish_lesson();
        learn.invoke_back();
    }
    learn.invoke_back();
    learn.invoke_home();
    home.invoke_open("record".into());
    let record = ui.global::<RecordAdapter>();
    assert!(
        record.get_certificates().row_count() > 0,
        "the course was finished: a certificate"
    );
    check(c, "my record, a certificate");
    record.set_open(0);
    check(c, "certificate");
    record.invoke_home();
    home.invoke_open("books".into());
    check(c, "books");
    focus(ui);
    assert!(
        ElementHandle::find_by_accessible_label(ui, "q")
            .next()
            .is_some(),
        "the keyboard is up on books"
    );
    check(c, "books, keyboard up");
    ui.global::<KeyboardAdapter>().set_hidden(true);
    let books = ui.global::<BooksAdapter>();
    let book = books
        .get_books()
        .row_data(0)
        .map(|b| b.item)
        .unwrap_or_default();
    books.invoke_open(book);
    books.invoke_next_page();
    check(c, "reader");
    books.invoke_toggle_mark();
    check(c, "reader, bookmarks");
    books.invoke_back();
    books.invoke_home();
    home.invoke_open("music".into());
    check(c, "music");
    focus(ui);
    assert!(
        ElementHandle::find_by_accessible_label(ui, "q")
            .next()
            .is_some(),
        "the keyboard is up on music"
    );
    check(c, "music, keyboard up");
    ui.global::<KeyboardAdapter>().set_hidden(true);
    let music = ui.global::<MusicAdapter>();
    let album = music
        .get_albums()
        .row_data(0)
        .map(|a| a.item)
        .unwrap_or_default();
    music.invoke_open_album(album.clone());
    check(c, "album");
    // The paged lists (every track, the artists) in their ListViews.
    music.invoke_show("tracks".into());
    check(c, "every track");
    music.invoke_show("artists".into());
    check(c, "artists");
    music.invoke_open_album(album);
    music.invoke_play_all();
    check(c, "now playing");
    music.invoke_back();
    music.invoke_home();
    check(c, "home, playing");
    ui.global::<PlayerAdapter>().invoke_toggle();
    // Quiet hours: 23:00.
    w.clock.advance(chrono::Duration::hours(13));
    shell.refresh();
    check(c, "home, curfew");
    ui.global::<AppState>().set_page("lock".into());
    let _ = tap;
}

#[test]
fn every_labelled_element_is_on_screen_uncovered_and_big_enough() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    // No stale list from an earlier run.
    let _ = std::fs::remove_file(std::env::temp_dir().join("berth-layout-problems.txt"));
    let mut c = Checker {
        failures: Vec::new(),
        states: 0,
        pad: Default::default(),
        home: Default::default(),
        settings: Default::default(),
    };
    for long_names in [false, true] {
        let w = world(long_names);
        walk(&w, &mut c, long_names);
    }
    {
        let w = fresh_world();
        let ui = w.shell.window();
        let code = ElementHandle::find_by_accessible_label(ui, "Tablet code").next();
        assert!(code.is_some(), "a fresh tablet shows its code");
        let status = ElementHandle::find_by_accessible_label(ui, "Set-up status")
            .next()
            .and_then(|e| e.accessible_value())
            .unwrap_or_default();
        assert!(status.contains("could not be reached"), "{status}");
        c.check(&w, "lock, not set up", false);
    }
    assert!(!c.pad.is_empty(), "the PIN pad was seen");
    assert!(
        !c.home.is_empty() && !c.settings.is_empty(),
        "Home and Settings were seen"
    );
    for (variant, seen) in &c.home {
        let (first, p0) = &seen[0];
        for (state, p) in &seen[1..] {
            if (p.0 - p0.0).abs() > 0.5 || (p.1 - p0.1).abs() > 0.5 {
                c.failures.push(format!(
                    "{state}{variant}: Home is at {p:?}, on {first} at {p0:?}: it should be in one place"
                ));
            }
        }
    }
    for (key, seen) in &c.settings {
        let (first, s0) = &seen[0];
        assert_eq!(s0.len(), 3, "{first}: the three choices");
        for (variant, spots) in &seen[1..] {
            if spots != s0 {
                c.failures.push(format!(
                    "{variant} ({key}): the settings choices are at {spots:?}, on {first} at {s0:?}: a notice moved them"
                ));
            }
        }
    }
    for (variant, seen) in &c.pad {
        let (first, y0) = &seen[0];
        for (state, y) in &seen[1..] {
            if (y.0 - y0.0).abs() > 0.5 || (y.1 - y0.1).abs() > 0.5 {
                c.failures.push(format!(
                    "{state}{variant}: the PIN pad spans y {y:?}, on {first} {y0:?}: it moves under the finger"
                ));
            }
        }
    }
    eprintln!("{} states checked", c.states);
    assert!(c.states > 1000, "only {} states", c.states);
    if !c.failures.is_empty() {
        let n = c.failures.len();
        // Every problem, with its state, for the person fixing them.
        let all = std::env::temp_dir().join("berth-layout-problems.txt");
        let _ = std::fs::write(&all, c.failures.join("\n"));
        eprintln!("all problems: {}", all.display());
        let mut distinct: Vec<String> = c
            .failures
            .iter()
            .map(|f| {
                f.split_once("]: ").map_or(f.clone(), |(s, p)| {
                    format!("{} :: {p}", s.split(" [").next().unwrap_or(s))
                })
            })
            .collect();
        distinct.sort();
        distinct.dedup();
        eprintln!("{} distinct:\n{}", distinct.len(), distinct.join("\n"));
        c.failures.truncate(100);
        panic!("{n} layout problems:\n{}", c.failures.join("\n"));
    }
}

/// The checker itself can fail: a button pushed off screen, a small
/// target, and a clipped text are each found.
#[test]
fn the_checker_finds_what_it_looks_for() {
    let a = Rect {
        x: 0.0,
        y: 0.0,
        w: 100.0,
        h: 100.0,
    };
    let b = Rect {
        x: 50.0,
        y: 50.0,
        w: 100.0,
        h: 100.0,
    };
    assert!(a.overlaps(&b) && !a.contains(&b));
    let c = Rect {
        x: 10.0,
        y: 10.0,
        w: 20.0,
        h: 20.0,
    };
    assert!(a.contains(&c));
    let touching = Rect {
        x: 100.0,
        y: 0.0,
        w: 10.0,
        h: 10.0,
    };
    assert!(!a.overlaps(&touching));
}
