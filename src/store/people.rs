//! Repositories for signed documents, people, login back-off, usage and
//! the tablet's groups.

use super::CachedSql;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Error, Result, Store, audit, ts};
use crate::domain::people::{EnrolmentSecret, RosterDoc};
use crate::trust::secret::Stretched;

/// A person as the tablet stores them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRow {
    pub id: String,
    pub display_name: String,
    pub language: String,
    pub unit: String,
    pub enrolment: EnrolmentSecret,
    /// The enrolment hash used to set the current PIN, if any.
    pub enrolled_with: Option<String>,
    pub pin: Option<Stretched>,
    pub active: bool,
    pub settings: String,
}

/// Usage counters for the policy engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageRow {
    pub session_used_secs: u64,
    pub session_exhausted_at: Option<DateTime<Utc>>,
    pub metered_secs_today: u64,
    pub free_secs_today: u64,
    pub messages_today: u32,
}

fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn person_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    let pin = match (
        r.get::<_, Option<Vec<u8>>>(9)?,
        r.get::<_, Option<i64>>(10)?,
        r.get::<_, Option<Vec<u8>>>(11)?,
    ) {
        (Some(salt), Some(iter), Some(hash)) if salt.len() == 16 && hash.len() == 32 => {
            Some(Stretched {
                salt: salt.try_into().expect("checked length"),
                iterations: iter as u32,
                hash: hash.try_into().expect("checked length"),
            })
        }
        _ => None,
    };
    Ok(PersonRow {
        id: r.get(0)?,
        display_name: r.get(1)?,
        language: r.get(2)?,
        unit: r.get(3)?,
        enrolment: EnrolmentSecret {
            salt: r.get(4)?,
            iterations: r.get::<_, i64>(5)? as u32,
            hash: r.get(6)?,
        },
        enrolled_with: r.get(7)?,
        active: r.get::<_, i64>(8)? != 0,
        pin,
        settings: r.get(12)?,
    })
}

const PERSON_COLUMNS: &str = "id, display_name, language, unit, enrolment_salt, enrolment_iter, \
     enrolment_hash, enrolled_with, active, pin_salt, pin_iter, pin_hash, settings";

impl Store {
    pub(super) fn tx_run<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let sq = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sq)?;
        let out = f(&tx).map_err(sq)?;
        tx.commit().map_err(sq)?;
        Ok(out)
    }

    // ---- signed documents ----

    /// The current document of a kind and scope: (version, sha256, envelope).
    pub fn document(&self, kind: &str, scope: &str) -> Result<Option<(u64, String, Vec<u8>)>> {
        self.conn
            .cached_row(
                "SELECT version, sha256, envelope FROM documents WHERE kind = ?1 AND scope = ?2",
                [kind, scope],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.sq())
    }

    /// Every current document of a kind.
    pub fn documents(&self, kind: &str) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT envelope FROM documents WHERE kind = ?1 ORDER BY scope")
            .map_err(self.sq())?;
        let rows = stmt.query_map([kind], |r| r.get(0)).map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<Vec<u8>>>>()
            .map_err(self.sq())
    }

    /// Store a verified document, and for a roster update the people, in
    /// one transaction with its audit entry.
    #[allow(clippy::too_many_arguments)]
    pub fn accept_document(
        &mut self,
        kind: &str,
        scope: &str,
        version: u64,
        sha256: &str,
        envelope: &[u8],
        at: DateTime<Utc>,
        audit_kind: &str,
        roster: Option<&RosterDoc>,
    ) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec(
                "INSERT INTO documents (kind, scope, version, sha256, envelope, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (kind, scope) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256, \
                 envelope = excluded.envelope, accepted_at = excluded.accepted_at",
                params![kind, scope, version as i64, sha256, envelope, ts(&at)],
            )?;
            if let Some(r) = roster {
                // People who left the roster keep their records, inactive.
                tx.cached_exec("UPDATE people SET active = 0", [])?;
                for p in &r.people {
                    tx.cached_exec(
                        "INSERT INTO people (id, display_name, language, unit, enrolment_salt, enrolment_iter, enrolment_hash, active) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1) \
                         ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, language = excluded.language, \
                         unit = excluded.unit, enrolment_salt = excluded.enrolment_salt, enrolment_iter = excluded.enrolment_iter, \
                         enrolment_hash = excluded.enrolment_hash, active = 1",
                        params![
                            p.id.as_str(),
                            p.display_name,
                            p.language.code(),
                            p.unit.as_str(),
                            p.enrolment.salt,
                            p.enrolment.iterations as i64,
                            p.enrolment.hash
                        ],
                    )?;
                    // A new enrolment code from the facility resets the PIN
                    // (the way to recover a forgotten one).
                    tx.cached_exec(
                        "UPDATE people SET pin_salt = NULL, pin_iter = NULL, pin_hash = NULL, enrolled_with = NULL \
                         WHERE id = ?1 AND enrolled_with IS NOT NULL AND enrolled_with != ?2",
                        params![p.id.as_str(), p.enrolment.hash],
                    )?;
                }
            }
            audit::append(tx, at, None, audit_kind, &format!("{kind} {scope} version {version} ({sha256})"))?;
            Ok(())
        })
    }

    // ---- people ----

    /// A person by id, ignoring case.
    pub fn person(&self, id: &str) -> Result<Option<PersonRow>> {
        self.conn
            .cached_row(
                &format!("SELECT {PERSON_COLUMNS} FROM people WHERE id = ?1 COLLATE NOCASE"),
                [id],
                person_from_row,
            )
            .optional()
            .map_err(self.sq())
    }

    /// Active people, by display name.
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {PERSON_COLUMNS} FROM people WHERE active = 1 ORDER BY display_name, id"
            ))
            .map_err(self.sq())?;
        let rows = stmt.query_map([], person_from_row).map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(self.sq())
    }

    /// Set a PIN (first enrolment or change), with its audit entry.
    pub fn set_pin(
        &mut self,
        id: &str,
        pin: &Stretched,
        enrolled_with: &str,
        at: DateTime<Utc>,
        audit_kind: &str,
    ) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec(
                "UPDATE people SET pin_salt = ?2, pin_iter = ?3, pin_hash = ?4, enrolled_with = ?5 WHERE id = ?1",
                params![id, pin.salt.to_vec(), pin.iterations as i64, pin.hash.to_vec(), enrolled_with],
            )?;
            audit::append(tx, at, Some(id), audit_kind, "")?;
            Ok(())
        })
    }

    pub fn save_settings(&mut self, id: &str, settings_json: &str) -> Result<()> {
        self.conn
            .cached_exec(
                "UPDATE people SET settings = ?2 WHERE id = ?1",
                params![id, settings_json],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    // ---- the tablet's own settings ----

    pub fn tablet_setting(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .cached_row(
                "SELECT value FROM tablet_settings WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sq())
    }

    pub fn set_tablet_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn
            .cached_exec(
                "INSERT INTO tablet_settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(self.sq())?;
        Ok(())
    }

    // ---- login back-off ----

    pub fn login_failures(&self, login_id: &str) -> Result<Option<(u32, DateTime<Utc>)>> {
        self.conn
            .cached_row(
                "SELECT failures, last_failure FROM login_attempts WHERE login_id = ?1",
                [login_id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u32,
                        parse_ts(&r.get::<_, String>(1)?)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sq())
    }

    /// Count a failed login for the typed id (whether or not it exists).
    pub fn record_login_failure(
        &mut self,
        login_id: &str,
        person: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        self.tx_run(|tx| {
            // Keep the table bounded: forget stale entries.
            let day_ago = ts(&(at - chrono::Duration::days(1)));
            tx.cached_exec("DELETE FROM login_attempts WHERE last_failure < ?1", [day_ago])?;
            tx.cached_exec(
                "INSERT INTO login_attempts (login_id, failures, last_failure) VALUES (?1, 1, ?2) \
                 ON CONFLICT (login_id) DO UPDATE SET failures = failures + 1, last_failure = excluded.last_failure",
                params![login_id, ts(&at)],
            )?;
            let n: i64 = tx.cached_row("SELECT failures FROM login_attempts WHERE login_id = ?1", [login_id], |r| r.get(0))?;
            audit::append(tx, at, person, crate::audit::kind::LOGIN_FAILED, &format!("attempt {n}"))?;
            Ok(n as u32)
        })
    }

    pub fn record_login(&mut self, login_id: &str, person: &str, at: DateTime<Utc>) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec("DELETE FROM login_attempts WHERE login_id = ?1", [login_id])?;
            audit::append(tx, at, Some(person), crate::audit::kind::LOGIN, "")?;
            Ok(())
        })
    }

    // ---- usage ----

    pub fn usage(&self, person: &str, day: &str) -> Result<UsageRow> {
        let session: Option<(i64, Option<String>)> = self
            .conn
            .cached_row(
                "SELECT session_used_secs, session_exhausted_at FROM person_usage WHERE person = ?1",
                [person],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sq())?;
        let daily: Option<(i64, i64, i64)> = self
            .conn
            .cached_row(
                "SELECT metered_secs, free_secs, messages FROM daily_usage WHERE person = ?1 AND day = ?2",
                [person, day],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(self.sq())?;
        let (used, exhausted) = session.unwrap_or((0, None));
        let (metered, free, messages) = daily.unwrap_or((0, 0, 0));
        Ok(UsageRow {
            session_used_secs: used as u64,
            session_exhausted_at: exhausted
                .map(|s| parse_ts(&s))
                .transpose()
                .map_err(self.sq())?,
            metered_secs_today: metered as u64,
            free_secs_today: free as u64,
            messages_today: messages as u32,
        })
    }

    /// Add active time. Metered time counts against the session and the
    /// day; free time (public-domain content) only against nothing. When
    /// the session reaches `session_limit_secs`, its break starts at `at`.
    /// A session that had run out and whose break ended starts afresh.
    #[allow(clippy::too_many_arguments)]
    pub fn add_active_time(
        &mut self,
        person: &str,
        day: &str,
        secs: u64,
        metered: bool,
        session_limit_secs: u64,
        cooldown_secs: u64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec("INSERT OR IGNORE INTO person_usage (person) VALUES (?1)", [person])?;
            tx.cached_exec("INSERT OR IGNORE INTO daily_usage (person, day) VALUES (?1, ?2)", [person, day])?;
            if !metered {
                tx.cached_exec(
                    "UPDATE daily_usage SET free_secs = free_secs + ?3 WHERE person = ?1 AND day = ?2",
                    params![person, day, secs as i64],
                )?;
                return Ok(());
            }
            let (used, exhausted): (i64, Option<String>) = tx.cached_row(
                "SELECT session_used_secs, session_exhausted_at FROM person_usage WHERE person = ?1",
                [person],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let mut used = used as u64;
            if let Some(x) = exhausted {
                if parse_ts(&x)? + chrono::Duration::seconds(cooldown_secs as i64) <= at {
                    used = 0;
                } else {
                    // In a break: metered time does not run.
                    return Ok(());
                }
            }
            used += secs;
            let exhausted = (used >= session_limit_secs).then(|| ts(&at));
            tx.cached_exec(
                "UPDATE person_usage SET session_used_secs = ?2, session_exhausted_at = ?3 WHERE person = ?1",
                params![person, used.min(session_limit_secs) as i64, exhausted],
            )?;
            tx.cached_exec(
                "UPDATE daily_usage SET metered_secs = metered_secs + ?3 WHERE person = ?1 AND day = ?2",
                params![person, day, secs as i64],
            )?;
            Ok(())
        })
    }

    // ---- tablet groups ----

    pub fn tablet_groups(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT grp FROM tablet_groups ORDER BY grp")
            .map_err(self.sq())?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(self.sq())?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.sq())
    }

    /// Replace the tablet's groups with these, and log it (one transaction).
    pub fn set_tablet_groups(&mut self, groups: &[String], at: DateTime<Utc>) -> Result<()> {
        self.tx_run(|tx| {
            tx.cached_exec("DELETE FROM tablet_groups", [])?;
            for g in groups {
                tx.cached_exec("INSERT OR IGNORE INTO tablet_groups (grp) VALUES (?1)", [g])?;
            }
            audit::append(
                tx,
                at,
                None,
                crate::audit::kind::GROUPS_SET,
                &groups.join(" "),
            )?;
            Ok(())
        })
    }

    pub fn add_tablet_groups(&mut self, groups: &[String]) -> Result<()> {
        self.tx_run(|tx| {
            for g in groups {
                tx.cached_exec("INSERT OR IGNORE INTO tablet_groups (grp) VALUES (?1)", [g])?;
            }
            Ok(())
        })
    }
}
