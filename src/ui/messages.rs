//! The Messages page: its controller over a narrow letters service, and
//! the one place that turns the page's view into adapter properties and
//! translated text. The controller needs no window: its tests run it over
//! an in-memory service.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{AppWindow, ContactRow, KeyboardAdapter, LetterRow, MessagesAdapter, RequestRow, Tr};
use crate::domain::contacts::{AskRefusal, RequestState};
use crate::domain::messages::{
    Contact, LetterState, OutState, SendRefusal, graphemes, starts_sentence,
};
use crate::tablet::{ContactRequestRow, CoreError, Queued, Refusal, ThreadItem, ThreadSummary};

/// What the Messages page needs of the tablet, for the person signed in.
pub trait LettersService {
    fn contacts(&self) -> Result<Vec<Contact>, CoreError>;
    fn threads(&self) -> Result<Vec<ThreadSummary>, CoreError>;
    /// One thread, oldest first; opening it marks it read.
    fn open_thread(&self, contact: &str) -> Result<Vec<ThreadItem>, CoreError>;
    fn draft(&self, contact: &str) -> Result<Option<String>, CoreError>;
    fn save_draft(&self, contact: &str, body: &str) -> Result<(), CoreError>;
    fn queue(&self, contact: &str, body: &str) -> Result<Queued, CoreError>;
    /// The letter length limit in graphemes, and letters left today.
    fn limits(&self) -> Result<(u32, u32), CoreError>;
    fn time_zone(&self) -> Tz;
    /// The person's contact requests, newest first.
    fn requests(&self) -> Result<Vec<ContactRequestRow>, CoreError>;
    /// Ask for a new contact; queued for the next dock.
    fn ask(&self, name: &str, relationship: &str, email: &str) -> Result<String, CoreError>;
    /// Ask to take a contact off the list; queued for the next dock.
    fn remove(&self, contact: &str) -> Result<String, CoreError>;
}

/// The line under the New contact form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AskNotice {
    None,
    /// The request waits for the next dock.
    Queued,
    /// The removal waits for the next dock.
    RemoveQueued,
    Refused(AskRefusal),
    /// Letters (and so requests) are closed now.
    Closed,
    Failed,
}

/// One contact request as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView {
    pub name: String,
    pub remove: bool,
    /// "primo · luis@example.org".
    pub detail: String,
    pub state: RequestState,
    pub reason: String,
}

fn request_view(r: ContactRequestRow) -> RequestView {
    let detail = [r.relationship.as_str(), r.email.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    RequestView {
        name: r.name,
        remove: r.kind == "remove",
        detail,
        state: r.state,
        reason: r.reason,
    }
}

/// How a request's state is coloured.
pub fn request_tone(state: RequestState) -> Tone {
    match state {
        RequestState::Active => Tone::Done,
        RequestState::Refused | RequestState::Removed => Tone::Problem,
        _ => Tone::Waiting,
    }
}

/// The line under the letter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    None,
    Queued,
    TooLong { count: usize, max: usize },
    QuotaUsed,
    CannotSend,
}

/// How a letter's state is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Waiting,
    Done,
    Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetterView {
    pub incoming: bool,
    pub body: String,
    /// Incoming: the email's subject, or "".
    pub subject: String,
    /// Incoming: attachments the gateway left out.
    pub removed: Vec<crate::domain::sync::RemovedPart>,
    pub state: LetterState,
    pub reason: String,
    pub tone: Tone,
    /// Local time, `dd/mm HH:MM`.
    pub when: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactView {
    pub contact: Contact,
    pub unread: u32,
}

/// The counter under the letter and the day's quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub count: usize,
    pub max: u32,
    pub left_today: u32,
}

impl Counter {
    pub fn over(self) -> bool {
        self.count > self.max as usize
    }
}

/// Everything the page shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessagesView {
    pub contacts: Vec<ContactView>,
    pub selected: Option<Contact>,
    pub text: String,
    /// Newest first.
    pub letters: Vec<LetterView>,
    pub count: usize,
    pub max: u32,
    pub left_today: u32,
    pub notice: Notice,
    /// Newest first.
    pub requests: Vec<RequestView>,
    pub ask_notice: AskNotice,
}

pub fn tone(state: LetterState) -> Tone {
    match state {
        LetterState::Out(OutState::Sent | OutState::Delivered) | LetterState::Received => {
            Tone::Done
        }
        LetterState::Out(OutState::Rejected | OutState::Returned) => Tone::Problem,
        LetterState::Out(_) => Tone::Waiting,
    }
}

fn log<T>(what: &str, r: Result<T, CoreError>) -> Option<T> {
    r.map_err(|e| tracing::error!("{what}: {e}")).ok()
}

/// The Messages page's controller.
pub struct MessagesController<S: LettersService> {
    svc: S,
}

impl<S: LettersService> MessagesController<S> {
    pub fn new(svc: S) -> Self {
        MessagesController { svc }
    }

    /// The page with `select` (or the first contact) open: its draft, its
    /// thread (now read) and the counter.
    pub fn open(&self, select: Option<&str>) -> MessagesView {
        let contacts = log("contacts", self.svc.contacts()).unwrap_or_default();
        let chosen = select
            .and_then(|id| contacts.iter().find(|c| c.id.as_str() == id))
            .or_else(|| contacts.first())
            .cloned();
        let threads = log("threads", self.svc.threads()).unwrap_or_default();
        let contacts = contacts
            .into_iter()
            .map(|c| {
                let opened = chosen.as_ref().is_some_and(|ch| ch.id == c.id);
                let unread = threads
                    .iter()
                    .find(|t| t.contact == c.id.as_str())
                    .map(|t| t.unread)
                    .filter(|_| !opened)
                    .unwrap_or(0);
                ContactView { contact: c, unread }
            })
            .collect();
        let (text, items) = match &chosen {
            Some(c) => (
                log("draft", self.svc.draft(c.id.as_str()))
                    .flatten()
                    .unwrap_or_default(),
                log("thread", self.svc.open_thread(c.id.as_str())).unwrap_or_default(),
            ),
            None => (String::new(), Vec::new()),
        };
        let tz = self.svc.time_zone();
        let letters = items
            .into_iter()
            .rev()
            .map(|r| LetterView {
                incoming: !r.outgoing,
                tone: tone(r.state),
                when: DateTime::parse_from_rfc3339(&r.at)
                    .map(|t| {
                        t.with_timezone(&Utc)
                            .with_timezone(&tz)
                            .format("%d/%m %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
                body: r.body,
                subject: r.subject,
                removed: r.removed,
                state: r.state,
                reason: r.reason,
            })
            .collect();
        let (max, left_today) = log("limits", self.svc.limits()).unwrap_or((0, 0));
        MessagesView {
            contacts,
            selected: chosen,
            count: graphemes(&text),
            text,
            letters,
            max,
            left_today,
            notice: Notice::None,
            requests: log("requests", self.svc.requests())
                .unwrap_or_default()
                .into_iter()
                .map(request_view)
                .collect(),
            ask_notice: AskNotice::None,
        }
    }

    fn ask_notice(e: &CoreError) -> AskNotice {
        match e {
            CoreError::Refused(Refusal::Ask(r)) => AskNotice::Refused(r.clone()),
            CoreError::Refused(Refusal::Closed(..)) => AskNotice::Closed,
            _ => {
                tracing::warn!("contact request refused: {e}");
                AskNotice::Failed
            }
        }
    }

    /// Ask for a new contact. On success the form is cleared (the caller
    /// clears its fields when `ask_notice` is `Queued`); on a refusal what
    /// was typed stays, with the reason.
    pub fn ask(&self, current: &str, name: &str, relationship: &str, email: &str) -> MessagesView {
        let notice = match self.svc.ask(name, relationship, email) {
            Ok(_) => AskNotice::Queued,
            Err(e) => Self::ask_notice(&e),
        };
        let mut v = self.open(Some(current));
        v.ask_notice = notice;
        v
    }

    /// Ask to remove `contact`.
    pub fn remove(&self, contact: &str) -> MessagesView {
        let notice = match self.svc.remove(contact) {
            Ok(_) => AskNotice::RemoveQueued,
            Err(e) => Self::ask_notice(&e),
        };
        let mut v = self.open(Some(contact));
        v.ask_notice = notice;
        v
    }

    /// The letter changed: save the draft (nothing typed is lost) and
    /// count it.
    pub fn edited(&self, contact: &str, text: &str) -> Counter {
        log("saving a draft", self.svc.save_draft(contact, text));
        let (max, left_today) = log("limits", self.svc.limits()).unwrap_or((0, 0));
        Counter {
            count: graphemes(text),
            max,
            left_today,
        }
    }

    /// Queue the letter. On success the page reopens on the thread with
    /// the letter in it; on a refusal the text stays, with the reason.
    pub fn send(&self, contact: &str, text: &str) -> MessagesView {
        match self.svc.queue(contact, text) {
            Ok(q) => {
                let mut v = self.open(Some(contact));
                v.text.clear();
                v.count = 0;
                v.left_today = q.letters_left_today;
                v.notice = Notice::Queued;
                v
            }
            Err(e) => {
                let notice = match &e {
                    CoreError::Refused(Refusal::Letter(SendRefusal::TooLong { count, max })) => {
                        Notice::TooLong {
                            count: *count,
                            max: *max,
                        }
                    }
                    CoreError::Refused(Refusal::Letter(SendRefusal::QuotaUsed { .. })) => {
                        Notice::QuotaUsed
                    }
                    _ => {
                        tracing::warn!("letter refused: {e}");
                        Notice::CannotSend
                    }
                };
                let mut v = self.open(Some(contact));
                v.text = text.to_string();
                v.count = graphemes(text);
                v.notice = notice;
                v
            }
        }
    }
}

/// Show a view on the page: the one place its texts are chosen.
pub fn show(ui: &AppWindow, v: &MessagesView) {
    let g = ui.global::<MessagesAdapter>();
    let tr = ui.global::<Tr>();
    let rows: Vec<ContactRow> = v
        .contacts
        .iter()
        .map(|c| ContactRow {
            id: c.contact.id.as_str().into(),
            name: c.contact.name.as_str().into(),
            relationship: c.contact.relationship.as_str().into(),
            attorney: c.contact.attorney,
            unread: c.unread as i32,
        })
        .collect();
    g.set_contacts(ModelRc::new(VecModel::from(rows)));
    if let Some(ch) = &v.selected {
        g.set_selected(ch.id.as_str().into());
        g.set_selected_name(ch.name.as_str().into());
    }
    let name: SharedString = v
        .selected
        .as_ref()
        .map(|c| c.name.as_str().into())
        .unwrap_or_default();
    let letters: Vec<LetterRow> = v
        .letters
        .iter()
        .map(|l| LetterRow {
            who: if l.incoming {
                tr.invoke_from(name.clone())
            } else {
                tr.invoke_to(name.clone())
            },
            preview: letter_text(&tr, l).into(),
            state: tr.invoke_letter_state(l.state.as_str().into(), l.reason.as_str().into()),
            tone: match l.tone {
                Tone::Waiting => "waiting",
                Tone::Done => "done",
                Tone::Problem => "problem",
            }
            .into(),
            when: l.when.as_str().into(),
            incoming: l.incoming,
        })
        .collect();
    g.set_letters(ModelRc::new(VecModel::from(letters)));
    g.set_text(v.text.as_str().into());
    show_counter(
        ui,
        Counter {
            count: v.count,
            max: v.max,
            left_today: v.left_today,
        },
    );
    capitalize_next(ui, &v.text);
    let requests: Vec<RequestRow> = v
        .requests
        .iter()
        .map(|r| RequestRow {
            name: if r.remove {
                tr.invoke_request_remove(r.name.as_str().into())
            } else {
                r.name.as_str().into()
            },
            detail: r.detail.as_str().into(),
            state: tr.invoke_request_state(r.state.as_str().into(), r.reason.as_str().into()),
            tone: match request_tone(r.state) {
                Tone::Waiting => "waiting",
                Tone::Done => "done",
                Tone::Problem => "problem",
            }
            .into(),
        })
        .collect();
    g.set_requests(ModelRc::new(VecModel::from(requests)));
    g.set_ask_notice_good(matches!(
        v.ask_notice,
        AskNotice::Queued | AskNotice::RemoveQueued
    ));
    g.set_ask_notice(match &v.ask_notice {
        AskNotice::None => SharedString::default(),
        AskNotice::Queued => tr.invoke_ask_queued(),
        AskNotice::RemoveQueued => tr.invoke_remove_queued(),
        AskNotice::Refused(r) => match r {
            AskRefusal::NoName => tr.invoke_ask_no_name(),
            AskRefusal::NameTooLong | AskRefusal::RelationshipTooLong => tr.invoke_ask_too_long(),
            AskRefusal::BadEmail(_) => tr.invoke_ask_bad_email(),
            AskRefusal::AlreadyAContact(n) => tr.invoke_ask_already_contact(n.as_str().into()),
            AskRefusal::AlreadyAsked(_) => tr.invoke_ask_already_asked(),
            AskRefusal::TooManyOpen => tr.invoke_ask_too_many(),
        },
        AskNotice::Closed => tr.invoke_ask_closed(),
        AskNotice::Failed => tr.invoke_ask_failed(),
    });
    if v.ask_notice == AskNotice::Queued {
        g.set_ask_name(SharedString::default());
        g.set_ask_relationship(SharedString::default());
        g.set_ask_email(SharedString::default());
    }
    g.set_notice_good(v.notice == Notice::Queued);
    g.set_notice(match &v.notice {
        Notice::None => SharedString::default(),
        Notice::Queued => tr.invoke_letter_queued(),
        Notice::TooLong { count, max } => tr.invoke_too_long(*count as i32, *max as i32),
        Notice::QuotaUsed => tr.invoke_quota_used(),
        Notice::CannotSend => tr.invoke_cannot_send(),
    });
}

/// What a letter card shows: for mail from a contact, the subject above
/// the text, and below it what the gateway left out.
fn letter_text(tr: &Tr<'_>, l: &LetterView) -> String {
    let mut out = String::new();
    if !l.subject.trim().is_empty() {
        out.push_str(&tr.invoke_subject(l.subject.as_str().into()));
        out.push_str("\n\n");
    }
    out.push_str(&l.body);
    if !l.removed.is_empty() {
        let list: Vec<String> = l
            .removed
            .iter()
            .map(|r| format!("{}, {}", r.name, crate::domain::sync::human_size(r.bytes)))
            .collect();
        out.push_str("\n\n");
        out.push_str(&tr.invoke_removed_parts(l.removed.len() as i32, list.join("; ").into()));
    }
    out
}

/// A letter starts with a capital, and so does each sentence: the
/// keyboard's capital key is turned on for the next letter.
pub fn capitalize_next(ui: &AppWindow, text: &str) {
    ui.global::<KeyboardAdapter>()
        .set_shift(starts_sentence(text));
}

/// The counter and the day's quota.
pub fn show_counter(ui: &AppWindow, c: Counter) {
    let g = ui.global::<MessagesAdapter>();
    g.set_counter(format!("{} / {}", c.count, c.max).into());
    g.set_over_limit(c.over());
    g.set_quota(ui.global::<Tr>().invoke_letters_left(c.left_today as i32));
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::messages::{ContactId, check_send};

    /// Letters in memory, with the tablet's rules for length and quota.
    struct Memory {
        contacts: Vec<Contact>,
        drafts: RefCell<BTreeMap<String, String>>,
        sent: RefCell<Vec<(String, String)>>,
        inbox: Vec<(String, String, bool)>,
        max: u32,
        quota: u32,
        asked: RefCell<Vec<ContactRequestRow>>,
    }

    fn contact(id: &str, name: &str) -> Contact {
        Contact {
            id: ContactId::parse(id).unwrap(),
            name: name.into(),
            email: format!("{id}@example.org"),
            relationship: "hermana".into(),
            attorney: false,
        }
    }

    fn memory() -> Memory {
        Memory {
            contacts: vec![contact("ana", "Ana González"), contact("tio", "Tío Luis")],
            drafts: RefCell::default(),
            sent: RefCell::default(),
            inbox: vec![("tio".into(), "Hola sobrina".into(), true)],
            max: 20,
            quota: 2,
            asked: RefCell::default(),
        }
    }

    impl LettersService for &Memory {
        fn contacts(&self) -> Result<Vec<Contact>, CoreError> {
            Ok(self.contacts.clone())
        }
        fn threads(&self) -> Result<Vec<ThreadSummary>, CoreError> {
            Ok(self
                .inbox
                .iter()
                .map(|(c, _, unread)| ThreadSummary {
                    contact: c.clone(),
                    unread: u32::from(*unread),
                    letters: 1,
                    last_at: "2026-06-03T15:00:00Z".into(),
                })
                .collect())
        }
        fn open_thread(&self, contact: &str) -> Result<Vec<ThreadItem>, CoreError> {
            let mut out: Vec<ThreadItem> = self
                .inbox
                .iter()
                .filter(|(c, _, _)| c == contact)
                .map(|(_, body, _)| ThreadItem {
                    id: "in-1".into(),
                    outgoing: false,
                    attorney: false,
                    body: body.clone(),
                    state: LetterState::Received,
                    reason: String::new(),
                    at: "2026-06-03T13:00:00Z".into(),
                    unread: true,
                    subject: String::new(),
                    removed: Vec::new(),
                })
                .collect();
            for (i, (c, body)) in self.sent.borrow().iter().enumerate() {
                if c == contact {
                    out.push(ThreadItem {
                        id: format!("out-{i}"),
                        outgoing: true,
                        attorney: false,
                        body: body.clone(),
                        state: LetterState::Out(OutState::Queued),
                        reason: String::new(),
                        at: "2026-06-03T15:00:00Z".into(),
                        unread: false,
                        subject: String::new(),
                        removed: Vec::new(),
                    });
                }
            }
            Ok(out)
        }
        fn draft(&self, contact: &str) -> Result<Option<String>, CoreError> {
            Ok(self.drafts.borrow().get(contact).cloned())
        }
        fn save_draft(&self, contact: &str, body: &str) -> Result<(), CoreError> {
            self.drafts.borrow_mut().insert(contact.into(), body.into());
            Ok(())
        }
        fn queue(&self, contact: &str, body: &str) -> Result<Queued, CoreError> {
            let sent = self.sent.borrow().len() as u32;
            check_send(body, self.max, sent, self.quota, false).map_err(Refusal::from)?;
            self.sent.borrow_mut().push((contact.into(), body.into()));
            self.drafts.borrow_mut().remove(contact);
            Ok(Queued {
                id: "x".into(),
                seq: u64::from(sent) + 1,
                letters_left_today: self.quota - sent - 1,
            })
        }
        fn limits(&self) -> Result<(u32, u32), CoreError> {
            Ok((self.max, self.quota - self.sent.borrow().len() as u32))
        }
        fn time_zone(&self) -> Tz {
            chrono_tz::America::Chicago
        }
        fn requests(&self) -> Result<Vec<ContactRequestRow>, CoreError> {
            Ok(self.asked.borrow().clone())
        }
        fn ask(&self, name: &str, relationship: &str, email: &str) -> Result<String, CoreError> {
            let (name, relationship, email) =
                crate::domain::contacts::check_add(name, relationship, email)
                    .map_err(Refusal::from)?;
            let id = format!("r-{}", self.asked.borrow().len());
            self.asked.borrow_mut().insert(
                0,
                ContactRequestRow {
                    id: id.clone(),
                    person: "A1".into(),
                    kind: "add".into(),
                    name,
                    relationship,
                    email,
                    contact: String::new(),
                    state: RequestState::Asked,
                    reason: String::new(),
                    asked_at: "2026-06-03T15:00:00Z".into(),
                },
            );
            Ok(id)
        }
        fn remove(&self, contact: &str) -> Result<String, CoreError> {
            Err(Refusal::from(SendRefusal::NotAContact(contact.into())).into())
        }
    }

    #[test]
    fn opening_shows_the_first_contact_its_draft_and_the_unread_elsewhere() {
        let m = memory();
        m.drafts
            .borrow_mut()
            .insert("ana".into(), "Querida Ana".into());
        let v = MessagesController::new(&m).open(None);
        assert_eq!(v.selected.unwrap().id.as_str(), "ana");
        assert_eq!((v.text.as_str(), v.count), ("Querida Ana", 11));
        assert_eq!(
            v.contacts.iter().map(|c| c.unread).collect::<Vec<_>>(),
            [0, 1]
        );
        assert_eq!((v.max, v.left_today, v.notice), (20, 2, Notice::None));
    }

    #[test]
    fn opening_a_thread_reads_it_and_shows_local_times() {
        let m = memory();
        let v = MessagesController::new(&m).open(Some("tio"));
        assert_eq!(v.contacts[1].unread, 0, "the open thread is read");
        assert_eq!(v.letters.len(), 1);
        let l = &v.letters[0];
        assert!(l.incoming);
        assert_eq!((l.tone, l.when.as_str()), (Tone::Done, "03/06 08:00"));
    }

    #[test]
    fn typing_saves_the_draft_and_counts_graphemes() {
        let m = memory();
        let c = MessagesController::new(&m);
        let n = c.edited("ana", "¡Hola, mamá! 👍🏽");
        assert_eq!((n.count, n.over(), n.left_today), (14, false, 2));
        assert_eq!(m.drafts.borrow()["ana"], "¡Hola, mamá! 👍🏽");
        let n = c.edited("ana", &"a".repeat(21));
        assert_eq!((n.count, n.over()), (21, true));
    }

    #[test]
    fn sending_queues_then_refusals_keep_the_text_with_their_reason() {
        let m = memory();
        let c = MessagesController::new(&m);
        let v = c.send("ana", "Te quiero");
        assert_eq!(
            (v.notice.clone(), v.text.as_str(), v.left_today),
            (Notice::Queued, "", 1)
        );
        assert_eq!(v.letters[0].state, LetterState::Out(OutState::Queued));
        let long = "a".repeat(21);
        let v = c.send("ana", &long);
        assert_eq!(v.notice, Notice::TooLong { count: 21, max: 20 });
        assert_eq!(v.text, long, "a refused letter is not lost");
        c.send("ana", "otra");
        let v = c.send("ana", "y otra");
        assert_eq!(v.notice, Notice::QuotaUsed);
        let v = c.send("ana", "   ");
        assert_eq!(v.notice, Notice::CannotSend);
    }

    #[test]
    fn asking_for_a_contact_queues_it_or_keeps_what_was_typed_with_the_reason() {
        let m = memory();
        let c = MessagesController::new(&m);
        let v = c.ask("ana", "Luis", "primo", "luis.example.org");
        assert!(matches!(
            v.ask_notice,
            AskNotice::Refused(AskRefusal::BadEmail(_))
        ));
        assert!(v.requests.is_empty(), "nothing was queued");
        let v = c.ask("ana", "", "", "luis@example.org");
        assert_eq!(v.ask_notice, AskNotice::Refused(AskRefusal::NoName));
        let v = c.ask("ana", " Luis  Pérez", "primo", "Luis@Example.org");
        assert_eq!(v.ask_notice, AskNotice::Queued);
        assert_eq!(v.requests.len(), 1);
        let r = &v.requests[0];
        assert_eq!(
            (r.name.as_str(), r.detail.as_str(), r.state),
            (
                "Luis Pérez",
                "primo · luis@example.org",
                RequestState::Asked
            )
        );
        assert_eq!(request_tone(RequestState::Refused), Tone::Problem);
        assert_eq!(request_tone(RequestState::Active), Tone::Done);
        assert_eq!(request_tone(RequestState::Invited), Tone::Waiting);
        let v = c.remove("nobody");
        assert_eq!(v.ask_notice, AskNotice::Failed);
    }

    #[test]
    fn states_are_coloured_by_what_they_mean() {
        assert_eq!(tone(LetterState::Out(OutState::Rejected)), Tone::Problem);
        assert_eq!(tone(LetterState::Out(OutState::Returned)), Tone::Problem);
        assert_eq!(tone(LetterState::Out(OutState::InReview)), Tone::Waiting);
        assert_eq!(tone(LetterState::Received), Tone::Done);
    }
}
