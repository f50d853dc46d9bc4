//! Dialects: the edge that makes an issuer look like a product. A dialect knows its product's
//! routes, discovery document, claims, token response and error wording; it holds no protocol
//! logic. Adding a product means one new file here and a fixture.

mod generic;
mod identityserver;
mod keycloak;

use serde_json::{Value, json};

use crate::config::{DialectKind, IMPLEMENTED_GRANTS};
use crate::engine::Issuer;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

/// The endpoints an issuer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Token,
}

/// A complete non-OAuth answer (404 pages and the like).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// How one product looks on the wire.
pub trait Dialect: Sync {
    fn kind(&self) -> DialectKind;

    /// Paths below the issuer's mount (no leading slash) and what they serve; the first path of
    /// each endpoint is the one discovery advertises.
    fn routes(&self) -> &'static [(&'static str, Endpoint)];

    /// Keycloak before version 17 lived under `/auth`; clients still call that.
    fn accepts_auth_prefix(&self) -> bool {
        false
    }

    /// The product's access token lifetime when the fixture sets none.
    fn default_access_token_ttl(&self) -> u64;

    /// Scopes any client may ask for without registering them.
    fn always_allowed_scopes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether asked-for scopes are added to the client's defaults instead of replacing them.
    fn scopes_extend_defaults(&self) -> bool {
        false
    }

    /// The OpenID Provider metadata document.
    fn discovery(&self, issuer: &Issuer, issuer_url: &str) -> Value;

    /// The JSON Web Key Set in the product's form.
    fn jwks(&self, key: &SigningKey) -> Value;

    /// The JOSE header of the tokens it signs.
    fn jwt_header(&self, key: &SigningKey) -> Object;

    /// The access token claims before the fixtures add theirs.
    fn access_token_claims(&self, ctx: &TokenContext) -> Object;

    /// The token endpoint's success body.
    fn token_response(&self, issued: &Issued) -> Value;

    /// Status, headers and body of an error, in the product's words.
    fn shape_error(&self, err: &OAuthError, issuer: &Issuer) -> ErrorReply;

    /// A path under the issuer that serves nothing.
    fn not_found(&self) -> Reply;

    /// A path that looks like this product's but names no configured issuer (Keycloak's
    /// "Realm does not exist"); `None` when the path is not of this product's shape.
    fn unknown_issuer(&self, _path: &str) -> Option<Reply> {
        None
    }
}

static KEYCLOAK: keycloak::Keycloak = keycloak::Keycloak;
static IDENTITY_SERVER: identityserver::IdentityServer = identityserver::IdentityServer;
static GENERIC: generic::Generic = generic::Generic;

/// The dialect implementing `kind`.
pub fn for_kind(kind: DialectKind) -> &'static dyn Dialect {
    match kind {
        DialectKind::Keycloak => &KEYCLOAK,
        DialectKind::IdentityServer => &IDENTITY_SERVER,
        DialectKind::Generic => &GENERIC,
    }
}

/// Every dialect, for questions asked before an issuer is known.
pub fn all() -> [&'static dyn Dialect; 3] {
    [&KEYCLOAK, &IDENTITY_SERVER, &GENERIC]
}

/// The endpoint `rel` (the path below the issuer's mount) names, if any.
pub fn endpoint(dialect: &dyn Dialect, rel: &str) -> Option<Endpoint> {
    let rel = rel.strip_prefix('/').unwrap_or(rel);
    dialect
        .routes()
        .iter()
        .find(|(path, _)| *path == rel)
        .map(|(_, e)| *e)
}

/// The absolute URL of `endpoint` for an issuer at `issuer_url`.
pub fn endpoint_url(dialect: &dyn Dialect, issuer_url: &str, endpoint: Endpoint) -> String {
    let path = dialect
        .routes()
        .iter()
        .find(|(_, e)| *e == endpoint)
        .map_or("", |(p, _)| *p);
    format!("{}/{path}", issuer_url.trim_end_matches('/'))
}

/// Grant types to advertise: those the engine implements.
pub fn grants_supported() -> Value {
    json!(IMPLEMENTED_GRANTS)
}

/// Every scope some client of `issuer` may ask for, plus `extra`, without repeats.
pub fn scopes_supported(issuer: &Issuer, extra: &[&str]) -> Value {
    let mut all: Vec<&str> = extra.to_vec();
    for c in &issuer.config.clients {
        for s in &c.scopes {
            if !all.contains(&s.as_str()) {
                all.push(s);
            }
        }
    }
    json!(all)
}

/// The RFC 6749 §5.2 reply: 401 with `WWW-Authenticate` for `invalid_client`, 400 otherwise.
pub fn standard_error(err: &OAuthError, www_authenticate: &str) -> ErrorReply {
    let unauthorized = err.code == ErrorCode::InvalidClient;
    ErrorReply {
        status: if err.code == ErrorCode::ServerError {
            500
        } else if unauthorized {
            401
        } else {
            400
        },
        www_authenticate: unauthorized.then(|| www_authenticate.to_string()),
        body: Some(error_body(err.code.as_str(), &err.description)),
    }
}

/// `{"error": ..., "error_description": ...}`.
pub fn error_body(code: &str, description: &str) -> Value {
    json!({ "error": code, "error_description": description })
}

/// The public part of an RSA JWK, plus `extra` members in the product's order.
pub fn rsa_jwk(key: &SigningKey, kid: &str, extra: Value) -> Value {
    let mut jwk = json!({ "kid": kid, "kty": "RSA", "n": key.n, "e": key.e });
    if let (Some(obj), Value::Object(more)) = (jwk.as_object_mut(), extra) {
        obj.extend(more);
    }
    jwk
}

/// Keeps only the members of a `json!` object whose value is not null (optional fields).
pub fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// Turns a `json!({...})` literal into an [`Object`].
pub fn object(v: Value) -> Object {
    match without_nulls(v) {
        Value::Object(m) => m,
        _ => Object::new(),
    }
}
