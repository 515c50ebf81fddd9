//! The screenshot tour: every page in the states the goldens show, driven
//! through the pages' adapters as taps would drive them. The world it runs
//! in (a demo facility, a tablet, a letter on its way) is made by the
//! caller (`demo::screenshots`); this module knows no facility keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use slint::{ComponentHandle, Model};

use super::headless::{FixedHardware, render, write_png};
use super::{AppState, LockAdapter, SettingsAdapter, StatusAdapter};
use crate::device::clock::ManualClock;
use crate::domain::people::PersonId;
use crate::tablet::Tablet;

/// Errors of a screenshot run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Platform(#[from] slint::PlatformError),
    #[error(transparent)]
    Tablet(#[from] crate::tablet::CoreError),
    #[error("writing {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The fixed moment of the screenshots: Wednesday 3 June 2026, 10:00 in
/// the demo facility's zone (America/Chicago).
pub fn screenshot_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-06-03T15:00:00Z")
        .expect("valid time")
        .with_timezone(&chrono::Utc)
}

/// What the tour runs on.
pub struct World {
    /// The demo tablet, on `clock`.
    pub tablet: Tablet,
    pub clock: Arc<ManualClock>,
    /// Signed feed entries that arrive half-way (María's sister writes),
    /// and the cursors they answer.
    pub arriving: Vec<Vec<u8>>,
    pub asked: BTreeMap<PersonId, u64>,
}

/// Render every page into `out` as PNG, on a window from
/// [`super::headless::install`]. Returns the files written, in order.
pub fn run(
    window: &slint::platform::software_renderer::MinimalSoftwareWindow,
    world: World,
    out: &Path,
) -> Result<Vec<PathBuf>, Error> {
    let World {
        tablet,
        clock,
        arriving,
        asked,
    } = world;
    let shell = super::Shell::new(tablet, Box::new(FixedHardware))?;
    let ui = shell.window();
    ui.show()?;
    std::fs::create_dir_all(out).map_err(|e| Error::Io(out.to_path_buf(), e))?;
    let mut written = Vec::new();
    let mut snap = |name: &str| -> Result<(), Error> {
        shell.refresh();
        let path = out.join(format!("{name}.png"));
        write_png(&path, &render(window)).map_err(|e| Error::Io(path.clone(), e))?;
        written.push(path);
        Ok(())
    };
    let lock = ui.global::<LockAdapter>();
    let settings = ui.global::<SettingsAdapter>();
    snap("lock-en")?;
    lock.invoke_set_large_text(true);
    snap("lock-en-large")?;
    lock.invoke_set_language("es".into());
    snap("lock-es-large")?;
    lock.invoke_choose("A12345".into());
    snap("lock-code-es-large")?;
    lock.invoke_back();
    lock.invoke_set_large_text(false);
    snap("lock-es")?;
    lock.invoke_set_language("en".into());
    lock.set_step("type-id".into());
    lock.set_typed_id("b2041".into());
    snap("lock-type-id-en")?;
    lock.invoke_back();
    lock.invoke_choose("B20417".into());
    snap("lock-code-en")?;
    for digits in ["582316", "4821", "4821"] {
        lock.invoke_submit(digits.into());
        shell.settle();
    }
    snap("home-en")?;
    ui.global::<StatusAdapter>().invoke_settings();
    snap("settings-en")?;
    settings.invoke_set_large_text(true);
    snap("settings-en-large")?;
    settings.invoke_home();
    snap("home-en-large")?;
    ui.global::<StatusAdapter>().invoke_settings();
    settings.invoke_set_language("es".into());
    snap("settings-es-large")?;
    settings.invoke_set_large_text(false);
    snap("settings-es")?;
    settings.invoke_home();
    snap("home-es")?;
    ui.global::<StatusAdapter>().invoke_settings();
    settings.invoke_set_large_text(true);
    settings.invoke_home();
    snap("home-es-large")?;
    ui.global::<StatusAdapter>().invoke_settings();
    settings.invoke_set_large_text(false);
    settings.invoke_set_language("en".into());
    settings.invoke_home();
    ui.global::<super::HomeAdapter>()
        .invoke_open("record".into());
    snap("record-en")?;
    ui.global::<super::RecordAdapter>().invoke_home();
    ui.global::<super::HomeAdapter>()
        .invoke_open("messages".into());
    snap("messages-en")?;
    ui.global::<super::FeatureAdapter>().invoke_home();
    // In the dock, before the first sync: the status bar offers "Sync now".
    // (Docked first, then the address, so no sync starts on its own.)
    shell.set_docked(Some(true));
    shell.set_dock_address(Some("127.0.0.1:7443".into()));
    snap("home-docked-en")?;
    shell.set_dock_address(None);
    shell.set_docked(None);
    // María writes to her sister, who wrote first: the Messages page in
    // Spanish. The letter from Ana arrives as the dock would send it,
    // signed by the facility's messaging key.
    {
        let arrived = shell
            .tablet()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sync()
            .apply_feed(&arriving, &asked);
        arrived.map_err(Error::Tablet)?;
        // María reads it, then writes back a minute later.
        clock.advance(chrono::Duration::minutes(1));
    }
    ui.global::<StatusAdapter>().invoke_logout();
    shell.sign_in("A12345", &["731904", "4821", "4821"]);
    ui.global::<super::HomeAdapter>()
        .invoke_open("messages".into());
    let m = ui.global::<super::MessagesAdapter>();
    m.set_text("Querida Ana: ¿cómo están los niños? Aquí todo bien. 😊".into());
    m.invoke_send(m.get_text());
    m.set_text("Te escribo otra vez el domingo".into());
    m.invoke_edited(m.get_text());
    snap("messages-es")?;
    // She asks for a new contact: the request waits for the dock.
    m.invoke_open_ask();
    m.invoke_ask(
        "Luis Pérez".into(),
        "primo".into(),
        "luis.perez@example.org".into(),
    );
    snap("contact-request-es")?;
    m.set_asking(false);
    m.invoke_home();
    ui.global::<StatusAdapter>().invoke_logout();
    shell.sign_in("B20417", &["4821"]);
    // Learn: the course list, a course, a narrated lesson, a quiz and its
    // result; Books: the list and a page; Music: the albums, an album and
    // Now playing, whose bar then stays under the other pages.
    {
        use super::{BooksAdapter, HomeAdapter, LearnAdapter, MusicAdapter, PlayerAdapter};
        shell.use_player(crate::player::Player::new(Box::new(
            crate::player::NullSink::new(true),
        )));
        let home = ui.global::<HomeAdapter>();
        let learn = ui.global::<LearnAdapter>();
        home.invoke_open("learn".into());
        snap("learn-en")?;
        let course = learn
            .get_courses()
            .row_data(0)
            .map(|c| c.item)
            .unwrap_or_default();
        learn.invoke_open_course(course);
        snap("course-en")?;
        learn.invoke_open_step("lesson:0".into());
        snap("lesson-en")?;
        learn.invoke_back();
        learn.invoke_open_step("quiz:0".into());
        learn.invoke_choose(1);
        snap("quiz-en")?;
        learn.invoke_next_question();
        learn.invoke_choose(0);
        learn.invoke_next_question();
        learn.invoke_choose(0);
        learn.invoke_choose(2);
        learn.invoke_next_question();
        snap("quiz-result-en")?;
        learn.invoke_back();
        // Every lesson read: the certificate, on its own page.
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
        let record = ui.global::<super::RecordAdapter>();
        // The check code comes from the tablet's signature, and a demo
        // tablet's key is new on every run: the golden shows a fixed code.
        if let Some(mut c) = record.get_certificates().row_data(0) {
            c.code = "D8ED-3C36-551B".into();
            record.set_certificates(slint::ModelRc::new(slint::VecModel::from(vec![c])));
        }
        record.set_open(0);
        snap("certificate-en")?;
        record.set_open(-1);
        record.invoke_home();
        home.invoke_open("books".into());
        snap("books-en")?;
        let books = ui.global::<BooksAdapter>();
        let book = books
            .get_books()
            .row_data(0)
            .map(|b| b.item)
            .unwrap_or_default();
        books.invoke_open(book);
        books.invoke_next_page();
        books.invoke_next_page();
        books.invoke_toggle_mark();
        snap("reader-en")?;
        books.invoke_back();
        books.invoke_home();
        home.invoke_open("music".into());
        snap("music-en")?;
        let music = ui.global::<MusicAdapter>();
        let album = music
            .get_albums()
            .row_data(0)
            .map(|a| a.item)
            .unwrap_or_default();
        music.invoke_open_album(album);
        snap("album-en")?;
        music.invoke_show("tracks".into());
        snap("tracks-en")?;
        music.invoke_play_all();
        ui.global::<PlayerAdapter>().invoke_toggle();
        snap("now-playing-en")?;
        music.invoke_back();
        music.invoke_home();
        snap("home-playing-en")?;
        ui.global::<PlayerAdapter>().invoke_toggle();
    }
    ui.global::<StatusAdapter>().invoke_logout();
    shell.sign_in("B20417", &["4821"]);
    // Quiet hours: 23:00 the same day.
    clock.advance(chrono::Duration::hours(13));
    snap("home-curfew-en")?;
    ui.global::<AppState>().set_page("lock".into());
    Ok(written)
}
