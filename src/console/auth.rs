//! Who is asking, and may they: the session cookie, the idle timeout, the
//! route's action against the member's roles, and every form's CSRF token.
//! Every route goes through [`page`] or [`form`]; neither runs the route's
//! work before all of its checks pass.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::App;
use crate::dock::Dock;
use crate::dock::staff::{Actor, StaffSession};
use crate::domain::staff::{Action, may_any};

/// The session cookie. `__Host-`: the browser keeps it only when it is
/// Secure, has Path=/ and no Domain, so no other host can set it.
pub const SESSION_COOKIE: &str = "__Host-berth-session";
/// The login form's double-submit token (there is no session yet).
pub const LOGIN_COOKIE: &str = "__Host-berth-login";

/// Largest form a page accepts (a reason, a name); imports have their own.
pub const FORM_LIMIT: usize = 64 * 1024;
/// How much of an oversized body is read and thrown away so that the
/// browser is still listening when the "too large" page comes back. A
/// server that answers early and closes makes the peer's TCP stack reset
/// the connection, and the browser then shows "connection reset" instead
/// of the page. Past this much the connection is simply closed.
pub const DRAIN_LIMIT: usize = 32 << 20;

/// A form's body: at most `FORM_LIMIT` bytes kept, or `None` when it was
/// larger (the rest is read and dropped, up to [`DRAIN_LIMIT`]) or the
/// browser cut it off.
pub struct FormBody(pub Option<Bytes>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormBody {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Self::Rejection> {
        use http_body_util::BodyExt;
        let mut body = req.into_body();
        let mut kept = Vec::new();
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                return Ok(FormBody(None));
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            seen = seen.saturating_add(data.len());
            if seen <= FORM_LIMIT {
                kept.extend_from_slice(&data);
            } else if seen > DRAIN_LIMIT {
                break;
            }
        }
        Ok(FormBody((seen <= FORM_LIMIT).then(|| Bytes::from(kept))))
    }
}

/// Why a request was not done. Each is answered with a page that says what
/// was wrong and what to do; none of them changed anything.
#[derive(Debug)]
pub enum Problem {
    /// No session, or it ended: to the login page.
    SignIn,
    /// The session's password was set by someone else: change it first.
    MustChange,
    /// The member's roles do not allow the route's action.
    Forbidden(Action),
    /// A form without this session's token, or with another.
    Csrf,
    /// A form over the limit, or one the browser cut off.
    TooLarge(usize),
    /// A field missing or not valid: what to fix.
    Bad(String),
    /// Nothing by that name.
    NotFound(String),
    /// What the dock refused or failed at.
    Dock(crate::dock::Error),
}

impl From<crate::dock::Error> for Problem {
    fn from(e: crate::dock::Error) -> Self {
        Problem::Dock(e)
    }
}

impl Problem {
    pub fn status(&self) -> StatusCode {
        use crate::dock::Error as E;
        match self {
            Problem::SignIn | Problem::MustChange => StatusCode::SEE_OTHER,
            Problem::Forbidden(_) | Problem::Csrf => StatusCode::FORBIDDEN,
            Problem::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::Bad(_) => StatusCode::BAD_REQUEST,
            Problem::NotFound(_) => StatusCode::NOT_FOUND,
            Problem::Dock(E::NotFound { .. }) => StatusCode::NOT_FOUND,
            Problem::Dock(E::Refused(_) | E::Staff(_) | E::Domain(_) | E::NotEnrolled { .. }) => {
                StatusCode::BAD_REQUEST
            }
            Problem::Dock(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What was wrong, and what to do. The page adds that nothing was
    /// changed: every route does its work in one transaction, after its
    /// checks, so a refusal at any point leaves the dock as it was.
    pub fn message(&self) -> String {
        match self {
            Problem::SignIn => "Sign in to continue.".into(),
            Problem::MustChange => "Choose a new password first.".into(),
            Problem::Forbidden(a) => format!(
                "Your account's roles do not allow this ({}). An IT admin can tell you which role does.",
                action_name(*a)
            ),
            Problem::Csrf => {
                "This form was not sent from a page of this session: it is out of date, \
                 or came from another site. Go back, reload the page and try again."
                    .into()
            }
            Problem::TooLarge(limit) => format!(
                "The form was larger than {} KB, or was cut off. Shorten it and send it again.",
                limit / 1024
            ),
            Problem::Bad(why) | Problem::NotFound(why) => why.clone(),
            Problem::Dock(e) => {
                let text = crate::describe_chain(std::iter::successors(
                    Some(e as &(dyn std::error::Error + 'static)),
                    |e| e.source(),
                ));
                if self.status() == StatusCode::INTERNAL_SERVER_ERROR {
                    format!(
                        "The dock could not do this: {text}. Try again, and tell IT if it happens again."
                    )
                } else {
                    text
                }
            }
        }
    }
}

pub fn action_name(a: Action) -> &'static str {
    use Action as A;
    match a {
        A::ReviewRead => "read the review queue",
        A::ReviewDecide => "approve or reject letters",
        A::LegalRead => "see privileged mail",
        A::LegalDecide => "decide privileged mail",
        A::ContactsRead => "see contact requests",
        A::ContactsDecide => "decide contact requests",
        A::NoContactEdit => "keep the no-contact list",
        A::PeopleRead => "see people",
        A::PeopleEdit => "change people and the roster",
        A::PolicyRead => "see policies",
        A::PolicyPublish => "publish policies",
        A::ContentRead => "see content",
        A::ContentDecide => "approve or withdraw content",
        A::TabletsRead => "see tablets",
        A::TabletsEdit => "enrol or revoke tablets",
        A::Certificates => "see certificates",
        A::StaffEdit => "manage staff accounts",
        A::AuditRead => "read the staff audit trail",
    }
}

/// Who may use a route.
#[derive(Clone, Copy, Debug)]
pub enum Gate {
    /// Any signed-in member, even one who must change their password
    /// first (the password page, logging out).
    Open,
    /// A signed-in member who has set their own password; the route
    /// checks the action itself (a letter's depends on the letter).
    Signed,
    /// … whose roles allow this action.
    Need(Action),
}

/// A signed-in member, checked.
pub struct Ctx {
    pub session: StaffSession,
}

impl Ctx {
    pub fn may(&self, a: Action) -> bool {
        may_any(&self.session.member.roles, a)
    }

    pub fn need(&self, a: Action) -> Result<(), Problem> {
        if self.may(a) {
            Ok(())
        } else {
            Err(Problem::Forbidden(a))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Staff(self.session.member.username.clone())
    }
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// `Set-Cookie` for a session (or its removal with `None`).
pub fn set_cookie(name: &str, value: Option<&str>) -> HeaderValue {
    let text = match value {
        Some(v) => format!("{name}={v}; Path=/; Secure; HttpOnly; SameSite=Strict"),
        None => format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    HeaderValue::from_str(&text).expect("cookie text is ASCII")
}

/// Compare two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A form's fields, in order.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    /// A field's value, trimmed; "" when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// A field's value exactly as sent (passwords); "" when absent.
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every value of a repeated field (check boxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .collect()
    }
}

/// Find the session of this request, on the blocking pool.
fn session(dock: &mut Dock, app: &App, headers: &HeaderMap) -> Result<Ctx, Problem> {
    let token = cookie(headers, SESSION_COOKIE).ok_or(Problem::SignIn)?;
    let session = dock
        .staff_session(&token, app.idle, Utc::now())?
        .ok_or(Problem::SignIn)?;
    Ok(Ctx { session })
}

/// Answer a problem with its page (or the redirect it means).
pub fn problem_response(p: Problem, ctx: Option<&Ctx>) -> Response {
    match p {
        Problem::SignIn => {
            let mut r = Redirect::to("/login").into_response();
            r.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, None));
            r
        }
        Problem::MustChange => Redirect::to("/password").into_response(),
        p => {
            let status = p.status();
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(problem = ?p, "console request failed");
            }
            (status, super::views::problem_page(ctx, &p.message())).into_response()
        }
    }
}

type Work<T> = Box<dyn FnOnce(&mut Dock, &Ctx, T) -> Result<Response, Problem> + Send>;

async fn blocking<T: Send + 'static>(
    app: Arc<App>,
    headers: HeaderMap,
    gate: Gate,
    input: Result<T, Problem>,
    csrf: impl FnOnce(&T) -> Option<String> + Send + 'static,
    work: Work<T>,
) -> Response {
    let run = tokio::task::spawn_blocking(move || {
        let mut dock = match app.dock.lock() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        let ctx = match session(&mut dock, &app, &headers) {
            Ok(c) => c,
            Err(p) => return problem_response(p, None),
        };
        let checked = (|| {
            let input = input?;
            if let Some(sent) = csrf(&input)
                && !same_token(&sent, &ctx.session.csrf)
            {
                return Err(Problem::Csrf);
            }
            if ctx.session.member.must_change && !matches!(gate, Gate::Open) {
                return Err(Problem::MustChange);
            }
            if let Gate::Need(a) = gate {
                ctx.need(a)?;
            }
            work(&mut dock, &ctx, input)
        })();
        match checked {
            Ok(r) => r,
            Err(p) => problem_response(p, Some(&ctx)),
        }
    });
    match run.await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "console request panicked");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The console failed on this request. Nothing was changed; tell IT.",
            )
                .into_response()
        }
    }
}

/// A page: a live session that passes the gate.
pub async fn page(
    app: Arc<App>,
    headers: HeaderMap,
    gate: Gate,
    work: impl FnOnce(&mut Dock, &Ctx) -> Result<Response, Problem> + Send + 'static,
) -> Response {
    blocking(
        app,
        headers,
        gate,
        Ok(()),
        |_| None,
        Box::new(move |d, c, ()| work(d, c)),
    )
    .await
}

/// A form post: as [`page`], and its `csrf` field must be the session's.
pub async fn form(
    app: Arc<App>,
    headers: HeaderMap,
    gate: Gate,
    body: FormBody,
    limit: usize,
    work: impl FnOnce(&mut Dock, &Ctx, Form) -> Result<Response, Problem> + Send + 'static,
) -> Response {
    let input = match body {
        FormBody(Some(b)) if b.len() <= limit => Ok(Form::parse(&b)),
        FormBody(_) => Err(Problem::TooLarge(limit)),
    };
    blocking(
        app,
        headers,
        gate,
        input,
        |f: &Form| Some(f.get("csrf").to_string()),
        Box::new(work),
    )
    .await
}
