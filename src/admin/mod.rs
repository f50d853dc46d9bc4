//! The admin API under `/_mockidp/`: what makes mockidp better for tests than a real IdP. A test
//! changes clients and users at runtime, queues claim overrides, token defects and endpoint
//! failures, reads the request journal, moves the clock, rotates keys and resets, all in JSON.
//! `openapi.json` beside this file describes it (served at `/_mockidp/openapi.json`, with the
//! namespaced copies of its operations added by [`openapi`]).
//!
//! The API is an actix scope: [`guard`] admits a request (admin token, origin, host), a
//! namespace's `/_mockidp/ns/{namespace}/...` runs the same [`routes`] against that namespace's
//! engine, and each handler takes typed inputs ([`body::Json`], path extractors).

use actix_web::http::StatusCode;
use actix_web::http::header::WWW_AUTHENTICATE;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use crate::http::{self, lazy_routes::Routes};

mod body;
mod clock;
mod control;
mod dashboard;
mod guard;
mod issuers;
mod journal;
mod namespaces;
mod openapi;
mod scripted;

/// The prefix every admin path starts with.
pub const PREFIX: &str = "/_mockidp/";

/// The scope the API is mounted at ([`PREFIX`] without its slash).
const SCOPE: &str = "/_mockidp";

/// Mounts the API: the server's at `/_mockidp`, a namespace's at `/_mockidp/ns/{namespace}`.
/// The operations are built on a worker's first admin request (crate::http::lazy_routes says
/// why).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(SCOPE)
            .wrap(from_fn(guard::admit))
            // `/_mockidp/clock/` is `/_mockidp/clock`, and `/_mockidp//clock` too.
            .wrap(from_fn(http::trim_path))
            .service(
                // `/_mockidp/ns/{id}`: a namespace's.
                web::scope("")
                    .guard(http::found(SCOPE, http::namespace_prefix))
                    .wrap(from_fn(|req, next| {
                        http::enter(req, next, http::namespace_prefix)
                    }))
                    .default_service(Routes::lazy(routes, wrong_method, misrouted)),
            )
            .default_service(Routes::lazy(server_routes, wrong_method, misrouted)),
    );
}

/// The server's operations: a namespace's, and the dashboard's page.
fn server_routes(cfg: &mut Routes) {
    dashboard::frame_routes(cfg);
    routes(cfg);
}

/// The operations, the same for the server and for a namespace (each handler takes the
/// engine the request addresses as `web::Data<Engine>`).
fn routes(cfg: &mut Routes) {
    control::routes(cfg);
    issuers::routes(cfg);
    namespaces::routes(cfg);
    scripted::routes(cfg);
    journal::routes(cfg);
    clock::routes(cfg);
    dashboard::routes(cfg);
    openapi::routes(cfg);
}

/// A path of the API asked with a method it does not take: 405 listing the methods the API
/// document gives that path (RFC 9110 §15.5.6), or 404 when it gives none.
fn wrong_method(req: &HttpRequest, path: &str) -> HttpResponse {
    // A namespace's copy of the path takes the same methods (`openapi` generates it).
    let allow = openapi::documented_methods(path);
    if allow.is_empty() {
        return misrouted(req);
    }
    let mut resp = method_not_allowed().error_response();
    if let Ok(allow) = actix_web::http::header::HeaderValue::from_str(&allow) {
        resp.headers_mut()
            .insert(actix_web::http::header::ALLOW, allow);
    }
    resp
}

/// 404 for a path no operation serves, including one that only looks like the API once its
/// slashes are collapsed (`//_mockidp/...`: actix routes the path as sent).
pub fn misrouted(req: &HttpRequest) -> HttpResponse {
    not_found(format!(
        "no admin operation {} {}; see {PREFIX}openapi.json",
        req.method(),
        req.path()
    ))
    .error_response()
}

type Answer = Result<HttpResponse, AdminError>;

/// A refused admin request: `{"error", "error_description"}` with its status.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.description)
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The JSON error; a 401 names the scheme and realm to authenticate with (RFC 6750 §3).
    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            resp.insert_header((WWW_AUTHENTICATE, "Bearer realm=\"mockidp-admin\""));
        }
        resp.json(json!({"error": self.error, "error_description": self.description}))
    }
}

fn method_not_allowed() -> AdminError {
    AdminError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "method_not_allowed",
        description: "this admin path does not take that method; see /_mockidp/openapi.json".into(),
    }
}

fn ok(v: Value) -> Answer {
    Ok(HttpResponse::Ok().json(v))
}

fn no_content() -> Answer {
    Ok(HttpResponse::NoContent().finish())
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

fn conflict(description: String) -> AdminError {
    AdminError {
        status: StatusCode::CONFLICT,
        error: "invalid_request",
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

/// The URL the caller reaches this server at (scheme, host and forwarded prefix).
fn base_url(req: &HttpRequest) -> String {
    crate::http::extract::issuer_url(req, "")
}
