//! Facility staff: their roles, what each role may do, and the rules for
//! account names and passwords. Pure: the dock stores accounts
//! (`dock::staff`), `trust::password` hashes, and the console and the CLI
//! ask [`may`] before every action.
//!
//! Separation of duties, as the matrix below holds it:
//! - nobody reads a privileged (attorney) letter's body, not even an IT
//!   admin: no [`Action`] exists for it;
//! - the auditor reads everything but letter bodies, and changes nothing;
//! - the IT admin runs the fleet and the accounts, but reviews no mail;
//! - mail review and legal mail are different people.

use std::fmt;
use std::str::FromStr;

/// A staff role. An account holds one or more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The review queue: approve or reject letters.
    MailReviewer,
    /// Attorney contacts and privileged letters, metadata only.
    LegalMailOfficer,
    /// Content approvals and certificates.
    EducationCoordinator,
    /// Tablets, enrolment, roster, policies, staff accounts.
    ItAdmin,
    /// Reads the record, with no letter bodies; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::MailReviewer,
        Role::LegalMailOfficer,
        Role::EducationCoordinator,
        Role::ItAdmin,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::MailReviewer => "mail-reviewer",
            Role::LegalMailOfficer => "legal-mail",
            Role::EducationCoordinator => "education",
            Role::ItAdmin => "it-admin",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StaffError;
    fn from_str(s: &str) -> Result<Role, StaffError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| StaffError::UnknownRole(s.to_string()))
    }
}

/// Everything a member of staff can do, in the console or the CLI. Each
/// route names one; [`may`] is the only place that says who may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the review queue and the bodies of ordinary letters.
    ReviewRead,
    /// Approve or reject an ordinary letter.
    ReviewDecide,
    /// Privileged letters and attorney contacts: metadata only.
    LegalRead,
    /// Set a contact as an attorney; decide privileged letters' delivery.
    LegalDecide,
    /// Contact requests: read them.
    ContactsRead,
    /// Contact requests: approve, refuse, suspend.
    ContactsDecide,
    /// The no-contact list (victims, witnesses, court orders).
    NoContactEdit,
    /// People and the roster: read.
    PeopleRead,
    /// Import the roster, move people, issue enrolment codes, publish.
    PeopleEdit,
    /// Policies: read and preview.
    PolicyRead,
    /// Sign and publish policies, lockdown.
    PolicyPublish,
    /// Content uploads and what is installed where: read.
    ContentRead,
    /// Approve or withdraw content.
    ContentDecide,
    /// The fleet: read.
    TabletsRead,
    /// Enrol and revoke tablets.
    TabletsEdit,
    /// Certificates: list, export, verify.
    Certificates,
    /// Staff accounts: create, disable, reset.
    StaffEdit,
    /// The staff audit trail: read and export.
    AuditRead,
}

impl Action {
    pub const ALL: [Action; 18] = [
        Action::ReviewRead,
        Action::ReviewDecide,
        Action::LegalRead,
        Action::LegalDecide,
        Action::ContactsRead,
        Action::ContactsDecide,
        Action::NoContactEdit,
        Action::PeopleRead,
        Action::PeopleEdit,
        Action::PolicyRead,
        Action::PolicyPublish,
        Action::ContentRead,
        Action::ContentDecide,
        Action::TabletsRead,
        Action::TabletsEdit,
        Action::Certificates,
        Action::StaffEdit,
        Action::AuditRead,
    ];
}

/// May a holder of `role` do `action`? The route × role matrix, written
/// once; ARCHITECTURE.md shows it as a table and a test keeps the two equal.
/// Roles as staff read them: `mail-reviewer, it-admin`.
pub fn roles_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn may(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match role {
        R::MailReviewer => matches!(
            action,
            A::ReviewRead | A::ReviewDecide | A::ContactsRead | A::ContactsDecide | A::PeopleRead
        ),
        R::LegalMailOfficer => matches!(
            action,
            A::LegalRead
                | A::LegalDecide
                | A::ContactsRead
                | A::ContactsDecide
                | A::NoContactEdit
                | A::PeopleRead
        ),
        R::EducationCoordinator => matches!(
            action,
            A::ContentRead | A::ContentDecide | A::Certificates | A::PeopleRead
        ),
        R::ItAdmin => matches!(
            action,
            A::PeopleRead
                | A::PeopleEdit
                | A::PolicyRead
                | A::PolicyPublish
                | A::ContentRead
                | A::TabletsRead
                | A::TabletsEdit
                | A::StaffEdit
                | A::NoContactEdit
                | A::AuditRead
        ),
        // Everything that reads, except letter bodies (ReviewRead shows
        // bodies) and privileged metadata beyond the audit trail.
        R::Auditor => matches!(
            action,
            A::PeopleRead
                | A::PolicyRead
                | A::ContentRead
                | A::TabletsRead
                | A::ContactsRead
                | A::Certificates
                | A::AuditRead
        ),
    }
}

/// May an account with these roles do `action`?
pub fn may_any(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|&r| may(r, action))
}

/// A staff account's login name: 2–32 of a–z, 0–9, '.', '-', '_',
/// starting with a letter (case-folded, so "JSmith" and "jsmith" are one).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = StaffError;
    fn from_str(s: &str) -> Result<Username, StaffError> {
        let u = s.trim().to_ascii_lowercase();
        let ok = (2..=32).contains(&u.len())
            && u.starts_with(|c: char| c.is_ascii_lowercase())
            && u.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if ok {
            Ok(Username(u))
        } else {
            Err(StaffError::BadUsername(s.to_string()))
        }
    }
}

/// The shortest password an account may have. Length is what makes a
/// password hard to guess (NIST SP 800-63B); no composition rules.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: the hash's input is bounded.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Check a new password against the rules; `username` and `display_name`
/// may not be in it.
pub fn check_password(password: &str, username: &Username) -> Result<(), StaffError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(StaffError::PasswordTooShort {
            chars,
            min: MIN_PASSWORD_CHARS,
        });
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StaffError::PasswordTooLong {
            max: MAX_PASSWORD_BYTES,
        });
    }
    if password.to_lowercase().contains(username.as_str()) {
        return Err(StaffError::PasswordHasName);
    }
    Ok(())
}

/// After how many failed logins in a row an account waits, and for how
/// long: 5 free tries, then 30 s doubling to at most 15 min.
pub fn backoff_after(failures: u32) -> Option<chrono::Duration> {
    if failures < 5 {
        return None;
    }
    let secs = 30i64 << (failures - 5).min(5);
    Some(chrono::Duration::seconds(secs.min(15 * 60)))
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error(
        "unknown role {0:?}; the roles are mail-reviewer, legal-mail, education, it-admin and auditor"
    )]
    UnknownRole(String),
    #[error(
        "{0:?} is not a usable login name: use 2 to 32 of a-z, 0-9, '.', '-' or '_', starting with a letter"
    )]
    BadUsername(String),
    #[error(
        "the password has {chars} characters; use at least {min} (a few words make a good one)"
    )]
    PasswordTooShort { chars: usize, min: usize },
    #[error("the password is over {max} bytes; use a shorter one")]
    PasswordTooLong { max: usize },
    #[error("the password contains the login name; choose one that does not")]
    PasswordHasName,
    #[error("an account needs at least one role")]
    NoRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_may_do_everything_and_duties_are_separate() {
        for r in Role::ALL {
            assert!(
                Action::ALL.iter().any(|&a| !may(r, a)),
                "{r} may do everything"
            );
        }
        // Mail review and legal mail are never the same role.
        for r in Role::ALL {
            assert!(
                !(may(r, Action::ReviewDecide) && may(r, Action::LegalDecide)),
                "{r}"
            );
        }
        // The admin reviews no mail; the auditor changes nothing.
        assert!(!may(Role::ItAdmin, Action::ReviewRead));
        assert!(!may(Role::ItAdmin, Action::LegalRead));
        for a in [
            Action::ReviewDecide,
            Action::LegalDecide,
            Action::ContactsDecide,
            Action::NoContactEdit,
            Action::PeopleEdit,
            Action::PolicyPublish,
            Action::ContentDecide,
            Action::TabletsEdit,
            Action::StaffEdit,
            Action::ReviewRead,
        ] {
            assert!(!may(Role::Auditor, a), "the auditor may {a:?}");
        }
        // Every action belongs to someone.
        for a in Action::ALL {
            assert!(Role::ALL.iter().any(|&r| may(r, a)), "{a:?} has no role");
        }
    }

    #[test]
    fn names_roles_and_passwords_are_checked() {
        assert_eq!("JSmith".parse::<Username>().unwrap().as_str(), "jsmith");
        for bad in ["", "j", "1abc", "a b", "ana@x", &"a".repeat(33)] {
            assert!(bad.parse::<Username>().is_err(), "{bad:?}");
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
        let u: Username = "jsmith".parse().unwrap();
        assert!(matches!(
            check_password("short", &u),
            Err(StaffError::PasswordTooShort { chars: 5, .. })
        ));
        assert_eq!(
            check_password("my-JSmith-password", &u),
            Err(StaffError::PasswordHasName)
        );
        assert!(check_password(&"x".repeat(300), &u).is_err());
        assert!(check_password("correct horse battery", &u).is_ok());
        // Accented letters count as one character each.
        assert!(check_password("contraseña ñoño", &u).is_ok());
    }

    #[test]
    fn failed_logins_back_off_doubling_to_a_cap() {
        assert_eq!(backoff_after(4), None);
        assert_eq!(backoff_after(5), Some(chrono::Duration::seconds(30)));
        assert_eq!(backoff_after(6), Some(chrono::Duration::seconds(60)));
        assert_eq!(backoff_after(9), Some(chrono::Duration::seconds(480)));
        assert_eq!(backoff_after(10), Some(chrono::Duration::seconds(900)));
        assert_eq!(backoff_after(40), Some(chrono::Duration::seconds(900)));
    }
}
