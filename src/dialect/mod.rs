//! Dialects: the edge that makes an issuer look like a product. A dialect knows its product's
//! routes, discovery document, claims, token response and error wording; it holds no protocol
//! logic. Adding a product means one new file here and a fixture.

mod generic;
mod identityserver;
mod keycloak;
mod members;

pub use members::Members;

use crate::ids::IdSource;
use serde_json::{Value, json};

use aws_lc_rs::hmac;

use crate::config::{ClientConfig, DialectKind, IMPLEMENTED_GRANTS, ResourceConfig};
use crate::engine::Issuer;
use crate::engine::authorize::AuthorizeRequest;
use crate::engine::issue::{Grant, Issued, TokenContext};
use crate::error::{ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

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

    /// ID token lifetime when the fixture sets none.
    fn default_id_token_ttl(&self, issuer: &Issuer, client: &ClientConfig) -> u64;

    /// Whether a grant of `grant_type` with `openid` returns an ID token. IdentityServer3
    /// (TokenResponseGenerator.ProcessTokenRequestAsync) and oauthlib (no OpenID Connect
    /// password grant) give the password grant none; Keycloak does.
    fn issues_id_token(&self, grant_type: &str) -> bool {
        grant_type != crate::config::PASSWORD
    }

    /// Whether this token response carries a refresh token (the client must also be allowed
    /// the `refresh_token` grant).
    fn issues_refresh_token(&self, ctx: &TokenContext) -> bool {
        ctx.grant.user.is_some()
    }

    /// A new refresh token in the product's format.
    fn refresh_token(&self, ctx: &TokenContext, expires_at: u64, key: &hmac::Key)
    -> Option<String>;

    /// Refresh token lifetime when the fixture sets none.
    fn default_refresh_token_ttl(&self, _grant: &Grant) -> u64 {
        30 * 24 * 3600
    }

    /// A new authorization code in the product's format.
    fn new_code(&self, ids: &IdSource) -> String;

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

    /// Whether authorization responses, errors included, carry RFC 9207's `iss` (Keycloak's
    /// discovery says `authorization_response_iss_parameter_supported`).
    fn authorization_response_iss(&self) -> bool {
        false
    }

    /// Name of the SSO session cookie (suffixed with the issuer name, so issuers never share).
    fn session_cookie(&self) -> &'static str;

    /// The login form's browser binding (see [`LoginBinding`]).
    fn login_binding(&self) -> LoginBinding;

    /// The product's page showing who is logged in, given the issuer's mount path.
    fn default_home_path(&self, mount: &str) -> String;

    /// The product's name, shown on pages.
    fn product(&self) -> &'static str;

    /// A new RFC 8628 user code in the product's format.
    fn new_user_code(&self, ids: &IdSource) -> String;

    /// Device code lifetime when the fixture sets none.
    fn default_device_code_ttl(&self) -> u64;

    /// The query parameter of `verification_uri_complete` that carries the user code.
    fn user_code_param(&self) -> &'static str {
        "user_code"
    }

    /// RFC 7523 §3: what a client assertion's `aud` may name (the issuer itself is
    /// [`Endpoint::IssuerInfo`]); none: the product takes no client assertions.
    fn client_assertion_audiences(&self) -> &'static [Endpoint] {
        &[]
    }

    /// Whether userinfo answers a client-credentials token with its service-account user
    /// (Keycloak); otherwise such a token is refused (it is about no user).
    fn userinfo_for_service_accounts(&self) -> bool {
        false
    }

    /// Whether CORS answers carry `Access-Control-Allow-Credentials: true`, so a page may call
    /// with `credentials: 'include'` (keycloak-js does).
    fn cors_credentials(&self) -> bool {
        false
    }

    /// Whether the home page also answers the product's account REST API (Keycloak's
    /// `/realms/{realm}/account` with `Accept: application/json`).
    fn account_rest(&self) -> bool {
        false
    }

    /// How token exchange behaves.
    fn exchange_style(&self) -> ExchangeStyle {
        ExchangeStyle::Delegation
    }

    /// Whether a user's tokens die with their browser session (Keycloak: "Session not active"
    /// for refresh, 401 at userinfo after logout), except for `offline_access`.
    fn tokens_need_session(&self) -> bool {
        false
    }

    /// Element ids of the login page (form, username, password, submit button) as the
    /// product's own page names them, so browser tests written against it find their fields.
    fn login_ids(&self) -> [&'static str; 4] {
        ["login", "username", "password", "submit"]
    }

    /// The scope that lets a bearer token (instead of client credentials) call introspection
    /// (Django OAuth Toolkit's `introspection`).
    fn introspection_scope(&self) -> Option<&'static str> {
        None
    }

    /// Whether polling a device code faster than its interval gets `slow_down` (RFC 8628 §3.5).
    fn enforces_poll_interval(&self) -> bool {
        true
    }

    /// A cookie scripts may read, next to the session cookie, telling the product's session
    /// status iframe which session the browser holds (Keycloak's `KEYCLOAK_SESSION`,
    /// `{realm}/{user id}/{session id}`); `None` for products without one.
    fn script_session_cookie(&self) -> Option<&'static str> {
        None
    }

    /// The value of [`Dialect::script_session_cookie`] for session `sid` of user `sub` in
    /// `realm`: Keycloak's `{realm}/{sub}/{sid}`, each part percent-encoded (a configured
    /// `sub` may hold `/`, `;` or spaces).
    fn script_session_value(&self, realm: &str, sub: &str, sid: &str) -> String {
        let part = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        format!("{}/{}/{}", part(realm), part(sub), part(sid))
    }

    /// Whether a client may end a session by posting its refresh token to the logout endpoint
    /// (Keycloak's back-channel logout, answered 204).
    fn logout_by_refresh_token(&self) -> bool {
        false
    }

    /// Authorization code lifetime when the fixture sets none.
    fn default_code_ttl(&self) -> u64 {
        60
    }

    /// Whether using a refresh token retires it (IdentityServer3's OneTimeOnly, Django OAuth
    /// Toolkit's ROTATE_REFRESH_TOKEN); otherwise it stays valid until it expires.
    fn refresh_tokens_are_single_use(&self) -> bool {
        true
    }

    /// Whether presenting a used authorization code again revokes the tokens issued from it
    /// (RFC 6749 §4.1.2 "SHOULD"; Keycloak does, the others only refuse the code).
    fn code_replay_revokes_tokens(&self) -> bool {
        false
    }

    /// Whether revoking a refresh token also revokes the access tokens issued with it.
    fn refresh_revocation_revokes_access_tokens(&self) -> bool {
        true
    }

    /// The body of [`Endpoint::IssuerInfo`], for products that route it.
    fn issuer_info(&self, _issuer: &Issuer, _urls: &Urls, _key: &SigningKey) -> Option<Value> {
        None
    }

    /// The [`Endpoint::Page`] at `rel` (the path below the issuer), for products that route one.
    fn page(&self, _rel: &str) -> Option<Reply> {
        None
    }

    /// Protected resources served when the fixture configures none.
    fn default_resources(&self, _mount: &str) -> Vec<ResourceConfig> {
        Vec::new()
    }

    /// The token endpoint's success body.
    fn token_response<'a>(&self, issued: &'a Issued) -> Members<'a>;

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
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["plain", "S256"],
        // OpenID Connect Discovery defaults request_uri support to true: say it is not.
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
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
