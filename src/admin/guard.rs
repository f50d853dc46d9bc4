//! Who may call the admin API: the one check every admin request passes before its handler.
//! The admin token (when one is set), no other web origin, and without a token only host names
//! a remote attacker cannot point here. Health, readiness, the API document and the dashboard's
//! frame stay open; a session link is its own secret.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::{AdminError, SCOPE, bad_request, server_error};
use crate::engine::Engine;

/// Whether the request carried the admin token (or none is needed): the dashboard's page
/// shows data only then.
#[derive(Debug, Clone, Copy)]
pub struct Authorized(pub bool);

/// Admits the request to the API (its handler finds [`Authorized`] among the request's
/// extensions) or answers the refusal.
pub async fn admit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match admission(&req) {
        Ok(authorized) => {
            req.extensions_mut().insert(authorized);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(refusal) => Ok(req
            .into_response(refusal.error_response())
            .map_into_right_body()),
    }
}

/// The rules, in order: a readable path, then the token, the origin and the host.
fn admission(req: &ServiceRequest) -> Result<Authorized, AdminError> {
    // The scope is routed on the decoded path, so `/%5Fmockidp/...` reaches it too; the rules
    // below read the raw path's segments, which then must start with the scope as written.
    let rest = req
        .path()
        .strip_prefix(SCOPE)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or_else(|| {
            bad_request(format!(
                "write the admin API's prefix as {SCOPE}, not percent-encoded"
            ))
        })?;
    let decoded = decoded_segments(rest.trim_matches('/')).ok_or_else(|| {
        bad_request(
            "a path segment is not valid percent-encoded UTF-8 or holds control characters".into(),
        )
    })?;
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    if req.method() == Method::GET && session_link(&segments) {
        return Ok(Authorized(false));
    }
    let engine = req
        .app_data::<web::Data<Engine>>()
        .ok_or_else(|| server_error("no engine".into()))?;
    let authorized = holds_token(engine, req.headers());
    let probe = matches!(
        segments.as_slice(),
        ["health"] | ["ready"] | ["openapi.json"]
    );
    // The dashboard's page, script and style sheet hold no data without the token.
    let frame = matches!(
        segments.as_slice(),
        [""] | ["dashboard.js"] | ["dashboard.css"]
    );
    if !authorized && !probe && !frame {
        return Err(unauthorized());
    }
    cross_site(req.headers())?;
    if engine.admin_token.is_none() && !probe {
        untrusted_host(engine, req.headers())?;
    }
    Ok(Authorized(authorized))
}

/// The path's segments percent-decoded (`clients/a%20b` is client "a b"), or `None` when one
/// is not UTF-8 or holds a control character.
fn decoded_segments(path: &str) -> Option<Vec<String>> {
    path.split('/')
        .map(|seg| {
            let s = percent_encoding::percent_decode_str(seg)
                .decode_utf8()
                .ok()?;
            (!s.chars().any(char::is_control)).then(|| s.into_owned())
        })
        .collect()
}

/// `GET [ns/{id}/]session-links/{ticket}`: single use and short-lived, a link a browser opens
/// without the admin token.
fn session_link(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["session-links", _] | ["ns", _, "session-links", _]
    )
}

/// Whether `Authorization: Bearer` carries the admin token, compared in constant time; true
/// when the server has none.
fn holds_token(engine: &Engine, headers: &HeaderMap) -> bool {
    engine.admin_token.as_ref().is_none_or(|expected| {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_ok()
    })
}

/// 401, which [`AdminError`] answers with the `WWW-Authenticate` challenge.
fn unauthorized() -> AdminError {
    AdminError {
        status: StatusCode::UNAUTHORIZED,
        error: "unauthorized",
        description: "the admin API needs Authorization: Bearer <admin token>".into(),
    }
}

fn forbidden(description: String) -> AdminError {
    AdminError {
        status: StatusCode::FORBIDDEN,
        error: "forbidden",
        description,
    }
}

/// Refuses what a web page could send to a local mockidp behind the tester's back: a request
/// from another origin (bodies not declared JSON are refused by [`super::body::parse`]).
fn cross_site(headers: &HeaderMap) -> Result<(), AdminError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return Ok(());
    };
    if origin.split_once("://").map(|(_, h)| h) != host {
        return Err(forbidden(
            "the admin API refuses requests from other origins".into(),
        ));
    }
    Ok(())
}

/// DNS rebinding: a web page on a domain its owner points at 127.0.0.1 reaches this API
/// same-origin. Without an admin token the API answers only when `Host` is an IP address, a
/// name without a dot (`localhost`, a compose service), `*.localhost`, or the host of a
/// configured issuer URL — names a remote attacker cannot point here.
fn untrusted_host(engine: &Engine, headers: &HeaderMap) -> Result<(), AdminError> {
    let name = host_name(headers);
    let trusted = name.parse::<std::net::IpAddr>().is_ok()
        || !name.contains('.')
        || name.ends_with(".localhost")
        || configured_host(engine, &name);
    if trusted {
        return Ok(());
    }
    Err(forbidden(format!(
        "the admin API does not answer for host {name:?} without an admin token: use \
         localhost or an IP address, or set admin_token (--admin-token) to call it by name"
    )))
}

/// The `Host` header's name, without port or brackets, lowercase.
fn host_name(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    }
    .trim_end_matches('.')
    .to_ascii_lowercase()
}

/// Whether `name` is the host of an issuer configured with a fixed URL.
fn configured_host(engine: &Engine, name: &str) -> bool {
    engine.issuers().iter().any(|i| {
        i.fixed_url().is_some_and(|u| {
            u.split_once("://")
                .map(|(_, rest)| rest.split(['/', ':']).next().unwrap_or(""))
                .is_some_and(|h| h.eq_ignore_ascii_case(name))
        })
    })
}
