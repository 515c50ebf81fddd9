//! The console's pages as askama templates (`ui/console/*.html`). Each
//! struct is what one page shows; templates escape every field.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::auth::Ctx;
use crate::domain::staff::Action;

/// The header: who is signed in, the pages their roles open, the
/// log-out form.
pub struct Nav {
    pub user: String,
    pub name: String,
    pub roles: String,
    pub csrf: String,
    pub links: Vec<Link>,
    pub current: &'static str,
}

pub struct Link {
    pub href: &'static str,
    pub label: &'static str,
}

/// Every page, in the header's order, and the action that opens it.
pub const PAGES: [(&str, &str, Action); 7] = [
    ("/review", "Review", Action::ReviewRead),
    ("/legal", "Privileged mail", Action::LegalRead),
    ("/contacts", "Contacts", Action::ContactsRead),
    ("/no-contact", "No-contact list", Action::NoContactEdit),
    ("/tablets", "Tablets", Action::TabletsRead),
    ("/staff", "Staff", Action::StaffEdit),
    ("/audit", "Audit", Action::AuditRead),
];

impl Nav {
    pub fn of(ctx: &Ctx, current: &'static str) -> Nav {
        let m = &ctx.session.member;
        Nav {
            user: m.username.to_string(),
            name: m.display_name.clone(),
            roles: crate::domain::staff::roles_list(&m.roles),
            csrf: ctx.session.csrf.clone(),
            links: PAGES
                .iter()
                .filter(|(_, _, a)| ctx.may(*a))
                .map(|(href, label, _)| Link { href, label })
                .collect(),
            current,
        }
    }
}

/// Render a page, or say plainly that it could not be.
pub fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page failed to render");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown. Nothing was changed; tell IT.",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "problem.html")]
pub struct ProblemPage {
    pub nav: Option<Nav>,
    pub message: String,
}

pub fn problem_page(ctx: Option<&Ctx>, message: &str) -> Response {
    html(&ProblemPage {
        nav: ctx.map(|c| Nav::of(c, "")),
        message: message.to_string(),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub nav: Option<Nav>,
    pub token: String,
    pub username: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub must_change: bool,
    pub done: bool,
}

pub struct Card {
    pub href: &'static str,
    pub title: &'static str,
    pub count: String,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub nav: Option<Nav>,
    pub cards: Vec<Card>,
}

pub struct LetterRow {
    pub href: String,
    pub id: String,
    pub direction: &'static str,
    pub person: String,
    pub contact: String,
    pub at: String,
    pub state: String,
    pub flags: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub nav: Option<Nav>,
    pub title: &'static str,
    pub action: &'static str,
    pub person: String,
    pub contact: String,
    pub from: String,
    pub to: String,
    pub states: Vec<Choice>,
    pub rows: Vec<LetterRow>,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub privileged: bool,
}

pub struct Span {
    pub text: String,
    pub flagged: bool,
}

pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "letter.html")]
pub struct LetterPage {
    pub nav: Option<Nav>,
    pub id: String,
    pub direction: &'static str,
    pub person: String,
    pub contact: String,
    pub sender: String,
    pub subject: String,
    pub at: String,
    pub state: String,
    pub reason: String,
    pub flags: String,
    pub privileged: bool,
    pub problem: String,
    pub removed: Vec<String>,
    pub spans: Vec<Span>,
    pub history: Vec<HistoryRow>,
    pub reasons: Vec<String>,
    pub csrf: String,
    pub can_decide: bool,
    pub back: &'static str,
}

pub struct MemberRow {
    pub username: String,
    pub name: String,
    pub roles: String,
    pub created: String,
    pub disabled: String,
    pub must_change: bool,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "staff.html")]
pub struct StaffPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub members: Vec<MemberRow>,
    pub roles: Vec<(&'static str, &'static str)>,
    /// A password just set, shown this once: (account, password).
    pub shown: Option<(String, String)>,
}

pub struct AuditLine {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub nav: Option<Nav>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub rows: Vec<AuditLine>,
    pub chain: String,
    pub chain_ok: bool,
    pub csv: String,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub struct TabletLine {
    pub name: String,
    pub key: String,
    pub code: String,
    pub groups: String,
    pub enrolled: String,
    pub last_sync: String,
    pub version: String,
    pub battery: String,
    pub tamper: String,
    pub revoked: String,
}

pub struct WaitingLine {
    pub code: String,
    pub first: String,
    pub last: String,
    pub tries: String,
}

#[derive(Template)]
#[template(path = "tablets.html")]
pub struct TabletsPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub can_edit: bool,
    pub tablets: Vec<TabletLine>,
    pub waiting: Vec<WaitingLine>,
    pub notice: Option<String>,
}

/// An id in a URL path.
pub fn path_part(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A time as staff read it: `2026-12-03 14:05` (UTC).
pub fn short_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

/// One contact request as the contacts page lists it.
pub struct RequestLine {
    pub id: String,
    pub path: String,
    pub person: String,
    pub person_name: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub relationship: String,
    pub received: String,
    pub state: String,
    pub reason: String,
    pub flag: String,
    pub invitation: String,
}

/// One contact on a person's signed list.
pub struct ContactLine {
    pub id: String,
    pub name: String,
    pub email: String,
    pub relationship: String,
    pub attorney: bool,
}

#[derive(Template)]
#[template(path = "contacts.html")]
pub struct ContactsPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub can_decide: bool,
    pub can_attorney: bool,
    pub person: String,
    pub person_name: String,
    pub waiting: Vec<RequestLine>,
    pub flagged: Vec<RequestLine>,
    pub invited: Vec<RequestLine>,
    pub done: Vec<RequestLine>,
    pub contacts: Vec<ContactLine>,
    pub list_version: u64,
    pub reasons: Vec<String>,
    pub notice: Option<String>,
}

pub struct NoContactLine {
    pub id: String,
    pub person: String,
    pub person_name: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub address: String,
    pub added_by: String,
    pub added: String,
}

#[derive(Template)]
#[template(path = "nocontact.html")]
pub struct NoContactPage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub person: String,
    pub entries: Vec<NoContactLine>,
    pub kinds: Vec<&'static str>,
    pub notice: Option<String>,
}
