//! The narrow services the page controllers work over, bound to the
//! shared tablet and the person signed in. Each call locks the tablet for
//! its own store work only and never holds the lock across a callback
//! into Slint.

use std::sync::{Mutex, MutexGuard};

use chrono_tz::Tz;

use crate::audit::AuditEntry;
use crate::domain::content::CertificateDoc;
use crate::domain::messages::Contact;
use crate::tablet::{CoreError, Queued, Session, Tablet, ThreadItem, ThreadSummary};

fn lock(t: &Mutex<Tablet>) -> MutexGuard<'_, Tablet> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// The tablet's letters, for one person.
pub struct SessionLetters<'a> {
    tablet: &'a Mutex<Tablet>,
    session: &'a Session,
}

impl<'a> SessionLetters<'a> {
    pub fn new(tablet: &'a Mutex<Tablet>, session: &'a Session) -> Self {
        SessionLetters { tablet, session }
    }
}

impl super::messages::LettersService for SessionLetters<'_> {
    fn contacts(&self) -> Result<Vec<Contact>, CoreError> {
        lock(self.tablet).letters().contacts_for(self.session)
    }
    fn threads(&self) -> Result<Vec<ThreadSummary>, CoreError> {
        lock(self.tablet).letters().threads_for(self.session)
    }
    fn open_thread(&self, contact: &str) -> Result<Vec<ThreadItem>, CoreError> {
        lock(self.tablet)
            .letters()
            .open_thread(self.session, contact)
    }
    fn draft(&self, contact: &str) -> Result<Option<String>, CoreError> {
        lock(self.tablet).letters().draft(self.session, contact)
    }
    fn save_draft(&self, contact: &str, body: &str) -> Result<(), CoreError> {
        lock(self.tablet)
            .letters()
            .save_draft(self.session, contact, body)
    }
    fn queue(&self, contact: &str, body: &str) -> Result<Queued, CoreError> {
        lock(self.tablet)
            .letters()
            .queue_letter(self.session, contact, body)
    }
    fn limits(&self) -> Result<(u32, u32), CoreError> {
        let mut t = lock(self.tablet);
        let max = t
            .people()
            .effective_for(self.session.person())?
            .message_max_graphemes;
        let left = t
            .people()
            .decision_for(self.session.person())?
            .messages_left_today;
        Ok((max, left))
    }
    fn time_zone(&self) -> Tz {
        lock(self.tablet).people().time_zone()
    }
}

/// The person's own record: audit entries and certificates.
pub struct SessionRecord<'a> {
    tablet: &'a Mutex<Tablet>,
    session: &'a Session,
}

impl<'a> SessionRecord<'a> {
    pub fn new(tablet: &'a Mutex<Tablet>, session: &'a Session) -> Self {
        SessionRecord { tablet, session }
    }
}

impl super::record::RecordService for SessionRecord<'_> {
    fn entries(&self) -> Result<Vec<AuditEntry>, CoreError> {
        lock(self.tablet).people().audit_for(self.session)
    }
    fn certificates(&self) -> Result<Vec<CertificateDoc>, CoreError> {
        Ok(lock(self.tablet)
            .library()
            .certificates(self.session)?
            .into_iter()
            .map(|(c, _, _)| c)
            .collect())
    }
    fn time_zone(&self) -> Tz {
        lock(self.tablet).people().time_zone()
    }
}
