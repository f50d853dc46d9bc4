//! Dialects: the edge that makes an issuer look like a product. Each product file holds a
//! [`Profile`] (routes, defaults, cookie names, switches, wordings) and implements [`Dialect`]
//! for what differs in code (discovery, keys, claims, token response, errors, pages); it holds
//! no protocol logic. The products are listed in `registry.rs`. Adding a product means one new
//! file here, one registry line and a fixture (README, "Adding a product").

mod members;
pub mod profile;
mod registry;

// The registry: one line per product (its file in this folder, its `Dialect` type).
registry::products! {
    keycloak::Keycloak,
    identityserver::IdentityServer,
    generic::Generic,
}

pub use members::Members;
pub use profile::Profile;
pub use registry::{DialectKind, all};

use crate::ids::IdSource;
use serde_json::{Value, json};

use aws_lc_rs::hmac;

use crate::config::IMPLEMENTED_GRANTS;
use crate::engine::Issuer;
use crate::engine::authorize::AuthorizeRequest;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

/// RFC 6750 §1: the token type of every access token mockidp issues.
pub const BEARER: &str = "Bearer";

/// The endpoints an issuer serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Discovery,
    Jwks,
    Token,
    Authorize,
    /// Where the login page posts.
    Login,
    Userinfo,
    Logout,
    Introspect,
    Revoke,
    /// RFC 8628 §3.1: the device authorization endpoint.
    DeviceAuthorization,
    /// RFC 8628 §3.3: the page where a person enters the user code.
    DeviceVerify,
    /// What the product serves at the issuer URL itself (Keycloak's realm `public_key`).
    IssuerInfo,
    /// A static page the product's client library loads (keycloak-js's third-party cookie
    /// check, its session status iframe); the dialect picks it by path.
    Page,
    /// The session status iframe asking whether a client and origin may use it (keycloak-js's
    /// `login-status-iframe.html/init`).
    SessionStatusInit,
}

/// OpenID Connect Discovery 1.0 §4: where every product serves its metadata.
pub const OIDC_DISCOVERY: &str = ".well-known/openid-configuration";

/// RFC 8414 §3: the OAuth 2.0 authorization server metadata path, for products that serve it.
pub const RFC8414_METADATA: &str = ".well-known/oauth-authorization-server";

/// Which kind of token a JOSE header is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Id,
}

/// Where an issuer is, as seen by the caller: `issuer` is what tokens carry in `iss`; browser
/// endpoints live under `front`, the others under `back` (the two differ when a front-channel
/// URL is configured, so one issuer works from a browser and from inside a Docker network).
#[derive(Debug, Clone)]
pub struct Urls {
    pub issuer: String,
    pub front: String,
    pub back: String,
}

impl Urls {
    /// The same base for everything.
    pub fn single(url: &str) -> Self {
        Self {
            issuer: url.to_string(),
            front: url.to_string(),
            back: url.to_string(),
        }
    }

    /// The absolute URL of `endpoint`.
    pub fn at(&self, dialect: &dyn Dialect, endpoint: Endpoint) -> String {
        let base = if endpoint.is_browser() {
            &self.front
        } else {
            &self.back
        };
        endpoint_url(dialect, base, endpoint)
    }
}

impl Endpoint {
    /// Every endpoint, for lists (the admin API's failure targets).
    pub const ALL: [Endpoint; 14] = [
        Self::Discovery,
        Self::Jwks,
        Self::Token,
        Self::Authorize,
        Self::Login,
        Self::Userinfo,
        Self::Logout,
        Self::Introspect,
        Self::Revoke,
        Self::DeviceAuthorization,
        Self::DeviceVerify,
        Self::IssuerInfo,
        Self::Page,
        Self::SessionStatusInit,
    ];

    /// Endpoints a browser navigates to (front channel).
    pub fn is_browser(self) -> bool {
        matches!(
            self,
            Self::Authorize | Self::Login | Self::Logout | Self::DeviceVerify
        )
    }

    /// The name the admin API and the journal use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::Jwks => "jwks",
            Self::Token => "token",
            Self::Authorize => "authorize",
            Self::Login => "login",
            Self::Userinfo => "userinfo",
            Self::Logout => "logout",
            Self::Introspect => "introspect",
            Self::Revoke => "revoke",
            Self::DeviceAuthorization => "device_authorization",
            Self::DeviceVerify => "device_verify",
            Self::IssuerInfo => "issuer_info",
            Self::Page => "page",
            Self::SessionStatusInit => "session_status_init",
        }
    }
}

/// How a product does RFC 8693 token exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeStyle {
    /// Delegation with trusted external subjects and an `act` claim (the generic seed; also
    /// what IdentityServer users build as an extension grant).
    Delegation,
    /// Keycloak's standard token exchange: same-realm subjects, no actor token.
    SameIssuer,
}

/// A complete non-OAuth answer (404 pages and the like).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

/// The cookie that ties a login form to the browser that opened it, and what a form posted
/// from another browser (or without cookies) gets instead of a login.
#[derive(Debug, Clone, Copy)]
pub struct LoginBinding {
    /// The cookie's name (suffixed with the issuer name, as the session cookie is).
    pub cookie: &'static str,
    pub status: u16,
    /// The product's "expired / restart login" wording.
    pub restart: &'static str,
}

/// What differs between products in code rather than data: each product file implements it
/// next to its [`Profile`].
pub trait Dialect: Sync {
    /// The product as data.
    fn profile(&self) -> &'static Profile;

    /// The OpenID Provider metadata document.
    fn discovery(&self, issuer: &Issuer, urls: &Urls) -> Value;

    /// One key of the JSON Web Key Set, in the product's form.
    fn jwk(&self, key: &SigningKey) -> Value;

    /// The JOSE header of the tokens it signs.
    fn jwt_header(&self, key: &SigningKey, kind: TokenKind) -> Object;

    /// The access token claims before the fixtures add theirs.
    fn access_token_claims(&self, ctx: &TokenContext) -> Object;

    /// Adds the product's own claims to an ID token that already has the OpenID Connect ones
    /// (`iss`, `sub`, `aud`, `exp`, `iat`, `auth_time`, `nonce`, `at_hash`, `sid`, user claims).
    fn shape_id_token(&self, claims: &mut Object, ctx: &TokenContext);

    /// A new refresh token: by default an opaque handle in the profile's format.
    fn refresh_token(&self, ctx: &TokenContext, _exp: u64, _key: &hmac::Key) -> Option<String> {
        Some(self.profile().formats.refresh_token.make(ctx.ids))
    }

    /// Parameters the product adds to a successful authorization response to `req` besides
    /// `code` and `state`, for the browser session `sid` (Keycloak and IdentityServer:
    /// `session_state`).
    fn code_response_extras(
        &self,
        _issuer: &Issuer,
        _req: &AuthorizeRequest,
        _sid: &str,
        _ids: &IdSource,
    ) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The token endpoint's success body.
    fn token_response<'a>(&self, issued: &'a Issued) -> Members<'a>;

    /// Status, headers and body of an error, in the product's words.
    fn shape_error(&self, err: &OAuthError, issuer: &Issuer) -> ErrorReply;

    /// The body of [`Endpoint::IssuerInfo`], for products that route it.
    fn issuer_info(&self, _issuer: &Issuer, _urls: &Urls, _key: &SigningKey) -> Option<Value> {
        None
    }

    /// The [`Endpoint::Page`] at `rel` (the path below the issuer), for products that route one.
    fn page(&self, _rel: &str) -> Option<Reply> {
        None
    }
}

/// The dialect implementing `kind`.
pub fn for_kind(kind: DialectKind) -> &'static dyn Dialect {
    kind.dialect()
}

/// The endpoint `rel` (the path below the issuer's mount) names, if any.
pub fn endpoint(dialect: &dyn Dialect, rel: &str) -> Option<Endpoint> {
    let rel = rel.strip_prefix('/').unwrap_or(rel);
    dialect
        .profile()
        .routes
        .iter()
        .find(|(_, paths)| paths.contains(&rel))
        .map(|(e, _)| *e)
}

/// The absolute URL of `endpoint` for an issuer at `issuer_url`.
pub fn endpoint_url(dialect: &dyn Dialect, issuer_url: &str, endpoint: Endpoint) -> String {
    let path = dialect
        .profile()
        .routes
        .iter()
        .find(|(e, _)| *e == endpoint)
        .and_then(|(_, paths)| paths.first())
        .map_or("", |p| *p);
    format!("{}/{path}", issuer_url.trim_end_matches('/'))
}

/// `token_endpoint_auth_signing_alg_values_supported`: the algorithms a client assertion may
/// use; with `symmetric`, `client_secret_jwt`'s HMAC ones too.
pub fn assertion_algs(symmetric: bool) -> Value {
    let hmac: &[&str] = if symmetric {
        &["HS256", "HS384", "HS512"]
    } else {
        &[]
    };
    json!([crate::engine::jwk_set::ASYMMETRIC_ALGS, hmac].concat())
}

/// Grant types to advertise: those the engine implements.
pub fn grants_supported() -> Value {
    json!(IMPLEMENTED_GRANTS)
}

/// The OpenID Connect metadata every dialect shares (Discovery 1.0 §3), by endpoint URL.
pub fn oidc_metadata(dialect: &dyn Dialect, u: &Urls) -> Value {
    json!({
        "authorization_endpoint": u.at(dialect, Endpoint::Authorize),
        "userinfo_endpoint": u.at(dialect, Endpoint::Userinfo),
        "end_session_endpoint": u.at(dialect, Endpoint::Logout),
        "introspection_endpoint": u.at(dialect, Endpoint::Introspect),
        "revocation_endpoint": u.at(dialect, Endpoint::Revoke),
        "device_authorization_endpoint": u.at(dialect, Endpoint::DeviceAuthorization),
        // Each product's own list (its profile's), and only what mockidp answers.
        "response_types_supported": dialect.profile().front_channel.response_types,
        "code_challenge_methods_supported": ["plain", "S256"],
        // OpenID Connect Discovery defaults request_uri support to true: say it is not.
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

/// A discovery document: `issuer`, then the product's own members in its order, then the
/// metadata every product shares ([`oidc_metadata`]).
pub fn discovery_document(dialect: &dyn Dialect, u: &Urls, own: Value) -> Value {
    let head = json!({ "issuer": u.issuer });
    merged(merged(head, own), oidc_metadata(dialect, u))
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

/// RFC 6750 §3: a protected resource's refusal. 401 with a `Bearer` challenge for a missing
/// or bad token (the challenge names the error only when a token was sent), 403 for
/// `insufficient_scope`, 400 for a malformed request.
pub fn bearer_error(err: &OAuthError, issuer: &Issuer, token_sent: bool) -> ErrorReply {
    let status = match err.code {
        ErrorCode::InsufficientScope => 403,
        ErrorCode::InvalidRequest => 400,
        ErrorCode::ServerError => 500,
        _ => 401,
    };
    let realm = issuer.config.realm_name().replace('"', "'");
    let challenge = if token_sent {
        format!(
            "Bearer realm=\"{realm}\", error=\"{}\", error_description=\"{}\"",
            err.code.as_str(),
            header_safe(&err.description)
        )
    } else {
        format!("Bearer realm=\"{realm}\"")
    };
    ErrorReply {
        status,
        www_authenticate: Some(challenge),
        body: Some(error_body(err.code.as_str(), &err.description)),
    }
}

/// RFC 6750 §3: an `error_description` in a header may only hold %x20-21 / %x23-5B / %x5D-7E.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            _ => '?',
        })
        .take(300)
        .collect()
}

/// `{"error": ..., "error_description": ...}`.
pub fn error_body(code: &str, description: &str) -> Value {
    json!({ "error": code, "error_description": description })
}

/// RFC 7517 §5: the key set of `keys` (current key first) in the dialect's form.
pub fn jwks(dialect: &dyn Dialect, keys: &[&SigningKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| dialect.jwk(k)).collect::<Vec<_>>() })
}

/// The public part of an RSA JWK, plus `extra` members in the product's order.
pub fn rsa_jwk(key: &SigningKey, kid: &str, extra: Value) -> Value {
    merged(
        json!({ "kid": kid, "kty": "RSA", "n": key.n, "e": key.e }),
        extra,
    )
}

/// `a` with the members of `b` added after its own.
pub fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(obj), Value::Object(more)) = (a.as_object_mut(), b) {
        obj.extend(more);
    }
    a
}

/// Turns a `json!({...})` literal into an [`Object`], leaving out its null members (optional
/// claims).
pub fn object(v: Value) -> Object {
    match v {
        Value::Object(mut m) => {
            m.retain(|_, v| !v.is_null());
            m
        }
        _ => Object::new(),
    }
}
