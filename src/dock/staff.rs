//! Staff accounts at the dock: creating, disabling and resetting them,
//! logging in with back-off, and the staff audit trail every staff action
//! writes, hash-chained so that a removed or edited row shows. The CLI
//! (`berth-facility staff`) and the console use these same calls, so both
//! write the same trail.
//!
//! Passwords are hashed in `trust::password` (argon2id); the rules (name,
//! length, roles, back-off) are `domain::staff`'s.

use chrono::{DateTime, Utc};

use super::db::{StaffAuditNew, StaffAuditRow, StaffRow};
use super::{Dock, Error, Result};
use crate::domain::staff::{self as rules, Role, StaffError, Username};
use crate::domain::time::ts;
use crate::trust::password::{self, Checked};

/// The `prev_sha256` of the trail's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A row's hash: SHA-256 over the previous row's hash and this row's
/// fields, each length-prefixed so no two rows' fields run together.
pub fn chain_hash(
    prev: &str,
    at: &str,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    let mut h = crate::trust::Hasher::default();
    for f in [prev, at, actor, action, target, detail] {
        h.update(&(f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finish().to_string()
}

/// Who did it: a member of staff in the console, or someone at the dock's
/// command line (who holds the facility directory, and is named by the
/// operating system's user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff(Username),
    Cli { os_user: String },
}

impl Actor {
    /// The command line's actor: `$SUDO_USER` (who ran sudo), else the
    /// process's own user from /etc/passwd, else its uid.
    pub fn cli() -> Actor {
        let os_user = std::env::var("SUDO_USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(process_user);
        Actor::Cli { os_user }
    }

    pub fn label(&self) -> String {
        match self {
            Actor::Staff(u) => u.to_string(),
            Actor::Cli { os_user } => format!("cli:{os_user}"),
        }
    }
}

/// An actor from its trail label: `cli:NAME`, or a staff login name.
impl std::str::FromStr for Actor {
    type Err = StaffError;
    fn from_str(s: &str) -> Result<Actor, StaffError> {
        match s.strip_prefix("cli:") {
            Some(os_user) if !os_user.trim().is_empty() => Ok(Actor::Cli {
                os_user: os_user.to_string(),
            }),
            _ => Ok(Actor::Staff(s.parse()?)),
        }
    }
}

/// The name of the user this process runs as.
fn process_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "unknown".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| format!("uid:{uid}"))
}

/// A staff account as the console and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffMember {
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The password was set by someone else (new account, reset): the
    /// console asks for a new one at the next login.
    pub must_change: bool,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

impl StaffMember {
    fn from_row(r: StaffRow) -> Result<StaffMember> {
        let username = r
            .username
            .parse()
            .map_err(|e: StaffError| damaged(&r.username, &e))?;
        let roles = parse_roles(&r.roles).map_err(|e| damaged(&r.username, &e))?;
        Ok(StaffMember {
            username,
            display_name: r.display_name,
            roles,
            must_change: r.must_change,
            created_at: r.created_at,
            disabled_at: r.disabled_at,
        })
    }
}

fn damaged(who: &str, e: &StaffError) -> Error {
    Error::Refused(format!(
        "the dock's record of staff account {who:?} is damaged: {e}"
    ))
}

fn parse_roles(s: &str) -> Result<Vec<Role>, StaffError> {
    let mut roles: Vec<Role> = s
        .split(',')
        .filter(|r| !r.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(StaffError::NoRole);
    }
    Ok(roles)
}

fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// What a login attempt found. A wrong password and an unknown name are
/// one answer, so the form does not tell which names exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StaffLogin {
    In(StaffMember),
    Wrong,
    /// Too many failures in a row: try again after this time.
    Wait {
        until: DateTime<Utc>,
    },
    /// The right password for an account IT has disabled.
    Disabled,
}

/// The trail checked end to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditCheck {
    Intact {
        rows: u64,
    },
    /// The first row whose chain does not hold.
    BrokenAt {
        seq: i64,
    },
}

impl Dock {
    /// A new staff account with a password set for it (the holder changes
    /// it at the first login). Nothing is written when a rule fails.
    pub fn staff_add(
        &mut self,
        actor: &Actor,
        username: &Username,
        display_name: &str,
        roles: &[Role],
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffMember> {
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 80 {
            return Err(Error::Refused(
                "the name to show must be 1 to 80 characters; nothing was changed".into(),
            ));
        }
        if roles.is_empty() {
            return Err(StaffError::NoRole.into());
        }
        rules::check_password(password, username)?;
        let row = StaffRow {
            username: username.to_string(),
            display_name: display_name.to_string(),
            roles: roles_text(roles),
            password_hash: password::hash(password)?,
            must_change: true,
            created_at: ts(&now),
            disabled_at: None,
            failed_logins: 0,
            locked_until: None,
        };
        let detail = format!("name={display_name}; roles={}", row.roles);
        let added = self.db.staff_insert(
            &row,
            &StaffAuditNew {
                at: now,
                actor: &actor.label(),
                action: "staff.add",
                target: username.as_str(),
                detail: &detail,
            },
        )?;
        if !added {
            return Err(Error::Refused(format!(
                "there is already a staff account {username}; nothing was changed \
                 (`berth-facility staff list` shows them)"
            )));
        }
        StaffMember::from_row(row)
    }

    pub fn staff_list(&self) -> Result<Vec<StaffMember>> {
        self.db
            .staff_list()?
            .into_iter()
            .map(StaffMember::from_row)
            .collect()
    }

    /// Disable an account: it cannot log in, and its sessions end.
    pub fn staff_disable(
        &mut self,
        actor: &Actor,
        username: &Username,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if let Actor::Staff(me) = actor
            && me == username
        {
            return Err(Error::Refused(
                "you cannot disable your own account; ask another IT admin. Nothing was changed"
                    .into(),
            ));
        }
        let at = ts(&now);
        let changed = self.db.staff_update(
            username.as_str(),
            |r| {
                if r.disabled_at.is_none() {
                    r.disabled_at = Some(at.clone());
                }
            },
            true,
            Some(&StaffAuditNew {
                at: now,
                actor: &actor.label(),
                action: "staff.disable",
                target: username.as_str(),
                detail: "",
            }),
        )?;
        changed.map(|_| ()).ok_or_else(|| no_account(username))
    }

    /// Let a disabled account log in again, with its back-off cleared. Its
    /// password is the one it had; reset it too if that may be known.
    pub fn staff_enable(
        &mut self,
        actor: &Actor,
        username: &Username,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let existing = self.db.staff_member(username.as_str())?;
        match existing {
            None => return Err(no_account(username)),
            Some(r) if r.disabled_at.is_none() => {
                return Err(Error::Refused(format!(
                    "{username} is not disabled; nothing was changed"
                )));
            }
            Some(_) => {}
        }
        let changed = self.db.staff_update(
            username.as_str(),
            |r| {
                r.disabled_at = None;
                r.failed_logins = 0;
                r.locked_until = None;
            },
            false,
            Some(&StaffAuditNew {
                at: now,
                actor: &actor.label(),
                action: "staff.enable",
                target: username.as_str(),
                detail: "",
            }),
        )?;
        changed.map(|_| ()).ok_or_else(|| no_account(username))
    }

    /// Set a new password for an account (forgotten, or taken over): its
    /// sessions end, the back-off is cleared, the holder changes it at the
    /// next login. A disabled account stays disabled.
    pub fn staff_reset(
        &mut self,
        actor: &Actor,
        username: &Username,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        rules::check_password(password, username)?;
        let hash = password::hash(password)?;
        let changed = self.db.staff_update(
            username.as_str(),
            |r| {
                r.password_hash = hash;
                r.must_change = true;
                r.failed_logins = 0;
                r.locked_until = None;
            },
            true,
            Some(&StaffAuditNew {
                at: now,
                actor: &actor.label(),
                action: "staff.reset",
                target: username.as_str(),
                detail: "",
            }),
        )?;
        changed.map(|_| ()).ok_or_else(|| no_account(username))
    }

    /// Check a login. Failures count towards the back-off; each attempt
    /// on a real account is in the trail.
    pub fn staff_login(
        &mut self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<StaffLogin> {
        let Ok(name) = username.parse::<Username>() else {
            password::burn();
            return Ok(StaffLogin::Wrong);
        };
        let Some(row) = self.db.staff_member(name.as_str())? else {
            password::burn();
            return Ok(StaffLogin::Wrong);
        };
        if let Some(until) = row
            .locked_until
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t > now)
        {
            return Ok(StaffLogin::Wait { until });
        }
        let checked = password::check(password, &row.password_hash);
        if checked == Checked::Wrong {
            let failures = u32::try_from(row.failed_logins + 1).unwrap_or(u32::MAX);
            let until = rules::backoff_after(failures).map(|d| now + d);
            self.db.staff_update(
                name.as_str(),
                |r| {
                    r.failed_logins += 1;
                    r.locked_until = until.map(|t| ts(&t));
                },
                false,
                Some(&StaffAuditNew {
                    at: now,
                    actor: name.as_str(),
                    action: "login.failed",
                    target: name.as_str(),
                    detail: &format!("failures in a row: {failures}"),
                }),
            )?;
            return Ok(match until {
                Some(until) => StaffLogin::Wait { until },
                None => StaffLogin::Wrong,
            });
        }
        if row.disabled_at.is_some() {
            return Ok(StaffLogin::Disabled);
        }
        let rehash = match checked {
            Checked::Rehash => Some(password::hash(password)?),
            _ => None,
        };
        let row = self
            .db
            .staff_update(
                name.as_str(),
                |r| {
                    r.failed_logins = 0;
                    r.locked_until = None;
                    if let Some(h) = rehash {
                        r.password_hash = h;
                    }
                },
                false,
                Some(&StaffAuditNew {
                    at: now,
                    actor: name.as_str(),
                    action: "login",
                    target: name.as_str(),
                    detail: "",
                }),
            )?
            .ok_or_else(|| no_account(&name))?;
        Ok(StaffLogin::In(StaffMember::from_row(row)?))
    }

    /// The staff trail, oldest first.
    pub fn staff_audit(&self, actor: Option<&str>) -> Result<Vec<StaffAuditRow>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.db.staff_audit(actor, after, 1000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            out.extend(page);
        }
        Ok(out)
    }

    /// Walk the whole trail and check every link.
    pub fn staff_audit_check(&self) -> Result<AuditCheck> {
        let mut prev = GENESIS.to_string();
        let mut rows = 0u64;
        for r in self.staff_audit(None)? {
            let want = chain_hash(&prev, &r.at, &r.actor, &r.action, &r.target, &r.detail);
            if r.prev_sha256 != prev || r.sha256 != want {
                return Ok(AuditCheck::BrokenAt { seq: r.seq });
            }
            prev = r.sha256;
            rows += 1;
        }
        Ok(AuditCheck::Intact { rows })
    }
}

/// The trail as CSV (RFC 4180), header first, as the CLI and the console
/// export it.
pub fn audit_csv(rows: &[StaffAuditRow]) -> String {
    let mut out = String::from("seq,at,actor,action,target,detail,sha256\r\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            r.seq,
            csv_field(&r.at),
            csv_field(&r.actor),
            csv_field(&r.action),
            csv_field(&r.target),
            csv_field(&r.detail),
            r.sha256
        ));
    }
    out
}

/// One CSV field, with a leading = + - @ (or tab, or CR) neutralised so a
/// spreadsheet does not run it as a formula.
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A console session as the dock holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    pub member: StaffMember,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl Dock {
    /// Start a console session for a member who has just logged in: the
    /// token for the cookie (the dock keeps only its SHA-256), and the
    /// session's form token.
    pub fn staff_session_start(
        &mut self,
        member: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<(String, StaffSession)> {
        let (token, digest) = password::session_token()?;
        let csrf = password::form_token()?;
        self.db
            .staff_session_insert(&digest, member.username.as_str(), &csrf, now)?;
        Ok((
            token,
            StaffSession {
                member: member.clone(),
                csrf,
            },
        ))
    }

    /// The session a cookie's token names, if it is live: not idle for
    /// longer than `idle`, its account not disabled. A live session's
    /// clock is moved on; a dead one is removed.
    pub fn staff_session(
        &mut self,
        token: &str,
        idle: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Option<StaffSession>> {
        let digest = password::token_digest(token);
        let Some((username, csrf, last_seen)) = self.db.staff_session_get(&digest)? else {
            return Ok(None);
        };
        let last = DateTime::parse_from_rfc3339(&last_seen)
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let live = last.is_some_and(|t| t + idle > now && t <= now + chrono::Duration::minutes(5));
        let member = match self.db.staff_member(&username)? {
            Some(row) if live && row.disabled_at.is_none() => StaffMember::from_row(row)?,
            _ => {
                self.db.staff_session_delete(&digest)?;
                return Ok(None);
            }
        };
        self.db.staff_session_touch(&digest, now)?;
        Ok(Some(StaffSession { member, csrf }))
    }

    /// Log out: the session's token stops working at once.
    pub fn staff_session_end(&mut self, token: &str, now: DateTime<Utc>) -> Result<()> {
        let digest = password::token_digest(token);
        if let Some((username, _, _)) = self.db.staff_session_get(&digest)? {
            self.db.staff_session_end(
                &digest,
                &StaffAuditNew {
                    at: now,
                    actor: &username,
                    action: "logout",
                    target: &username,
                    detail: "",
                },
            )?;
        }
        Ok(())
    }

    /// A member changes their own password (required at the first login
    /// after an account is made or reset). Their other sessions end.
    pub fn staff_change_password(
        &mut self,
        username: &Username,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let row = self
            .db
            .staff_member(username.as_str())?
            .ok_or_else(|| no_account(username))?;
        if password::check(old, &row.password_hash) == Checked::Wrong {
            return Err(Error::Refused(
                "the current password is not right; nothing was changed".into(),
            ));
        }
        if old == new {
            return Err(Error::Refused(
                "choose a password other than the current one; nothing was changed".into(),
            ));
        }
        rules::check_password(new, username)?;
        let hash = password::hash(new)?;
        self.db.staff_update(
            username.as_str(),
            |r| {
                r.password_hash = hash;
                r.must_change = false;
            },
            true,
            Some(&StaffAuditNew {
                at: now,
                actor: username.as_str(),
                action: "staff.password",
                target: username.as_str(),
                detail: "",
            }),
        )?;
        Ok(())
    }

    /// Write one row to the staff trail for an action that changes nothing
    /// else in the dock's database (an export, a viewed privileged list).
    pub fn staff_note(
        &mut self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let label = actor.label();
        self.db.staff_audit_append(&StaffAuditNew {
            at: now,
            actor: &label,
            action,
            target,
            detail,
        })
    }
}

fn no_account(username: &Username) -> Error {
    Error::NotFound {
        what: "staff account",
        id: username.to_string(),
        hint: "`berth-facility staff list` shows the accounts; nothing was changed",
    }
}
