//! Interaction tests of the real shell with Slint's testing backend. Every
//! element is found by its accessible label, as a screen reader finds it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth::demo::{self, DemoPaths};
use berth::device::clock::ManualClock;
use berth::install::DataDir;
use berth::tablet::Tablet;
use berth::ui::Shell;
use chrono::{DateTime, Utc};
use i_slint_backend_testing::{AccessibleRole, ElementHandle};

const ASSETS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo");

struct Rig {
    _dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    shell: Shell,
}

/// Wednesday 3 June 2026, 10:00 in Chicago.
fn ten_am() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-03T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(ten_am()));
    demo::run_at(
        dir.path(),
        Path::new(ASSETS),
        &mut std::io::sink(),
        ten_am(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let paths = DemoPaths::new(dir.path());
    let (tablet, _) = Tablet::open(
        DataDir::new(&paths.tablet),
        demo::tablet_options(&paths),
        Box::new(clock.clone()),
    )
    .unwrap();
    let shell = Shell::new(tablet, Box::new(berth::ui::headless::FixedHardware)).unwrap();
    Rig {
        _dir: dir,
        clock,
        shell,
    }
}

impl Rig {
    fn find(&self, label: &str) -> Option<ElementHandle> {
        ElementHandle::find_by_accessible_label(self.shell.window(), label).next()
    }
    fn has(&self, label: &str) -> bool {
        self.find(label).is_some()
    }
    fn tap(&self, label: &str) {
        self.find(label)
            .unwrap_or_else(|| panic!("no element labelled {label:?}"))
            .invoke_accessible_default_action();
    }
    fn value(&self, label: &str) -> String {
        self.find(label)
            .and_then(|e| e.accessible_value())
            .map(|v| v.to_string())
            .unwrap_or_default()
    }
    /// The non-empty values of every element with this label.
    fn values(&self, label: &str) -> Vec<String> {
        ElementHandle::find_by_accessible_label(self.shell.window(), label)
            .filter_map(|e| e.accessible_value())
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
    fn enabled(&self, label: &str) -> bool {
        self.find(label)
            .and_then(|e| e.accessible_enabled())
            .unwrap_or(false)
    }
    /// A finger on the element: its centre, through the window's hit test.
    fn touch(&self, label: &str) {
        self.find(label)
            .unwrap_or_else(|| panic!("no element labelled {label:?}"))
            .mock_single_click(slint::platform::PointerEventButton::Left);
    }
    fn type_pin(&self, digits: &str) {
        for d in digits.chars() {
            self.tap(&d.to_string());
        }
        self.tap("OK");
        // The PIN is checked on a worker; no event loop runs here.
        self.shell.settle();
    }
    /// First login of James Carter: enrolment code, then a new PIN twice.
    fn enrol_james(&self) {
        self.tap("James Carter");
        self.type_pin("582316");
        self.type_pin("4821");
        self.type_pin("4821");
    }
}

fn first_login_with_enrolment_code_then_setting_a_pin() {
    let r = rig();
    assert!(r.has("Type my ID"), "starts on the lock screen");
    r.tap("James Carter");
    r.type_pin("111111");
    assert!(
        r.value("Message").contains("code is not right"),
        "{}",
        r.value("Message")
    );
    r.type_pin("582316");
    // New PIN: a run like 1234 is refused with the rule, then a good one twice.
    r.type_pin("1234");
    assert!(
        r.value("Message").contains("4 to 8 numbers"),
        "{}",
        r.value("Message")
    );
    r.type_pin("4821");
    r.type_pin("4822");
    assert!(
        r.value("Message").contains("different"),
        "{}",
        r.value("Message")
    );
    r.type_pin("4821");
    r.type_pin("4821");
    assert!(
        r.has("Messages") && r.has("Log out"),
        "home after the PIN is set"
    );
    assert_eq!(r.value("Minutes left"), "60 minutes left");
    // Log out, then the PIN (not the code) opens the session.
    r.tap("Log out");
    assert!(r.has("Type my ID"));
    r.tap("James Carter");
    r.type_pin("4821");
    assert!(r.has("Messages"));
}

fn wrong_pins_show_the_backoff_then_let_the_person_in() {
    let r = rig();
    r.enrol_james();
    r.tap("Log out");
    r.tap("James Carter");
    r.type_pin("0000");
    r.type_pin("0001");
    r.type_pin("0002");
    assert!(
        r.value("Message").contains("Too many tries"),
        "{}",
        r.value("Message")
    );
    r.type_pin("4821");
    assert!(!r.has("Log out"), "locked out even with the right PIN");
    r.clock.advance(chrono::Duration::seconds(31));
    r.type_pin("4821");
    assert!(r.has("Log out"), "in after the back-off");
}

fn every_tile_opens_and_comes_back_home() {
    let r = rig();
    r.enrol_james();
    // James has no contacts yet: Messages says so plainly, and what to do.
    r.tap("Messages");
    assert!(r.value("No contacts").contains("Tap New contact"));
    assert!(
        !r.has("Your letter") && !r.has("Send at next dock"),
        "no letter to no one"
    );
    // He asks for one: a wrong address is refused with what to fix and
    // nothing is queued; then the request waits for the dock.
    r.tap("New contact");
    let field = |label: &str| {
        ElementHandle::find_by_accessible_label(r.shell.window(), label)
            .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
            .unwrap_or_else(|| panic!("no field {label:?}"))
    };
    assert!(!r.enabled("Ask at next dock"), "nothing to ask yet");
    field("Their name").set_accessible_value("Luis Pérez");
    field("Who they are to you (mother, friend…)").set_accessible_value("primo");
    field("Their email address").set_accessible_value("luis.example.org");
    r.tap("Ask at next dock");
    assert!(
        r.value("Request notice").contains("not an email address"),
        "{}",
        r.value("Request notice")
    );
    assert!(r.has("No requests yet."));
    // The on-screen keyboard has the @ an address needs.
    let email = field("Their email address");
    email.set_accessible_value("luis");
    email.mock_single_click(slint::platform::PointerEventButton::Left);
    r.tap("At sign");
    for k in ["e", "x", "a", "m", "p", "l", "e", ".", "o", "r", "g"] {
        r.tap(k);
    }
    assert_eq!(
        field("Their email address")
            .accessible_value()
            .unwrap()
            .to_lowercase(),
        "luis@example.org"
    );
    r.tap("Hide keyboard");
    r.tap("Ask at next dock");
    assert!(
        r.value("Request notice").contains("next dock"),
        "{}",
        r.value("Request notice")
    );
    assert_eq!(r.value("Luis Pérez"), "Waiting for the dock");
    r.tap("Back to letters");
    assert!(r.value("No contacts").contains("Tap New contact"));
    assert_eq!(
        r.value("Luis Pérez"),
        "Waiting for the dock",
        "the request shows beside it"
    );
    r.tap("Home");
    for (tile, inside) in [
        ("Learn", "Reading Basics"),
        ("Books", "Aesop’s Fables"),
        ("Music", "Open Air"),
    ] {
        r.tap(tile);
        assert!(r.has(inside), "{tile} shows {inside}");
        r.tap("Home");
        assert!(r.has("My record"), "back home from {tile}");
    }
    r.tap("My record");
    assert!(r.has("Home") && !r.has("Learn"), "record page");
    r.tap("Home");
    r.tap("Settings");
    assert!(r.has("High contrast"));
    r.tap("Home");
    assert!(r.has("Music"));
}

/// A course from the list to a passed quiz and a certificate in My
/// record; a book page turned; a track played, still playing on another
/// page, and back after logging out and in.
fn learning_reading_and_listening_through_the_pages() {
    let r = rig();
    r.enrol_james();
    r.shell.use_player(berth::player::Player::new(Box::new(
        berth::player::NullSink::new(true),
    )));
    r.tap("Learn");
    r.tap("Reading Basics");
    // Nothing done yet: the course's button starts it.
    assert!(!r.has("Continue") && !r.has("Review the course"));
    r.tap("Start the course");
    assert!(r.has("Finish the lesson"), "the lesson is open");
    assert!(r.has("Listen to the lesson"), "a narrated lesson");
    assert!(
        r.values("Every word is made of sounds. Letters are how we write those sounds.")
            .is_empty()
    );
    assert!(r.has("Every word is made of sounds. Letters are how we write those sounds."));
    r.tap("Finish the lesson");
    assert!(r.has("Finish the lesson"), "on to the next lesson");
    r.tap("Finish the lesson");
    // The unit's quiz comes next.
    assert_eq!(
        r.value("Question"),
        "How many sounds are in the word \"sun\"?"
    );
    assert!(!r.enabled("Next question"), "an answer first");
    r.tap("3");
    r.tap("Next question");
    r.tap("run");
    r.tap("Next question");
    r.tap("map");
    r.tap("sun");
    r.tap("Finish the quiz");
    assert_eq!(r.value("Quiz result"), "You passed!");
    assert!(
        r.value("Certificate").contains("Reading Basics"),
        "{}",
        r.value("Certificate")
    );
    r.tap("Back to the course");
    assert!(
        r.has("Review the course") && !r.has("Continue"),
        "a finished course is reviewed, not continued"
    );
    r.tap("Back");
    r.tap("Home");
    r.tap("My record");
    assert!(r.has("Certificate: Reading Basics (100%)"));
    // The certificate has its own page, with a code to check it by.
    r.tap("Certificate: Reading Basics (100%)");
    assert_eq!(r.value("Course"), "Reading Basics");
    let code = r.value("Certificate code");
    assert!(
        code.len() == 14 && code.chars().filter(|c| *c == '-').count() == 2,
        "{code}"
    );
    r.tap("Back to My record");
    assert!(!r.has("Certificate code") && r.has("Home"));
    r.tap("Home");

    r.tap("Books");
    r.tap("Aesop’s Fables");
    // The pages are counted for the reader's box.
    let first = r.value("Page");
    let total = first
        .strip_prefix("Page 1 of ")
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("{first}"));
    assert!(total > 1, "{first}");
    r.tap("Next page");
    assert!(
        r.value("Page").starts_with(&format!("Page 2 of {total} ")),
        "{}",
        r.value("Page")
    );
    r.tap("Bookmark this page");
    assert!(r.has("Remove the bookmark"));
    r.tap("Books");
    r.tap("Home");

    r.tap("Music");
    r.tap("Open Air");
    r.tap("Twinkle, Twinkle");
    assert!(
        r.values("Now playing")
            .contains(&"Twinkle, Twinkle".to_string())
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(r.shell.player_status().playing);
    r.tap("Back");
    r.tap("Home");
    // Playing on: the bar under the home page.
    assert_eq!(r.value("Open Now playing"), "Twinkle, Twinkle");
    r.tap("Log out");
    assert!(
        !r.shell.player_status().playing,
        "the next person hears nothing"
    );
    r.tap("James Carter");
    r.type_pin("4821");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        r.value("Open Now playing"),
        "Twinkle, Twinkle",
        "resumed after login"
    );
    assert!(r.shell.player_status().playing);
    assert!(
        r.shell
            .player_status()
            .track
            .unwrap()
            .contains("berth-oa-02")
    );
    // The book opens where he left it.
    r.tap("Books");
    r.tap("Aesop’s Fables");
    // (The mini-player now takes room, so the pages are counted again.)
    assert!(
        r.value("Page").starts_with("Page 2 of "),
        "{}",
        r.value("Page")
    );
}

fn switching_to_spanish_applies_at_once() {
    let r = rig();
    r.enrol_james();
    r.tap("Settings");
    r.tap("Español");
    assert!(
        r.has("Inicio") && r.has("Alto contraste"),
        "settings page in Spanish"
    );
    r.tap("Inicio");
    for tile in ["Mensajes", "Aprender", "Libros", "Música", "Mi historial"] {
        assert!(r.has(tile), "{tile}");
    }
    assert!(!r.has("Messages"));
    assert_eq!(r.value("Minutos restantes"), "Quedan 60 minutos");
    // The choice is the person's own, and the tablet remembers it for the
    // lock screen: the next person is greeted in the language last chosen.
    r.tap("Salir");
    assert!(
        r.has("Escribir mi número"),
        "the lock screen stays in Spanish"
    );
    r.tap("James Carter");
    r.type_pin("4821");
    assert!(r.has("Mensajes"));
}

fn curfew_shows_its_banner_and_closes_the_features() {
    let r = rig();
    r.enrol_james();
    r.shell.use_player(berth::player::Player::new(Box::new(
        berth::player::NullSink::new(true),
    )));
    assert!(r.enabled("Messages"));
    r.tap("Music");
    r.tap("Open Air");
    r.tap("Twinkle, Twinkle");
    assert!(r.shell.player_status().playing);
    r.tap("Back");
    r.tap("Home");
    // 22:30 in Chicago: quiet hours (the example policy).
    r.clock.advance(chrono::Duration::minutes(12 * 60 + 30));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    assert!(
        r.value("Notice").contains("Quiet hours"),
        "{}",
        r.value("Notice")
    );
    for tile in ["Messages", "Learn", "Music"] {
        assert!(!r.enabled(tile), "{tile} is closed");
        let note = r
            .find(tile)
            .and_then(|e| e.accessible_description())
            .map(|d| d.to_string());
        assert_eq!(
            note.as_deref(),
            Some("Opens at 06:00"),
            "{tile} says when it opens"
        );
    }
    // The policy keeps quiet reading open at night.
    for tile in ["Books", "My record"] {
        assert!(r.enabled(tile), "{tile} stays open during curfew");
    }
    assert!(
        !r.shell.player_status().playing,
        "music closes at night: it pauses"
    );
    r.tap("Messages");
    assert!(!r.has("Not here yet"), "a closed tile does not open");
}

fn idle_session_locks_itself() {
    let r = rig();
    // She reads Spanish: the lock screen keeps her choice.
    r.tap("Español");
    r.tap("María González");
    r.type_pin("731904");
    r.type_pin("4821");
    r.type_pin("4821");
    // She starts a letter.
    r.tap("Mensajes");
    r.find("Su carta")
        .unwrap()
        .set_accessible_value("Querida Ana, el curso");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(60));
    r.tap("Inicio");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(99));
    assert!(!r.has("Aviso de inactividad"), "99 s idle: no warning yet");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    assert!(
        r.value("Aviso de inactividad").contains("20 segundos"),
        "20 s before the lock she is warned: {:?}",
        r.value("Aviso de inactividad")
    );
    // (One second at a time, as the event loop runs.)
    for _ in 0..5 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert!(
        r.value("Aviso de inactividad").contains("15 segundos"),
        "it counts down: {:?}",
        r.value("Aviso de inactividad")
    );
    // A touch keeps the session, and the count starts again.
    r.tap("Seguir en la sesión");
    assert!(!r.has("Aviso de inactividad") && r.has("Salir"));
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(100));
    assert!(r.has("Salir"), "touched 100 s ago: still open");
    for _ in 0..10 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert!(
        r.value("Aviso de inactividad").contains("10 segundos"),
        "{:?}",
        r.value("Aviso de inactividad")
    );
    assert!(r.has("Aviso de inactividad"), "warned again");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(11));
    assert!(
        r.has("Escribir mi número") && !r.has("Salir") && !r.has("Aviso de inactividad"),
        "locked after 120 s idle"
    );
    // The lock screen is still in Spanish, and the letter she had started
    // is still there.
    r.tap("María González");
    r.type_pin("4821");
    assert!(
        !r.value("Fecha").is_empty(),
        "the date stays in the bar after login"
    );
    r.tap("Mensajes");
    assert_eq!(r.value("Su carta"), "Querida Ana, el curso");
}

fn power_button_locks_and_blanks_and_volume_keys_change_volume() {
    let r = rig();
    r.enrol_james();
    r.shell.volume(1);
    assert_eq!(r.value("Volume"), "70");
    r.shell.volume(-1);
    r.shell.volume(-1);
    assert_eq!(r.shell.current_volume(), 50);
    r.shell.power_button();
    assert!(r.has("Wake") && !r.has("Log out"));
    r.tap("Wake");
    assert!(!r.has("Wake") && r.has("Type my ID"));
}

fn typing_an_id_with_the_on_screen_keyboard() {
    let r = rig();
    assert!(
        !r.has("Backspace"),
        "no keyboard until a text field has focus"
    );
    r.tap("Type my ID");
    assert!(
        r.has("Backspace") && r.has("q"),
        "the keyboard appears for the ID field"
    );
    assert!(!r.has("ñ"), "English layout");
    for k in ["b", "2", "0", "4", "1", "7", "7"] {
        r.tap(k);
    }
    r.tap("Backspace");
    assert_eq!(r.value("Your ID"), "b20417");
    r.tap("Continue");
    assert!(r.has("PIN entry"), "on to the code or PIN");
    r.tap("Back");
    // The Spanish layout has ñ and the accents.
    r.tap("Español");
    r.tap("Escribir mi número");
    for k in ["ñ", "á", "é", "í", "ó", "ú", "ü", "¿", "¡"] {
        assert!(r.has(k), "Spanish key {k}");
    }
}

/// The keyboard as María uses it: it comes up for the letter, starts each
/// sentence with a capital, shows when the capital is on without moving a
/// key, keeps the letter and the thread in sight, and goes away with its
/// hide key, a tap outside, or sending. A 36-letter letter from Home takes
/// no more taps than before (41).
fn the_keyboard_hides_capitalizes_and_keeps_the_letter_in_sight() {
    let r = rig();
    r.tap("María González");
    r.type_pin("731904");
    r.type_pin("4821");
    r.type_pin("4821");
    // The tablet's screen.
    slint::ComponentHandle::window(r.shell.window())
        .set_size(slint::LogicalSize::new(1280.0, 800.0));
    let window = slint::ComponentHandle::window(r.shell.window()).size();
    let taps = std::cell::Cell::new(0);
    let tap = |label: &str| {
        taps.set(taps.get() + 1);
        r.tap(label);
    };
    tap("Mensajes");
    assert!(
        !r.has("Retroceso"),
        "no keyboard before the letter is touched"
    );
    taps.set(taps.get() + 1);
    r.touch("Su carta");
    assert!(r.has("Retroceso"), "the keyboard is up");
    assert!(
        !r.has("Inicio"),
        "while typing the page keeps to the letter"
    );
    let shift = r.find("Mayúscula").unwrap();
    assert_eq!(
        shift.accessible_checked(),
        Some(true),
        "a letter starts with a capital"
    );
    let (big, at) = {
        let d = r.find("H").expect("capital keys");
        (d.size(), d.absolute_position())
    };
    let letter = "Hola Ana, estoy bien. Besos a todos.";
    assert_eq!(letter.chars().count(), 36);
    for (i, ch) in letter.chars().enumerate() {
        let key = match ch {
            ' ' => "Espacio".to_string(),
            c if c.is_uppercase() => {
                if r.find("Mayúscula").unwrap().accessible_checked() != Some(true) {
                    tap("Mayúscula");
                }
                c.to_string()
            }
            c => c.to_string(),
        };
        tap(&key);
        if i == 0 {
            let d = r.find("h").expect("small letters after the capital");
            assert_eq!(
                (d.size(), d.absolute_position()),
                (big, at),
                "a key keeps its place and size when the capital goes off"
            );
            assert_eq!(
                r.find("Mayúscula").unwrap().accessible_checked(),
                Some(false),
                "the capital is for one letter"
            );
        }
    }
    assert_eq!(r.value("Su carta"), letter);
    // The letter and the keyboard share the screen: nothing of the letter
    // field is under the keyboard.
    let field = r.find("Su carta").unwrap();
    let key_top = r.find("Espacio").unwrap().absolute_position().y;
    assert!(
        field.absolute_position().y + field.size().height <= key_top,
        "the letter is above the keyboard"
    );
    assert!(
        r.has("Enviar en la próxima conexión"),
        "Send stays on screen while typing"
    );
    // Hide, then bring it back by touching the letter.
    r.tap("Ocultar teclado");
    assert!(
        !r.has("Retroceso") && r.has("Inicio"),
        "hidden: the whole page is back"
    );
    r.touch("Su carta");
    assert!(
        r.has("Retroceso"),
        "touching the letter brings the keyboard back"
    );
    // A tap outside the field hides it too.
    r.touch("Caracteres");
    assert!(!r.has("Retroceso"), "a tap outside hides the keyboard");
    r.touch("Su carta");
    tap("Enviar en la próxima conexión");
    let taps = taps.get();
    assert!(taps <= 41, "{taps} taps for a 36-letter letter");
    assert!(!r.has("Retroceso"), "sent: the keyboard goes down");
    assert_eq!(
        r.value("Aviso de la carta"),
        "Su carta saldrá en la próxima conexión a la base."
    );
    let sent = r
        .find("Para Ana González")
        .expect("her letter is labelled To Ana");
    let p = sent.absolute_position();
    assert!(
        p.y + sent.size().height <= window.height as f32,
        "the sent letter is on screen: {p:?} {:?} in {window:?}",
        sent.size()
    );
    assert_eq!(window.height, 800, "measured on the tablet's screen");
}

fn writing_a_letter_shows_the_count_and_its_state() {
    let r = rig();
    r.tap("María González");
    r.type_pin("731904");
    r.type_pin("4821");
    r.type_pin("4821");
    r.tap("Mensajes");
    assert!(
        r.has("Ana González") && r.has("Lic. Ramírez"),
        "approved contacts"
    );
    r.find("Su carta")
        .unwrap()
        .set_accessible_value("¿Cómo estás? 😊");
    assert_eq!(r.value("Caracteres"), "14 / 13000", "counted in graphemes");
    assert_eq!(r.value("Cartas que quedan hoy"), "Quedan 10 cartas hoy");
    r.tap("Enviar en la próxima conexión");
    assert_eq!(
        r.values("Para Ana González"),
        ["Esperando la base"],
        "the letter shows where it is"
    );
    assert_eq!(r.value("Cartas que quedan hoy"), "Quedan 9 cartas hoy");
    assert_eq!(
        r.value("Su carta"),
        "",
        "the box is empty for the next letter"
    );
    // Legal mail is private and not counted.
    r.tap("Lic. Ramírez");
    r.find("Su carta")
        .unwrap()
        .set_accessible_value("Sobre mi caso");
    r.tap("Enviar en la próxima conexión");
    assert_eq!(r.value("Cartas que quedan hoy"), "Quedan 9 cartas hoy");
}

/// Sync from the shell against a real dock on loopback: the letter's state
/// moves on, and a reply from the attorney arrives with an unread badge.
fn syncing_from_the_shell_moves_letters_and_brings_replies() {
    let r = rig();
    let paths = DemoPaths::new(r._dir.path());
    let mut dock = berth::dock::Dock::open(&paths.facility, &paths.dock).unwrap();
    // The dock's signed time moves the tablet's clock to today; publish a
    // policy without quiet hours so the test does not depend on the hour.
    let policy = r._dir.path().join("policy-v2.toml");
    std::fs::write(
        &policy,
        "scope = \"facility\"\nversion = 2\n[rules]\ntimezone = \"America/Chicago\"\nsession_minutes = 60\ndaily_message_quota = 10\n",
    )
    .unwrap();
    let facility = berth::facility::Facility::open(&paths.facility).unwrap();
    let signed = facility.sign_policy(&policy, chrono::Utc::now()).unwrap().0;
    dock.publish(&signed).unwrap();
    // The tablet has it before the sync starts: the dock's time arrives at
    // hello, long before the pull would bring the policy, and at night the
    // old policy's quiet hours would close Messages in between.
    r.shell
        .tablet()
        .lock()
        .unwrap()
        .people()
        .accept_document(&signed)
        .unwrap();
    let running = berth::dock::server::start(&dock, "127.0.0.1:0", false).unwrap();
    let wait = || {
        for _ in 0..400 {
            r.shell.refresh();
            if !r.shell.syncing() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the sync did not finish");
    };
    r.tap("María González");
    r.type_pin("731904");
    r.type_pin("4821");
    r.type_pin("4821");
    r.tap("Mensajes");
    r.find("Su carta")
        .unwrap()
        .set_accessible_value("Hola, Ana");
    r.tap("Enviar en la próxima conexión");
    assert_eq!(r.values("Para Ana González"), ["Esperando la base"]);
    assert!(!r.has("Sincronizar ahora"), "not docked: no sync button");
    r.shell.set_dock_address(Some(running.addr.to_string()));
    r.shell.set_docked(Some(true));
    wait();
    assert_eq!(
        r.values("Para Ana González"),
        ["En revisión"],
        "uploaded and in review"
    );
    assert!(r.value("Sincronización").starts_with("Sincronizada a las"));

    // The attorney writes back; staff approve it without reading it.
    berth::dock::gateway::deliver_to_maildir(
        &paths.dock.join("gateway/maildir"),
        &mail_builder::MessageBuilder::new()
            .from(("Lic. Ramírez", "ramirez@law.example.org"))
            .to("a12345@letters.berth.invalid")
            .subject("Su caso")
            .text_body("Señora González: la audiencia es el martes.")
            .write_to_vec()
            .unwrap(),
    )
    .unwrap();
    dock.import_mail(None).unwrap();
    let item = dock
        .review_list()
        .unwrap()
        .into_iter()
        .find(|i| i.kind == berth::dock::ReviewKind::Inbound && i.attorney)
        .unwrap();
    assert_eq!(item.body, None, "legal mail is not shown to review");
    dock.review_approve(&item.id, &"officer".parse().unwrap())
        .unwrap();
    r.tap("Sincronizar ahora");
    wait();
    assert_eq!(
        r.value("Lic. Ramírez"),
        "1 nuevas",
        "the badge counts the new letter"
    );
    r.tap("Lic. Ramírez");
    assert_eq!(r.values("De Lic. Ramírez"), ["Recibida"]);
    assert_eq!(r.value("Lic. Ramírez"), "", "opened: read");

    // Written while the tablet sits in the dock, a letter leaves at once:
    // no "Sync now", no waiting for the next dock.
    r.tap("Ana González");
    r.find("Su carta")
        .unwrap()
        .set_accessible_value("¿Vienes el domingo?");
    r.tap("Enviar en la próxima conexión");
    assert!(!r.shell.syncing());
    r.shell.refresh();
    assert!(r.shell.syncing(), "the queued letter starts a sync");
    wait();
    assert_eq!(
        r.values("Para Ana González"),
        ["En revisión", "En revisión"],
        "both letters are at the dock"
    );
    running.stop();
}

/// A freshly flashed tablet holds only the facility root: the lock screen
/// says it is not set up and shows its code, nobody can sign in, and the
/// dock's "not enrolled" shows as such. Once IT enrols the code, the next
/// sync brings the unit's roster and the names appear.
fn a_fresh_tablet_shows_its_code_until_the_dock_enrols_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(ten_am()));
    demo::run_at(
        dir.path(),
        Path::new(ASSETS),
        &mut std::io::sink(),
        ten_am(),
        Box::new(clock.clone()),
    )
    .unwrap();
    let paths = DemoPaths::new(dir.path());
    let (tablet, _) = Tablet::open(
        DataDir::new(dir.path().join("fresh")),
        berth::tablet::TabletOptions {
            trust_file: Some(berth::facility::Facility::root_path(&paths.facility)),
            ..Default::default()
        },
        Box::new(clock.clone()),
    )
    .unwrap();
    let code = berth::trust::device_code(&tablet.device_public_key());
    let shell = Shell::new(tablet, Box::new(berth::ui::headless::FixedHardware)).unwrap();
    let r = Rig {
        _dir: dir,
        clock,
        shell,
    };
    r.shell.refresh();
    assert_eq!(r.value("Tablet code"), code.as_str());
    assert!(!r.has("Type my ID"), "nobody can sign in yet");
    assert!(!r.has("James Carter"));
    assert_eq!(r.value("Set-up status"), "Waiting for the dock.");

    let dock = berth::dock::Dock::open(&paths.facility, &paths.dock).unwrap();
    let running = berth::dock::server::start(&dock, "127.0.0.1:0", false).unwrap();
    let wait = || {
        for _ in 0..400 {
            r.shell.refresh();
            if !r.shell.syncing() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the sync did not finish");
    };
    r.shell.set_dock_address(Some(running.addr.to_string()));
    r.shell.set_docked(Some(true));
    assert!(r.shell.syncing(), "docked: it tries at once");
    wait();
    assert!(
        r.value("Set-up status")
            .contains("does not know this tablet"),
        "{}",
        r.value("Set-up status")
    );
    // The sync strip stays off the lock screen (it would move the keys).
    assert!(!r.has("Sync"));
    assert!(!r.has("Type my ID"));

    // IT reads the code off the screen and enrols it for the unit.
    let mut dock = berth::dock::Dock::open(&paths.facility, &paths.dock).unwrap();
    dock.enroll_by_code(
        &"cli:test".parse().unwrap(),
        &berth::domain::DeviceCode::parse(&r.value("Tablet code")).unwrap(),
        "b-east-09",
        &[demo::DEMO_UNIT.parse().unwrap()],
    )
    .unwrap();
    assert!(r.shell.sync_now());
    wait();
    assert!(r.has("James Carter"), "the roster came with the sync");
    assert!(r.has("Type my ID"));
    assert!(!r.has("Tablet code"), "the set-up panel is gone");
    r.enrol_james();
    assert!(r.has("Log out"), "and the first person is in");
    running.stop();
}

/// Slint has one platform per process, so the scenarios run in order on
/// one thread, each with a fresh tablet and window.
#[test]
fn shell_interactions() {
    i_slint_backend_testing::init_integration_test_with_mock_time();
    let scenarios: [(&str, fn()); 13] = [
        (
            "a fresh tablet until the dock enrols it",
            a_fresh_tablet_shows_its_code_until_the_dock_enrols_it,
        ),
        (
            "the keyboard hides, capitalizes and keeps the letter in sight",
            the_keyboard_hides_capitalizes_and_keeps_the_letter_in_sight,
        ),
        (
            "learning, reading and listening",
            learning_reading_and_listening_through_the_pages,
        ),
        (
            "syncing from the shell",
            syncing_from_the_shell_moves_letters_and_brings_replies,
        ),
        (
            "writing a letter",
            writing_a_letter_shows_the_count_and_its_state,
        ),
        (
            "typing an ID with the on-screen keyboard",
            typing_an_id_with_the_on_screen_keyboard,
        ),
        (
            "first login with an enrolment code, then a PIN",
            first_login_with_enrolment_code_then_setting_a_pin,
        ),
        (
            "wrong PINs and the back-off",
            wrong_pins_show_the_backoff_then_let_the_person_in,
        ),
        ("every tile and back", every_tile_opens_and_comes_back_home),
        ("switching to Spanish", switching_to_spanish_applies_at_once),
        (
            "curfew banner",
            curfew_shows_its_banner_and_closes_the_features,
        ),
        ("idle auto-lock", idle_session_locks_itself),
        (
            "power and volume buttons",
            power_button_locks_and_blanks_and_volume_keys_change_volume,
        ),
    ];
    for (name, scenario) in scenarios {
        eprintln!("scenario: {name}");
        scenario();
    }
}
