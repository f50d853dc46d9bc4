//! CORS for browser apps (SPAs with PKCE) on the endpoints they call with `fetch`: discovery,
//! JWKS, token, userinfo, logout, revocation and (Keycloak) the account API. Allowed origins are
//! the issuer's `allowed_origins`, or by default the origins of its clients' redirect URIs.

use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::config::origin_of;
use crate::engine::Issuer;

/// The request's `Origin` if the issuer allows it.
fn allowed_origin(issuer: &Issuer, req: &HttpRequest) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    origin_allowed(issuer, origin.to_str().ok()?).then(|| origin.clone())
}

/// Whether a page at `origin` may call the issuer from a browser.
pub fn origin_allowed(issuer: &Issuer, origin: &str) -> bool {
    match &issuer.config.allowed_origins {
        Some(list) => list.iter().any(|a| a == "*" || a == origin),
        None => issuer
            .config
            .clients
            .iter()
            .flat_map(|c| &c.redirect_uris)
            .any(|uri| origin_of(uri).is_some_and(|u| u == origin)),
    }
}

/// The headers every CORS answer to an allowed origin carries.
fn allow(issuer: &Issuer, origin: HeaderValue, h: &mut HeaderMap) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if issuer.dialect.profile().features.cors_credentials {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// Adds the CORS headers to a response when the origin is allowed.
pub fn apply(issuer: &Issuer, req: &HttpRequest, resp: &mut HttpResponse) {
    if let Some(origin) = allowed_origin(issuer, req) {
        let h = resp.headers_mut();
        allow(issuer, origin, h);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
}

/// Answers a preflight `OPTIONS` request.
pub fn preflight(issuer: &Issuer, req: &HttpRequest) -> HttpResponse {
    let mut resp = HttpResponse::NoContent().finish();
    if let Some(origin) = allowed_origin(issuer, req) {
        let h = resp.headers_mut();
        allow(issuer, origin, h);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, Accept, DPoP"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    resp
}
