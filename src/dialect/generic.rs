//! A Django OAuth Toolkit server (oauthlib underneath) mounted at `/`: `/token/` (and `/token`,
//! which the seed's token-exchange example uses), `invalid_client` as 401 with
//! `WWW-Authenticate: Bearer error="invalid_client"`, RFC 9068 JWT access tokens by default or
//! oauthlib's 30-character opaque tokens. Wire facts: `shared/vendors.md` §3.

use serde_json::{Value, json};

use super::profile::{Features, FrontChannel, Lifetimes, Refusal, StaticReply};
use super::{
    Dialect, Endpoint, LoginBinding, Members, Profile, TokenKind, Urls,  object,
    rsa_jwk,
};
use crate::engine::Issuer;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{Cause, ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

const PROFILE: Profile = Profile {
    name: "generic",
    product: "Django OAuth Toolkit",
    // At the root; Django's LOGIN_REDIRECT_URL default; the seed's `GET /resource/`.
    default_path: "",
    home_path: "{mount}/accounts/profile/",
    // Django's URLconf: most views with and without the trailing slash.
    routes: &[
        (
            Endpoint::Discovery,
            &[
                super::OIDC_DISCOVERY,
                ".well-known/openid-configuration/",
                super::RFC8414_METADATA,
            ],
        ),
        (Endpoint::Jwks, &[".well-known/jwks.json"]),
        (Endpoint::Token, &["token/", "token"]),
        (Endpoint::Authorize, &["authorize/", "authorize"]),
        (Endpoint::Login, &["accounts/login/"]),
        (Endpoint::Userinfo, &["userinfo/", "userinfo"]),
        (Endpoint::Logout, &["logout/", "logout"]),
        (Endpoint::Introspect, &["introspect/", "introspect"]),
        (Endpoint::Revoke, &["revoke_token/", "revoke_token"]),
        (
            Endpoint::DeviceAuthorization,
            &["device-authorization/", "device-authorization"],
        ),
        (Endpoint::DeviceVerify, &["device/", "device"]),
    ],
    resources: &["resource/"],
    lifetimes: Lifetimes {
        // ACCESS_TOKEN_EXPIRE_SECONDS, ID_TOKEN_EXPIRE_SECONDS; oauthlib's device `expires_in`.
        access_token: 36000,
        id_token: Some(36000),
        device_code: 1800,
        ..Lifetimes::COMMON
    },
    // Codes, refresh tokens and user codes: oauthlib's, as `Profile::COMMON` has them.
    session_cookie: "sessionid",
    // Django's login form is guarded by the `csrftoken` cookie; a post without a matching
    // one gets `CsrfViewMiddleware`'s 403 "CSRF verification failed. Request aborted."
    // (`django/views/csrf.py`).
    login_binding: LoginBinding {
        cookie: "csrftoken",
        status: 403,
        restart: "CSRF verification failed. Request aborted.",
    },
    // Django's `LoginView` form: `#id_username`, `#id_password`.
    login_ids: ["login", "id_username", "id_password", "submit"],
    // Client authentication: `Profile::COMMON`'s; Django OAuth Toolkit 3.4 has no RFC 7523
    // client assertions (its changelog lists them as unreleased).
    // `IntrospectTokenView` is a `ClientProtectedScopedResourceView`: client credentials, or a
    // resource server's token with this scope (`RESOURCE_SERVER_AUTH_TOKEN`).
    introspection_scope: Some("introspection"),
    features: Features {
        // Django OAuth Toolkit has no `slow_down` (a to-do in its source).
        slow_down: false,
        ..Features::COMMON
    },
    // OIDC_RESPONSE_TYPES_SUPPORTED's default; oauthlib's ImplicitGrant / HybridGrant
    // (`Request is missing mandatory nonce parameter.`) and BearerToken's parameters.
    front_channel: FrontChannel {
        response_types: RESPONSE_TYPES,
        hybrid_switch: true,
        nonce_for_any_token: false,
        missing_nonce: "Request is missing mandatory nonce parameter.",
        s_hash: false,
        scope: true,
        // oauthlib's UnauthorizedClientError, which has no description.
        code_not_allowed: Refusal::redirect(ErrorCode::UnauthorizedClient, ""),
        // oauthlib says unauthorized_client in the fragment; mockidp keeps its answer from
        // before implicit flows (README, differences).
        not_allowed: Refusal {
            in_query: true,
            ..Refusal::redirect(
                ErrorCode::UnsupportedResponseType,
                "This client may not use this response_type (its grants lack implicit or hybrid)",
            )
        },
        // oauthlib would put the tokens in the query; mockidp refuses (README, differences).
        query_refused: Refusal::redirect(
            ErrorCode::InvalidRequest,
            "response_mode=query cannot carry tokens (OAuth 2.0 Multiple Response Types §5)",
        ),
        unsupported: Refusal::redirect(ErrorCode::UnsupportedResponseType, ""),
    },
    not_found: StaticReply {
        status: 404,
        content_type: "text/html; charset=utf-8",
        // Django's 404 page (`DEBUG = False`).
        body: include_str!("../../assets/django/not_found.html"),
    },
    ..Profile::COMMON
};

/// `OIDC_RESPONSE_TYPES_SUPPORTED`'s default, a row per oauthlib grant: AuthorizationCodeGrant,
/// ImplicitGrant (OAuth 2.0's, then OpenID Connect's), HybridGrant.
#[rustfmt::skip]
const RESPONSE_TYPES: &[&str] = &[
    "code",
    "token", "id_token", "id_token token",
    "code token", "code id_token", "code id_token token",
];

pub struct Generic;

impl Dialect for Generic {
    fn discovery(&self, issuer: &Issuer, u: &Urls) -> Value {
        super::discovery_document(
            self,
            u,
            json!({
                "token_endpoint": u.at(self, Endpoint::Token),
                "jwks_uri": u.at(self, Endpoint::Jwks),
                "scopes_supported": super::scopes_supported(issuer, &[]),
                "grant_types_supported": super::grants_supported(),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            }),
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

    fn token_response<'a>(&self, t: &'a Issued) -> Members<'a> {
        Members::new()
            .put("access_token", &t.access_token)
            .put("expires_in", t.expires_in)
            .put("token_type", super::BEARER)
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

    fn profile(&self) -> &'static Profile {
        &PROFILE
    }
}
