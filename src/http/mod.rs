//! The HTTP edge: one catch-all service that finds the issuer by path (paths are data, so issuers
//! can be added by configuration), parses the request into engine types and renders the answer
//! through the issuer's dialect. No protocol logic lives here.

mod browser;
mod cors;
pub(crate) mod extract;
mod failures;
pub(crate) mod forwarded;
mod handlers;
pub(crate) mod headless;
pub(crate) mod journal;
mod namespace;
pub(crate) use namespace::{Prefix, enter, found, namespace_at, namespace_prefix};
pub(crate) mod lazy_routes;
mod pages;
pub(crate) mod remote_jwks;
mod routing;
mod trim_path;
pub(crate) use trim_path::trim_path;

/// Renders a page template (the dialects' own pages use it too).
pub(crate) use pages::render as render_page;

use std::borrow::Cow;
use std::sync::Arc;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use browser::Site;

use crate::admin;
use crate::dialect::{self, Endpoint, Reply};
use crate::engine::{Engine, Issuer, namespaces};
use crate::error::{ErrorReply, OAuthError};

/// What the HTTP edge keeps for one server, shared by its workers: the forwarded-header
/// policy (and whether it already logged an ignored header) and the remote JWKS cache.
#[derive(Debug)]
pub struct Edge {
    pub forwarded: forwarded::ForwardedPolicy,
    pub jwks: remote_jwks::RemoteJwks,
}

impl Edge {
    /// The edge of a server whose fixtures say `trust_forwarded`.
    pub fn new(trust_forwarded: bool) -> Self {
        Self {
            forwarded: forwarded::ForwardedPolicy::new(trust_forwarded),
            jwks: remote_jwks::RemoteJwks::default(),
        }
    }
}

/// Registers mockidp's routes on an actix app (one per worker thread), and that worker's sweep.
pub fn configure(engine: Arc<Engine>, edge: Arc<Edge>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        sweep(&engine);
        cfg.app_data(web::Data::from(engine))
            .app_data(web::Data::from(edge))
            .configure(admin::configure)
            .configure(crate::keycloak_admin::configure)
            .default_service(web::to(dispatch));
    }
}

async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    engine: web::Data<Engine>,
) -> HttpResponse {
    // Latency for the metrics, not OAuth time: that comes from the engine's clock.
    let arrived = std::time::Instant::now();
    let path = normalize_path(req.path());
    if path.starts_with(admin::PREFIX) {
        return admin::misrouted(&req);
    }
    // The server's own issuers pay one prefix check for namespaces.
    let (engine, inner) = match path.strip_prefix(namespaces::PATH_PREFIX) {
        None => (engine.into_inner(), &*path),
        Some(rest) => {
            let id = rest.split('/').next().unwrap_or("");
            let Some(ns) = engine.namespaces.get(id) else {
                return unknown_namespace(id);
            };
            (ns, &rest[id.len()..])
        }
    };
    let inner = if inner.is_empty() { "/" } else { inner };
    let resp = serve(&req, payload, &engine, inner).await;
    journal::record(&engine, &req, &path, &resp, arrived.elapsed());
    resp
}

/// A path under `/ns/` naming no live namespace (never created, deleted, or expired).
fn unknown_namespace(id: &str) -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({
        "error": "not_found",
        "error_description": format!(
            "no namespace {:?}: it was deleted, expired after its idle time, or never created \
             (POST /_mockidp/namespaces)",
            crate::error::clipped(id, 64)
        ),
    }))
}

/// Answers a request to an issuer, its pages or its resources.
async fn serve(
    req: &HttpRequest,
    payload: web::Payload,
    engine: &Engine,
    path: &str,
) -> HttpResponse {
    let issuers = engine.issuers();
    if let Some(issuer) = routing::home_of(&issuers, path) {
        if issuer.dialect.profile().features.account_rest
            && (req.method() == Method::OPTIONS || wants_json(req))
        {
            return account(engine, issuer, req);
        }
        if req.method() == Method::GET || req.method() == Method::HEAD {
            return home(engine, issuer, req).await;
        }
    }
    if let Some((issuer, resource)) = routing::resource_at(&issuers, path) {
        journal::note(req, |n| n.at(issuer.name(), "resource"));
        if let Some(resp) = failures::inject(engine, req, issuer.name(), "resource").await {
            return resp;
        }
        return handlers::resource(engine, issuer, resource, req, payload).await;
    }
    let Some((issuer, rel)) = routing::issuer_at(&issuers, path) else {
        return not_found(path, None);
    };
    let Some(endpoint) = dialect::endpoint(issuer.dialect, rel) else {
        return not_found(path, Some(issuer));
    };
    let mount = prefixed(engine, &path[..path.len() - rel.len()]);
    let at = At {
        engine,
        issuer,
        endpoint,
        req,
    };
    at_endpoint(at, payload, (&mount, rel)).await
}

/// Keycloak's account REST API at the issuer's home (its JSON side), with CORS.
fn account(engine: &Engine, issuer: &Issuer, req: &HttpRequest) -> HttpResponse {
    journal::note(req, |n| n.at(issuer.name(), "account"));
    if req.method() == Method::OPTIONS {
        return cors::preflight(issuer, req);
    }
    let mut resp = if req.method() == Method::GET || req.method() == Method::HEAD {
        handlers::account(engine, issuer, req)
    } else {
        method_not_allowed(issuer, req, &[Method::GET, Method::HEAD])
    };
    cors::apply(issuer, req, &mut resp);
    resp
}

/// The issuer's home page.
async fn home(engine: &Engine, issuer: &Issuer, req: &HttpRequest) -> HttpResponse {
    journal::note(req, |n| n.at(issuer.name(), "home"));
    if let Some(resp) = failures::inject(engine, req, issuer.name(), "home").await {
        return resp;
    }
    let site = Site {
        engine,
        issuer,
        urls: extract::urls(req, issuer, &prefixed(engine, &issuer.path)),
    };
    browser::home(&site, req)
}

/// A request that reached `endpoint` of `issuer`.
#[derive(Clone, Copy)]
struct At<'a> {
    engine: &'a Engine,
    issuer: &'a Issuer,
    endpoint: Endpoint,
    req: &'a HttpRequest,
}

/// An endpoint's answer, with CORS for those browser apps call with fetch (SPAs with PKCE).
async fn at_endpoint(at: At<'_>, payload: web::Payload, path: (&str, &str)) -> HttpResponse {
    let At {
        issuer,
        endpoint,
        req,
        ..
    } = at;
    journal::note(req, |n| n.at(issuer.name(), endpoint.name()));
    let cors = matches!(
        endpoint,
        Endpoint::Discovery
            | Endpoint::Jwks
            | Endpoint::IssuerInfo
            | Endpoint::Token
            | Endpoint::Userinfo
            | Endpoint::Logout
            | Endpoint::Revoke
    );
    if cors && req.method() == Method::OPTIONS {
        return cors::preflight(issuer, req);
    }
    let mut resp = answer(at, payload, path).await;
    if cors {
        cors::apply(issuer, req, &mut resp);
    }
    resp
}

/// Whether the request asks for JSON rather than a page (Keycloak's account console and its
/// REST API share `/realms/{realm}/account`, told apart by `Accept`).
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The answer of `endpoint`, including refusals (wrong method, injected failures), so that
/// CORS headers reach a browser app whatever happens.
async fn answer(at: At<'_>, payload: web::Payload, (mount, rel): (&str, &str)) -> HttpResponse {
    if let Some(resp) = refusal(at).await {
        return resp;
    }
    let At {
        engine,
        issuer,
        endpoint,
        req,
    } = at;
    // `mount` is the path up to the endpoint: the issuer's, with `/auth` when the caller used it;
    // `rel` the rest.
    let urls = extract::urls(req, issuer, mount);
    let call = handlers::ClientCall {
        engine,
        issuer,
        req,
    };
    match endpoint {
        Endpoint::Discovery => handlers::discovery(issuer, &urls),
        Endpoint::Jwks => handlers::jwks(engine, issuer),
        Endpoint::IssuerInfo => handlers::issuer_info(engine, issuer, &urls),
        Endpoint::SessionStatusInit => handlers::session_status_init(issuer, req),
        Endpoint::Page => dialect_page(issuer, rel),
        Endpoint::Token => handlers::token(engine, issuer, req, payload, urls.issuer).await,
        Endpoint::Userinfo => handlers::userinfo(call, payload).await,
        Endpoint::Introspect => handlers::introspect(call, payload).await,
        Endpoint::Revoke => handlers::revoke(call, payload).await,
        Endpoint::DeviceAuthorization => handlers::device_authorization(call, payload, &urls).await,
        Endpoint::Authorize | Endpoint::Login | Endpoint::Logout | Endpoint::DeviceVerify => {
            let site = Site {
                engine,
                issuer,
                urls,
            };
            in_browser(&site, endpoint, req, payload).await
        }
    }
}

/// Why `endpoint` does not answer this request, if it does not: a method it does not take,
/// or a failure the admin API queued for it.
async fn refusal(at: At<'_>) -> Option<HttpResponse> {
    let methods = methods(at.issuer, at.endpoint);
    if !methods.contains(at.req.method()) {
        return Some(method_not_allowed(at.issuer, at.req, methods));
    }
    let (issuer, endpoint) = (at.issuer.name(), at.endpoint.name());
    failures::inject(at.engine, at.req, issuer, endpoint).await
}

/// A page of the product's own (`Endpoint::Page`), or its not-found page.
fn dialect_page(issuer: &Issuer, rel: &str) -> HttpResponse {
    page(
        issuer
            .dialect
            .page(rel)
            .unwrap_or_else(|| issuer.dialect.profile().not_found.reply()),
    )
}

/// The methods `endpoint` takes at `issuer`.
fn methods(issuer: &Issuer, endpoint: Endpoint) -> &'static [Method] {
    match endpoint {
        Endpoint::Discovery
        | Endpoint::Jwks
        | Endpoint::IssuerInfo
        | Endpoint::Page
        | Endpoint::SessionStatusInit => &[Method::GET, Method::HEAD],
        // Django OAuth Toolkit's IntrospectTokenView also answers GET ?token=.
        Endpoint::Introspect if issuer.dialect.profile().introspection_scope.is_some() => {
            &[Method::GET, Method::POST]
        }
        Endpoint::Token
        | Endpoint::Login
        | Endpoint::Introspect
        | Endpoint::Revoke
        | Endpoint::DeviceAuthorization => &[Method::POST],
        Endpoint::DeviceVerify => &[Method::GET, Method::POST],
        Endpoint::Authorize | Endpoint::Userinfo | Endpoint::Logout => &[Method::GET, Method::POST],
    }
}

/// The endpoints a browser visits (authorize, login, logout, device verification), and
/// Keycloak's back-channel logout that shares the logout URL.
async fn in_browser(
    site: &Site<'_>,
    endpoint: Endpoint,
    req: &HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let issuer = site.issuer;
    let params = match extract::params(req, payload).await {
        Ok(p) => p,
        Err(e) => {
            return page(Reply {
                status: 400,
                content_type: "text/html; charset=utf-8",
                body: pages::render(&pages::ErrorPage::new(issuer, &e.description)),
            });
        }
    };
    let back_channel = endpoint == Endpoint::Logout
        && req.method() == Method::POST
        && params.get("refresh_token").is_some()
        && issuer.dialect.profile().features.logout_by_refresh_token;
    if back_channel {
        return handlers::back_channel_logout(site.engine, issuer, req, params).await;
    }
    match endpoint {
        Endpoint::Authorize => browser::authorize(site, req, &params),
        Endpoint::Login => browser::login(site, req, &params),
        Endpoint::DeviceVerify => browser::device(site, req, &params),
        _ => browser::logout(site, req, &params),
    }
}

/// `path` as the caller sees it: behind the namespace's `/ns/{id}` prefix, if any.
fn prefixed<'a>(engine: &Engine, path: &'a str) -> Cow<'a, str> {
    match engine.prefix() {
        "" => Cow::Borrowed(path),
        prefix => Cow::Owned(format!("{prefix}{path}")),
    }
}

/// How often expired entries are swept from every store.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Sweeps `engine`'s stores every [`SWEEP_EVERY`] from this worker thread, until the engine is
/// dropped: memory a burst took comes back once its entries expire, even when nothing writes
/// to those stores any more. Every worker sweeps (a sweep with nothing expired costs a lock
/// per store), and each then runs the binary's [`crate::store::set_sweep_hook`], so that each
/// thread's allocator can give back the pages of its own blocks that another thread's sweep
/// freed (mimalloc returns a page to the system only from the thread that owns it).
fn sweep(engine: &Arc<Engine>) {
    let engine = Arc::downgrade(engine);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(SWEEP_EVERY);
        loop {
            tick.tick().await;
            match engine.upgrade() {
                Some(engine) => engine.purge_expired(),
                None => return,
            }
            crate::store::after_sweep();
        }
    });
}

/// Collapses runs of slashes: Iopole's documentation posts to `//realms/...`.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if !path.contains("//") {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path under an issuer mounted there answers in its product's words; anything else (what
/// falls through to a root-mounted issuer included) may look like another product's unknown
/// issuer (Keycloak's "Realm does not exist").
fn not_found(path: &str, issuer: Option<&Issuer>) -> HttpResponse {
    let reply = match issuer {
        Some(i) if !i.path.is_empty() => i.dialect.profile().not_found.reply(),
        _ => dialect::all()
            .iter()
            .find_map(|d| d.profile().unknown_issuer(path))
            .or_else(|| issuer.map(|i| i.dialect.profile().not_found.reply()))
            .unwrap_or_else(|| {
                dialect::for_kind(crate::config::DialectKind::Generic)
                    .profile()
                    .not_found
                    .reply()
            }),
    };
    page(reply)
}

fn method_not_allowed(issuer: &Issuer, req: &HttpRequest, allowed: &[Method]) -> HttpResponse {
    let allowed = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let err = OAuthError::invalid_request(format!(
        "HTTP method {} is not allowed here; use {allowed}",
        req.method()
    ));
    let mut reply = issuer.dialect.shape_error(&err, issuer);
    reply.status = 405;
    let mut resp = oauth_error(reply);
    if let Ok(v) = header::HeaderValue::from_str(&allowed) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}

/// A dialect's non-OAuth page.
pub(crate) fn page(reply: Reply) -> HttpResponse {
    HttpResponse::build(status(reply.status))
        .content_type(reply.content_type)
        .body(reply.body)
}

/// An OAuth error as its dialect shaped it, never cached (RFC 6749 §5.1).
pub(crate) fn oauth_error(reply: ErrorReply) -> HttpResponse {
    let mut resp = HttpResponse::build(status(reply.status));
    resp.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if let Some(challenge) = reply.www_authenticate {
        resp.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    match reply.body {
        Some(body) => resp.json(body),
        None => resp.finish(),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_collapse() {
        assert_eq!(
            normalize_path("//realms//iopole/protocol"),
            "/realms/iopole/protocol"
        );
        assert_eq!(normalize_path("/token/"), "/token/");
    }
}
