//! The staff console (issue 17) over real HTTPS on loopback: a real dock
//! with real tablets synced through its tablet listener, and the console
//! started beside it on the same data directory. The client below is a
//! plain HTTP/1.1 client over rustls that trusts exactly the certificate
//! the dock made, as a browser does once staff have compared the
//! fingerprint the dock prints.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use berth::console::{ConsoleConfig, RunningConsole};
use berth::dock::Dock;
use berth::dock::staff::Actor;
use berth::domain::messages::OutState;
use berth::domain::staff::{Action, Role, Username, may};

use crate::sync::{DockWorld, maria, state_of};

pub(crate) const PW: &str = "copper kettle on the stove";

/// An HTTP response, whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of the first hidden field `name` on the page.
    pub fn field(&self, name: &str) -> Option<String> {
        let text = self.text();
        let at = text.find(&format!("name=\"{name}\" value=\""))?;
        let rest = &text[at + name.len() + 15..];
        Some(rest[..rest.find('"')?].to_string())
    }
}

/// A browser of one: its own cookie jar, trusting one certificate.
pub struct Browser {
    addr: std::net::SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(console: &Console) -> Browser {
        let pem = std::fs::read(&console.config.cert).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(c.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Browser {
            addr: console.running.addr,
            tls: Arc::new(tls),
            cookies: BTreeMap::new(),
        }
    }

    pub fn send(&mut self, method: &str, path: &str, body: &[u8], content_type: &str) -> Resp {
        let tcp = TcpStream::connect(self.addr).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(self.tls.clone(), name).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let cookies = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !content_type.is_empty() {
            head += &format!("Content-Type: {content_type}\r\n");
        }
        if !cookies.is_empty() {
            head += &format!("Cookie: {cookies}\r\n");
        }
        head += "\r\n";
        s.write_all(head.as_bytes()).unwrap();
        // A server may answer before it has read a large body, and close.
        let _ = s.write_all(body);
        let _ = s.flush();
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let r = parse(&raw);
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                if value.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        r
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.send("GET", path, b"", "")
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            "POST",
            path,
            body.as_bytes(),
            "application/x-www-form-urlencoded",
        )
    }

    /// Sign in through the login form.
    pub fn login(&mut self, user: &str, password: &str) -> Resp {
        let form = self.get("/login");
        assert_eq!(form.status, 200, "{}", form.text());
        let token = form.field("login").expect("the login form's token");
        self.post(
            "/login",
            &[
                ("login", &token),
                ("username", user),
                ("password", password),
            ],
        )
    }

    /// This session's CSRF token, as any page's form carries it.
    pub fn csrf(&mut self) -> String {
        let page = self.get("/password");
        page.field("csrf").expect("a form with the session's token")
    }
}

fn parse(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 2 + size + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A console serving beside a DockWorld's tablet listener.
pub struct Console {
    pub config: ConsoleConfig,
    pub running: RunningConsole,
}

impl Console {
    pub fn start(dw: &DockWorld) -> Console {
        Console::start_on(&dw.dock(), &dw.data)
    }

    /// The console of `dock`, whose data directory is `data`.
    pub fn start_on(dock: &Dock, data: &std::path::Path) -> Console {
        let config = ConsoleConfig::for_data(data, "127.0.0.1:0");
        let fp = berth::console::ensure_certificate(&config, &["localhost".to_string()]).unwrap();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
        let running = berth::console::start(dock, &config).unwrap();
        Console { config, running }
    }
}

pub(crate) fn cli() -> Actor {
    Actor::Cli {
        os_user: "it-night".into(),
    }
}

/// An account with these roles whose own password is set (no first-login
/// change pending).
pub fn member(dock: &mut Dock, user: &str, roles: &[Role]) {
    let now = chrono::Utc::now();
    let u: Username = user.parse().unwrap();
    dock.staff_add(&cli(), &u, user, roles, "temporary one two three", now)
        .unwrap();
    dock.staff_change_password(&u, "temporary one two three", PW, now)
        .unwrap();
}

pub(crate) fn staff_audit_actions(dock: &Dock) -> Vec<(String, String, String)> {
    dock.staff_audit(None)
        .unwrap()
        .into_iter()
        .map(|r| (r.actor, r.action, r.target))
        .collect()
}

#[test]
fn signing_in_sets_a_strict_cookie_and_every_page_is_private_and_scriptless() {
    let dw = DockWorld::new();
    member(&mut dw.dock(), "dana", &[Role::ItAdmin]);
    let c = Console::start(&dw);
    let mut b = Browser::new(&c);

    // Not signed in: every private page sends the browser to sign in.
    let r = b.get("/tablets");
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));

    let r = b.login("dana", "not the password at all");
    assert_eq!(r.status, 401);
    assert!(
        r.text()
            .contains("The username or the password is not right.")
    );
    assert!(!b.cookies.contains_key("__Host-berth-session"));

    let r = b.login("dana", PW);
    assert_eq!((r.status, r.header("location")), (303, Some("/")));
    let set: Vec<&str> = r
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    let session = set
        .iter()
        .find(|v| v.starts_with("__Host-berth-session="))
        .expect("a session cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(session.contains(attr), "{session} lacks {attr}");
    }
    let token = b.cookies["__Host-berth-session"].clone();
    assert!(token.len() >= 32, "a random token: {token}");
    // The dock keeps only the token's hash.
    let db = std::fs::read(dw.data.join("dock.db")).unwrap();
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "the session token is in the database"
    );

    let home = b.get("/");
    assert_eq!(home.status, 200, "{}", home.text());
    assert!(home.text().contains("Tablets"));
    assert_eq!(home.header("cache-control"), Some("no-store"));
    let csp = home.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    assert!(
        !home.text().contains("<script"),
        "the console sends no script"
    );
    // Its one stylesheet is the dock's own.
    let css = b.get("/assets/console.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(
        !home.text().contains("https://"),
        "nothing from another host"
    );

    // Signing out ends the session on the dock, not only in the browser.
    let csrf = b.csrf();
    let r = b.post("/logout", &[("csrf", &csrf)]);
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    b.cookies.insert("__Host-berth-session".into(), token);
    assert_eq!(b.get("/").status, 303);
}

#[test]
fn a_first_login_must_set_its_own_password_before_anything_else() {
    let dw = DockWorld::new();
    let now = chrono::Utc::now();
    dw.dock()
        .staff_add(
            &cli(),
            &"rosa".parse().unwrap(),
            "Rosa",
            &[Role::MailReviewer],
            "temporary one two three",
            now,
        )
        .unwrap();
    let c = Console::start(&dw);
    let mut b = Browser::new(&c);
    let r = b.login("rosa", "temporary one two three");
    assert_eq!((r.status, r.header("location")), (303, Some("/password")));
    let r = b.get("/review");
    assert_eq!((r.status, r.header("location")), (303, Some("/password")));
    let csrf = b.csrf();
    let r = b.post(
        "/password",
        &[
            ("csrf", &csrf),
            ("old", "temporary one two three"),
            ("new", PW),
            ("again", "a different one entirely"),
        ],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("not the same") && r.text().contains("Nothing was changed"));
    let r = b.post(
        "/password",
        &[
            ("csrf", &csrf),
            ("old", "temporary one two three"),
            ("new", PW),
            ("again", PW),
        ],
    );
    // On to the start page, and the work that was held back is open.
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/")),
        "{}",
        r.text()
    );
    assert_eq!(b.get("/review").status, 200);
    // A change chosen later stays on the page and says it is done.
    let csrf = b.csrf();
    let again = "a second pass phrase of mine";
    let r = b.post(
        "/password",
        &[
            ("csrf", &csrf),
            ("old", PW),
            ("new", again),
            ("again", again),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Your password is changed"));
    assert_eq!(b.get("/review").status, 200);
}

/// One route of the console and the action its gate needs (None: any
/// signed-in member). The same table is in ARCHITECTURE.md.
struct Route {
    method: &'static str,
    path: &'static str,
    needs: Option<Action>,
}

const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/",
        needs: None,
    },
    Route {
        method: "GET",
        path: "/password",
        needs: None,
    },
    Route {
        method: "POST",
        path: "/password",
        needs: None,
    },
    Route {
        method: "GET",
        path: "/review",
        needs: Some(Action::ReviewRead),
    },
    Route {
        method: "GET",
        path: "/review/{letter}",
        needs: Some(Action::ReviewRead),
    },
    Route {
        method: "POST",
        path: "/review/{letter}/approve",
        needs: Some(Action::ReviewDecide),
    },
    Route {
        method: "POST",
        path: "/review/{letter}/reject",
        needs: Some(Action::ReviewDecide),
    },
    Route {
        method: "GET",
        path: "/legal",
        needs: Some(Action::LegalRead),
    },
    Route {
        method: "GET",
        path: "/review/{privileged}",
        needs: Some(Action::LegalRead),
    },
    Route {
        method: "POST",
        path: "/review/{privileged}/approve",
        needs: Some(Action::LegalDecide),
    },
    Route {
        method: "POST",
        path: "/review/{privileged}/reject",
        needs: Some(Action::LegalDecide),
    },
    Route {
        method: "GET",
        path: "/contacts",
        needs: Some(Action::ContactsRead),
    },
    Route {
        method: "POST",
        path: "/contacts/{request}/approve",
        needs: Some(Action::ContactsDecide),
    },
    Route {
        method: "POST",
        path: "/contacts/{request}/refuse",
        needs: Some(Action::ContactsDecide),
    },
    Route {
        method: "POST",
        path: "/contacts/suspend",
        needs: Some(Action::ContactsDecide),
    },
    Route {
        method: "POST",
        path: "/contacts/attorney",
        needs: Some(Action::LegalDecide),
    },
    Route {
        method: "GET",
        path: "/no-contact",
        needs: Some(Action::NoContactEdit),
    },
    Route {
        method: "POST",
        path: "/no-contact/add",
        needs: Some(Action::NoContactEdit),
    },
    Route {
        method: "POST",
        path: "/no-contact/{entry}/remove",
        needs: Some(Action::NoContactEdit),
    },
    Route {
        method: "GET",
        path: "/staff",
        needs: Some(Action::StaffEdit),
    },
    Route {
        method: "POST",
        path: "/staff/add",
        needs: Some(Action::StaffEdit),
    },
    Route {
        method: "POST",
        path: "/staff/{user}/disable",
        needs: Some(Action::StaffEdit),
    },
    Route {
        method: "POST",
        path: "/staff/{user}/reset",
        needs: Some(Action::StaffEdit),
    },
    Route {
        method: "POST",
        path: "/staff/{user}/enable",
        needs: Some(Action::StaffEdit),
    },
    Route {
        method: "GET",
        path: "/audit",
        needs: Some(Action::AuditRead),
    },
    Route {
        method: "GET",
        path: "/audit.csv",
        needs: Some(Action::AuditRead),
    },
    Route {
        method: "GET",
        path: "/tablets",
        needs: Some(Action::TabletsRead),
    },
    Route {
        method: "POST",
        path: "/tablets/enrol",
        needs: Some(Action::TabletsEdit),
    },
    Route {
        method: "POST",
        path: "/tablets/{tablet}/revoke",
        needs: Some(Action::TabletsEdit),
    },
];

#[test]
fn every_route_checks_the_role_on_the_server_for_every_role() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    // One ordinary and one privileged letter, both decided already, so an
    // allowed decision is refused for the letter's state (400), never done.
    let (plain, privileged) = {
        let mut t = t.lock().unwrap();
        let a = t.letters().queue_letter(&s, "ana", "hola").unwrap().id;
        let b = t
            .letters()
            .queue_letter(&s, "lawyer", "privado")
            .unwrap()
            .id;
        (a, b)
    };
    dw.sync(&t).unwrap();
    let mut dock = dw.dock();
    dock.review_approve(&plain, &cli()).unwrap();
    dock.review_approve(&privileged, &cli()).unwrap();
    // A contact request, refused already: an allowed decision on it is
    // refused for its state.
    let request = t
        .lock()
        .unwrap()
        .letters()
        .ask_contact(&s, "Luis", "", "luis@example.org")
        .unwrap();
    dw.sync(&t).unwrap();
    dock.contact_refuse(&request, "no", &cli()).unwrap();
    for r in Role::ALL {
        member(&mut dock, r.as_str(), &[r]);
    }
    member(&mut dock, "target", &[Role::Auditor]);
    let c = Console::start(&dw);
    let audit_before = dock.staff_audit(None).unwrap().len();

    let mut checked = 0;
    for role in Role::ALL {
        let mut b = Browser::new(&c);
        assert_eq!(b.login(role.as_str(), PW).status, 303);
        let csrf = b.csrf();
        for route in ROUTES {
            let path = route
                .path
                .replace("{letter}", &plain)
                .replace("{privileged}", &privileged)
                .replace("{user}", "nobody-here")
                .replace("{tablet}", "no-such-tablet")
                .replace("{request}", &request)
                .replace("{entry}", "1");
            let allowed = route.needs.is_none_or(|a| may(role, a));
            // Forms carry the right token and nothing else: an allowed
            // one is refused for its input (400/404), never done.
            let r = if route.method == "GET" {
                b.get(&path)
            } else {
                b.post(&path, &[("csrf", &csrf)])
            };
            if allowed {
                assert!(
                    [200, 400, 404].contains(&r.status),
                    "{role:?} {} {path}: {} {}",
                    route.method,
                    r.status,
                    r.text()
                );
                assert!(
                    !r.text().contains("There is no such page"),
                    "{role:?} {path} is not a route: {}",
                    r.text()
                );
                if route.method == "GET" {
                    assert_eq!(r.status, 200, "{role:?} {path}: {}", r.text());
                }
            } else {
                assert_eq!(
                    r.status,
                    403,
                    "{role:?} may not {} {path}: {}",
                    route.method,
                    r.text()
                );
                assert!(r.text().contains("roles do not allow this"));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * Role::ALL.len());
    // Nothing was decided, added, reset or revoked; besides each sign-in,
    // only the exports were recorded.
    let after: Vec<_> = staff_audit_actions(&dock)
        .into_iter()
        .skip(audit_before)
        .map(|(_, a, _)| a)
        .filter(|a| a != "login")
        .collect();
    let exports = Role::ALL
        .iter()
        .filter(|r| may(**r, Action::AuditRead))
        .count();
    assert_eq!(after, vec!["audit.export".to_string(); exports]);
    // Letters are as they were.
    assert_eq!(dock.review_show(&plain).unwrap().state, "approved");

    // Nobody, whatever their roles, reads a privileged letter's text.
    let mut everyone = dock;
    member(&mut everyone, "all-roles", &Role::ALL);
    let mut b = Browser::new(&c);
    b.login("all-roles", PW);
    let page = b.get(&format!("/review/{privileged}"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Privileged"));
    assert!(
        !page.text().contains("privado"),
        "a privileged body was shown"
    );
}

#[test]
fn the_route_table_is_the_routers_and_the_documented_one() {
    // Every route the router serves is in the test's table …
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console/pages.rs"),
    )
    .unwrap();
    let public = ["/login", "/logout", "/assets/console.css"];
    let mut served = Vec::new();
    for line in src
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with(".route(\""))
    {
        let path = line[8..].split('"').next().unwrap();
        for method in ["get", "post"] {
            if line.contains(&format!("{method}(")) {
                served.push((method.to_uppercase(), path.to_string()));
            }
        }
    }
    assert!(served.len() > 10, "{served:?}");
    let tabled = |m: &str, p: &str| {
        ROUTES.iter().any(|r| {
            r.method == m
                && r.path
                    .replace("{letter}", "{id}")
                    .replace("{privileged}", "{id}")
                    .replace("{tablet}", "{name}")
                    .replace("{request}", "{id}")
                    .replace("{entry}", "{id}")
                    == p
        })
    };
    for (m, p) in &served {
        assert!(
            public.contains(&p.as_str()) || tabled(m, p),
            "{m} {p} is served but not in the role test's table"
        );
    }
    // … and the table is the one ARCHITECTURE.md gives staff and auditors.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"),
    )
    .unwrap();
    for r in ROUTES {
        let needs = r
            .needs
            .map(|a| format!("{a:?}"))
            .unwrap_or_else(|| "signed in".into());
        let row = format!("| {} `{}` | {} |", r.method, r.path, needs);
        assert!(doc.contains(&row), "ARCHITECTURE.md lacks the row {row}");
    }
}

#[test]
fn a_form_without_the_sessions_token_or_with_another_changes_nothing() {
    let dw = DockWorld::new();
    member(&mut dw.dock(), "dana", &[Role::ItAdmin]);
    member(&mut dw.dock(), "eve", &[Role::ItAdmin]);
    let c = Console::start(&dw);
    let mut dana = Browser::new(&c);
    dana.login("dana", PW);
    let mut eve = Browser::new(&c);
    eve.login("eve", PW);
    let eves = eve.csrf();
    let before = dw.dock().staff_list().unwrap().len();
    for fields in [
        vec![("username", "mallory"), ("role", "it-admin")],
        vec![("csrf", ""), ("username", "mallory"), ("role", "it-admin")],
        vec![
            ("csrf", "0000"),
            ("username", "mallory"),
            ("role", "it-admin"),
        ],
        vec![
            ("csrf", eves.as_str()),
            ("username", "mallory"),
            ("role", "it-admin"),
        ],
    ] {
        let r = dana.post("/staff/add", &fields);
        assert_eq!(r.status, 403, "{fields:?}: {}", r.text());
        assert!(r.text().contains("not sent from a page of this session"));
        assert!(r.text().contains("Nothing was changed"));
    }
    assert_eq!(dw.dock().staff_list().unwrap().len(), before);
    // The login form is guarded too: a post without the form's own token
    // (another site's) signs nobody in.
    let mut other = Browser::new(&c);
    let r = other.post("/login", &[("username", "dana"), ("password", PW)]);
    assert_eq!(r.status, 403);
    assert!(!other.cookies.contains_key("__Host-berth-session"));
    // With the token, the same form works.
    let csrf = dana.csrf();
    let r = dana.post(
        "/staff/add",
        &[
            ("csrf", &csrf),
            ("username", "mallory"),
            ("name", "M"),
            ("role", "auditor"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(dw.dock().staff_list().unwrap().len(), before + 1);
}

#[test]
fn an_idle_session_ends_and_a_disabled_account_is_signed_out() {
    let dw = DockWorld::new();
    member(&mut dw.dock(), "dana", &[Role::ItAdmin]);
    member(&mut dw.dock(), "ravi", &[Role::MailReviewer]);
    let c = Console::start(&dw);
    let mut b = Browser::new(&c);
    b.login("ravi", PW);
    assert_eq!(b.get("/review").status, 200);
    // Sixteen minutes pass with no request (the console's idle limit is
    // fifteen): the session's last use is moved back in the database.
    let db = rusqlite::Connection::open(dw.data.join("dock.db")).unwrap();
    let then = berth::domain::time::ts(&(chrono::Utc::now() - chrono::Duration::minutes(16)));
    assert_eq!(
        db.execute("UPDATE staff_sessions SET last_seen = ?1", [&then])
            .unwrap(),
        1
    );
    let r = b.get("/review");
    assert_eq!((r.status, r.header("location")), (303, Some("/login")));
    assert!(!b.cookies.contains_key("__Host-berth-session"));

    // A member disabled while signed in is out at the next request.
    b.login("ravi", PW);
    assert_eq!(b.get("/review").status, 200);
    let mut admin = Browser::new(&c);
    admin.login("dana", PW);
    let csrf = admin.csrf();
    // Without "I am sure", nothing happens.
    let r = admin.post("/staff/ravi/disable", &[("csrf", &csrf)]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("I am sure"));
    assert_eq!(b.get("/review").status, 200, "still signed in");
    let r = admin.post(
        "/staff/ravi/disable",
        &[("csrf", &csrf), ("confirm", "yes")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(b.get("/review").status, 303);
    let r = b.login("ravi", PW);
    assert_eq!(r.status, 403);
    assert!(r.text().contains("disabled"));
    // Enabled again, the account signs in with its password.
    let page = admin.get("/staff");
    assert!(page.text().contains("Enable ravi"));
    let r = admin.post("/staff/ravi/enable", &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(b.login("ravi", PW).status, 303);
    assert_eq!(b.get("/review").status, 200);
    let r = admin.post("/staff/ravi/enable", &[("csrf", &csrf)]);
    assert_eq!(r.status, 400, "enabling an active account: {}", r.text());
    let trail: Vec<String> = staff_audit_actions(&dw.dock())
        .into_iter()
        .map(|(_, a, _)| a)
        .collect();
    assert!(
        trail.contains(&"staff.disable".to_string()) && trail.contains(&"staff.enable".to_string())
    );
}

#[test]
fn a_ten_megabyte_field_and_bad_input_are_refused_with_a_reason_and_no_change() {
    let dw = DockWorld::new();
    member(&mut dw.dock(), "dana", &[Role::ItAdmin]);
    let c = Console::start(&dw);
    let mut b = Browser::new(&c);
    b.login("dana", PW);
    let csrf = b.csrf();
    let audit = dw.dock().staff_audit(None).unwrap().len();
    let staff = dw.dock().staff_list().unwrap().len();

    let huge = "x".repeat(10 << 20);
    let r = b.post(
        "/staff/add",
        &[
            ("csrf", &csrf),
            ("username", "bob"),
            ("name", &huge),
            ("role", "auditor"),
        ],
    );
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("larger than 64 KB") && r.text().contains("Nothing was changed"));
    // The login form too.
    let mut fresh = Browser::new(&c);
    let r = fresh.post("/login", &[("username", "dana"), ("password", &huge)]);
    assert_eq!(r.status, 413);

    for (path, fields, says) in [
        (
            "/staff/add",
            vec![("username", "Bob Smith"), ("role", "auditor")],
            "not a usable login name",
        ),
        (
            "/staff/add",
            vec![("username", "bob"), ("role", "warden")],
            "warden",
        ),
        ("/staff/add", vec![("username", "bob")], "at least one role"),
        (
            "/staff/add",
            vec![("username", "dana"), ("role", "auditor")],
            "dana",
        ),
        ("/staff/bob/reset", vec![], "bob"),
        ("/staff/dana/reset", vec![], "Password page"),
        (
            "/tablets/enrol",
            vec![("code", "hello"), ("name", "t")],
            "code",
        ),
        ("/tablets/tab-9/revoke", vec![("confirm", "yes")], "tab-9"),
        ("/tablets/tab-9/revoke", vec![], "I am sure"),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields.iter().copied());
        let r = b.post(path, &all);
        assert!(
            [400, 404].contains(&r.status),
            "{path} {fields:?}: {} {}",
            r.status,
            r.text()
        );
        assert!(r.text().contains(says), "{path} {fields:?}: {}", r.text());
        assert!(r.text().contains("Nothing was changed"), "{}", r.text());
    }
    member(&mut dw.dock(), "rita", &[Role::MailReviewer]);
    let mut reviewer = Browser::new(&c);
    reviewer.login("rita", PW);
    for (path, says) in [
        ("/review?state=lost", "no letter state"),
        ("/review?from=03/12/2026", "2026-12-03"),
        ("/review?page=0", "page number"),
        ("/review/L-nope", "no letter"),
        ("/no/such/page", "no such page"),
    ] {
        let r = reviewer.get(path);
        assert!([400, 404].contains(&r.status), "{path}: {}", r.status);
        assert!(r.text().contains(says), "{path}: {}", r.text());
    }
    assert_eq!(dw.dock().staff_list().unwrap().len(), staff + 1);
    let actions: Vec<_> = staff_audit_actions(&dw.dock())
        .into_iter()
        .skip(audit)
        .map(|(_, a, _)| a)
        .collect();
    assert_eq!(
        actions,
        ["staff.add", "staff.password", "login"],
        "only the reviewer made for the test, and its sign-in"
    );
}

#[test]
fn a_letter_rejected_in_the_console_shows_its_reason_on_the_tablet_after_sync() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let id = t
        .lock()
        .unwrap()
        .letters()
        .queue_letter(&s, "ana", "Dile a Pedro que el paquete está en la celda 4")
        .unwrap()
        .id;
    dw.sync(&t).unwrap();
    // The facility's word list (D/dock.toml), read when the dock opens.
    std::fs::write(dw.data.join("dock.toml"), "keywords = [\"paquete\"]\n").unwrap();
    member(&mut dw.dock(), "ravi", &[Role::MailReviewer]);
    let c = Console::start(&dw);
    let mut b = Browser::new(&c);
    b.login("ravi", PW);
    let queue = b.get("/review");
    assert_eq!(queue.status, 200);
    assert!(queue.text().contains(&id), "{}", queue.text());
    let page = b.get(&format!("/review/{id}"));
    assert!(
        page.text().contains("<mark>paquete</mark>"),
        "the flagged word is highlighted: {}",
        page.text()
    );
    let csrf = page.field("csrf").unwrap();
    let r = b.post(&format!("/review/{id}/reject"), &[("csrf", &csrf)]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Choose a reason"));
    assert_eq!(state_of(&t, &s, &id).0, OutState::InReview);
    let reason = "Habla de contrabando. Puede escribir otra carta.";
    let r = b.post(
        &format!("/review/{id}/reject"),
        &[("csrf", &csrf), ("reason", reason)],
    );
    assert_eq!((r.status, r.header("location")), (303, Some("/review")));
    dw.sync(&t).unwrap();
    assert_eq!(
        state_of(&t, &s, &id),
        (OutState::Rejected, reason.to_string())
    );
    // Who did it is in the trail, and in the letter's history.
    let trail = staff_audit_actions(&dw.dock());
    assert!(
        trail.contains(&("ravi".into(), "review.reject".into(), id.clone())),
        "{trail:?}"
    );
    let page = b.get(&format!("/review/{id}"));
    assert!(page.text().contains("ravi") && page.text().contains(reason));
    assert!(!page.text().contains("class=\"reject\""), "decided once");
}

#[test]
fn privileged_mail_is_refused_for_reasons_about_who_not_what() {
    let dw = DockWorld::new();
    let t = dw.tablet("tab-1");
    let s = maria(&t);
    let (plain, privileged) = {
        let mut t = t.lock().unwrap();
        let a = t.letters().queue_letter(&s, "ana", "hola").unwrap().id;
        let b = t
            .letters()
            .queue_letter(&s, "lawyer", "privado")
            .unwrap()
            .id;
        (a, b)
    };
    dw.sync(&t).unwrap();
    member(&mut dw.dock(), "lena", &[Role::LegalMailOfficer]);
    member(&mut dw.dock(), "rosa", &[Role::MailReviewer]);
    let c = Console::start(&dw);
    let mut legal = Browser::new(&c);
    legal.login("lena", PW);
    let page = legal.get(&format!("/review/{privileged}"));
    assert_eq!(page.status, 200);
    // A legal officer cannot read the letter, so cannot judge its content.
    assert!(
        page.text().contains("not the attorney on file"),
        "{}",
        page.text()
    );
    assert!(
        !page.text().contains("Threatens"),
        "a content reason for an unread letter"
    );
    let mut reviewer = Browser::new(&c);
    reviewer.login("rosa", PW);
    let page = reviewer.get(&format!("/review/{plain}"));
    assert!(page.text().contains("Threatens") && !page.text().contains("attorney on file"));
    // The queue names the person, not only their id.
    let queue = reviewer.get("/review");
    assert!(
        queue.text().contains("María González (A12345)"),
        "{}",
        queue.text()
    );
}
