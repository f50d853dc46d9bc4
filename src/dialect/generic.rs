//! A Django OAuth Toolkit server (oauthlib underneath) mounted at `/`: `/token/` (and `/token`,
//! which the seed's token-exchange example uses), `invalid_client` as 401 with
//! `WWW-Authenticate: Bearer error="invalid_client"`, RFC 9068 JWT access tokens by default or
//! oauthlib's 30-character opaque tokens. Wire facts: `shared/vendors.md` §3.

use crate::ids::IdSource;
use serde_json::{Value, json};

use aws_lc_rs::hmac;

use super::{
    Dialect, Endpoint, LoginBinding, Members, Reply, TokenKind, Urls, merged, object,
    oidc_metadata, rsa_jwk,
};
use crate::config::{ClientConfig, DialectKind, ResourceConfig};
use crate::engine::Issuer;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{Cause, ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

pub struct Generic;

impl Dialect for Generic {
    fn kind(&self) -> DialectKind {
        DialectKind::Generic
    }

    fn routes(&self) -> &'static [(&'static str, Endpoint)] {
        &[
            (".well-known/openid-configuration", Endpoint::Discovery),
            (".well-known/openid-configuration/", Endpoint::Discovery),
            (
                ".well-known/oauth-authorization-server",
                Endpoint::Discovery,
            ),
            (".well-known/jwks.json", Endpoint::Jwks),
            ("token/", Endpoint::Token),
            ("token", Endpoint::Token),
            ("authorize/", Endpoint::Authorize),
            ("authorize", Endpoint::Authorize),
            ("accounts/login/", Endpoint::Login),
            ("userinfo/", Endpoint::Userinfo),
            ("userinfo", Endpoint::Userinfo),
            ("logout/", Endpoint::Logout),
            ("logout", Endpoint::Logout),
            ("introspect/", Endpoint::Introspect),
            ("introspect", Endpoint::Introspect),
            ("revoke_token/", Endpoint::Revoke),
            ("revoke_token", Endpoint::Revoke),
            ("device-authorization/", Endpoint::DeviceAuthorization),
            ("device-authorization", Endpoint::DeviceAuthorization),
            ("device/", Endpoint::DeviceVerify),
            ("device", Endpoint::DeviceVerify),
        ]
    }

    fn default_access_token_ttl(&self) -> u64 {
        36000
    }

    fn discovery(&self, issuer: &Issuer, u: &Urls) -> Value {
        merged(
            json!({
                "issuer": u.issuer,
                "token_endpoint": u.at(self, Endpoint::Token),
                "jwks_uri": u.at(self, Endpoint::Jwks),
                "scopes_supported": super::scopes_supported(issuer, &[]),
                "grant_types_supported": super::grants_supported(),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            }),
            oidc_metadata(self, u),
        )
    }

    fn jwk(&self, key: &SigningKey) -> Value {
        rsa_jwk(key, &key.kid, json!({ "alg": "RS256", "use": "sig" }))
    }

    /// RFC 9068 `at+jwt` for access tokens; ID tokens stay `JWT`, as Django OAuth Toolkit
    /// signs them (and as OpenID Connect clients require).
    fn jwt_header(&self, key: &SigningKey, kind: TokenKind) -> Object {
        let typ = match kind {
            TokenKind::Access => "at+jwt",
            TokenKind::Id => "JWT",
        };
        object(json!({ "alg": "RS256", "typ": typ, "kid": key.kid }))
    }

    fn access_token_claims(&self, ctx: &TokenContext) -> Object {
        let iss = &ctx.request.issuer_url;
        let sub = ctx
            .user()
            .map_or(ctx.client.id.as_str(), |u| u.sub.as_str());
        let aud = ctx.issuer.config.audience.as_deref().unwrap_or(iss);
        object(json!({
            "iss": iss,
            "sub": sub,
            "aud": aud,
            "client_id": ctx.client.id,
            "scope": ctx.scopes().join(" "),
            "iat": ctx.issued_at,
            "exp": ctx.expires_at,
            "jti": ctx.jti,
        }))
    }

    fn shape_id_token(&self, claims: &mut Object, ctx: &TokenContext) {
        claims.insert("jti".into(), json!(ctx.ids.uuid()));
    }

    /// Django OAuth Toolkit's ID_TOKEN_EXPIRE_SECONDS.
    fn default_id_token_ttl(&self, _issuer: &Issuer, _client: &ClientConfig) -> u64 {
        36000
    }

    /// oauthlib's 30-character token.
    fn refresh_token(&self, ctx: &TokenContext, _exp: u64, _key: &hmac::Key) -> Option<String> {
        Some(ctx.ids.alnum(30))
    }

    fn new_code(&self, ids: &IdSource) -> String {
        ids.alnum(30)
    }

    fn session_cookie(&self) -> &'static str {
        "sessionid"
    }

    /// Django's login form is guarded by the `csrftoken` cookie; a post without a matching
    /// one gets `CsrfViewMiddleware`'s 403 "CSRF verification failed. Request aborted."
    /// (`django/views/csrf.py`).
    fn login_binding(&self) -> LoginBinding {
        LoginBinding {
            cookie: "csrftoken",
            status: 403,
            restart: "CSRF verification failed. Request aborted.",
        }
    }

    /// Django's LOGIN_REDIRECT_URL default.
    fn default_home_path(&self, mount: &str) -> String {
        format!("{mount}/accounts/profile/")
    }

    fn product(&self) -> &'static str {
        "Django OAuth Toolkit"
    }

    /// oauthlib's default: eight characters of its base32 alphabet, no dash.
    fn new_user_code(&self, ids: &IdSource) -> String {
        ids.from(b"0123456789ABCDEFGHIJKLMNOPQRSTUV", 8)
    }

    /// Django's `LoginView` form: `#id_username`, `#id_password`.
    fn login_ids(&self) -> [&'static str; 4] {
        ["login", "id_username", "id_password", "submit"]
    }

    /// `IntrospectTokenView` is a `ClientProtectedScopedResourceView`: client credentials, or a
    /// resource server's token with this scope (`RESOURCE_SERVER_AUTH_TOKEN`).
    fn introspection_scope(&self) -> Option<&'static str> {
        Some("introspection")
    }

    /// Django OAuth Toolkit has no `slow_down` (a to-do in its source).
    fn enforces_poll_interval(&self) -> bool {
        false
    }

    /// oauthlib's default `expires_in`.
    fn default_device_code_ttl(&self) -> u64 {
        1800
    }

    /// The seed's `GET /resource/`.
    fn default_resources(&self, mount: &str) -> Vec<ResourceConfig> {
        vec![ResourceConfig {
            path: format!("{mount}/resource/"),
            scope: None,
            role: None,
        }]
    }

    fn token_response<'a>(&self, t: &'a Issued) -> Members<'a> {
        Members::new()
            .put("access_token", &t.access_token)
            .put("expires_in", t.expires_in)
            .put("token_type", "Bearer")
            .put("scope", t.scopes.join(" "))
            .put("refresh_token", t.refresh_token.as_ref())
            .put("id_token", t.id_token.as_ref())
            .put("issued_token_type", t.issued_token_type)
    }

    fn shape_error(&self, err: &OAuthError, _issuer: &Issuer) -> ErrorReply {
        if err.cause == Cause::UnknownDeviceCode {
            // Django OAuth Toolkit's own answer for a device code it does not know.
            return ErrorReply {
                status: 404,
                www_authenticate: None,
                body: Some(super::error_body("device_not_found", &err.description)),
            };
        }
        // oauthlib's words where clients may read them; elsewhere mockidp's description.
        let reworded = match err.cause {
            // TokenEndpoint.create_token_response: no grant_type falls to the default
            // handler, which finds none.
            Cause::MissingGrantType => Some(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "Missing grant_type: send grant_type=... (the request has none)",
            )),
            // ResourceOwnerPasswordCredentialsGrant: request_validator.validate_user failed
            // (Django's authenticate() also refuses inactive users).
            // oauthlib's DeviceAuthorizationEndpoint: MissingClientIdError and
            // InvalidClientIdError are invalid_request (400), not invalid_client.
            Cause::DeviceMissingClientId => {
                Some(OAuthError::invalid_request("Missing client_id parameter."))
            }
            Cause::DeviceUnknownClient => Some(OAuthError::invalid_request(
                "Invalid client_id parameter value.",
            )),
            Cause::MissingUsername => Some(OAuthError::invalid_request(
                "Request is missing username parameter.",
            )),
            Cause::MissingPassword => Some(OAuthError::invalid_request(
                "Request is missing password parameter.",
            )),
            Cause::WrongPassword | Cause::UnknownUser | Cause::UserDisabled => {
                Some(OAuthError::invalid_grant("Invalid credentials given."))
            }
            _ => None,
        };
        let err = reworded.as_ref().unwrap_or(err);
        let mut reply = super::standard_error(err, "Bearer error=\"invalid_client\"");
        if err.code == ErrorCode::InsufficientScope {
            reply.status = 403; // DOT's scoped views answer 403 Forbidden
        }
        reply
    }

    fn not_found(&self) -> Reply {
        Reply {
            status: 404,
            content_type: "text/html; charset=utf-8",
            body: crate::http::render_page(&NotFoundPage),
        }
    }
}

/// Django's 404 page (`DEBUG = False`), `templates/django/not_found.html`.
#[derive(askama::Template)]
#[template(path = "django/not_found.html")]
struct NotFoundPage;
