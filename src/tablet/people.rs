//! People, login, signed documents (roster and policy), the policy
//! decision for a person, and the audit log, on the tablet.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Tablet;
use crate::audit::{self, AuditEntry, ChainBreak, kind};
use crate::domain::login::{check_new_pin, locked_until};
use crate::domain::policy::{PolicyDecision, PolicyDoc, Usage, decide, effective, scope_rank};
use crate::store::PersonRow;
use crate::trust::secret::{self, Stretched};
use crate::trust::{Envelope, MAX_ENVELOPE_BYTES, payload_type, sha256};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Install(#[from] crate::install::Error),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Trust(#[from] crate::trust::Error),
    #[error(transparent)]
    Rule(#[from] crate::domain::Error),
    #[error("{0}")]
    Refused(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Most audit entries in one export.
pub const AUDIT_EXPORT_MAX: usize = 1000;

/// Why a login did not succeed. Deliberately the same for an unknown id and
/// a wrong secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("That ID and PIN do not match. Check both and try again.")]
    Invalid,
    #[error("Too many tries. You can try again at {until}.")]
    LockedOut { until: DateTime<Utc> },
    #[error("The tablet could not check your PIN ({0}). Ask staff for help.")]
    Unavailable(String),
}

/// A logged-in person. Dropping it (or [`Tablet::logout`]) forgets them.
#[derive(Debug, PartialEq, Eq)]
pub struct Session {
    pub person: String,
    pub display_name: String,
    pub language: String,
    pub started: DateTime<Utc>,
}

/// Proof that a person just entered their valid enrolment code. Only
/// [`Tablet::login`] makes one; [`Tablet::set_pin`] consumes it.
#[derive(Debug, PartialEq, Eq)]
pub struct EnrolmentTicket {
    person: String,
    enrolment_hash: String,
}

impl EnrolmentTicket {
    pub fn person(&self) -> &str {
        &self.person
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    Session(Session),
    /// First login: the enrolment code was right; choose a PIN next.
    SetPin(EnrolmentTicket),
}

/// What accepting a signed document did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocOutcome {
    Accepted {
        kind: &'static str,
        scope: String,
        version: u64,
    },
    AlreadyCurrent {
        kind: &'static str,
        scope: String,
        version: u64,
    },
}

/// One row of "choose your name" on the lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonSummary {
    pub id: String,
    pub display_name: String,
    pub language: String,
    pub enrolled: bool,
}

fn enrolment_stretch(p: &PersonRow) -> Option<Stretched> {
    let mut salt = [0u8; 16];
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&p.enrolment.salt, &mut salt).ok()?;
    hex::decode_to_slice(&p.enrolment.hash, &mut hash).ok()?;
    Some(Stretched {
        salt,
        iterations: p.enrolment.iterations,
        hash,
    })
}

/// The key failed logins are counted under: the typed id, normalised.
fn attempt_key(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .take(40)
        .collect::<String>()
        .to_lowercase()
}

impl Tablet {
    // ---- documents ----

    /// Verify and store a roster or policy (from the dock or a USB stick).
    pub fn accept_document(&mut self, bytes: &[u8]) -> Result<DocOutcome> {
        let now = self.trusted_now()?;
        let result = self.accept_document_inner(bytes, now);
        if let Err(e) = &result {
            let _ = self
                .store
                .audit(now, None, kind::DOCUMENT_REFUSED, &e.to_string());
        }
        result
    }

    fn accept_document_inner(&mut self, bytes: &[u8], now: DateTime<Utc>) -> Result<DocOutcome> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(crate::trust::Error::TooLarge {
                size: bytes.len(),
                cap: MAX_ENVELOPE_BYTES,
            }
            .into());
        }
        let env = Envelope::from_bytes(bytes)?;
        let (kind_name, scope, version, payload_hash, roster) = match env.payload_type() {
            payload_type::ROSTER => {
                let r = self.root.verify_roster(bytes)?;
                if !self.target.groups.contains(&r.group) {
                    return Err(Error::Refused(format!(
                        "this roster is for {}, and this tablet is in {}; it was meant for another tablet",
                        r.group,
                        self.groups_text()
                    )));
                }
                let h = sha256(&serde_json::to_vec(&r).expect("serializes"));
                ("roster", r.group.to_string(), r.version, h, Some(r))
            }
            payload_type::POLICY => {
                let p = self.root.verify_policy(bytes)?;
                self.check_policy_binding(&p)?;
                let h = sha256(&serde_json::to_vec(&p).expect("serializes"));
                ("policy", p.scope.to_string(), p.version, h, None)
            }
            payload_type::CONTACTS => return self.accept_contacts(bytes, now),
            other => {
                return Err(Error::Refused(format!(
                    "a {other:?} document cannot be accepted here; only rosters, policies and contact lists"
                )));
            }
        };
        let hash = payload_hash.to_hex();
        if let Some((v, h, _)) = self.store.document(kind_name, &scope)? {
            if version < v {
                return Err(Error::Refused(format!(
                    "{kind_name} for {scope} version {version} is older than version {v} on this tablet; replay refused"
                )));
            }
            if version == v && h != hash {
                return Err(Error::Refused(format!(
                    "{kind_name} for {scope} version {version} differs from the version {v} already accepted; refused"
                )));
            }
            if version == v {
                return Ok(DocOutcome::AlreadyCurrent {
                    kind: kind_name,
                    scope,
                    version,
                });
            }
        }
        let audit_kind = if roster.is_some() {
            kind::ROSTER_ACCEPTED
        } else {
            kind::POLICY_ACCEPTED
        };
        self.store.accept_document(
            kind_name,
            &scope,
            version,
            &hash,
            bytes,
            now,
            audit_kind,
            roster.as_ref(),
        )?;
        Ok(DocOutcome::Accepted {
            kind: kind_name,
            scope,
            version,
        })
    }

    fn groups_text(&self) -> String {
        self.target
            .groups
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_policy_binding(&self, p: &PolicyDoc) -> Result<()> {
        let s = p.scope.as_str();
        let ok = if let Some(id) = s.strip_prefix("person:") {
            self.store.person(id)?.is_some_and(|row| row.active)
        } else {
            s == "facility" || self.target.groups.contains(&p.scope)
        };
        if !ok {
            return Err(Error::Refused(format!(
                "this policy is for {s}, which is not this tablet ({}) or a person on its roster",
                self.groups_text()
            )));
        }
        Ok(())
    }

    /// The policy documents that apply to a person, re-verified.
    fn policies_for(&self, person: &PersonRow) -> Result<Vec<PolicyDoc>> {
        let mut out = Vec::new();
        let person_group = crate::domain::people::PersonId::parse(&person.id)?.group();
        for bytes in self.store.documents("policy")? {
            let p = self.root.verify_policy(&bytes)?;
            let applies = p.scope.as_str() == "facility"
                || p.scope.as_str() == person.unit
                || self.target.groups.contains(&p.scope) && scope_rank(&p.scope) == 1
                || p.scope == person_group;
            if applies {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The rules in force for a person.
    pub fn effective_for(&self, person_id: &str) -> Result<crate::domain::policy::Effective> {
        let person = self
            .store
            .person(person_id)?
            .ok_or_else(|| Error::Refused(format!("no person {person_id} on this tablet")))?;
        let docs = self.policies_for(&person)?;
        Ok(effective(&docs.iter().collect::<Vec<_>>()))
    }

    /// The policy decision for a person now.
    pub fn decision_for(&mut self, person_id: &str) -> Result<PolicyDecision> {
        let now = self.trusted_now()?;
        let person = self
            .store
            .person(person_id)?
            .ok_or_else(|| Error::Refused(format!("no person {person_id} on this tablet")))?;
        let e = self.effective_for(&person.id)?;
        let day = now.with_timezone(&e.tz).date_naive().to_string();
        let u = self.store.usage(&person.id, &day)?;
        let usage = Usage {
            session_used_minutes: (u.session_used_secs / 60) as u32,
            session_exhausted_at: u.session_exhausted_at,
            used_today_minutes: (u.metered_secs_today / 60) as u32,
            messages_sent_today: u.messages_today,
            last_dock: self.last_dock()?,
        };
        Ok(decide(&e, &usage, now))
    }

    /// Count `secs` of active use (metered unless the content is free).
    pub fn record_activity(&mut self, session: &Session, secs: u64, metered: bool) -> Result<()> {
        let now = self.trusted_now()?;
        let person = self
            .store
            .person(&session.person)?
            .ok_or_else(|| Error::Refused("the person left the roster".into()))?;
        let docs = self.policies_for(&person)?;
        let e = effective(&docs.iter().collect::<Vec<_>>());
        let day = now.with_timezone(&e.tz).date_naive().to_string();
        self.store.add_active_time(
            &person.id,
            &day,
            secs,
            metered,
            u64::from(e.session_minutes) * 60,
            u64::from(e.cooldown_minutes) * 60,
            now,
        )?;
        Ok(())
    }

    /// The facility's time zone (from the facility and unit policies).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        let docs: Vec<PolicyDoc> = self
            .store
            .documents("policy")
            .unwrap_or_default()
            .iter()
            .filter_map(|b| self.root.verify_policy(b).ok())
            .filter(|p| p.scope.as_str() == "facility" || self.target.groups.contains(&p.scope))
            .collect();
        effective(&docs.iter().collect::<Vec<_>>()).tz
    }

    /// A person's own settings.
    pub fn settings_for(&self, person: &str) -> Result<crate::domain::people::PersonalSettings> {
        let row = self
            .store
            .person(person)?
            .ok_or_else(|| Error::Refused(format!("no person {person} on this tablet")))?;
        Ok(serde_json::from_str(&row.settings).unwrap_or_default())
    }

    pub fn save_settings(
        &mut self,
        session: &Session,
        s: &crate::domain::people::PersonalSettings,
    ) -> Result<()> {
        let json = serde_json::to_string(s).expect("settings serialize");
        self.store.save_settings(&session.person, &json)?;
        Ok(())
    }

    // ---- people and login ----

    /// Active people, for the lock screen.
    pub fn people(&self) -> Result<Vec<PersonSummary>> {
        Ok(self
            .store
            .people()?
            .into_iter()
            .map(|p| PersonSummary {
                enrolled: p.pin.is_some(),
                id: p.id,
                display_name: p.display_name,
                language: p.language,
            })
            .collect())
    }

    /// Log in with an id and a PIN, or, the first time, the enrolment code.
    pub fn login(&mut self, typed_id: &str, secret_text: &str) -> Result<LoginOutcome, LoginError> {
        let unavailable = |e: &dyn std::fmt::Display| LoginError::Unavailable(e.to_string());
        let now = self.trusted_now().map_err(|e| unavailable(&e))?;
        let key = attempt_key(typed_id);
        if let Some((n, last)) = self
            .store
            .login_failures(&key)
            .map_err(|e| unavailable(&e))?
            && let Some(until) = locked_until(n, last).filter(|u| *u > now)
        {
            return Err(LoginError::LockedOut { until });
        }
        let person = self
            .store
            .person(typed_id.trim())
            .map_err(|e| unavailable(&e))?
            .filter(|p| p.active);
        let outcome = match &person {
            None => {
                secret::burn_equal_work();
                None
            }
            Some(p) => match &p.pin {
                Some(pin) => secret::verify(secret_text, pin).then(|| {
                    LoginOutcome::Session(Session {
                        person: p.id.clone(),
                        display_name: p.display_name.clone(),
                        language: p.language.clone(),
                        started: now,
                    })
                }),
                None => {
                    let used = p.enrolled_with.as_deref() == Some(p.enrolment.hash.as_str());
                    let ok = enrolment_stretch(p).is_some_and(|s| secret::verify(secret_text, &s))
                        && !used;
                    ok.then(|| {
                        LoginOutcome::SetPin(EnrolmentTicket {
                            person: p.id.clone(),
                            enrolment_hash: p.enrolment.hash.clone(),
                        })
                    })
                }
            },
        };
        match outcome {
            Some(o) => {
                if let LoginOutcome::Session(s) = &o {
                    self.store
                        .record_login(&key, &s.person, now)
                        .map_err(|e| unavailable(&e))?;
                }
                Ok(o)
            }
            None => {
                let n = self
                    .store
                    .record_login_failure(&key, person.as_ref().map(|p| p.id.as_str()), now)
                    .map_err(|e| unavailable(&e))?;
                match locked_until(n, now) {
                    Some(until) => Err(LoginError::LockedOut { until }),
                    None => Err(LoginError::Invalid),
                }
            }
        }
    }

    /// First login: set the PIN chosen after the enrolment code.
    pub fn set_pin(&mut self, ticket: EnrolmentTicket, pin: &str) -> Result<Session> {
        check_new_pin(pin)?;
        let now = self.trusted_now()?;
        let stretched = secret::stretch(pin)?;
        self.store.set_pin(
            &ticket.person,
            &stretched,
            &ticket.enrolment_hash,
            now,
            kind::ENROLLED,
        )?;
        self.store
            .record_login(&attempt_key(&ticket.person), &ticket.person, now)?;
        let p = self
            .store
            .person(&ticket.person)?
            .ok_or_else(|| Error::Refused("the person left the roster".into()))?;
        Ok(Session {
            person: p.id,
            display_name: p.display_name,
            language: p.language,
            started: now,
        })
    }

    /// Change the PIN of the logged-in person.
    pub fn change_pin(&mut self, session: &Session, old: &str, new: &str) -> Result<()> {
        let p = self
            .store
            .person(&session.person)?
            .ok_or_else(|| Error::Refused("the person left the roster".into()))?;
        let ok = p.pin.as_ref().is_some_and(|pin| secret::verify(old, pin));
        if !ok {
            return Err(Error::Refused("the current PIN is not right".into()));
        }
        check_new_pin(new)?;
        let now = self.trusted_now()?;
        let stretched = secret::stretch(new)?;
        let enrolled_with = p.enrolled_with.unwrap_or(p.enrolment.hash);
        self.store
            .set_pin(&p.id, &stretched, &enrolled_with, now, kind::PIN_CHANGED)?;
        Ok(())
    }

    /// End a session: the audit notes it and the session is gone.
    pub fn logout(&mut self, session: Session) -> Result<()> {
        let now = self.trusted_now()?;
        self.store
            .audit(now, Some(&session.person), kind::LOGOUT, "")?;
        drop(session);
        Ok(())
    }

    // ---- audit ----

    /// A person's own entries, oldest first.
    pub fn audit_for(&self, session: &Session) -> Result<Vec<AuditEntry>> {
        Ok(self.store.audit_for(&session.person)?)
    }

    /// Check the whole chain; returns the number of entries.
    pub fn verify_audit(&self) -> Result<Result<usize, ChainBreak>> {
        let log = self.store.audit_log()?;
        Ok(audit::verify_chain(&log).map(|_| log.len()))
    }

    /// Entries after `since`, signed by the device key, for the dock.
    pub fn export_audit(&self, since: u64) -> Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Export<'a> {
            facility: &'a str,
            device: String,
            entries: Vec<AuditEntry>,
        }
        let payload = serde_json::to_vec(&Export {
            facility: self.root.doc().facility.as_str(),
            device: self.device_key.public().to_hex(),
            entries: {
                let mut v = self.store.audit_since(since)?;
                // One export stays well under the envelope cap; the next
                // sync carries on from where the dock acknowledged.
                v.truncate(AUDIT_EXPORT_MAX);
                v
            },
        })
        .expect("export serializes");
        Ok(Envelope::sign(payload_type::AUDIT_EXPORT, payload, &[&self.device_key]).to_bytes())
    }
}
