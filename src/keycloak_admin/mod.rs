//! Keycloak's admin REST API (`/admin/realms/...`, and the legacy `/auth/admin/realms/...`):
//! the part that applications and their tests call through python-keycloak's `KeycloakAdmin`,
//! `@keycloak/keycloak-admin-client` or plain HTTP. Paths, methods, query parameters, statuses
//! and JSON field names are those of Keycloak's `services/.../resources/admin/` resources and
//! `core/.../representations/idm/` representations.
//!
//! There is one model: every change goes through [`Engine::update_issuer`] (or adds and removes
//! issuers), so it is live at once for the OIDC endpoints and `/_mockidp/`, and
//! `/_mockidp/reset` returns to the fixtures. Groups and role definitions live in the same
//! per-issuer configuration ([`IssuerConfig`]).

mod auth;
mod clients;
mod found;
mod groups;
mod mappings;
mod realms;
mod repr;
mod roles;
mod users;

use std::fmt;
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};

use crate::config::IssuerConfig;
use crate::engine::{Engine, Issuer};
use crate::http::Prefix;
use crate::http::lazy_routes::Routes;

pub use auth::{Caller, Permission};

/// Largest request body (a realm representation with its users fits).
const MAX_BODY: usize = 1024 * 1024;

/// Users, clients, groups or roles one realm holds at most: generous for tests, bounded for a
/// server left running.
const MAX_ENTRIES: usize = 10_000;

/// Mounts the API under `/admin/realms` and `/auth/admin/realms` (Keycloak before 17), and
/// the same under a namespace's `/ns/{namespace}` (its realms, its master realm's admins): one
/// scope for the four, which finds them with [`api_prefix`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api().wrap(actix_web::middleware::from_fn(|req, next| {
        crate::http::enter(req, next, api_prefix)
    })));
}

/// Where Keycloak serves the API: `[/ns/{id}][/auth]/admin/realms`, followed by `/` or
/// nothing.
fn api_prefix(path: &str) -> Option<Prefix<'_>> {
    let (namespace, rest) = match crate::http::namespace_at(path) {
        Some((id, rest)) => (Some(id), rest),
        None => (None, path),
    };
    let rest = rest
        .strip_prefix("/auth")
        .filter(|r| r.starts_with('/'))
        .unwrap_or(rest);
    let after = rest.strip_prefix("/admin/realms")?;
    (after.is_empty() || after.starts_with('/')).then(|| Prefix {
        len: path.len() - after.len(),
        namespace,
    })
}

/// The API's resources.
fn api() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("")
        .guard(crate::http::found("", api_prefix))
        // RESTEasy matches `/users/` as `/users` (keycloak-admin-client sends both).
        .wrap(actix_web::middleware::from_fn(crate::http::trim_path))
        .app_data(
            web::JsonConfig::default()
                .limit(MAX_BODY)
                .content_type_required(false)
                .error_handler(|e, _| bad_json(&e.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default().error_handler(|e, _| {
                KcError::error(StatusCode::BAD_REQUEST, &e.to_string()).into()
            }),
        )
        // Built on a worker's first admin request (crate::http::lazy_routes says why).
        .default_service(Routes::lazy(
            routes,
            |req, _| unknown_path(req),
            unknown_path,
        ))
}

/// The resources, in the order they are matched.
fn routes(cfg: &mut Routes) {
    realms::routes(cfg);
    users::routes(cfg);
    mappings::routes(cfg);
    roles::routes(cfg);
    clients::routes(cfg);
    groups::routes(cfg);
}

/// JAX-RS's answer to a path no resource serves. A served path asked with another method gets
/// the same: the routes are matched by path and method together, as they always were here
/// (RESTEasy would answer 405).
fn unknown_path(_: &HttpRequest) -> HttpResponse {
    KcError::error(StatusCode::NOT_FOUND, "HTTP 404 Not Found").error_response()
}

/// What a handler answers.
pub type Reply = Result<HttpResponse, KcError>;

/// A refusal in Keycloak's words: `{"error": ...}` where Keycloak throws a JAX-RS exception
/// (`NotFoundException("User not found")`, 401, 403), `{"errorMessage": ...}` where it answers
/// with `ErrorResponse` (409 "User exists with same username", 400 validation errors).
#[derive(Debug)]
pub struct KcError {
    status: StatusCode,
    body: Value,
}

impl KcError {
    /// KeycloakErrorHandler's body for a thrown exception.
    pub fn error(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            body: json!({ "error": message }),
        }
    }

    /// `ErrorResponse.error(message, status)`.
    pub fn message(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            body: json!({ "errorMessage": message }),
        }
    }

    pub fn not_found(message: &str) -> Self {
        Self::error(StatusCode::NOT_FOUND, message)
    }

    /// `ErrorResponse.exists(message)`: 409.
    pub fn conflict(message: &str) -> Self {
        Self::message(StatusCode::CONFLICT, message)
    }

    /// An invalid representation: 400 with `errorMessage`.
    pub fn invalid(message: &str) -> Self {
        Self::message(StatusCode::BAD_REQUEST, message)
    }
}

impl fmt::Display for KcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl ResponseError for KcError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(&self.body)
    }
}

/// A body that is not the JSON the resource takes. Keycloak says only `unknown_error`; the
/// description says what was wrong (a deliberate difference, listed in the README).
fn bad_json(why: &str) -> KcError {
    KcError {
        status: StatusCode::BAD_REQUEST,
        body: json!({ "error": "unknown_error", "error_description": format!("invalid JSON body: {why}") }),
    }
}

/// What a path segment must escape (RFC 3986 §2.3: unreserved characters stay).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// 201 with `Location` naming the new resource below the request's URL, as JAX-RS's
/// `Response.created(uriInfo.getAbsolutePathBuilder().path(id).build())`.
pub fn created(req: &HttpRequest, id: &str) -> HttpResponse {
    let base = crate::http::extract::issuer_url(req, "");
    let id = percent_encoding::utf8_percent_encode(id, PATH_SEGMENT);
    let location = format!("{base}{}/{id}", req.path().trim_end_matches('/'));
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn no_content() -> Reply {
    Ok(HttpResponse::NoContent().finish())
}

pub fn ok(value: Value) -> Reply {
    Ok(HttpResponse::Ok().json(value))
}

/// Changes realm `issuer` through the engine (the one place runtime changes go through).
pub fn change(
    engine: &Engine,
    issuer: &Issuer,
    edit: impl FnOnce(&mut IssuerConfig) -> Result<(), KcError>,
) -> Result<(), KcError> {
    let mut refusal = None;
    engine
        .update_issuer(issuer.name(), |cfg| {
            edit(cfg).map_err(|e| {
                refusal = Some(e);
                String::new()
            })?;
            cfg.validate()
        })
        .map_err(|why| refusal.take().unwrap_or_else(|| KcError::invalid(&why)))
}

/// Refuses one more entry where `count` already reach the bound.
pub fn ensure_room(count: usize, what: &str) -> Result<(), KcError> {
    if count >= MAX_ENTRIES {
        return Err(KcError::invalid(&format!(
            "mockidp keeps at most {MAX_ENTRIES} {what} per realm"
        )));
    }
    Ok(())
}

/// `first` / `max` paging as Keycloak's resources apply it (`max` default 100 where the
/// resource has one; a negative value means none).
pub fn page<T>(items: Vec<T>, first: Option<i64>, max: Option<i64>) -> Vec<T> {
    let first = usize::try_from(first.unwrap_or(0)).unwrap_or(0);
    let max = max.map_or(usize::MAX, |m| usize::try_from(m).unwrap_or(usize::MAX));
    items.into_iter().skip(first).take(max).collect()
}

/// The query parameters of Keycloak's listings (groups, roles, a role's users): `search`,
/// paging, `briefRepresentation`, and the groups' `top`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    pub search: Option<String>,
    pub first: Option<i64>,
    pub max: Option<i64>,
    #[serde(default, deserialize_with = "jaxrs_bool")]
    pub brief_representation: Option<bool>,
    #[serde(default, deserialize_with = "jaxrs_bool")]
    pub top: Option<bool>,
}

/// A boolean query parameter as JAX-RS reads one (`Boolean.valueOf`): `true` in any case is
/// true, anything else false (python-keycloak sends `True`).
pub fn jaxrs_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let text: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(text.map(|t| t.eq_ignore_ascii_case("true")))
}

/// The issuer of realm `name` as it is now.
pub fn find_realm(engine: &Engine, name: &str) -> Option<Arc<Issuer>> {
    engine
        .issuers()
        .iter()
        .find(|i| {
            i.config.dialect == crate::config::DialectKind::Keycloak
                && i.config.realm_name() == name
        })
        .cloned()
}
