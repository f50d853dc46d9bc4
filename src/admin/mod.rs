//! The admin API under `/_mockidp/`: what makes mockidp better for tests than a real IdP. A test
//! changes clients and users at runtime, queues claim overrides, token defects and endpoint
//! failures, reads the request journal, moves the clock, rotates keys and resets, all in JSON.
//! `openapi.json` beside this file describes it (served at `/_mockidp/openapi.json`).

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::{ClientConfig, UserConfig};
use crate::engine::Engine;
use crate::engine::control::{Defect, Failure, JournalEntry, Override};
use crate::keys::SigningKey;

mod dashboard;
mod namespaces;
mod scripted;

use askama::Template as _;

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The prefix every admin path starts with.
pub const PREFIX: &str = "/_mockidp/";

/// Largest admin request body.
const MAX_BODY: usize = 256 * 1024;

/// Answers an admin request (`path` is already slash-normalised).
pub async fn handle(
    engine: &Engine,
    req: &HttpRequest,
    payload: web::Payload,
    path: &str,
    base_url: &str,
) -> HttpResponse {
    let rest = path.trim_start_matches(PREFIX).trim_end_matches('/');
    // Ids in the path are percent-decoded (`clients/a%20b` is client "a b").
    let decoded: Option<Vec<String>> = rest
        .split('/')
        .map(|seg| {
            let s = percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .ok()?;
            (!s.chars().any(char::is_control)).then(|| s.into_owned())
        })
        .collect();
    let Some(decoded) = decoded else {
        return bad_request(
            "a path segment is not valid percent-encoded UTF-8 or holds control characters".into(),
        )
        .response();
    };
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let method = req.method().clone();
    // Health, readiness and the API description stay open to probes by any name; the
    // dashboard's frame and assets hold no data and are served without the token.
    let probe = matches!(
        segments.as_slice(),
        ["health"] | ["ready"] | ["openapi.json"]
    );
    let frame = dashboard_frame(&segments);
    // A session link is its own secret (single use, short-lived): a browser opens it without
    // the admin token.
    if method == Method::GET
        && let Some(answer) = session_link(engine, req, &segments)
    {
        return answer;
    }
    let authorized = engine.admin_token.as_ref().is_none_or(|expected| {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_ok()
    });
    if !authorized && !probe && !frame {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"mockidp-admin\""))
            .json(json!({"error": "unauthorized", "error_description": "the admin API needs Authorization: Bearer <admin token>"}));
    }
    if let Some(refusal) = cross_site(req) {
        return refusal.response();
    }
    if engine.admin_token.is_none()
        && !probe
        && let Some(refusal) = untrusted_host(engine, req)
    {
        return refusal.response();
    }
    if frame && method == Method::GET {
        return dashboard_frame_response(engine, &segments, authorized, base_url);
    }
    let body = match crate::http::extract::read_body(req, payload, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return bad_request(e.describe(MAX_BODY)).response(),
    };
    if segments == ["namespaces"] && method == Method::POST {
        return namespaces::create(engine, req, &body, base_url).unwrap_or_else(|e| e.response());
    }
    // `/_mockidp/ns/{id}/...` is the same API on namespace `id`.
    let namespace;
    let (space, segments): (&Engine, Vec<&str>) = match segments.as_slice() {
        ["ns", id, rest @ ..] => match engine.namespaces.get(id) {
            Some(ns) => {
                namespace = ns;
                (&namespace, rest.to_vec())
            }
            None => return namespaces::unknown(id).response(),
        },
        _ => (engine, segments),
    };
    if segments == ["journal"] && method == Method::GET {
        let query = req.query_string();
        if let Some(wait) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "wait") {
            return match wait.1.parse::<u64>() {
                Ok(secs) if secs <= MAX_WAIT_SECS => {
                    HttpResponse::Ok().json(await_journal(space, query, secs).await)
                }
                _ => bad_request(format!(
                    "wait is a whole number of seconds, at most {MAX_WAIT_SECS}"
                ))
                .response(),
            };
        }
    }
    let result = route(
        space,
        &method,
        &segments,
        declared_json(req, &body),
        req.query_string(),
        base_url,
    );
    let mut resp = match result {
        Ok(resp) => resp,
        Err(err) => err.response(),
    };
    // RFC 9110 §15.5.6: a 405 lists what the path takes.
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Ok(allow) = header::HeaderValue::from_str(&documented_methods(&segments))
    {
        resp.headers_mut().insert(header::ALLOW, allow);
    }
    resp
}

/// The methods the API document lists for the path `segments` (`{…}` matches any segment),
/// comma-separated: the document is the router's contract (tests check they agree).
fn documented_methods(segments: &[&str]) -> String {
    let Ok(doc) = serde_json::from_str::<Value>(OPENAPI) else {
        return String::new();
    };
    let matches = |template: &str| {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(segments)
                .all(|(t, s)| t.starts_with('{') || t == s)
    };
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(template, _)| matches(template))
        .flat_map(|(_, ops)| ops.as_object().into_iter().flatten().map(|(m, _)| m))
        .filter(|m| m.as_str() != "parameters")
        .map(|m| m.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

type Answer = Result<HttpResponse, AdminError>;

/// A refused admin request: small, turned into a JSON response at the end.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl AdminError {
    fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .json(json!({"error": self.error, "error_description": self.description}))
    }
}

fn method_not_allowed() -> AdminError {
    AdminError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "method_not_allowed",
        description: "this admin path does not take that method; see /_mockidp/openapi.json".into(),
    }
}

fn route(
    engine: &Engine,
    method: &Method,
    segments: &[&str],
    body: Option<&[u8]>,
    query: &str,
    base_url: &str,
) -> Answer {
    match (segments, method.as_str()) {
        (["health"], "GET") => ok(json!({"status": "ok"})),
        (["ready"], "GET") => {
            ok(json!({"status": "ready", "issuers": engine.issuers().iter().count()}))
        }
        (["openapi.json"], "GET") => Ok(HttpResponse::Ok()
            .content_type("application/json")
            .body(OPENAPI)),
        (["issuers"], "GET") => ok(issuers(engine)),
        (["namespaces"], "GET") => namespaces::list(engine, base_url),
        // The server's `POST /_mockidp/namespaces` is answered before routing: this is a
        // namespace's.
        (["namespaces"], "POST") => Err(bad_request("namespaces do not nest".into())),
        (["namespaces", id], "GET" | "DELETE") => {
            namespaces::one(engine, id, method == Method::DELETE, base_url)
        }
        (["issuers", issuer, "clients", id], _) => client(engine, method, issuer, id, body),
        (["issuers", issuer, "users", name], _) => user(engine, method, issuer, name, body),
        (["issuers", issuer, "sessions"], "POST") => {
            scripted::new_session(engine, issuer, body, base_url)
        }
        (["issuers", issuer, "device", user_code], "POST") => {
            scripted::device(engine, issuer, user_code, body)
        }
        (["overrides"], "POST") => {
            engine
                .control
                .push_override(parse::<Override>(body)?)
                .map_err(bad_request)?;
            created()
        }
        (["defects"], "POST") => {
            engine
                .control
                .push_defect(parse::<Defect>(body)?)
                .map_err(bad_request)?;
            created()
        }
        (["failures"], "POST") => {
            let f = parse::<Failure>(body)?;
            if !failure_targets().any(|e| e == f.endpoint) {
                return Err(bad_request(format!(
                    "unknown endpoint {:?}; one of: {}",
                    f.endpoint,
                    failure_targets().collect::<Vec<_>>().join(", ")
                )));
            }
            // A 1xx is not a final answer: a client would wait for the real one, or switch
            // protocols on 101.
            if f.status.is_some_and(|s| !(200..=599).contains(&s)) {
                return Err(bad_request(
                    "status must be a final HTTP status code, 200 to 599".into(),
                ));
            }
            engine.control.push_failure(f).map_err(bad_request)?;
            created()
        }
        (["queue"], "GET") => ok(engine.control.pending()),
        (["queue"], "DELETE") => {
            engine.control.clear_rules();
            Ok(HttpResponse::NoContent().finish())
        }
        ([kind @ ("overrides" | "defects" | "failures")], "DELETE") => {
            engine.control.clear_queue(kind);
            tracing::info!(kind, "queued rules cleared by the admin API");
            Ok(HttpResponse::NoContent().finish())
        }
        (["metrics"], "GET") => Ok(HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(metrics(engine))),
        (["dashboard", "state"], "GET") => html(dashboard::State::new(engine).render()),
        (["dashboard", "journal"], "GET") => {
            html(dashboard::Journal::new(journal(engine, query)).render())
        }
        (["journal"], "GET") => ok(json!(journal(engine, query))),
        (["journal"], "DELETE") => {
            engine.control.clear_journal();
            Ok(HttpResponse::NoContent().finish())
        }
        (["clock"], "GET") => ok(clock(engine)),
        (["clock"], "POST") => {
            clock_change(engine, parse::<ClockChange>(body)?)?;
            ok(clock(engine))
        }
        (["keys"], "GET") => ok(keys(engine)),
        (["keys", "rotate"], "POST") if !engine.owns_keys() => Err(AdminError {
            status: StatusCode::CONFLICT,
            error: "invalid_request",
            description: "this namespace signs with the server's keys, which other namespaces \
                          share: create it with \"own_keys\": true to rotate its keys"
                .into(),
        }),
        (["keys", "rotate"], "POST") => {
            let r = if body.is_some_and(<[u8]>::is_empty) {
                Rotate::default()
            } else {
                parse::<Rotate>(body)?
            };
            let grace = r.grace_secs.unwrap_or(3600);
            if grace > crate::config::MAX_SECS {
                return Err(bad_request("grace_secs is over 10 years".into()));
            }
            let key = SigningKey::generate().map_err(|e| server_error(e.to_string()))?;
            engine.rotate_key(key, grace);
            ok(keys(engine))
        }
        (["reset"], "POST") => {
            engine.reset().map_err(|e| server_error(e.to_string()))?;
            ok(json!({"status": "reset"}))
        }
        (["tokens"], "POST") => {
            let m = parse::<crate::engine::mint::MintRequest>(body)?;
            let base = format!("{base_url}{}", engine.prefix());
            let token = engine.mint(&m, &base).map_err(bad_request)?;
            ok(json!({"access_token": token}))
        }
        _ if documented_methods(segments).is_empty() => Err(not_found(format!(
            "no admin operation {method} {PREFIX}{}; see {PREFIX}openapi.json",
            segments.join("/")
        ))),
        _ => Err(method_not_allowed()),
    }
}

/// `GET /_mockidp[/ns/{id}]/session-links/{ticket}`, if that is the path.
fn session_link(engine: &Engine, req: &HttpRequest, segments: &[&str]) -> Option<HttpResponse> {
    match segments {
        ["session-links", ticket] => Some(crate::http::headless::open_link(engine, req, ticket)),
        ["ns", id, "session-links", ticket] => Some(match engine.namespaces.get(id) {
            Some(ns) => crate::http::headless::open_link(&ns, req, ticket),
            None => namespaces::unknown(id).response(),
        }),
        _ => None,
    }
}

/// Endpoint names failures can target: every issuer endpoint, its resources and its home page.
fn failure_targets() -> impl Iterator<Item = &'static str> {
    crate::dialect::Endpoint::ALL
        .iter()
        .map(|e| e.name())
        .chain(["resource", "home"])
}

/// Refuses what a web page could send to a local mockidp behind the tester's back: a request
/// from another origin (bodies not declared JSON are refused by [`parse`]).
fn cross_site(req: &HttpRequest) -> Option<AdminError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        if origin_host != host {
            return Some(AdminError {
                status: StatusCode::FORBIDDEN,
                error: "forbidden",
                description: "the admin API refuses requests from other origins".into(),
            });
        }
    }
    None
}

/// DNS rebinding: a web page on a domain its owner points at 127.0.0.1 reaches this API
/// same-origin. Without an admin token the API answers only when `Host` is an IP address, a
/// name without a dot (`localhost`, a compose service), `*.localhost`, or the host of a
/// configured issuer URL — names a remote attacker cannot point here.
fn untrusted_host(engine: &Engine, req: &HttpRequest) -> Option<AdminError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
    .trim_end_matches('.')
    .to_ascii_lowercase();
    let configured = engine.issuers().iter().any(|i| {
        i.fixed_url().is_some_and(|u| {
            u.split_once("://")
                .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or(""))
                .is_some_and(|h| h.eq_ignore_ascii_case(&name))
        })
    });
    let trusted = name.parse::<std::net::IpAddr>().is_ok()
        || !name.contains('.')
        || name.ends_with(".localhost")
        || configured;
    (!trusted).then(|| AdminError {
        status: StatusCode::FORBIDDEN,
        error: "forbidden",
        description: format!(
            "the admin API does not answer for host {name:?} without an admin token: use \
             localhost or an IP address, or set admin_token (--admin-token) to call it by name"
        ),
    })
}

/// The request body for parsing: `None` when one was sent without declaring JSON, which a
/// web page can do cross-site without a preflight, so it is refused when read.
fn declared_json<'a>(req: &HttpRequest, body: &'a [u8]) -> Option<&'a [u8]> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.trim_start().starts_with("application/json"));
    (json || body.is_empty()).then_some(body)
}

/// `POST /_mockidp/clock`: at most one move (`advance_secs`, `offset_secs` from real time, or
/// `now`, seconds since the epoch), then `freeze` true or false; or `reset` alone.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_secs: Option<i64>,
    offset_secs: Option<i64>,
    now: Option<u64>,
    freeze: Option<bool>,
    #[serde(default)]
    reset: bool,
}

fn clock_change(engine: &Engine, change: ClockChange) -> Result<(), AdminError> {
    use crate::clock::MAX_OFFSET_SECS;
    let clock = &engine.clock;
    let move_count = [
        change.advance_secs.is_some(),
        change.offset_secs.is_some(),
        change.now.is_some(),
    ]
    .into_iter()
    .filter(|m| *m)
    .count();
    if change.reset {
        if move_count > 0 || change.freeze.is_some() {
            return Err(bad_request("reset takes no other field".into()));
        }
        clock.reset();
        tracing::info!("clock reset to real time by the admin API");
        return Ok(());
    }
    if move_count > 1 || (move_count == 0 && change.freeze.is_none()) {
        return Err(bad_request(
            "send at most one of advance_secs, offset_secs, now; with or without freeze; or reset"
                .into(),
        ));
    }
    // The offset each move would leave, checked before anything changes.
    let offset = match (change.advance_secs, change.offset_secs, change.now) {
        (Some(d), None, None) => Some(clock.offset().checked_add(d)),
        (None, Some(o), None) => Some(Some(o)),
        (None, None, Some(t)) => Some(
            i64::try_from(t)
                .ok()
                .and_then(|t| t.checked_sub(crate::clock::real_now())),
        ),
        _ => None,
    };
    if offset.is_some_and(|o| o.is_none_or(|o| o.unsigned_abs() > MAX_OFFSET_SECS.unsigned_abs())) {
        return Err(bad_request(format!(
            "the clock may be moved at most {MAX_OFFSET_SECS} seconds (100 years) from real time"
        )));
    }
    match (change.advance_secs, change.offset_secs, change.now) {
        (Some(d), _, _) => clock.advance(d),
        (_, Some(o), _) => clock.set_offset(o),
        (_, _, Some(t)) => clock.set(t),
        _ => {}
    }
    match change.freeze {
        Some(true) => clock.freeze(),
        Some(false) => clock.unfreeze(),
        None => {}
    }
    tracing::info!(
        now = clock.now(),
        frozen = clock.is_frozen(),
        "clock changed by the admin API"
    );
    Ok(())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotate {
    grace_secs: Option<u64>,
}

fn ok(v: Value) -> Answer {
    Ok(HttpResponse::Ok().json(v))
}

fn created() -> Answer {
    Ok(HttpResponse::Created().json(json!({"status": "queued"})))
}

fn bad_request(description: String) -> AdminError {
    AdminError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description,
    }
}

fn not_found(description: String) -> AdminError {
    AdminError {
        status: StatusCode::NOT_FOUND,
        error: "not_found",
        description,
    }
}

fn server_error(description: String) -> AdminError {
    AdminError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        description,
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: Option<&[u8]>) -> Result<T, AdminError> {
    let body = body.ok_or_else(|| AdminError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        error: "invalid_request",
        description: "send the admin API JSON with Content-Type: application/json".into(),
    })?;
    // Every body of this API is an object; serde would also read a struct from an array.
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON body: {e}")))?;
    if !value.is_object() {
        return Err(bad_request("the JSON body must be an object".into()));
    }
    T::deserialize(value).map_err(|e| bad_request(format!("invalid JSON body: {e}")))
}

fn issuers(engine: &Engine) -> Value {
    json!(
        engine
            .issuers()
            .iter()
            .map(|i| json!({
                "name": i.name(),
                "dialect": i.config.dialect.as_str(),
                "path": i.path,
                "clients": i.config.clients.iter().map(|c| &c.id).collect::<Vec<_>>(),
                "users": i.config.users.iter().map(|u| &u.username).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()
    )
}

/// GET, PUT (add or replace) and DELETE one client.
fn client(engine: &Engine, method: &Method, issuer: &str, id: &str, body: Option<&[u8]>) -> Answer {
    let issuers = engine.issuers();
    let Some(i) = issuers.by_name(issuer) else {
        return Err(not_found(format!("no issuer named {issuer:?}")));
    };
    match method.as_str() {
        "GET" => match i.config.clients.iter().find(|c| c.id == id) {
            Some(c) => ok(json!(c)),
            None => Err(not_found(format!("no client {id:?} at issuer {issuer:?}"))),
        },
        "PUT" => {
            let client: ClientConfig = parse(Some(&with_key(body, "id", id)?))?;
            let existed = i.config.clients.iter().any(|c| c.id == id);
            engine
                .update_issuer(issuer, |cfg| {
                    cfg.clients.retain(|c| c.id != client.id);
                    cfg.clients.push(client.clone());
                    cfg.validate()
                })
                .map_err(bad_request)?;
            tracing::info!(issuer, client_id = id, "client set by the admin API");
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(HttpResponse::build(status).json(json!(client)))
        }
        "DELETE" => {
            if !i.config.clients.iter().any(|c| c.id == id) {
                return Err(not_found(format!("no client {id:?} at issuer {issuer:?}")));
            }
            engine
                .update_issuer(issuer, |cfg| {
                    cfg.clients.retain(|c| c.id != id);
                    Ok(())
                })
                .map_err(bad_request)?;
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(method_not_allowed()),
    }
}

/// GET, PUT (add or replace) and DELETE one user.
fn user(engine: &Engine, method: &Method, issuer: &str, name: &str, body: Option<&[u8]>) -> Answer {
    let issuers = engine.issuers();
    let Some(i) = issuers.by_name(issuer) else {
        return Err(not_found(format!("no issuer named {issuer:?}")));
    };
    match method.as_str() {
        "GET" => match i.config.users.iter().find(|u| u.username == name) {
            Some(u) => ok(json!(u)),
            None => Err(not_found(format!("no user {name:?} at issuer {issuer:?}"))),
        },
        "PUT" => {
            let user: UserConfig = parse(Some(&with_key(body, "username", name)?))?;
            let existed = i.config.users.iter().any(|u| u.username == name);
            engine
                .update_issuer(issuer, |cfg| {
                    cfg.users.retain(|u| u.username != user.username);
                    cfg.users.push(user.clone());
                    cfg.validate()
                })
                .map_err(bad_request)?;
            let status = if existed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(HttpResponse::build(status).json(json!(user)))
        }
        "DELETE" => {
            if !i.config.users.iter().any(|u| u.username == name) {
                return Err(not_found(format!("no user {name:?} at issuer {issuer:?}")));
            }
            engine
                .update_issuer(issuer, |cfg| {
                    cfg.users.retain(|u| u.username != name);
                    Ok(())
                })
                .map_err(bad_request)?;
            engine.forget_user(i, name);
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(method_not_allowed()),
    }
}

/// The JSON body with `key` set to the path's value (and refused if it names another).
fn with_key(body: Option<&[u8]>, key: &str, value: &str) -> Result<Vec<u8>, AdminError> {
    let mut v: Value = parse(body)?;
    let Some(obj) = v.as_object_mut() else {
        return Err(bad_request("the body must be a JSON object".into()));
    };
    match obj.get(key).and_then(Value::as_str) {
        Some(given) if given != value => {
            return Err(bad_request(format!(
                "{key} {given:?} in the body differs from {value:?} in the path"
            )));
        }
        _ => {
            obj.insert(key.into(), json!(value));
        }
    }
    serde_json::to_vec(&v).map_err(|e| server_error(e.to_string()))
}

/// Journal entries filtered by the query (`issuer`, `client_id`, `grant_type`, `endpoint`,
/// `outcome`, `after`: newer than that `seq`, `limit`: the newest `limit`; `wait` is
/// [`await_journal`]'s).
fn journal(engine: &Engine, query: &str) -> Vec<JournalEntry> {
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let want = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let after = want("after").and_then(|a| a.parse::<u64>().ok());
    let mut entries = engine.control.journal(|e| {
        want("issuer").is_none_or(|v| e.issuer.as_deref() == Some(v))
            && want("client_id").is_none_or(|v| e.client_id.as_deref() == Some(v))
            && want("grant_type").is_none_or(|v| e.grant_type.as_deref() == Some(v))
            && want("endpoint").is_none_or(|v| e.endpoint.as_deref() == Some(v))
            && want("outcome").is_none_or(|v| e.outcome == v)
            && after.is_none_or(|a| e.seq > a)
    });
    if let Some(limit) = want("limit").and_then(|l| l.parse::<usize>().ok()) {
        let skip = entries.len().saturating_sub(limit);
        entries.drain(..skip);
    }
    entries
}

/// Longest `GET /_mockidp/journal?wait=` hold.
const MAX_WAIT_SECS: u64 = 300;

/// The journal entries the query selects, as soon as there is one, or none after `secs`
/// seconds. The request waits on the runtime (a `Notify` woken by each new entry), never
/// blocking a worker thread.
async fn await_journal(engine: &Engine, query: &str, secs: u64) -> Vec<JournalEntry> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let next = engine.control.next_entry();
        let mut next = std::pin::pin!(next);
        next.as_mut().enable();
        let entries = journal(engine, query);
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if !entries.is_empty() || left.is_zero() {
            return entries;
        }
        if actix_web::rt::time::timeout(left, next).await.is_err() {
            return Vec::new();
        }
    }
}

/// The dashboard's page (`/_mockidp/`), script and style sheet: what is served without the
/// admin token.
fn dashboard_frame(segments: &[&str]) -> bool {
    matches!(segments, [""] | ["dashboard.js"] | ["dashboard.css"])
}

/// The dashboard's page (with data only when `authorized`), script or style sheet.
fn dashboard_frame_response(
    engine: &Engine,
    segments: &[&str],
    authorized: bool,
    base_url: &str,
) -> HttpResponse {
    match segments {
        ["dashboard.js"] => asset("text/javascript; charset=utf-8", dashboard::SCRIPT),
        ["dashboard.css"] => asset("text/css; charset=utf-8", dashboard::STYLE),
        _ => html(dashboard::Page::new(engine, authorized, base_url).render())
            .unwrap_or_else(|e| e.response()),
    }
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// A rendered dashboard template. The policy lets the page run only its own script and style
/// sheet: markup that slipped into request data could not run even if it were not escaped.
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

/// `/_mockidp/metrics`: the counters, and the size of every store and of the journal.
fn metrics(engine: &Engine) -> String {
    let issuers = engine.issuers();
    let stores = engine.store_sizes();
    let sizes: Vec<(&str, u64)> = stores
        .iter()
        .map(|(name, n)| (*name, u64::try_from(*n).unwrap_or(u64::MAX)))
        .collect();
    engine.metrics.render(
        |name| issuers.by_name(name).map(|i| i.config.dialect.as_str()),
        &sizes,
    )
}

fn clock(engine: &Engine) -> Value {
    json!({"now": engine.clock.now(), "offset_secs": engine.clock.offset(), "frozen": engine.clock.is_frozen()})
}

fn keys(engine: &Engine) -> Value {
    let now = engine.clock.now();
    let ring = engine.keys();
    json!({
        "current": ring.current.kid,
        "published": ring.live(now).iter().map(|k| &k.kid).collect::<Vec<_>>(),
    })
}
