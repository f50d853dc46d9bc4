//! IdentityServer3, as Inqom runs it under `/identity`: `typ` first in the JWT header with `x5t`
//! and `kid`, `aud` = `{issuer}/resources`, `scope` claim as an array, no `scope` in the token
//! response, and every token endpoint error a 400 (even `invalid_client`).
//! Wire facts: `shared/vendors.md` §1 (DefaultTokenService, TokenErrorResult, DiscoveryEndpoint).

use crate::ids::IdSource;
use serde_json::{Value, json};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::profile::{
    ConsentButton, ConsentMemory, ConsentPage, ConsentStyle, Features, Formats, FrontChannel, IdFormat, Lifetimes, PromptConsent, Refusal, ScriptSession, SessionValue, UserCodeFormat,
};
use super::{
    Dialect, Endpoint, LoginBinding, Members, Profile, Reply, TokenKind, Urls,  object,
    rsa_jwk,
};
use crate::config::ClientAuthMethod;
use crate::engine::Issuer;
use crate::engine::authorize::AuthorizeRequest;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{Cause, ErrorCode, ErrorReply, OAuthError};
use crate::jwt::Object;
use crate::keys::SigningKey;

/// The check session iframe's script (OIDC Session Management 1.0 §3.2).
const CHECK_SESSION_SCRIPT: &str = include_str!("../../assets/identityserver/checksession.js");

/// The check session iframe's page (`templates/identityserver/checksession.html`).
#[derive(askama::Template)]
#[template(path = "identityserver/checksession.html")]
struct CheckSessionPage {
    script: &'static str,
}

/// Whether `issuer` has IdentityServer3's check session endpoint (`EnableCheckSessionEndpoint`).
fn check_session(issuer: &Issuer) -> bool {
    issuer.config.check_session.unwrap_or(true)
}

const PROFILE: Profile = Profile {
    name: "identityserver",
    aliases: &["identity-server", "identity_server"],
    product: "IdentityServer",
    // Inqom's mount, and its landing page, which recognises the IdentityServer session.
    default_path: "/identity",
    home_path: "/home",
    routes: &[
        (Endpoint::Discovery, &[super::OIDC_DISCOVERY]),
        (Endpoint::Jwks, &[".well-known/jwks"]),
        (Endpoint::Token, &["connect/token"]),
        (Endpoint::Authorize, &["connect/authorize"]),
        (Endpoint::Login, &["login"]),
        (Endpoint::Userinfo, &["connect/userinfo"]),
        (Endpoint::Logout, &["connect/endsession"]),
        (Endpoint::Introspect, &["connect/introspect"]),
        (Endpoint::Revoke, &["connect/revocation"]),
        (Endpoint::DeviceAuthorization, &["connect/deviceauthorization"]),
        (Endpoint::DeviceVerify, &["device"]),
        (Endpoint::Page, &["connect/checksession"]),
    ],
    lifetimes: Lifetimes {
        // AccessTokenLifetime, IdentityTokenLifetime, `Client.AuthorizationCodeLifetime`;
        // IdentityServer4's DeviceCodeLifetime.
        access_token: 3600,
        id_token: Some(300),
        code: 300,
        device_code: 300,
        ..Lifetimes::COMMON
    },
    // PrivateKeyJwtSecretValidator; it has no client_secret_jwt.
    client_auth_methods: &[
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ],
    // PrivateKeyJwtSecretValidator: `aud` must be `{issuer}/connect/token`.
    client_assertion_audiences: &[Endpoint::Token],
    // 32-hex-digit handles (IdentityModel's CryptoRandom.CreateUniqueId); nine-digit user
    // codes, as IdentityServer4's NumericUserCodeGenerator makes them.
    formats: Formats {
        code: IdFormat::Hex32,
        refresh_token: IdFormat::Hex32,
        user_code: UserCodeFormat {
            alphabet: b"0123456789",
            len: 9,
            dashed: false,
        },
    },
    session_cookie: "idsrv",
    // `SessionCookie.IssueSessionId`: `idsvr.session`, `HttpOnly = false`, scoped to the
    // IdentityServer base path, read by the check session iframe.
    script_session: Some(ScriptSession {
        cookie: "idsvr.session",
        value: SessionValue::Sid,
    }),
    // IdentityServer3 keeps the sign-in request in a `SignInMessage` cookie; a login post
    // without it renders the error page with `MessageIds.NoSignInCookie`
    // (`AuthenticationController`, `Resources/Messages.resx`).
    login_binding: LoginBinding {
        cookie: "SignInMessage",
        status: 400,
        restart: "There is an error determining which application you are signing into. \
                  Return to the application and try again.",
    },
    user_code_param: "userCode",
    // IdentityServer3's `Client.RequireConsent` and `AllowRememberConsent` (both true), its
    // DefaultViewService `consent.html` (checkboxes `scopes`, `RememberConsent`, buttons
    // `button=yes|no`) and the standard scopes' display names (Resources/Scopes.resx). A
    // `prompt=none` that would show the page gets `interaction_required`
    // (AuthorizeInteractionResponseGenerator.ProcessConsentAsync).
    consent: ConsentStyle {
        required_by_default: true,
        memory: ConsentMemory::WhenAsked,
        prompt: PromptConsent::ShowsPage,
        passive_error: ErrorCode::InteractionRequired,
        page: ConsentPage {
            heading: "{client} is requesting your permission",
            intro: "Uncheck the permissions you do not wish to grant.",
            box_id: "",
            form_id: "",
            id_field: "id",
            scope_texts: &[
                ("openid", "Your user identifier"),
                ("profile", "User profile"),
                ("email", "Your email address"),
                ("phone", "Your phone number"),
                ("address", "Your postal address"),
                ("roles", "User roles"),
                ("all_claims", "All user information"),
                ("offline_access", "Offline access"),
            ],
            scope_choice: true,
            required_scopes: &["openid"],
            allow: ConsentButton {
                id: "",
                name: "button",
                value: "yes",
                label: "Yes, Allow",
            },
            deny: ConsentButton {
                id: "",
                name: "button",
                value: "no",
                label: "No, Do Not Allow",
            },
            remember: Some("Remember My Decision"),
        },
    },
    features: Features {
        // Refresh tokens only with `offline_access`. Its JWT access tokens are
        // self-contained: revoking the refresh token leaves them valid until they expire.
        refresh_needs_offline_access: true,
        refresh_revocation_revokes_access_tokens: false,
        ..Features::COMMON
    },
    // Constants.SupportedResponseTypes; AuthorizeRequestValidator's refusals (`ErrorTypes.User`
    // ones on the error page); AuthorizeResponseExtensions.ToNameValueCollection's parameters.
    front_channel: FrontChannel {
        response_types: RESPONSE_TYPES,
        hybrid_switch: true,
        nonce_for_any_token: true,
        missing_nonce: "Nonce required for implicit and hybrid flow with openid scope",
        s_hash: false,
        scope: true,
        // "Invalid flow for client", "Invalid response_mode for flow", "Response type not
        // supported": logged; the page shows the error code.
        code_not_allowed: Refusal::page(ErrorCode::UnauthorizedClient, ""),
        not_allowed: Refusal::page(ErrorCode::UnauthorizedClient, ""),
        query_refused: Refusal::page(ErrorCode::UnsupportedResponseType, ""),
        unsupported: Refusal::page(ErrorCode::UnsupportedResponseType, ""),
    },
    ..Profile::COMMON
};

/// `Constants.SupportedResponseTypes`, a row per flow of its `ResponseTypeToFlowMapping`
/// (AuthorizationCode, Implicit, Hybrid).
#[rustfmt::skip]
const RESPONSE_TYPES: &[&str] = &[
    "code",
    "token", "id_token", "id_token token",
    "code id_token", "code token", "code id_token token",
];

pub struct IdentityServer;

impl Dialect for IdentityServer {
    fn discovery(&self, issuer: &Issuer, u: &Urls) -> Value {
        let mut meta = super::discovery_document(
            self,
            u,
            json!({
                "jwks_uri": u.at(self, Endpoint::Jwks),
                "token_endpoint": u.at(self, Endpoint::Token),
                "scopes_supported": super::scopes_supported(issuer, &[]),
                "claims_supported": ["sub", "email", "email_verified", "name"],
                "grant_types_supported": super::grants_supported(),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                // IdentityServer3 takes private_key_jwt (PrivateKeyJwtSecretValidator) but its
                // discovery does not say so; mockidp does, so clients can find it.
                "token_endpoint_auth_methods_supported":
                    ["client_secret_post", "client_secret_basic", "private_key_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
                "frontchannel_logout_supported": true,
                // IdentityServer3 Constants.SupportedResponseModes, in its order.
                "response_modes_supported": ["form_post", "query", "fragment"],
            }),
        );
        // DiscoveryEndpointController, with EnableCheckSessionEndpoint (on by default).
        if check_session(issuer) {
            meta["check_session_iframe"] = u.at(self, Endpoint::Page).into();
        }
        meta
    }

    /// IdentityServer3 names keys by certificate thumbprint and lists no `alg`.
    fn jwk(&self, key: &SigningKey) -> Value {
        rsa_jwk(
            key,
            &key.x5t,
            json!({ "x5t": key.x5t, "x5c": [key.x5c], "use": "sig" }),
        )
    }

    fn jwt_header(&self, key: &SigningKey, _kind: TokenKind) -> Object {
        object(json!({ "typ": "JWT", "alg": "RS256", "x5t": key.x5t, "kid": key.x5t }))
    }

    fn access_token_claims(&self, ctx: &TokenContext) -> Object {
        let iss = &ctx.request.issuer_url;
        // System.IdentityModel writes a claim that occurs once as a string, repeated as an array.
        let scope = match ctx.scopes() {
            [one] => json!(one),
            many => json!(many),
        };
        object(json!({
            "iss": iss,
            "aud": format!("{}/resources", iss.trim_end_matches('/')),
            "exp": ctx.expires_at,
            "nbf": ctx.issued_at,
            // IdentityServer3 adds jti only with IncludeJwtId; without it two tokens minted in
            // the same second would be identical, which breaks per-token revocation.
            "jti": ctx.jti,
            "client_id": ctx.client.id,
            "scope": scope,
            "sub": ctx.user().map(|u| &u.sub),
            "auth_time": ctx.grant.auth_time,
            "idp": ctx.user().map(|_| "idsrv"),
            "amr": ctx.user().map(|_| json!(["password"])),
        }))
    }

    fn shape_id_token(&self, claims: &mut Object, ctx: &TokenContext) {
        claims.insert("nbf".into(), json!(ctx.issued_at));
        claims.insert("idp".into(), json!("idsrv"));
        claims.insert("amr".into(), json!(["password"]));
    }

    /// `session_state` for OpenID requests, as `AuthorizeResponseGenerator.
    /// GenerateSessionStateValue` makes it (OIDC Session Management 1.0 §4):
    /// base64url(SHA-256(client id + redirect URI's origin + session id + salt)) `.` salt,
    /// the session id being the `idsvr.session` cookie's value.
    fn code_response_extras(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        sid: &str,
        ids: &IdSource,
    ) -> Vec<(String, String)> {
        if !check_session(issuer) || !req.scopes.iter().any(|s| s == "openid") {
            return Vec::new();
        }
        let Some(origin) = crate::config::origin_of(&req.redirect_uri) else {
            return Vec::new();
        };
        let salt = ids.hex32();
        let input = format!("{}{origin}{sid}{salt}", req.client_id);
        let hash = URL_SAFE_NO_PAD.encode(digest(&SHA256, input.as_bytes()));
        vec![("session_state".into(), format!("{hash}.{salt}"))]
    }

    /// The check session iframe (`CheckSessionEndpointController`, PageAssets/checksession.html).
    fn page(&self, rel: &str) -> Option<Reply> {
        (rel.trim_start_matches('/') == "connect/checksession").then(|| Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: crate::http::render_page(&CheckSessionPage {
                script: CHECK_SESSION_SCRIPT,
            }),
        })
    }

    fn token_response<'a>(&self, t: &'a Issued) -> Members<'a> {
        Members::new()
            .put("id_token", t.id_token.as_ref())
            .put("access_token", &t.access_token)
            .put("expires_in", t.expires_in)
            .put("token_type", super::BEARER)
            .put("refresh_token", t.refresh_token.as_ref())
            .put("issued_token_type", t.issued_token_type)
    }

    fn shape_error(&self, err: &OAuthError, _issuer: &Issuer) -> ErrorReply {
        // TokenRequestValidator: "Username or password missing." is invalid_grant.
        let code = match err.cause {
            Cause::MissingUsername => ErrorCode::InvalidGrant,
            _ => err.code,
        };
        ErrorReply {
            status: 400,
            www_authenticate: None,
            body: Some(super::error_body(code.as_str(), &err.description)),
        }
    }

    fn profile(&self) -> &'static Profile {
        &PROFILE
    }
}
