//! The console's routes. Each names its [`Gate`] and does its work through
//! `Dock` calls, the same ones `berth-facility` makes; the staff trail is
//! written by those calls in the same transaction as the change.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;

use super::App;
use super::auth::{
    self, Ctx, FORM_LIMIT, Form, FormBody, Gate, LOGIN_COOKIE, Problem, SESSION_COOKIE, cookie,
    same_token, set_cookie,
};
use super::views::{self, *};
use crate::dock::staff::{AuditCheck, StaffLogin, audit_csv};
use crate::dock::{Dock, ReviewFilter, ReviewItem, ReviewKind};
use crate::domain::staff::{Action, Role, Username};

/// Letters on one page of the queue.
const PAGE: usize = 50;
/// Rows on one page of the audit trail.
const AUDIT_PAGE: usize = 100;

const CSS: &str = include_str!("../../assets/console/console.css");

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/password", get(password_form).post(password))
        .route("/review", get(review_queue))
        .route("/legal", get(legal_queue))
        .route("/review/{id}", get(letter))
        .route("/review/{id}/approve", post(approve))
        .route("/review/{id}/reject", post(reject))
        .route("/contacts", get(contacts))
        .route("/contacts/{id}/approve", post(contact_approve))
        .route("/contacts/{id}/refuse", post(contact_refuse))
        .route("/contacts/suspend", post(contact_suspend))
        .route("/contacts/attorney", post(contact_attorney))
        .route("/no-contact", get(no_contact))
        .route("/no-contact/add", post(no_contact_add))
        .route("/no-contact/{id}/remove", post(no_contact_remove))
        .route("/staff", get(staff))
        .route("/staff/add", post(staff_add))
        .route("/staff/{user}/disable", post(staff_disable))
        .route("/staff/{user}/reset", post(staff_reset))
        .route("/staff/{user}/enable", post(staff_enable))
        .route("/audit", get(audit))
        .route("/audit.csv", get(audit_export))
        .route("/tablets", get(tablets))
        .route("/tablets/enrol", post(tablet_enrol))
        .route("/tablets/{name}/revoke", post(tablet_revoke))
        .route("/assets/console.css", get(css))
        .fallback(not_found)
        // Forms are small: auth::FormBody keeps FORM_LIMIT bytes, and past
        // it the route answers with its own page.
        .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT + 1))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// On every response: no script, no framing, no sniffing, no referrer;
/// and no copy kept anywhere unless the response says otherwise.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    r
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        views::problem_page(
            None,
            "There is no such page. Check the address, or start again from the start page.",
        ),
    )
        .into_response()
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---- signing in and out ----

async fn login_form() -> Response {
    login_page(None, "", StatusCode::OK)
}

fn login_page(error: Option<String>, username: &str, status: StatusCode) -> Response {
    let Ok(token) = crate::trust::password::form_token() else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no randomness; tell IT").into_response();
    };
    let mut r = (
        status,
        html(&LoginPage {
            nav: None,
            token: token.clone(),
            username: username.to_string(),
            error,
        }),
    )
        .into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, Some(&token)));
    r
}

async fn login(State(app): State<Arc<App>>, headers: HeaderMap, body: FormBody) -> Response {
    let FormBody(Some(body)) = body else {
        return login_page(
            Some(Problem::TooLarge(FORM_LIMIT).message()),
            "",
            StatusCode::PAYLOAD_TOO_LARGE,
        );
    };
    let f = Form::parse(&body);
    let username = f.get("username").to_string();
    // Double submit: the form's token must be the one this browser was
    // given with the form, so another site cannot sign a browser in.
    let fresh = cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_token(&c, f.get("login")));
    if !fresh {
        return login_page(
            Some("This sign-in form was out of date. Sign in again.".into()),
            &username,
            StatusCode::FORBIDDEN,
        );
    }
    let password = f.raw("password").to_string();
    let run = tokio::task::spawn_blocking(move || {
        let mut dock = app.dock.lock().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now();
        match dock.staff_login(&username, &password, now)? {
            StaffLogin::In(member) => {
                let (token, session) = dock.staff_session_start(&member, now)?;
                Ok::<_, crate::dock::Error>((
                    Some((token, session.member.must_change)),
                    username,
                    None,
                ))
            }
            StaffLogin::Wrong => Ok((
                None,
                username,
                Some((
                    StatusCode::UNAUTHORIZED,
                    "The username or the password is not right.".to_string(),
                )),
            )),
            StaffLogin::Wait { until } => Ok((
                None,
                username,
                Some((
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Too many wrong passwords for this account. Try again after {} UTC, or ask an IT admin to reset it.",
                        until.format("%H:%M:%S")
                    ),
                )),
            )),
            StaffLogin::Disabled => Ok((
                None,
                username,
                Some((
                    StatusCode::FORBIDDEN,
                    "This account is disabled. An IT admin can tell you why.".to_string(),
                )),
            )),
        }
    });
    match run.await {
        Ok(Ok((Some((token, must_change)), _, _))) => {
            let mut r = see_other(if must_change { "/password" } else { "/" });
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, Some(&token)));
            r.headers_mut()
                .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, None));
            r
        }
        Ok(Ok((None, username, Some((status, why))))) => login_page(Some(why), &username, status),
        Ok(Err(e)) => {
            let p = Problem::Dock(e);
            login_page(Some(p.message()), "", p.status())
        }
        _ => login_page(
            Some(
                "The console failed to check the password. Try again; tell IT if it happens again."
                    .into(),
            ),
            "",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap, body: FormBody) -> Response {
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    auth::form(
        app,
        headers,
        Gate::Open,
        body,
        FORM_LIMIT,
        move |dock, _ctx, _f| {
            dock.staff_session_end(&token, Utc::now())?;
            let mut r = see_other("/login");
            r.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, None));
            Ok(r)
        },
    )
    .await
}

async fn password_form(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    auth::page(app, headers, Gate::Open, |_dock, ctx| {
        Ok(html(&PasswordPage {
            nav: Some(Nav::of(ctx, "/password")),
            csrf: ctx.session.csrf.clone(),
            must_change: ctx.session.member.must_change,
            done: false,
        }))
    })
    .await
}

async fn password(State(app): State<Arc<App>>, headers: HeaderMap, body: FormBody) -> Response {
    auth::form(
        app,
        headers,
        Gate::Open,
        body,
        FORM_LIMIT,
        |dock, ctx, f| {
            let (old, new, again) = (f.raw("old"), f.raw("new"), f.raw("again"));
            if new != again {
                return Err(Problem::Bad(
                    "The two new passwords are not the same. Type the new one twice.".into(),
                ));
            }
            let me = &ctx.session.member;
            let now = Utc::now();
            dock.staff_change_password(&me.username, old, new, now)?;
            // Every session of the account ended with the change; this one
            // goes on with a new token.
            let mut member = me.clone();
            member.must_change = false;
            let (token, session) = dock.staff_session_start(&member, now)?;
            let ctx = Ctx { session };
            // A first sign-in goes on to the work it was held back from;
            // a chosen change stays to say it is done.
            let mut r = if me.must_change {
                see_other("/")
            } else {
                html(&PasswordPage {
                    nav: Some(Nav::of(&ctx, "/password")),
                    csrf: ctx.session.csrf.clone(),
                    must_change: false,
                    done: true,
                })
            };
            r.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(SESSION_COOKIE, Some(&token)));
            Ok(r)
        },
    )
    .await
}

// ---- the start page ----

async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    auth::page(app, headers, Gate::Signed, |dock, ctx| {
        let mut cards = Vec::new();
        let waiting = |attorney: bool| -> Result<usize, Problem> {
            let f = ReviewFilter {
                state: Some("in-review".into()),
                attorney: Some(attorney),
                ..ReviewFilter::default()
            };
            Ok(dock.review_search(&f, 0, 0)?.total)
        };
        if ctx.may(Action::ReviewRead) {
            cards.push(Card {
                href: "/review",
                title: "Review",
                count: waiting(false)?.to_string(),
                text: "letters wait for review",
            });
        }
        if ctx.may(Action::LegalRead) {
            cards.push(Card {
                href: "/legal",
                title: "Privileged mail",
                count: waiting(true)?.to_string(),
                text: "privileged letters wait",
            });
        }
        if ctx.may(Action::TabletsRead) {
            cards.push(Card {
                href: "/tablets",
                title: "Tablets",
                count: dock.pending_tablets()?.len().to_string(),
                text: "tablets wait to be enrolled",
            });
        }
        if ctx.may(Action::StaffEdit) {
            cards.push(Card {
                href: "/staff",
                title: "Staff",
                count: dock.staff_list()?.len().to_string(),
                text: "staff accounts",
            });
        }
        if ctx.may(Action::AuditRead) {
            cards.push(Card {
                href: "/audit",
                title: "Audit",
                count: dock.staff_audit(None)?.len().to_string(),
                text: "staff actions recorded",
            });
        }
        Ok(html(&HomePage {
            nav: Some(Nav::of(ctx, "/")),
            cards,
        }))
    })
    .await
}

// ---- review ----

fn parse_day(s: &str, field: &str) -> Result<Option<chrono::NaiveDate>, Problem> {
    if s.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| Problem::Bad(format!("The {field} date must be a day like 2026-12-03.")))
}

fn parse_page(s: &str) -> Result<usize, Problem> {
    if s.is_empty() {
        return Ok(1);
    }
    s.parse::<usize>()
        .ok()
        .filter(|p| (1..=1_000_000).contains(p))
        .ok_or_else(|| Problem::Bad("The page number must be a whole number from 1.".into()))
}

const STATES: [(&str, &str); 6] = [
    ("in-review", "Waiting for review"),
    ("approved", "Approved"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("rejected", "Rejected"),
    ("all", "Any state"),
];

/// A letter's state as staff read it (the dock's word when it is new).
fn state_label(state: &str) -> String {
    STATES
        .iter()
        .find(|(v, _)| *v == state)
        .map_or_else(|| state.to_string(), |(_, l)| (*l).to_string())
}

fn direction(k: ReviewKind) -> &'static str {
    match k {
        ReviewKind::Outbound => "to a contact",
        ReviewKind::Inbound => "to a person",
    }
}

async fn review_queue(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::ReviewRead),
        move |dock, ctx| queue(dock, ctx, q.as_deref().unwrap_or(""), false),
    )
    .await
}

async fn legal_queue(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::LegalRead),
        move |dock, ctx| queue(dock, ctx, q.as_deref().unwrap_or(""), true),
    )
    .await
}

fn queue(dock: &mut Dock, ctx: &Ctx, query: &str, privileged: bool) -> Result<Response, Problem> {
    let q = Form::parse(query.as_bytes());
    let state = match q.get("state") {
        "" => "in-review",
        s if STATES.iter().any(|(v, _)| *v == s) => s,
        other => {
            return Err(Problem::Bad(format!(
                "There is no letter state {other:?}; choose one from the list."
            )));
        }
    };
    let filter = ReviewFilter {
        state: (state != "all").then(|| state.to_string()),
        person: q.get("person").chars().take(64).collect(),
        contact: q.get("contact").chars().take(128).collect(),
        from: parse_day(q.get("from"), "From")?,
        to: parse_day(q.get("to"), "To")?,
        attorney: Some(privileged),
    };
    let page = parse_page(q.get("page"))?;
    let found = dock.review_search(&filter, (page - 1) * PAGE, PAGE)?;
    let base = if privileged { "/legal" } else { "/review" };
    let link = |p: usize| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for k in ["person", "contact", "from", "to"] {
            if !q.get(k).is_empty() {
                s.append_pair(k, q.get(k));
            }
        }
        s.append_pair("state", state);
        s.append_pair("page", &p.to_string());
        format!("{base}?{}", s.finish())
    };
    let first = (page - 1) * PAGE + 1;
    let last = ((page - 1) * PAGE + found.items.len()).max(first.saturating_sub(1));
    Ok(html(&ReviewPage {
        nav: Some(Nav::of(ctx, base)),
        title: if privileged {
            "Privileged mail"
        } else {
            "Review queue"
        },
        action: base,
        person: q.get("person").to_string(),
        contact: q.get("contact").to_string(),
        from: q.get("from").to_string(),
        to: q.get("to").to_string(),
        states: STATES
            .iter()
            .map(|(v, l)| Choice {
                value: v.to_string(),
                label: l.to_string(),
                selected: *v == state,
            })
            .collect(),
        rows: found
            .items
            .iter()
            .map(|i| LetterRow {
                href: format!("/review/{}", path_part(&i.id)),
                id: i.id.clone(),
                direction: direction(i.kind),
                person: person_label(dock, &i.person),
                contact: i.contact.clone(),
                at: short_time(&i.at),
                state: state_label(&i.state),
                flags: i.flags.join(", "),
            })
            .collect(),
        total: found.total,
        first,
        last,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PAGE < found.total).then(|| link(page + 1)),
        privileged,
    }))
}

/// The letter, if this member may see it: privileged mail needs the legal
/// role, ordinary mail the reviewer's.
fn visible_letter(dock: &Dock, ctx: &Ctx, id: &str) -> Result<ReviewItem, Problem> {
    let item = dock.review_show(id).map_err(|e| match e {
        crate::dock::Error::NotFound { .. } => Problem::NotFound(format!(
            "There is no letter {id}. It may have been typed wrong; find it in the queue."
        )),
        e => Problem::Dock(e),
    })?;
    ctx.need(if item.attorney {
        Action::LegalRead
    } else {
        Action::ReviewRead
    })?;
    Ok(item)
}

fn decide_action(item: &ReviewItem) -> Action {
    if item.attorney {
        Action::LegalDecide
    } else {
        Action::ReviewDecide
    }
}

async fn letter(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    auth::page(app, headers, Gate::Signed, move |dock, ctx| {
        let item = visible_letter(dock, ctx, &id)?;
        let keywords = dock.config().keywords.clone();
        let spans = match (&item.body, item.attorney) {
            (Some(b), false) => crate::domain::sync::keyword_spans(b, &keywords)
                .into_iter()
                .map(|(text, flagged)| Span { text, flagged })
                .collect(),
            _ => Vec::new(),
        };
        let history = dock
            .review_history(&id)?
            .into_iter()
            .map(|h| HistoryRow {
                at: short_time(&h.at),
                who: h.who,
                what: h.what,
                detail: h.detail,
            })
            .collect();
        Ok(html(&LetterPage {
            nav: Some(Nav::of(
                ctx,
                if item.attorney { "/legal" } else { "/review" },
            )),
            id: item.id.clone(),
            direction: direction(item.kind),
            person: person_label(dock, &item.person),
            contact: item.contact.clone(),
            sender: item.sender.clone().unwrap_or_default(),
            subject: item.subject.clone().unwrap_or_default(),
            at: short_time(&item.at),
            state: state_label(&item.state),
            reason: item.reason.clone(),
            flags: item.flags.join(", "),
            privileged: item.attorney,
            problem: item.problem.clone().unwrap_or_default(),
            removed: item
                .removed
                .iter()
                .map(|r| format!("{} ({} bytes)", r.name, r.bytes))
                .collect(),
            spans,
            history,
            // A legal mail officer cannot read the letter, so cannot judge
            // its content: privileged mail has its own reasons, about who
            // wrote to whom.
            reasons: if item.attorney {
                dock.config().legal_reject_reasons.clone()
            } else {
                dock.config().reject_reasons.clone()
            },
            csrf: ctx.session.csrf.clone(),
            can_decide: item.state == "in-review" && ctx.may(decide_action(&item)),
            back: if item.attorney { "/legal" } else { "/review" },
        }))
    })
    .await
}

async fn approve(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Signed,
        body,
        FORM_LIMIT,
        move |dock, ctx, _f| {
            let item = visible_letter(dock, ctx, &id)?;
            ctx.need(decide_action(&item))?;
            dock.review_approve(&id, &ctx.actor())?;
            Ok(see_other(if item.attorney { "/legal" } else { "/review" }))
        },
    )
    .await
}

async fn reject(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Signed,
        body,
        FORM_LIMIT,
        move |dock, ctx, f| {
            let item = visible_letter(dock, ctx, &id)?;
            ctx.need(decide_action(&item))?;
            let reason = match (f.get("reason"), f.get("template")) {
                ("", "") => {
                    return Err(Problem::Bad(
                        "Choose a reason or write one: the writer reads it.".into(),
                    ));
                }
                ("", t) => t,
                (typed, _) => typed,
            };
            dock.review_reject(&id, reason, &ctx.actor())?;
            Ok(see_other(if item.attorney { "/legal" } else { "/review" }))
        },
    )
    .await
}

// ---- staff accounts ----

fn staff_page(
    dock: &Dock,
    ctx: &Ctx,
    shown: Option<(String, String)>,
) -> Result<Response, Problem> {
    let me = &ctx.session.member.username;
    Ok(html(&StaffPage {
        nav: Some(Nav::of(ctx, "/staff")),
        csrf: ctx.session.csrf.clone(),
        members: dock
            .staff_list()?
            .into_iter()
            .map(|m| MemberRow {
                me: &m.username == me,
                username: m.username.to_string(),
                name: m.display_name,
                roles: crate::domain::staff::roles_list(&m.roles),
                created: short_time(&m.created_at),
                disabled: m.disabled_at.as_deref().map(short_time).unwrap_or_default(),
                must_change: m.must_change,
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(*r)))
            .collect(),
        shown,
    }))
}

fn role_label(r: Role) -> &'static str {
    match r {
        Role::MailReviewer => "Mail reviewer: the review queue",
        Role::LegalMailOfficer => {
            "Legal mail officer: attorney contacts and privileged mail (metadata only)"
        }
        Role::EducationCoordinator => "Education coordinator: content approvals and certificates",
        Role::ItAdmin => "IT admin: tablets, people, policies, staff accounts",
        Role::Auditor => "Auditor: reads everything but letters",
    }
}

fn username(s: &str) -> Result<Username, Problem> {
    s.parse()
        .map_err(|e: crate::domain::staff::StaffError| Problem::Bad(format!("{e}.")))
}

async fn staff(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    auth::page(app, headers, Gate::Need(Action::StaffEdit), |dock, ctx| {
        staff_page(dock, ctx, None)
    })
    .await
}

async fn staff_add(State(app): State<Arc<App>>, headers: HeaderMap, body: FormBody) -> Response {
    auth::form(
        app,
        headers,
        Gate::Need(Action::StaffEdit),
        body,
        FORM_LIMIT,
        |dock, ctx, f| {
            let user = username(f.get("username"))?;
            let roles = f
                .all("role")
                .into_iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Problem::Bad(format!("{e}.")))?;
            if roles.is_empty() {
                return Err(Problem::Bad(
                    "Choose at least one role for the account.".into(),
                ));
            }
            let pw = crate::trust::password::temporary().map_err(crate::dock::Error::from)?;
            dock.staff_add(&ctx.actor(), &user, f.get("name"), &roles, &pw, Utc::now())?;
            staff_page(dock, ctx, Some((user.to_string(), pw)))
        },
    )
    .await
}

async fn staff_disable(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(user): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Need(Action::StaffEdit),
        body,
        FORM_LIMIT,
        move |dock, ctx, f| {
            let u = username(&user)?;
            if f.get("confirm") != "yes" {
                return Err(Problem::Bad(format!(
                    "Tick \"I am sure\" to disable {u}: they are signed out and cannot sign in until an IT admin enables the account. Nothing was changed."
                )));
            }
            dock.staff_disable(&ctx.actor(), &u, Utc::now())?;
            Ok(see_other("/staff"))
        },
    )
    .await
}

async fn staff_enable(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(user): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Need(Action::StaffEdit),
        body,
        FORM_LIMIT,
        move |dock, ctx, _f| {
            dock.staff_enable(&ctx.actor(), &username(&user)?, Utc::now())?;
            Ok(see_other("/staff"))
        },
    )
    .await
}

async fn staff_reset(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(user): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Need(Action::StaffEdit),
        body,
        FORM_LIMIT,
        move |dock, ctx, _f| {
            let user = username(&user)?;
            if user == ctx.session.member.username {
                return Err(Problem::Bad(
                    "Change your own password on the Password page.".into(),
                ));
            }
            let pw = crate::trust::password::temporary().map_err(crate::dock::Error::from)?;
            dock.staff_reset(&ctx.actor(), &user, &pw, Utc::now())?;
            staff_page(dock, ctx, Some((user.to_string(), pw)))
        },
    )
    .await
}

// ---- the audit trail ----

fn audit_rows(dock: &Dock, q: &Form) -> Result<Vec<crate::dock::StaffAuditRow>, Problem> {
    let has = |hay: &str, needle: &str| {
        needle.is_empty() || hay.to_lowercase().contains(&needle.to_lowercase())
    };
    let mut rows: Vec<_> = dock
        .staff_audit(None)?
        .into_iter()
        .filter(|r| {
            has(&r.actor, q.get("actor"))
                && has(&r.action, q.get("action"))
                && has(&r.target, q.get("target"))
        })
        .collect();
    rows.reverse();
    Ok(rows)
}

fn audit_query(q: &Form) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for k in ["actor", "action", "target"] {
        if !q.get(k).is_empty() {
            s.append_pair(k, q.get(k));
        }
    }
    s.finish()
}

async fn audit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    auth::page(app, headers, Gate::Need(Action::AuditRead), move |dock, ctx| {
        let q = Form::parse(query.unwrap_or_default().as_bytes());
        let page = parse_page(q.get("page"))?;
        let rows = audit_rows(dock, &q)?;
        let (chain, chain_ok) = match dock.staff_audit_check()? {
            AuditCheck::Intact { rows } => (
                format!("The trail is intact: {rows} rows, every link checked."),
                true,
            ),
            AuditCheck::BrokenAt { seq } => (
                format!(
                    "The trail is broken at row {seq}: that row or the one before it was changed or removed after it was written. Tell the facility's security officer."
                ),
                false,
            ),
        };
        let base = audit_query(&q);
        let link = |p: usize| {
            format!(
                "/audit?{}{}page={p}",
                base,
                if base.is_empty() { "" } else { "&" }
            )
        };
        let total = rows.len();
        let first = (page - 1) * AUDIT_PAGE + 1;
        let shown: Vec<AuditLine> = rows
            .into_iter()
            .skip((page - 1) * AUDIT_PAGE)
            .take(AUDIT_PAGE)
            .map(|r| AuditLine {
                seq: r.seq,
                at: short_time(&r.at),
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: r.detail,
            })
            .collect();
        let last = (first + shown.len()).saturating_sub(1);
        Ok(html(&AuditPage {
            nav: Some(Nav::of(ctx, "/audit")),
            actor: q.get("actor").to_string(),
            action: q.get("action").to_string(),
            target: q.get("target").to_string(),
            rows: shown,
            chain,
            chain_ok,
            csv: format!("/audit.csv{}{}", if base.is_empty() { "" } else { "?" }, base),
            total,
            first,
            last,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page * AUDIT_PAGE < total).then(|| link(page + 1)),
        }))
    })
    .await
}

async fn audit_export(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::AuditRead),
        move |dock, ctx| {
            let q = Form::parse(query.unwrap_or_default().as_bytes());
            let mut rows = audit_rows(dock, &q)?;
            rows.reverse();
            let csv = audit_csv(&rows);
            // The export is itself a staff action.
            dock.staff_note(
                &ctx.actor(),
                "audit.export",
                "staff_audit",
                &format!("rows={}; filter={}", rows.len(), audit_query(&q)),
                Utc::now(),
            )?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"berth-staff-audit.csv\"",
                    ),
                ],
                csv,
            )
                .into_response())
        },
    )
    .await
}

// ---- tablets ----

fn tablets_page(dock: &Dock, ctx: &Ctx, notice: Option<String>) -> Result<Response, Problem> {
    let tablets = dock
        .tablets()?
        .into_iter()
        .map(|t| TabletLine {
            code: crate::domain::PublicKey::from_hex(&t.key)
                .map(|k| crate::trust::device_code(&k).to_string())
                .unwrap_or_default(),
            key: t.key,
            name: t.name,
            groups: t.groups.join(" "),
            enrolled: short_time(&t.enrolled_at),
            last_sync: t
                .last_sync
                .as_deref()
                .map(short_time)
                .unwrap_or_else(|| "never".into()),
            version: t.app_version,
            battery: t.battery.map(|b| format!("{b}%")).unwrap_or_default(),
            tamper: t.tamper_events.to_string(),
            revoked: t.revoked_at.as_deref().map(short_time).unwrap_or_default(),
        })
        .collect();
    let waiting = dock
        .pending_tablets()?
        .into_iter()
        .map(|p| WaitingLine {
            code: p.code,
            first: short_time(&p.first_seen),
            last: short_time(&p.last_seen),
            tries: p.attempts.to_string(),
        })
        .collect();
    Ok(html(&TabletsPage {
        nav: Some(Nav::of(ctx, "/tablets")),
        csrf: ctx.session.csrf.clone(),
        can_edit: ctx.may(Action::TabletsEdit),
        tablets,
        waiting,
        notice,
    }))
}

async fn tablets(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::TabletsRead),
        |dock, ctx| tablets_page(dock, ctx, None),
    )
    .await
}

async fn tablet_enrol(State(app): State<Arc<App>>, headers: HeaderMap, body: FormBody) -> Response {
    auth::form(app, headers, Gate::Need(Action::TabletsEdit), body, FORM_LIMIT, |dock, ctx, f| {
        let code = crate::domain::DeviceCode::parse(f.get("code")).map_err(|e| {
            Problem::Bad(format!("The code is not one a tablet shows ({e}); type it as the tablet's screen shows it."))
        })?;
        let groups = f
            .get("groups")
            .split_whitespace()
            .map(crate::domain::GroupId::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Problem::Bad(format!("{e}; groups look like unit:b-east.")))?;
        let name = f.get("name");
        dock.enroll_by_code(&ctx.actor(), &code, name, &groups)?;
        tablets_page(
            dock,
            ctx,
            Some(format!("Enrolled {name}. It syncs at its next dock.")),
        )
    })
    .await
}

async fn tablet_revoke(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(app, headers, Gate::Need(Action::TabletsEdit), body, FORM_LIMIT, move |dock, ctx, f| {
        if f.get("confirm") != "yes" {
            return Err(Problem::Bad(format!(
                "Tick \"I am sure\" to revoke {name}: a revoked tablet is refused at every sync until it is enrolled again."
            )));
        }
        dock.revoke(&ctx.actor(), &name)?;
        tablets_page(
            dock,
            ctx,
            Some(format!("Revoked {name}. It is refused from its next sync.")),
        )
    })
    .await
}

// ---- contacts ----

fn request_line(dock: &Dock, r: crate::dock::ContactRequestRow) -> Result<RequestLine, Problem> {
    let person_name = dock
        .person(&r.person)?
        .map(|(_, n)| n)
        .unwrap_or_else(|| r.person.clone());
    let invitation = dock.invitation_status(&r);
    Ok(RequestLine {
        path: path_part(&r.id),
        received: short_time(&r.received_at),
        person_name,
        invitation,
        id: r.id,
        person: r.person,
        kind: r.kind,
        name: r.name,
        email: r.email,
        relationship: r.relationship,
        state: r.state,
        reason: r.reason,
        flag: r.flag,
    })
}

fn contacts_page(
    dock: &Dock,
    ctx: &Ctx,
    person: &str,
    notice: Option<String>,
) -> Result<Response, Problem> {
    use crate::domain::contacts::RequestState;
    let person = person.trim();
    let (person, person_name) = if person.is_empty() {
        (String::new(), String::new())
    } else {
        dock.person(person)?.ok_or_else(|| {
            Problem::NotFound(format!(
                "No one with the ID {person} is on a roster at this dock. Check the ID."
            ))
        })?
    };
    let rows = dock.contact_requests(None, (!person.is_empty()).then_some(person.as_str()))?;
    let (mut waiting, mut flagged, mut invited, mut done) = (vec![], vec![], vec![], vec![]);
    for r in rows {
        let state = RequestState::parse(&r.state);
        let flag = !r.flag.is_empty();
        let line = request_line(dock, r)?;
        match state {
            Some(RequestState::InReview) => waiting.push(line),
            Some(RequestState::Invited) => invited.push(line),
            _ if flag => flagged.push(line),
            _ => done.push(line),
        }
    }
    // The newest decisions first, and only the last hundred.
    done.reverse();
    done.truncate(100);
    flagged.reverse();
    let (list_version, contacts) = if person.is_empty() {
        (0, Vec::new())
    } else {
        let (v, list) = dock.contact_list(&person)?;
        (
            v,
            list.into_iter()
                .map(|c| ContactLine {
                    id: c.id.to_string(),
                    name: c.name,
                    email: c.email,
                    relationship: c.relationship,
                    attorney: c.attorney,
                })
                .collect(),
        )
    };
    Ok(html(&ContactsPage {
        nav: Some(Nav::of(ctx, "/contacts")),
        csrf: ctx.session.csrf.clone(),
        can_decide: ctx.may(Action::ContactsDecide),
        can_attorney: ctx.may(Action::LegalDecide),
        person,
        person_name,
        waiting,
        flagged,
        invited,
        done,
        contacts,
        list_version,
        reasons: crate::dock::contacts::REFUSE_REASONS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        notice,
    }))
}

async fn contacts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::ContactsRead),
        move |dock, ctx| {
            let q = Form::parse(q.as_deref().unwrap_or("").as_bytes());
            contacts_page(dock, ctx, q.get("person"), None)
        },
    )
    .await
}

async fn contact_approve(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(app, headers, Gate::Need(Action::ContactsDecide), body, FORM_LIMIT, move |dock, ctx, _| {
        let r = dock.contact_approve(&id, &ctx.actor())?;
        contacts_page(
            dock,
            ctx,
            "",
            Some(format!(
                "Approved. {} was sent an invitation at {}; they join {}'s contacts when they answer ACCEPT.",
                r.name, r.email, r.person
            )),
        )
    })
    .await
}

async fn contact_refuse(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(
        app,
        headers,
        Gate::Need(Action::ContactsDecide),
        body,
        FORM_LIMIT,
        move |dock, ctx, f| {
            let reason = match (f.get("reason"), f.get("template")) {
                ("", "") => {
                    return Err(Problem::Bad(
                        "Choose a reason or write one: the person reads it. Nothing was changed."
                            .into(),
                    ));
                }
                ("", t) => t,
                (typed, _) => typed,
            };
            let r = dock.contact_refuse(&id, reason, &ctx.actor())?;
            contacts_page(
                dock,
                ctx,
                "",
                Some(format!(
                    "Refused {}'s request for {}. They read the reason at the next sync.",
                    r.person, r.name
                )),
            )
        },
    )
    .await
}

async fn contact_suspend(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: FormBody,
) -> Response {
    auth::form(app, headers, Gate::Need(Action::ContactsDecide), body, FORM_LIMIT, |dock, ctx, f| {
        let (person, contact) = (f.get("person"), f.get("contact"));
        let v = dock.contact_suspend(person, contact, f.get("reason"), &ctx.actor())?;
        contacts_page(
            dock,
            ctx,
            person,
            Some(format!(
                "Suspended {contact}. Contact list version {v} reaches {person}'s tablets at the next sync."
            )),
        )
    })
    .await
}

async fn contact_attorney(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: FormBody,
) -> Response {
    auth::form(app, headers, Gate::Need(Action::LegalDecide), body, FORM_LIMIT, |dock, ctx, f| {
        let person = f.get("person");
        let id = dock.contact_attorney(person, f.get("name"), f.get("email"), &ctx.actor())?;
        contacts_page(
            dock,
            ctx,
            person,
            Some(format!(
                "Added attorney {id}. Letters with them are privileged; the list reaches the tablets at the next sync."
            )),
        )
    })
    .await
}

fn no_contact_page(
    dock: &Dock,
    ctx: &Ctx,
    person: &str,
    notice: Option<String>,
) -> Result<Response, Problem> {
    let person = person.trim();
    let entries = dock
        .no_contact_list((!person.is_empty()).then_some(person))?
        .into_iter()
        .map(|e| {
            let person_name = dock
                .person(&e.person)
                .ok()
                .flatten()
                .map(|(_, n)| n)
                .unwrap_or_else(|| e.person.clone());
            NoContactLine {
                id: e.id.to_string(),
                person_name,
                person: e.person,
                kind: e.kind,
                name: e.name,
                email: e.email,
                address: e.address,
                added_by: e.added_by,
                added: short_time(&e.added_at),
            }
        })
        .collect();
    Ok(html(&NoContactPage {
        nav: Some(Nav::of(ctx, "/no-contact")),
        csrf: ctx.session.csrf.clone(),
        person: person.to_string(),
        entries,
        kinds: crate::domain::contacts::NoContactKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect(),
        notice,
    }))
}

async fn no_contact(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    auth::page(
        app,
        headers,
        Gate::Need(Action::NoContactEdit),
        move |dock, ctx| {
            let q = Form::parse(q.as_deref().unwrap_or("").as_bytes());
            no_contact_page(dock, ctx, q.get("person"), None)
        },
    )
    .await
}

async fn no_contact_add(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: FormBody,
) -> Response {
    use crate::domain::contacts::{NoContactEntry, NoContactKind};
    auth::form(
        app,
        headers,
        Gate::Need(Action::NoContactEdit),
        body,
        FORM_LIMIT,
        |dock, ctx, f| {
            let kind = NoContactKind::parse(f.get("kind")).ok_or_else(|| {
                Problem::Bad(
                    "Choose why: court-order, victim or witness. Nothing was changed.".into(),
                )
            })?;
            let entry = NoContactEntry::new(kind, f.get("name"), f.get("email"), f.get("address"))
                .map_err(|e| Problem::Bad(format!("{e}. Nothing was changed.")))?;
            let person = f.get("person");
            let (id, suspended) = dock.no_contact_add(person, &entry, &ctx.actor())?;
            let also = if suspended.is_empty() {
                String::new()
            } else {
                format!(
                    " Suspended the matching contact(s): {}.",
                    suspended.join(", ")
                )
            };
            no_contact_page(
                dock,
                ctx,
                person,
                Some(format!("Added entry {id} for {person}.{also}")),
            )
        },
    )
    .await
}

async fn no_contact_remove(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: FormBody,
) -> Response {
    auth::form(app, headers, Gate::Need(Action::NoContactEdit), body, FORM_LIMIT, move |dock, ctx, f| {
        if f.get("confirm") != "yes" {
            return Err(Problem::Bad(format!(
                "Tick \"I am sure\" to remove entry {id}: requests and mail that match it are then no longer refused. Nothing was changed."
            )));
        }
        let n: i64 = id
            .parse()
            .map_err(|_| Problem::NotFound(format!("There is no no-contact entry {id}.")))?;
        dock.no_contact_remove(n, &ctx.actor())?;
        no_contact_page(dock, ctx, "", Some(format!("Removed entry {id}.")))
    })
    .await
}

/// A person as staff read them: "María González (A12345)", or the id
/// alone when no roster at this dock names them.
fn person_label(dock: &Dock, id: &str) -> String {
    match dock.person(id) {
        Ok(Some((id, name))) => format!("{name} ({id})"),
        _ => id.to_string(),
    }
}
