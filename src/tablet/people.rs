//! People, login, signed documents (roster and policy), the policy
//! decision for a person, and the audit log, on the tablet.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Tablet;
use crate::audit::{self, AuditEntry, ChainBreak, kind};
use crate::domain::login::{PinRule, check_new_pin, locked_until};
use crate::domain::policy::{
    Effective, PolicyDecision, PolicyDoc, Usage, decide, effective, local_day, scope_rank,
};
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
    #[error(transparent)]
    Pin(#[from] PinRule),
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// Why the tablet refused what it was asked to do. The UI maps each
/// variant to a translated message in one place; nothing parses the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the tablet does not speak {0:?}; it speaks en and es")]
    UnknownLanguage(String),
    #[error(
        "this roster is for {roster}, and this tablet is in {tablet}; it was meant for another tablet"
    )]
    RosterForAnotherTablet { roster: String, tablet: String },
    #[error(
        "this policy is for {scope}, which is not this tablet ({tablet}) or a person on its roster"
    )]
    PolicyForAnotherTablet { scope: String, tablet: String },
    #[error("this contact list is for {person}, who is not on this tablet's roster")]
    ContactsForAnotherPerson { person: String },
    #[error(
        "a {found:?} document cannot be accepted here; only rosters, policies and contact lists"
    )]
    NotAcceptedHere { found: String },
    #[error(
        "{kind} for {scope} version {offered} is older than version {held} on this tablet; replay refused"
    )]
    Replay {
        kind: &'static str,
        scope: String,
        offered: u64,
        held: u64,
    },
    #[error(
        "{kind} for {scope} version {version} differs from the version already accepted; refused"
    )]
    SameVersionDiffers {
        kind: &'static str,
        scope: String,
        version: u64,
    },
    #[error("no person {0} on this tablet")]
    UnknownPerson(String),
    #[error("the person left the roster")]
    LeftRoster,
    #[error("the current PIN is not right")]
    WrongPin,
    #[error("{0} is closed now: {1}")]
    Closed(
        crate::domain::policy::Feature,
        crate::domain::policy::Reason,
    ),
    #[error(transparent)]
    Letter(#[from] crate::domain::messages::SendRefusal),
    #[error(transparent)]
    Ask(#[from] crate::domain::contacts::AskRefusal),
    #[error("{0}")]
    Content(#[from] crate::tablet::content::ContentRefusal),
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

/// A logged-in person. Only a successful login (or setting the first PIN)
/// makes one; dropping it (or [`People::logout`]) forgets them.
#[derive(Debug, PartialEq, Eq)]
pub struct Session {
    pub(super) person: String,
    pub(super) display_name: String,
    pub(super) language: String,
    pub(super) started: DateTime<Utc>,
}

impl Session {
    /// The person's id on the roster.
    pub fn person(&self) -> &str {
        &self.person
    }
    pub fn display_name(&self) -> &str {
        &self.display_name
    }
    /// The roster's language for the person (their settings may override it).
    pub fn language(&self) -> &str {
        &self.language
    }
    pub fn started(&self) -> DateTime<Utc> {
        self.started
    }
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

/// A person's rules, use and decision at one instant.
pub(super) struct Standing {
    pub now: DateTime<Utc>,
    /// The facility-local day of `now`.
    pub day: String,
    pub effective: Effective,
    pub usage: Usage,
    pub decision: PolicyDecision,
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

/// People and login, signed documents (rosters, policies; contact lists
/// pass through to [`Letters`](super::Letters)), the policy decision,
/// personal settings and the audit log.
pub struct People<'a> {
    pub(super) t: &'a mut Tablet,
}

impl Tablet {
    pub fn people(&mut self) -> People<'_> {
        People { t: self }
    }
}

impl People<'_> {
    // ---- documents ----

    /// Verify and store a roster or policy (from the dock or a USB stick).
    pub fn accept_document(&mut self, bytes: &[u8]) -> Result<DocOutcome> {
        let now = self.t.trusted_now()?;
        let result = self.accept_document_inner(bytes, now);
        if let Err(e) = &result {
            let _ = self
                .t
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
                let r = self.t.root.verify_roster(bytes)?;
                if !self.t.target.groups.contains(&r.group) {
                    return Err(Refusal::RosterForAnotherTablet {
                        roster: r.group.to_string(),
                        tablet: self.groups_text(),
                    }
                    .into());
                }
                let h = sha256(&serde_json::to_vec(&r).expect("serializes"));
                ("roster", r.group.to_string(), r.version, h, Some(r))
            }
            payload_type::POLICY => {
                let p = self.t.root.verify_policy(bytes)?;
                self.check_policy_binding(&p)?;
                let h = sha256(&serde_json::to_vec(&p).expect("serializes"));
                ("policy", p.scope.to_string(), p.version, h, None)
            }
            payload_type::CONTACTS => return self.t.letters().accept_contacts(bytes, now),
            other => {
                return Err(Refusal::NotAcceptedHere {
                    found: other.to_string(),
                }
                .into());
            }
        };
        let hash = payload_hash.to_hex();
        if let Some((v, h, _)) = self.t.store.document(kind_name, &scope)? {
            if version < v {
                return Err(Refusal::Replay {
                    kind: kind_name,
                    scope,
                    offered: version,
                    held: v,
                }
                .into());
            }
            if version == v && h != hash {
                return Err(Refusal::SameVersionDiffers {
                    kind: kind_name,
                    scope,
                    version,
                }
                .into());
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
        self.t.store.accept_document(
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
        self.t
            .target
            .groups
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check_policy_binding(&self, p: &PolicyDoc) -> Result<()> {
        let s = p.scope.as_str();
        let ok = if let Some(id) = s.strip_prefix("person:") {
            self.t.store.person(id)?.is_some_and(|row| row.active)
        } else {
            s == "facility" || self.t.target.groups.contains(&p.scope)
        };
        if !ok {
            return Err(Refusal::PolicyForAnotherTablet {
                scope: s.to_string(),
                tablet: self.groups_text(),
            }
            .into());
        }
        Ok(())
    }

    /// The policy documents that apply to a person, re-verified.
    fn policies_for(&self, person: &PersonRow) -> Result<Vec<PolicyDoc>> {
        let mut out = Vec::new();
        let person_group = crate::domain::people::PersonId::parse(&person.id)?.group();
        for bytes in self.t.store.documents("policy")? {
            let p = self.t.root.verify_policy(&bytes)?;
            let applies = p.scope.as_str() == "facility"
                || p.scope.as_str() == person.unit
                || self.t.target.groups.contains(&p.scope) && scope_rank(&p.scope) == 1
                || p.scope == person_group;
            if applies {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// The lock screen's language: the last one chosen on this tablet,
    /// else the facility policy's default.
    pub fn lock_language(&self) -> Result<String> {
        if let Some(l) = self.t.store.tablet_setting("lock_language")?
            && crate::domain::content::LANGUAGES.contains(&l.as_str())
        {
            return Ok(l);
        }
        let mut docs = Vec::new();
        for bytes in self.t.store.documents("policy")? {
            let p = self.t.root.verify_policy(&bytes)?;
            if p.scope.as_str() == "facility" {
                docs.push(p);
            }
        }
        Ok(effective(&docs.iter().collect::<Vec<_>>()).default_language)
    }

    /// Remember the language chosen on the lock screen (or by the person
    /// last signed in), for the next person at this tablet.
    pub fn set_lock_language(&mut self, code: &str) -> Result<()> {
        if !crate::domain::content::LANGUAGES.contains(&code) {
            return Err(Refusal::UnknownLanguage(code.to_string()).into());
        }
        self.t.store.set_tablet_setting("lock_language", code)?;
        Ok(())
    }

    /// The rules in force for a person.
    pub fn effective_for(&self, person_id: &str) -> Result<crate::domain::policy::Effective> {
        let person = self
            .t
            .store
            .person(person_id)?
            .ok_or_else(|| Refusal::UnknownPerson(person_id.to_string()))?;
        let docs = self.policies_for(&person)?;
        Ok(effective(&docs.iter().collect::<Vec<_>>()))
    }

    /// A person's rules, today's use and the decision they give now, read
    /// once (one clock reading, one pass over the policies).
    pub(super) fn standing(&mut self, person_id: &str) -> Result<Standing> {
        let now = self.t.trusted_now()?;
        let person = self
            .t
            .store
            .person(person_id)?
            .ok_or_else(|| Refusal::UnknownPerson(person_id.to_string()))?;
        let docs = self.policies_for(&person)?;
        let effective = effective(&docs.iter().collect::<Vec<_>>());
        let day = local_day(now, effective.tz);
        let u = self.t.store.usage(&person.id, &day)?;
        let last_dock = self.t.sync().last_dock()?;
        let usage = Usage {
            session_used_minutes: (u.session_used_secs / 60) as u32,
            session_exhausted_at: u.session_exhausted_at,
            used_today_minutes: (u.metered_secs_today / 60) as u32,
            messages_sent_today: u.messages_today,
            last_dock,
        };
        let decision = decide(&effective, &usage, now);
        Ok(Standing {
            now,
            day,
            effective,
            usage,
            decision,
        })
    }

    /// The policy decision for a person now.
    pub fn decision_for(&mut self, person_id: &str) -> Result<PolicyDecision> {
        Ok(self.standing(person_id)?.decision)
    }

    /// Count `secs` of active use (metered unless the content is free).
    pub fn record_activity(&mut self, session: &Session, secs: u64, metered: bool) -> Result<()> {
        let now = self.t.trusted_now()?;
        let person = self
            .t
            .store
            .person(&session.person)?
            .ok_or(Refusal::LeftRoster)?;
        let docs = self.policies_for(&person)?;
        let e = effective(&docs.iter().collect::<Vec<_>>());
        let day = local_day(now, e.tz);
        self.t.store.add_active_time(
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
            .t
            .store
            .documents("policy")
            .unwrap_or_default()
            .iter()
            .filter_map(|b| self.t.root.verify_policy(b).ok())
            .filter(|p| p.scope.as_str() == "facility" || self.t.target.groups.contains(&p.scope))
            .collect();
        effective(&docs.iter().collect::<Vec<_>>()).tz
    }

    /// A person's own settings.
    pub fn settings_for(&self, person: &str) -> Result<crate::domain::people::PersonalSettings> {
        let row = self
            .t
            .store
            .person(person)?
            .ok_or_else(|| Refusal::UnknownPerson(person.to_string()))?;
        Ok(serde_json::from_str(&row.settings).unwrap_or_default())
    }

    pub fn save_settings(
        &mut self,
        session: &Session,
        s: &crate::domain::people::PersonalSettings,
    ) -> Result<()> {
        let json = serde_json::to_string(s).expect("settings serialize");
        self.t.store.save_settings(&session.person, &json)?;
        Ok(())
    }

    // ---- people and login ----

    /// Active people, for the lock screen.
    pub fn roster(&self) -> Result<Vec<PersonSummary>> {
        Ok(self
            .t
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
        let now = self.t.trusted_now().map_err(|e| unavailable(&e))?;
        let key = attempt_key(typed_id);
        if let Some((n, last)) = self
            .t
            .store
            .login_failures(&key)
            .map_err(|e| unavailable(&e))?
            && let Some(until) = locked_until(n, last).filter(|u| *u > now)
        {
            return Err(LoginError::LockedOut { until });
        }
        let person = self
            .t
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
                    self.t
                        .store
                        .record_login(&key, &s.person, now)
                        .map_err(|e| unavailable(&e))?;
                }
                Ok(o)
            }
            None => {
                let n = self
                    .t
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
        let now = self.t.trusted_now()?;
        let stretched = secret::stretch(pin)?;
        self.t.store.set_pin(
            &ticket.person,
            &stretched,
            &ticket.enrolment_hash,
            now,
            kind::ENROLLED,
        )?;
        self.t
            .store
            .record_login(&attempt_key(&ticket.person), &ticket.person, now)?;
        let p = self
            .t
            .store
            .person(&ticket.person)?
            .ok_or(Refusal::LeftRoster)?;
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
            .t
            .store
            .person(&session.person)?
            .ok_or(Refusal::LeftRoster)?;
        let ok = p.pin.as_ref().is_some_and(|pin| secret::verify(old, pin));
        if !ok {
            return Err(Refusal::WrongPin.into());
        }
        check_new_pin(new)?;
        let now = self.t.trusted_now()?;
        let stretched = secret::stretch(new)?;
        let enrolled_with = p.enrolled_with.unwrap_or(p.enrolment.hash);
        self.t
            .store
            .set_pin(&p.id, &stretched, &enrolled_with, now, kind::PIN_CHANGED)?;
        Ok(())
    }

    /// End a session: the audit notes it and the session is gone.
    pub fn logout(&mut self, session: Session) -> Result<()> {
        let now = self.t.trusted_now()?;
        self.t
            .store
            .audit(now, Some(&session.person), kind::LOGOUT, "")?;
        drop(session);
        Ok(())
    }

    // ---- audit ----

    /// A person's own entries, oldest first.
    pub fn audit_for(&self, session: &Session) -> Result<Vec<AuditEntry>> {
        Ok(self.t.store.audit_for(&session.person)?)
    }

    /// The whole log, or one person's entries, oldest first (the `berth
    /// audit` command, for staff with the tablet in hand).
    pub fn audit_log(&self, person: Option<&str>) -> Result<Vec<AuditEntry>> {
        Ok(match person {
            Some(p) => self.t.store.audit_for(p)?,
            None => self.t.store.audit_log()?,
        })
    }

    /// Entries of one kind (`audit::kind`), oldest first.
    pub fn audit_of_kind(&self, kind: &str) -> Result<Vec<AuditEntry>> {
        Ok(self.t.store.audit_of_kind(kind)?)
    }

    /// The version of an accepted document (`roster`, `policy`,
    /// `contacts`) for a scope, if one was accepted.
    pub fn document_version(&self, kind: &str, scope: &str) -> Result<Option<u64>> {
        Ok(self.t.store.document(kind, scope)?.map(|(v, _, _)| v))
    }

    /// Check the whole chain; returns the number of entries.
    pub fn verify_audit(&self) -> Result<Result<usize, ChainBreak>> {
        let log = self.t.store.audit_log()?;
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
            facility: self.t.root.doc().facility.as_str(),
            device: self.t.device_key.public().to_hex(),
            entries: {
                let mut v = self.t.store.audit_since(since)?;
                // One export stays well under the envelope cap; the next
                // sync carries on from where the dock acknowledged.
                v.truncate(AUDIT_EXPORT_MAX);
                v
            },
        })
        .expect("export serializes");
        Ok(Envelope::sign(payload_type::AUDIT_EXPORT, payload, &[&self.t.device_key]).to_bytes())
    }
}
