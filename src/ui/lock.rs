//! The lock screen: choose a name (or type an id), then the PIN pad; on a
//! first login the enrolment code, then a new PIN twice. The controller is
//! a state machine over a narrow login service and needs no window; `show`
//! is the one place its texts are chosen.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{AppWindow, LockAdapter, PersonChoice, Tr};
use crate::domain::login::check_new_pin;
use crate::tablet::{
    CoreError, EnrolmentTicket, LoginError, LoginOutcome, PersonSummary, Session, Tablet,
};

/// What a login gives: a session, or (first login) the right to set a PIN.
pub enum Entry<S, T> {
    Session(S),
    SetPin(T),
}

/// What the lock screen needs of the tablet.
pub trait LoginService {
    type Session;
    type Ticket;
    fn roster(&self) -> Result<Vec<PersonSummary>, CoreError>;
    fn login(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<Entry<Self::Session, Self::Ticket>, LoginError>;
    fn set_pin(&self, ticket: Self::Ticket, pin: &str) -> Result<Self::Session, CoreError>;
    fn time_zone(&self) -> Tz;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Choose,
    Pin,
    /// The one-time enrolment code.
    Code,
    NewPin,
    ConfirmPin,
}

impl Step {
    /// The page's name for the step.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Choose => "choose",
            Step::Pin => "pin",
            Step::Code => "code",
            Step::NewPin => "new-pin",
            Step::ConfirmPin => "confirm-pin",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockMessage {
    None,
    WrongPin,
    /// The one-time enrolment code was not right (not "ID and PIN": she
    /// typed a code, and has no PIN yet).
    WrongCode,
    /// Local time the back-off ends, `HH:MM`.
    LockedUntil(String),
    CannotCheck,
    PinRule,
    PinsDiffer,
    /// A PIN or code is being checked.
    Checking,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockView {
    pub step: Step,
    pub chosen_name: String,
    pub message: LockMessage,
}

/// The lock screen's controller.
pub struct LockController<L: LoginService> {
    svc: L,
    chosen: Option<(String, String)>,
    ticket: Option<L::Ticket>,
    new_pin: Option<String>,
    step: Step,
    /// The check out, by generation; a reset lets it go.
    checking: Option<u64>,
    generation: u64,
}

impl<L: LoginService> LockController<L> {
    pub fn new(svc: L) -> Self {
        LockController {
            svc,
            chosen: None,
            ticket: None,
            new_pin: None,
            step: Step::Choose,
            checking: None,
            generation: 0,
        }
    }

    fn view(&self, message: LockMessage) -> LockView {
        LockView {
            step: self.step,
            chosen_name: self
                .chosen
                .as_ref()
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            message,
        }
    }

    /// Back to "choose your name", forgetting any half-done login.
    pub fn reset(&mut self) -> LockView {
        self.chosen = None;
        self.ticket = None;
        self.new_pin = None;
        self.step = Step::Choose;
        self.checking = None;
        self.view(LockMessage::None)
    }

    /// The people to choose from.
    pub fn people(&self) -> Vec<PersonSummary> {
        self.svc
            .roster()
            .map_err(|e| tracing::error!("the roster: {e}"))
            .unwrap_or_default()
    }

    /// A name was tapped or an id typed. An id nobody has still gets a PIN
    /// pad: the screen never says which ids exist.
    pub fn choose(&mut self, id: &str) -> Option<LockView> {
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        let found = self
            .people()
            .into_iter()
            .find(|p| p.id.eq_ignore_ascii_case(id));
        let (name, enrolled) = found
            .map(|p| (p.display_name, p.enrolled))
            .unwrap_or_else(|| (id.to_string(), true));
        self.chosen = Some((id.to_string(), name));
        self.ticket = None;
        self.new_pin = None;
        self.step = if enrolled { Step::Pin } else { Step::Code };
        Some(self.view(LockMessage::None))
    }

    /// Digits from the pad, checked here and now. `Err(session)` is the
    /// way in: the person is signed in and the lock screen is done.
    pub fn submit(&mut self, digits: &str) -> Result<LockView, L::Session> {
        match self.begin(digits) {
            Ok(v) => Ok(v),
            Err(check) => {
                let answer = check.run(&self.svc);
                self.finish(answer)
            }
        }
    }

    /// Digits from the pad. What needs the tablet's key stretching (a PIN
    /// or code, or setting the new PIN) comes back as a [`Check`] to run
    /// off the UI thread and hand to [`finish`](Self::finish); until then
    /// the screen says it is checking and ignores the pad.
    pub fn begin(&mut self, digits: &str) -> Result<LockView, Check<L::Ticket>> {
        if self.checking.is_some() {
            return Ok(self.view(LockMessage::Checking));
        }
        let check = match self.step {
            Step::Choose => return Ok(self.view(LockMessage::None)),
            Step::Pin | Step::Code => {
                let Some((id, _)) = self.chosen.clone() else {
                    return Ok(self.view(LockMessage::None));
                };
                Work::Login {
                    id,
                    secret: digits.to_string(),
                }
            }
            Step::NewPin => {
                if check_new_pin(digits).is_err() {
                    return Ok(self.view(LockMessage::PinRule));
                }
                self.new_pin = Some(digits.to_string());
                self.step = Step::ConfirmPin;
                return Ok(self.view(LockMessage::None));
            }
            Step::ConfirmPin => {
                if self.new_pin.as_deref() != Some(digits) {
                    self.new_pin = None;
                    self.step = Step::NewPin;
                    return Ok(self.view(LockMessage::PinsDiffer));
                }
                let Some(ticket) = self.ticket.take() else {
                    return Ok(self.reset());
                };
                Work::SetPin {
                    ticket,
                    pin: digits.to_string(),
                }
            }
        };
        self.generation += 1;
        self.checking = Some(self.generation);
        Err(Check {
            generation: self.generation,
            work: check,
        })
    }

    /// The screen while a check is out.
    pub fn checking_view(&self) -> LockView {
        self.view(LockMessage::Checking)
    }

    /// Whether a check is out.
    pub fn checking(&self) -> bool {
        self.checking.is_some()
    }

    /// The answer to a [`Check`]. One that no longer matters (the person
    /// went back meanwhile) changes nothing.
    pub fn finish(
        &mut self,
        answer: Checked<L::Session, L::Ticket>,
    ) -> Result<LockView, L::Session> {
        if self.checking != Some(answer.generation) {
            tracing::info!("a login check finished after the person went back; ignored");
            return Ok(self.view(LockMessage::None));
        }
        self.checking = None;
        match answer.outcome {
            Outcome::Login(Ok(Entry::Session(s))) | Outcome::SetPin(Ok(s)) => {
                self.reset();
                Err(s)
            }
            Outcome::Login(Ok(Entry::SetPin(t))) => {
                self.ticket = Some(t);
                self.step = Step::NewPin;
                Ok(self.view(LockMessage::None))
            }
            Outcome::Login(Err(LoginError::Invalid)) => Ok(self.view(if self.step == Step::Code {
                LockMessage::WrongCode
            } else {
                LockMessage::WrongPin
            })),
            Outcome::Login(Err(LoginError::LockedOut { until })) => {
                let at = hm(until, self.svc.time_zone());
                Ok(self.view(LockMessage::LockedUntil(at)))
            }
            Outcome::Login(Err(LoginError::Unavailable(e))) => {
                tracing::error!("login: {e}");
                Ok(self.view(LockMessage::CannotCheck))
            }
            Outcome::SetPin(Err(e)) => {
                tracing::error!("set pin: {e}");
                // The ticket is spent: start again from the name.
                self.step = Step::Choose;
                Ok(self.view(LockMessage::CannotCheck))
            }
        }
    }
}

/// What a check does with the tablet.
pub enum Work<T> {
    Login { id: String, secret: String },
    SetPin { ticket: T, pin: String },
}

/// A login step's slow work (PBKDF2), to run on a worker thread.
pub struct Check<T> {
    generation: u64,
    work: Work<T>,
}

pub enum Outcome<S, T> {
    Login(Result<Entry<S, T>, LoginError>),
    SetPin(Result<S, CoreError>),
}

/// A check's answer, for [`LockController::finish`].
pub struct Checked<S, T> {
    generation: u64,
    outcome: Outcome<S, T>,
}

impl<T> Check<T> {
    pub fn run<L: LoginService<Ticket = T>>(self, svc: &L) -> Checked<L::Session, T> {
        let outcome = match self.work {
            Work::Login { id, secret } => Outcome::Login(svc.login(&id, &secret)),
            Work::SetPin { ticket, pin } => Outcome::SetPin(svc.set_pin(ticket, &pin)),
        };
        Checked {
            generation: self.generation,
            outcome,
        }
    }
}

fn hm(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%H:%M").to_string()
}

/// The tablet's login, shared with the sync worker and the login worker.
#[derive(Clone)]
pub struct TabletLogin(pub std::sync::Arc<std::sync::Mutex<Tablet>>);

impl TabletLogin {
    fn t(&self) -> std::sync::MutexGuard<'_, Tablet> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LoginService for TabletLogin {
    type Session = Session;
    type Ticket = EnrolmentTicket;
    fn roster(&self) -> Result<Vec<PersonSummary>, CoreError> {
        self.t().people().roster()
    }
    fn login(&self, id: &str, secret: &str) -> Result<Entry<Session, EnrolmentTicket>, LoginError> {
        Ok(match self.t().people().login(id, secret)? {
            LoginOutcome::Session(s) => Entry::Session(s),
            LoginOutcome::SetPin(t) => Entry::SetPin(t),
        })
    }
    fn set_pin(&self, ticket: EnrolmentTicket, pin: &str) -> Result<Session, CoreError> {
        self.t().people().set_pin(ticket, pin)
    }
    fn time_zone(&self) -> Tz {
        self.t().people().time_zone()
    }
}

/// The list of names.
pub fn show_people(ui: &AppWindow, people: &[PersonSummary]) {
    let rows: Vec<PersonChoice> = people
        .iter()
        .map(|p| PersonChoice {
            id: p.id.as_str().into(),
            name: p.display_name.as_str().into(),
            enrolled: p.enrolled,
        })
        .collect();
    ui.global::<LockAdapter>()
        .set_people(ModelRc::new(VecModel::from(rows)));
}

/// Where setting up a tablet with nobody on it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetUp {
    /// People are on the tablet: the usual lock screen.
    Done,
    /// Not in the dock, or no dock set.
    WaitingForDock,
    Syncing,
    /// The dock said it does not know this tablet.
    NotEnrolled,
    /// The last try failed for another reason.
    Failed,
}

impl SetUp {
    pub fn from(has_people: bool, docked: bool, sync: &super::status::SyncShown) -> SetUp {
        use super::status::SyncShown;
        if has_people {
            return SetUp::Done;
        }
        match sync {
            SyncShown::Running(_) => SetUp::Syncing,
            SyncShown::NotEnrolled => SetUp::NotEnrolled,
            SyncShown::Failed if docked => SetUp::Failed,
            _ => SetUp::WaitingForDock,
        }
    }
}

/// The "not set up" panel: the one place its texts are chosen.
pub fn show_set_up(ui: &AppWindow, set_up: SetUp, code: &crate::domain::DeviceCode) {
    let g = ui.global::<LockAdapter>();
    let tr = ui.global::<Tr>();
    g.set_set_up_needed(set_up != SetUp::Done);
    g.set_device_code(code.as_str().into());
    g.set_set_up_status(match set_up {
        SetUp::Done => SharedString::default(),
        SetUp::WaitingForDock => tr.invoke_set_up_no_dock(),
        SetUp::Syncing => tr.invoke_set_up_syncing(),
        SetUp::NotEnrolled => tr.invoke_not_enrolled(),
        SetUp::Failed => tr.invoke_set_up_failed(),
    });
}

/// Show a step: the one place the lock screen's messages are chosen.
pub fn show(ui: &AppWindow, v: &LockView) {
    let g = ui.global::<LockAdapter>();
    let tr = ui.global::<Tr>();
    g.set_step(v.step.as_str().into());
    g.set_chosen_name(v.chosen_name.as_str().into());
    g.set_checking(v.message == LockMessage::Checking);
    g.set_message(match &v.message {
        LockMessage::None => SharedString::default(),
        LockMessage::WrongPin => tr.invoke_wrong_pin(),
        LockMessage::WrongCode => tr.invoke_wrong_code(),
        LockMessage::LockedUntil(at) => tr.invoke_locked_until(at.as_str().into()),
        LockMessage::CannotCheck => tr.invoke_cannot_check(),
        LockMessage::PinRule => tr.invoke_pin_rule(),
        LockMessage::PinsDiffer => tr.invoke_pins_differ(),
        LockMessage::Checking => tr.invoke_checking(),
    });
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// People in memory: `B20417` has PIN 4821; `A12345` enrols with
    /// 731904; a third wrong try locks the id out until 15:30 UTC.
    #[derive(Default)]
    struct Memory {
        failures: RefCell<u32>,
        pins_set: RefCell<Vec<String>>,
    }

    impl LoginService for &Memory {
        type Session = String;
        type Ticket = String;
        fn roster(&self) -> Result<Vec<PersonSummary>, CoreError> {
            Ok(vec![
                PersonSummary {
                    id: "A12345".into(),
                    display_name: "María González".into(),
                    language: "es".into(),
                    enrolled: false,
                },
                PersonSummary {
                    id: "B20417".into(),
                    display_name: "James Carter".into(),
                    language: "en".into(),
                    enrolled: true,
                },
            ])
        }
        fn login(&self, id: &str, secret: &str) -> Result<Entry<String, String>, LoginError> {
            // Ids match without regard to case, as on the tablet.
            match (id.to_ascii_uppercase().as_str(), secret) {
                ("B20417", "4821") => Ok(Entry::Session("B20417".into())),
                ("A12345", "731904") => Ok(Entry::SetPin("A12345".into())),
                _ => {
                    *self.failures.borrow_mut() += 1;
                    if *self.failures.borrow() >= 3 {
                        Err(LoginError::LockedOut {
                            until: "2026-06-03T15:30:00Z".parse().unwrap(),
                        })
                    } else {
                        Err(LoginError::Invalid)
                    }
                }
            }
        }
        fn set_pin(&self, ticket: String, pin: &str) -> Result<String, CoreError> {
            self.pins_set.borrow_mut().push(format!("{ticket}:{pin}"));
            Ok(ticket)
        }
        fn time_zone(&self) -> Tz {
            chrono_tz::America::Chicago
        }
    }

    #[test]
    fn a_known_name_gets_the_pin_pad_and_the_right_pin_signs_in() {
        let m = Memory::default();
        let mut c = LockController::new(&m);
        let v = c.choose("b20417").unwrap();
        assert_eq!(
            (v.step, v.chosen_name.as_str()),
            (Step::Pin, "James Carter")
        );
        assert_eq!(c.submit("4821").err().as_deref(), Some("B20417"));
        assert_eq!(c.reset().step, Step::Choose);
    }

    #[test]
    fn an_unknown_id_looks_like_a_known_one_and_wrong_pins_back_off() {
        let m = Memory::default();
        let mut c = LockController::new(&m);
        let v = c.choose("Z99999").unwrap();
        assert_eq!((v.step, v.chosen_name.as_str()), (Step::Pin, "Z99999"));
        assert_eq!(c.submit("1111").unwrap().message, LockMessage::WrongPin);
        assert_eq!(c.submit("1111").unwrap().message, LockMessage::WrongPin);
        assert_eq!(
            c.submit("1111").unwrap().message,
            LockMessage::LockedUntil("10:30".into())
        );
        assert!(c.choose("   ").is_none(), "nothing typed, nothing chosen");
    }

    #[test]
    fn first_login_takes_the_code_then_a_new_pin_twice() {
        let m = Memory::default();
        let mut c = LockController::new(&m);
        assert_eq!(c.choose("A12345").unwrap().step, Step::Code);
        // A wrong code is called a code, not "ID and PIN".
        let v = c.submit("739104").unwrap();
        assert_eq!((v.step, v.message), (Step::Code, LockMessage::WrongCode));
        assert_eq!(c.submit("731904").unwrap().step, Step::NewPin);
        let v = c.submit("1234").unwrap();
        assert_eq!((v.step, v.message), (Step::NewPin, LockMessage::PinRule));
        assert_eq!(c.submit("4821").unwrap().step, Step::ConfirmPin);
        let v = c.submit("4822").unwrap();
        assert_eq!((v.step, v.message), (Step::NewPin, LockMessage::PinsDiffer));
        assert_eq!(c.submit("4821").unwrap().step, Step::ConfirmPin);
        assert_eq!(c.submit("4821").err().as_deref(), Some("A12345"));
        assert_eq!(*m.pins_set.borrow(), ["A12345:4821"]);
    }

    #[test]
    fn a_check_runs_apart_and_the_pad_waits_for_it() {
        let m = Memory::default();
        let mut c = LockController::new(&m);
        c.choose("B20417").unwrap();
        let Err(check) = c.begin("4821") else {
            panic!("a PIN needs a check")
        };
        assert!(c.checking());
        let Ok(v) = c.begin("9999") else {
            panic!("no second check while one is out")
        };
        assert_eq!(v.message, LockMessage::Checking, "the pad waits");
        let answer = check.run(&&m);
        assert_eq!(c.finish(answer).err().as_deref(), Some("B20417"));
        assert!(!c.checking());
    }

    #[test]
    fn an_answer_after_going_back_changes_nothing() {
        let m = Memory::default();
        let mut c = LockController::new(&m);
        c.choose("B20417").unwrap();
        let Err(check) = c.begin("4821") else {
            panic!()
        };
        c.reset();
        c.choose("Z99999").unwrap();
        let v = c.finish(check.run(&&m)).expect("not signed in");
        assert_eq!((v.step, v.chosen_name.as_str()), (Step::Pin, "Z99999"));
        // The new choice gets its own check.
        assert!(c.begin("1111").is_err());
    }
}
