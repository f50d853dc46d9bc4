//! Turning an HTTP request into engine inputs: the body (bounded), the form, the
//! `Authorization` header and the issuer URL the caller sees.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::dialect::Urls;
use crate::engine::{Authorization, Issuer, Params};
use crate::error::{OAuthError, clipped};

/// The largest request body accepted; OAuth forms are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;

/// How long a body may take to arrive after its headers: a client that announces more than it
/// sends gets an answer instead of holding a worker's connection forever.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    Incomplete,
    TimedOut,
}

impl BodyError {
    pub fn describe(self, max: usize) -> String {
        match self {
            Self::TooLarge => format!("request body is larger than {max} bytes"),
            Self::Incomplete => "the request body could not be read completely".into(),
            Self::TimedOut => format!(
                "the request body did not arrive within {} seconds (is Content-Length right?)",
                BODY_TIMEOUT.as_secs()
            ),
        }
    }
}

/// Reads the whole body within [`BODY_TIMEOUT`], refusing more than `max` bytes without
/// buffering them, and a larger `Content-Length` before reading anything.
pub async fn read_body(
    req: &HttpRequest,
    payload: web::Payload,
    max: usize,
) -> Result<web::Bytes, BodyError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    match actix_web::rt::time::timeout(BODY_TIMEOUT, payload.to_bytes_limited(max)).await {
        Ok(Ok(Ok(bytes))) => Ok(bytes),
        Ok(Ok(Err(_))) => Err(BodyError::Incomplete),
        Ok(Err(_)) => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::TimedOut),
    }
}

/// The body of an OAuth request (see [`read_body`]), at most [`MAX_BODY`] bytes.
pub async fn body(req: &HttpRequest, payload: web::Payload) -> Result<web::Bytes, OAuthError> {
    read_body(req, payload, MAX_BODY)
        .await
        .map_err(|e| OAuthError::invalid_request(e.describe(MAX_BODY)))
}

/// The form of a POST, which must be `application/x-www-form-urlencoded` (RFC 6749 §3.2).
pub fn form(req: &HttpRequest, body: &[u8]) -> Result<Params, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let shown = clipped(content_type, 80);
        return Err(OAuthError::invalid_request(if shown.is_empty() {
            "missing Content-Type: send the parameters as application/x-www-form-urlencoded"
                .to_string()
        } else {
            format!(
                "Content-Type {shown:?} is not supported: send the parameters as \
                 application/x-www-form-urlencoded"
            )
        }));
    }
    Params::parse(body)
}

/// The parameters of a GET (query) or POST (form; an empty body needs no Content-Type).
pub async fn params(req: &HttpRequest, payload: web::Payload) -> Result<Params, OAuthError> {
    if req.method() == actix_web::http::Method::POST {
        let body = body(req, payload).await?;
        if body.is_empty() {
            return Ok(Params::default());
        }
        form(req, &body)
    } else {
        Params::parse(req.query_string().as_bytes())
    }
}

/// RFC 6750 §2: the bearer token from `Authorization: Bearer`, a raw `Authorization` value
/// (the generic seed's style), or an `access_token` form or query parameter.
pub fn bearer_token(req: &HttpRequest, params: &Params) -> Option<String> {
    if let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        return match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Some(token.trim().to_string())
            }
            Some(_) => None,
            None if !value.is_empty() => Some(value.to_string()),
            None => None,
        };
    }
    params.get("access_token").map(str::to_string)
}

/// Parses the `Authorization` header (RFC 6749 §2.3.1: Basic with form-encoded id and secret).
pub fn authorization(req: &HttpRequest) -> Authorization {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Authorization::None;
    };
    let Ok(value) = value.to_str() else {
        return Authorization::MalformedBasic;
    };
    let value = value.trim();
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Authorization::Other(value.to_string());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Authorization::Other(value.to_string());
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|s| s.split_once(':')) else {
        return Authorization::MalformedBasic;
    };
    Authorization::Basic {
        id: form_decode(id),
        secret: form_decode(secret),
    }
}

fn form_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The issuer's URLs as the caller sees them: `public_url` fixes all of them, `frontend_url` the
/// issuer and browser endpoints; the rest come from the request (`Forwarded`,
/// `X-Forwarded-Proto`/`-Host` honoured by actix, plus `X-Forwarded-Prefix`) and the path the
/// issuer was reached at (`mount`).
pub fn urls(req: &HttpRequest, issuer: &Issuer, mount: &str) -> Urls {
    let seen = issuer_url(req, mount);
    let public = issuer
        .config
        .public_url
        .as_ref()
        .map(|u| u.trim_end_matches('/').to_string());
    let front = public.clone().or_else(|| {
        issuer
            .config
            .frontend_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_string())
    });
    Urls {
        issuer: front.clone().unwrap_or_else(|| seen.clone()),
        front: front.unwrap_or_else(|| seen.clone()),
        back: public.unwrap_or(seen),
    }
}

/// The URL of `mount` on this server as the caller sees it (forwarded headers as the
/// server's [`super::forwarded::ForwardedPolicy`] allows).
pub fn issuer_url(req: &HttpRequest, mount: &str) -> String {
    let origin = match req.app_data::<web::Data<super::Edge>>() {
        Some(edge) => edge.forwarded.origin(req),
        None => super::forwarded::ForwardedPolicy::new(false).origin(req),
    };
    format!(
        "{}://{}{}{mount}",
        origin.scheme, origin.host, origin.prefix
    )
}

/// The caller's IP address, for Keycloak's `clientAddress`.
pub fn client_addr(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}
