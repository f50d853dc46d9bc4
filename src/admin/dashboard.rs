//! The dashboard at `/_mockidp/`: what a developer looks at when a test fails. Server-rendered
//! from askama templates (`templates/dashboard/`, escaped at compile time: request data such as
//! a client id full of markup shows as text); `assets/dashboard.js` refreshes the journal and
//! the test-control state, and sends the buttons' admin API calls.
//!
//! It obeys the admin API's rules (`admin::guard` has applied the origin and host checks). With an admin token set, a browser's first request carries none: it gets the page
//! without data, whose script asks for the token once, keeps it in the tab's `sessionStorage`
//! and fetches the page again with it.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::guard::Authorized;
use super::{Answer, Routes, base_url, server_error};
use crate::config::{ClientConfig, UserConfig};
use crate::dialect::{Endpoint, endpoint_url};
use crate::engine::control::JournalEntry;
use crate::engine::{Engine, Issuer};

/// The script and style sheet, served beside the page (no build step).
pub const SCRIPT: &str = include_str!("../../assets/dashboard.js");
pub const STYLE: &str = include_str!("../../assets/dashboard.css");

/// The page, its script and its style sheet: the server's only (the guard lets them through
/// without the token).
pub fn frame_routes(cfg: &mut Routes) {
    cfg.at("").get(page);
    cfg.at("/dashboard.js").get(script);
    cfg.at("/dashboard.css").get(style);
}

/// The fragments the script refreshes.
pub fn routes(cfg: &mut Routes) {
    cfg.at("/dashboard/state").get(state);
    cfg.at("/dashboard/journal").get(journal);
}

/// `GET /_mockidp/`: with data only when the admin token came along.
async fn page(engine: web::Data<Engine>, req: HttpRequest) -> Answer {
    let authorized = req.extensions().get::<Authorized>().is_some_and(|a| a.0);
    html(Page::new(&engine, authorized, &base_url(&req)).render())
}

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

async fn state(engine: web::Data<Engine>) -> Answer {
    html(State::new(&engine).render())
}

async fn journal(engine: web::Data<Engine>, req: HttpRequest) -> Answer {
    let entries = super::journal::entries(&engine, req.query_string());
    html(Journal::new(entries).render())
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// A rendered template. The policy lets the page run only its own script and style sheet:
/// markup that slipped into request data could not run even if it were not escaped.
fn html(rendered: askama::Result<String>) -> Answer {
    let body = rendered.map_err(|e| server_error(format!("dashboard template: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
             img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}

/// Journal entries shown at once, newest first.
const SHOWN: usize = 200;

/// The whole page. `data` is `None` when an admin token is needed and was not sent.
#[derive(Template)]
#[template(path = "dashboard/page.html")]
pub struct Page {
    data: Option<PageData>,
}

struct PageData {
    /// The server's own issuers, in full.
    namespaces: Vec<Namespace>,
    /// The namespaces made through the admin API, one line each (there may be thousands).
    others: Vec<NamespaceRow>,
    /// How many more namespaces exist than `others` shows.
    more: usize,
    state: State,
    filters: Filters,
    journal: Journal,
}

/// A namespace made through the admin API, as a line of the dashboard.
struct NamespaceRow {
    id: String,
    url: String,
    issuers: String,
    idle_secs: u64,
}

/// Namespace lines shown at most.
const NAMESPACES_SHOWN: usize = 100;

struct Namespace {
    name: &'static str,
    issuers: Vec<IssuerView>,
}

struct IssuerView {
    name: String,
    dialect: &'static str,
    url: String,
    discovery: String,
    token: String,
    clients: Vec<ClientView>,
    users: Vec<UserView>,
}

/// A client without its secret.
struct ClientView {
    id: String,
    kind: &'static str,
    grants: String,
    scopes: String,
    redirect_uris: String,
}

/// A user without the password.
struct UserView {
    username: String,
    roles: String,
    claims: String,
}

/// Queued rules, the clock and the keys: refreshed as tests consume rules and move time.
#[derive(Template)]
#[template(path = "dashboard/state.html")]
pub struct State {
    queues: Vec<Queue>,
    now: String,
    now_secs: u64,
    offset_secs: i64,
    frozen: bool,
    current_kid: String,
    published: Vec<String>,
}

struct Queue {
    kind: &'static str,
    rules: Vec<String>,
}

/// The journal filter's choices.
struct Filters {
    issuers: Vec<String>,
    endpoints: Vec<&'static str>,
    clients: Vec<String>,
    outcomes: Vec<String>,
}

/// Journal entries, newest first.
#[derive(Template)]
#[template(path = "dashboard/journal.html")]
pub struct Journal {
    entries: Vec<EntryView>,
}

struct EntryView {
    seq: u64,
    time: String,
    method: String,
    path: String,
    issuer: String,
    endpoint: String,
    client_id: String,
    grant_type: String,
    status: u16,
    outcome: String,
    ok: bool,
    tokens: Vec<TokenView>,
}

/// An issued token's decoded header and claims.
struct TokenView {
    kind: &'static str,
    header: String,
    claims: String,
}

impl Page {
    /// The page with everything (`authorized`), or the empty frame that asks for the token.
    pub fn new(engine: &Engine, authorized: bool, base_url: &str) -> Self {
        Self {
            data: authorized.then(|| PageData {
                namespaces: vec![Namespace {
                    name: "default",
                    issuers: issuers(engine, base_url),
                }],
                others: engine
                    .namespaces
                    .list()
                    .iter()
                    .take(NAMESPACES_SHOWN)
                    .map(|ns| NamespaceRow {
                        id: ns
                            .engine
                            .namespace
                            .as_ref()
                            .map_or_else(String::new, |m| m.id.clone()),
                        url: format!("{base_url}{}", ns.engine.prefix()),
                        issuers: ns
                            .engine
                            .issuers()
                            .iter()
                            .map(|i| i.name())
                            .collect::<Vec<_>>()
                            .join(" "),
                        idle_secs: ns.idle_secs(&engine.namespaces),
                    })
                    .collect(),
                more: engine.namespaces.len().saturating_sub(NAMESPACES_SHOWN),
                state: State::new(engine),
                filters: filters(engine),
                journal: Journal::new(engine.control.journal(|_| true)),
            }),
        }
    }
}

fn issuers(engine: &Engine, base_url: &str) -> Vec<IssuerView> {
    engine
        .issuers()
        .iter()
        .map(|i| IssuerView::new(i, base_url))
        .collect()
}

impl IssuerView {
    fn new(i: &Issuer, base_url: &str) -> Self {
        let url = i
            .fixed_url()
            .unwrap_or_else(|| format!("{base_url}{}", i.path));
        Self {
            name: i.name().to_string(),
            dialect: i.config.dialect.as_str(),
            discovery: endpoint_url(i.dialect, &url, Endpoint::Discovery),
            token: endpoint_url(i.dialect, &url, Endpoint::Token),
            url,
            clients: i.config.clients.iter().map(ClientView::from).collect(),
            users: i.config.users.iter().map(UserView::from).collect(),
        }
    }
}

impl From<&ClientConfig> for ClientView {
    fn from(c: &ClientConfig) -> Self {
        Self {
            id: c.id.clone(),
            kind: if c.is_public() {
                "public"
            } else {
                "confidential"
            },
            grants: c.grants.join(" "),
            scopes: c.scopes.join(" "),
            redirect_uris: c.redirect_uris.join(" "),
        }
    }
}

impl From<&UserConfig> for UserView {
    fn from(u: &UserConfig) -> Self {
        Self {
            username: u.username.clone(),
            roles: u.roles.join(" "),
            claims: compact(&Value::Object(u.claims.clone())),
        }
    }
}

fn filters(engine: &Engine) -> Filters {
    let issuers = engine.issuers();
    let mut clients: Vec<String> = issuers
        .iter()
        .flat_map(|i| i.config.clients.iter().map(|c| c.id.clone()))
        .collect();
    let mut outcomes = vec!["ok".to_string()];
    for e in engine.control.journal(|_| true) {
        clients.extend(e.client_id);
        outcomes.push(e.outcome);
    }
    for list in [&mut clients, &mut outcomes] {
        list.sort_unstable();
        list.dedup();
    }
    Filters {
        issuers: issuers.iter().map(|i| i.name().to_string()).collect(),
        endpoints: Endpoint::ALL
            .iter()
            .map(|e| e.name())
            .chain(["resource", "home"])
            .collect(),
        clients,
        outcomes,
    }
}

impl State {
    pub fn new(engine: &Engine) -> Self {
        let pending = engine.control.pending();
        let queues = ["overrides", "defects", "failures"]
            .into_iter()
            .map(|kind| Queue {
                kind,
                rules: pending[kind]
                    .as_array()
                    .map(|rules| rules.iter().map(compact).collect())
                    .unwrap_or_default(),
            })
            .collect();
        let now = engine.clock.now();
        let keys = engine.keys();
        Self {
            queues,
            now: utc(now),
            now_secs: now,
            offset_secs: engine.clock.offset(),
            frozen: engine.clock.is_frozen(),
            current_kid: keys.current.kid.clone(),
            published: keys.live(now).iter().map(|k| k.kid.clone()).collect(),
        }
    }
}

impl Journal {
    /// The newest [`SHOWN`] of `entries` (given oldest first), newest first.
    pub fn new(entries: Vec<JournalEntry>) -> Self {
        Self {
            entries: entries
                .into_iter()
                .rev()
                .take(SHOWN)
                .map(EntryView::from)
                .collect(),
        }
    }
}

impl From<JournalEntry> for EntryView {
    fn from(e: JournalEntry) -> Self {
        let dash = || "-".to_string();
        Self {
            seq: e.seq,
            time: utc(e.time),
            ok: e.outcome == "ok",
            tokens: e
                .tokens
                .iter()
                .filter_map(|t| {
                    let (header, claims) = t.decode()?;
                    Some(TokenView {
                        kind: t.kind,
                        header: pretty(&Value::Object(header)),
                        claims: pretty(&Value::Object(claims)),
                    })
                })
                .collect(),
            method: e.method,
            path: e.path,
            issuer: e.issuer.unwrap_or_else(dash),
            endpoint: e.endpoint.unwrap_or_else(dash),
            client_id: e.client_id.unwrap_or_else(dash),
            grant_type: e.grant_type.unwrap_or_else(dash),
            status: e.status,
            outcome: e.outcome,
        }
    }
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `2026-12-01 23:59:59` (UTC) for seconds since the Unix epoch; days to a civil date as in
/// Howard Hinnant's `civil_from_days`.
fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_796_169_599), "2026-12-01 23:59:59");
    }
}
