//! Keycloak (Quarkus distribution, 17+): realms at `/realms/{realm}`, service-account tokens with
//! `realm_access`/`resource_access`, 401 `unauthorized_client` for a wrong secret.
//! Wire facts: `shared/vendors.md` §2 (ClientIdAndSecretAuthenticator, TokenEndpoint).

use crate::ids::IdSource;
use serde_json::{Value, json};

use aws_lc_rs::hmac;

use super::profile::{
    ConsentButton, ConsentMemory, ConsentPage, ConsentStyle, Features, Formats, FrontChannel, IdFormat, Lifetimes, PromptConsent, Refusal, ScriptSession, SessionValue, StaticReply, TypValues, UserCodeFormat,
};
use super::{
    Dialect, Endpoint, ExchangeStyle, LoginBinding, Members, Profile, Reply, TokenKind, Urls,
     object, rsa_jwk,
};
use crate::config::ClientAuthMethod;
use crate::engine::Issuer;
use crate::engine::authorize::AuthorizeRequest;
use crate::engine::issue::{Issued, TokenContext};
use crate::error::{Cause, ErrorCode, ErrorReply, OAuthError};
use crate::ids;
use crate::jwt::{self, Object};
use crate::keys::SigningKey;

/// A path of Keycloak's OpenID Connect protocol (`OIDCLoginProtocolService`), below the realm.
macro_rules! oidc {
    ($rest:literal) => {
        concat!("protocol/openid-connect/", $rest)
    };
}

const PROFILE: Profile = Profile {
    name: "keycloak",
    product: "Keycloak",
    default_path: "/realms/{realm}",
    accepts_auth_prefix: true,
    home_path: "{mount}/account",
    // The realm itself, its OpenID Connect protocol paths, its login actions.
    routes: &[
        (Endpoint::IssuerInfo, &[""]),
        (
            Endpoint::Discovery,
            &[super::OIDC_DISCOVERY, super::RFC8414_METADATA],
        ),
        (Endpoint::Jwks, &[oidc!("certs")]),
        (Endpoint::Token, &[oidc!("token")]),
        (Endpoint::Introspect, &[oidc!("token/introspect")]),
        (Endpoint::Authorize, &[oidc!("auth")]),
        (Endpoint::DeviceAuthorization, &[oidc!("auth/device")]),
        (Endpoint::Userinfo, &[oidc!("userinfo")]),
        (Endpoint::Logout, &[oidc!("logout")]),
        (Endpoint::Revoke, &[oidc!("revoke")]),
        (
            Endpoint::Page,
            &[
                oidc!("3p-cookies/step1.html"),
                oidc!("3p-cookies/step2.html"),
                oidc!("login-status-iframe.html"),
            ],
        ),
        (
            Endpoint::SessionStatusInit,
            &[oidc!("login-status-iframe.html/init")],
        ),
        (Endpoint::Login, &["login-actions/authenticate"]),
        (Endpoint::DeviceVerify, &["device"]),
    ],
    lifetimes: Lifetimes {
        // Access Token Lifespan (the ID token's too); SSO Session Idle (30 minutes), Offline
        // Session Idle (30 days); OAuth 2.0 Device Code Lifespan (10 minutes).
        access_token: 300,
        id_token: None,
        refresh_token: 1800,
        offline_refresh_token: 30 * 24 * 3600,
        device_code: 600,
        ..Lifetimes::COMMON
    },
    always_allowed_scopes: &["openid"],
    scopes_extend_defaults: true,
    client_auth_methods: &[
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::ClientSecretJwt,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ],
    // JWTClientAuthenticator: "Allow both 'issuer' or 'token-endpoint' as audience".
    client_assertion_audiences: &[Endpoint::IssuerInfo, Endpoint::Token],
    exchange_style: ExchangeStyle::SameIssuer,
    // Codes are three UUIDs; user codes `XXXX-XXXX` from consonants (OAuth2DeviceCodeProvider).
    // Refresh tokens are JWTs (see `refresh_token`).
    formats: Formats {
        code: IdFormat::Uuids(3),
        refresh_token: IdFormat::Uuids(1),
        user_code: UserCodeFormat {
            alphabet: b"BCDFGHJKLMNPQRSTVWXZ",
            len: 8,
            dashed: true,
        },
    },
    session_cookie: "KEYCLOAK_SESSION",
    script_session: Some(ScriptSession {
        cookie: "KEYCLOAK_SESSION",
        value: SessionValue::RealmSubSid,
    }),
    // Keycloak sets `AUTH_SESSION_ID` with the login page and, when a form comes back
    // without it, shows `cookieNotFoundMessage` (themes' `messages_en.properties`) with
    // status 400 (`LoginActionsService`, `AuthenticationSessionManager`).
    login_binding: LoginBinding {
        cookie: "AUTH_SESSION_ID",
        status: 400,
        restart: "Cookie not found. Please make sure cookies are enabled in your browser.",
    },
    // Keycloak's login theme: `#kc-form-login`, `#username`, `#password`, `#kc-login`.
    login_ids: ["kc-form-login", "username", "password", "kc-login"],
    // The login theme's `login-oauth-grant.ftl` (`#kc-login` posts `accept`, `#kc-cancel`
    // posts `cancel`, the hidden `code`) and messages_en.properties (oauthGrantTitle,
    // oauthGrantRequest, doYes, doNo, the default client scopes' consent texts; `openid` is
    // no client scope). Consents are kept per user and client (`UserConsentModel`); a
    // `prompt=none` that would show the page gets `interaction_required`
    // (AuthorizationEndpointBase: `Error.PASSIVE_INTERACTION_REQUIRED`).
    consent: ConsentStyle {
        required_by_default: false,
        memory: ConsentMemory::Always,
        prompt: PromptConsent::IgnoresMemory,
        passive_error: ErrorCode::InteractionRequired,
        page: ConsentPage {
            heading: "Grant Access to {client}",
            intro: "Do you grant these access privileges?",
            box_id: "kc-oauth",
            form_id: "",
            id_field: "code",
            scope_texts: &[
                ("openid", ""),
                ("profile", "User profile"),
                ("email", "Email address"),
                ("roles", "User roles"),
                ("offline_access", "Offline Access"),
                ("phone", "Phone number"),
                ("address", "Address"),
                ("organization", "Organization"),
                ("web-origins", ""),
                ("acr", ""),
                ("basic", ""),
            ],
            scope_choice: false,
            required_scopes: &[],
            allow: ConsentButton {
                id: "kc-login",
                name: "accept",
                value: "Yes",
                label: "Yes",
            },
            deny: ConsentButton {
                id: "kc-cancel",
                name: "cancel",
                value: "No",
                label: "No",
            },
            remember: None,
        },
    },
    // UserInfoEndpoint.findValidSession (`Errors.USER_SESSION_NOT_FOUND`).
    session_ended: "User session not found or doesn't have client attached on it",
    typ: TypValues {
        access: Some("Bearer"),
        id: Some("ID"),
        refresh: Some("Refresh"),
        offline: Some("Offline"),
    },
    features: Features {
        // The "Revoke Refresh Token" realm setting is off by default: a refreshed token stays
        // usable (tabs and workers refreshing at once all succeed).
        refresh_single_use: false,
        // Keycloak detaches the client session when a code is used twice.
        code_replay_revokes_tokens: true,
        tokens_need_session: true,
        // ResourceOwnerPasswordCredentialsGrantType: `generateIDToken()` for an OpenID request.
        password_id_token: true,
        // UserInfoEndpoint answers a service account's token with that user.
        userinfo_for_service_accounts: true,
        // Its endpoints build their CORS answer with `Cors.builder().auth()` (token, userinfo,
        // logout, account, ...), and DefaultCors then sends `Access-Control-Allow-Credentials`.
        cors_credentials: true,
        // AccountRestService behind `/realms/{realm}/account` (keycloak-js `loadUserProfile()`).
        account_rest: true,
        logout_by_refresh_token: true,
        // Its discovery says `authorization_response_iss_parameter_supported`.
        authorization_response_iss: true,
        ..Features::COMMON
    },
    not_found: StaticReply {
        status: 404,
        content_type: "application/json",
        body: r#"{"error":"Unable to find matching target resource method","error_description":"For more on this error consult the server log."}"#,
    },
    unknown_issuer: Some((
        "/realms/",
        StaticReply {
            status: 404,
            content_type: "application/json",
            body: r#"{"error":"Realm does not exist"}"#,
        },
    )),
    service_account_username: Some(SERVICE_ACCOUNT),
    // OIDCWellKnownProvider's list; AuthorizationEndpointChecker's refusals (checkResponseType,
    // checkOIDCParams); OIDCLoginProtocol.authenticated's parameters (`state`, `session_state`,
    // `code`, `id_token`, `access_token`, `token_type`, `expires_in`) and hashes.
    front_channel: FrontChannel {
        response_types: &[
            "code",
            "none",
            "id_token",
            "token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token",
        ],
        hybrid_switch: false,
        nonce_for_any_token: false,
        missing_nonce: "Missing parameter: nonce",
        s_hash: true,
        scope: false,
        code_not_allowed: Refusal::redirect(
            ErrorCode::UnauthorizedClient,
            "Client is not allowed to initiate browser login with given response_type. \
             Standard flow is disabled for the client.",
        ),
        not_allowed: Refusal::redirect(
            ErrorCode::UnauthorizedClient,
            "Client is not allowed to initiate browser login with given response_type. \
             Implicit flow is disabled for the client.",
        ),
        query_refused: Refusal::redirect(
            ErrorCode::InvalidRequest,
            "Response_mode 'query' not allowed for implicit or hybrid flow",
        ),
        unsupported: Refusal::redirect(ErrorCode::UnsupportedResponseType, ""),
    },
    ..Profile::COMMON
};

/// How a client's service-account user's name begins.
const SERVICE_ACCOUNT: &str = "service-account-";

const INVALID_CLIENT: &str = "Invalid client or Invalid client credentials";

/// Keycloak 26's access-token `jti`: `<session><token type><grant>:<id>`, a 6-character prefix
/// (`DefaultTokenContextEncoderProvider.encodeTokenId`; `AccessTokenContext` and each grant
/// type factory's shortcut). Its decoder throws on any other length, and token exchange decodes
/// the subject token's `jti`, so every access token carries a valid one.
fn access_token_id(ctx: &TokenContext) -> String {
    // Client credentials run in a transient session; offline_access makes an offline one.
    let session = if ctx.user().is_none() {
        "tr"
    } else if ctx.grant.has_scope("offline_access") {
        "of"
    } else {
        "on"
    };
    let grant = match ctx.grant_type {
        "client_credentials" => "cc",
        "refresh_token" => "rt",
        crate::config::PASSWORD => "ro",
        crate::config::DEVICE_CODE => "dg",
        crate::config::TOKEN_EXCHANGE => "te",
        // authorization_code, and minted tokens: a user's as if from a browser login.
        _ if ctx.user().is_some() => "ac",
        _ => "cc",
    };
    // "rt": a regular token (lightweight ones are "lt").
    format!("{session}rt{grant}:{}", ctx.jti)
}

pub struct Keycloak;

impl Dialect for Keycloak {
    fn discovery(&self, issuer: &Issuer, u: &Urls) -> Value {
        super::discovery_document(
            self,
            u,
            json!({
                "authorization_endpoint": u.at(self, Endpoint::Authorize),
                "token_endpoint": u.at(self, Endpoint::Token),
                "jwks_uri": u.at(self, Endpoint::Jwks),
                "grant_types_supported": super::grants_supported(),
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                // Keycloak's order; its tls_client_auth is not emulated.
                "token_endpoint_auth_methods_supported":
                    ["private_key_jwt", "client_secret_basic", "client_secret_post", "client_secret_jwt"],
                "token_endpoint_auth_signing_alg_values_supported": super::assertion_algs(true),
                "scopes_supported": super::scopes_supported(issuer, &["openid"]),
                "claims_supported": ["aud", "sub", "iss", "auth_time", "name", "given_name",
                    "family_name", "preferred_username", "email", "acr", "azp"],
                "mtls_endpoint_aliases": {
                    "token_endpoint": u.at(self, Endpoint::Token),
                },
                "authorization_response_iss_parameter_supported": true,
                // Keycloak's OIDCWellKnownProvider lists these and its JARM modes (`*.jwt`),
                // which mockidp does not sign.
                "response_modes_supported": ["query", "fragment", "form_post"],
                "check_session_iframe":
                    format!("{}/protocol/openid-connect/login-status-iframe.html", u.front),
            }),
        )
    }

    fn jwk(&self, key: &SigningKey) -> Value {
        rsa_jwk(
            key,
            &key.kid,
            json!({
                "alg": "RS256",
                "use": "sig",
                "x5c": [key.x5c],
                "x5t": key.x5t,
                "x5t#S256": key.x5t_s256,
            }),
        )
    }

    fn jwt_header(&self, key: &SigningKey, _kind: TokenKind) -> Object {
        object(json!({ "alg": "RS256", "typ": "JWT", "kid": key.kid }))
    }

    fn access_token_claims(&self, ctx: &TokenContext) -> Object {
        let realm = ctx.issuer.config.realm_name();
        let client = ctx.client;
        let user = ctx.user();
        let own_roles = user.map_or(&client.roles, |u| &u.roles);
        let mut realm_roles: Vec<Value> = Vec::with_capacity(3 + own_roles.len());
        realm_roles.push(format!("default-roles-{}", realm.to_lowercase()).into());
        realm_roles.push("offline_access".into());
        realm_roles.push("uma_authorization".into());
        realm_roles.extend(own_roles.iter().map(|r| Value::from(r.as_str())));
        let mut resource_access = Object::with_capacity(client.client_roles.len() + 1);
        for (id, roles) in &client.client_roles {
            resource_access.insert(id.clone(), json!({ "roles": roles }));
        }
        // A user's own client role mappings (admin REST API, groups) come on top.
        for (id, roles) in user.map(|u| &u.client_roles).into_iter().flatten() {
            if !roles.is_empty() {
                resource_access.insert(id.clone(), json!({ "roles": roles }));
            }
        }
        resource_access.insert(
            "account".into(),
            json!({ "roles": ["manage-account", "manage-account-links", "view-profile"] }),
        );
        let origins: Vec<Value> = client
            .redirect_uris
            .iter()
            .filter_map(|u| crate::config::origin_of(u))
            .map(Value::from)
            .collect();
        let (sub, username) = match user {
            Some(u) => (u.sub.clone(), u.username.to_lowercase()),
            None => (
                ids::stable_uuid(&format!("{realm}/service-account/{}", client.id)),
                format!("{SERVICE_ACCOUNT}{}", client.id.to_lowercase()),
            ),
        };
        // Built member by member rather than through `json!`: this runs for every token, and
        // the map is sized once with no null members to strip afterwards.
        let service_account = user.is_none();
        let mut claims = Object::with_capacity(24);
        let mut put = |name: &str, value: Value| {
            if !value.is_null() {
                claims.insert(name.into(), value);
            }
        };
        put("exp", ctx.expires_at.into());
        put("iat", ctx.issued_at.into());
        put("auth_time", ctx.grant.auth_time.into());
        put("jti", access_token_id(ctx).into());
        put("iss", ctx.request.issuer_url.as_str().into());
        put("aud", "account".into());
        put("sub", sub.into());
        put("typ", PROFILE.typ.access.into());
        put("azp", client.id.as_str().into());
        put("sid", ctx.grant.sid.as_deref().into());
        put("acr", "1".into());
        if !origins.is_empty() {
            put("allowed-origins", Value::Array(origins));
        }
        let mut realm_access = Object::with_capacity(1);
        realm_access.insert("roles".into(), Value::Array(realm_roles));
        put("realm_access", Value::Object(realm_access));
        put("resource_access", Value::Object(resource_access));
        put("scope", ctx.scopes().join(" ").into());
        put("email_verified", false.into());
        if service_account {
            put("clientHost", ctx.request.client_addr.as_str().into());
        }
        put("preferred_username", username.into());
        if service_account {
            put("clientAddress", ctx.request.client_addr.as_str().into());
            put("client_id", client.id.as_str().into());
        }
        claims.extend(ctx.user_claims());
        claims
    }

    fn shape_id_token(&self, claims: &mut Object, ctx: &TokenContext) {
        claims.insert("jti".into(), json!(ctx.ids.uuid()));
        claims.insert("typ".into(), json!(PROFILE.typ.id));
        claims.insert("azp".into(), json!(ctx.client.id));
        claims.insert("acr".into(), json!("1"));
    }

    /// A JWT signed HS512 with the realm's HMAC key (clients cannot verify it, as in Keycloak);
    /// `typ` is `Offline` when `offline_access` was granted.
    fn refresh_token(&self, ctx: &TokenContext, exp: u64, key: &hmac::Key) -> Option<String> {
        let offline = ctx.grant.has_scope("offline_access");
        let claims = object(json!({
            "exp": if offline { Value::Null } else { json!(exp) },
            "iat": ctx.issued_at,
            "jti": ctx.ids.uuid(),
            "iss": ctx.request.issuer_url,
            "aud": ctx.request.issuer_url,
            "sub": ctx.user().map(|u| &u.sub),
            "typ": if offline { PROFILE.typ.offline } else { PROFILE.typ.refresh },
            "azp": ctx.client.id,
            "sid": ctx.grant.sid,
            "scope": ctx.scopes().join(" "),
        }));
        let header = object(json!({ "alg": "HS512", "typ": "JWT", "kid": "mockidp-hmac" }));
        jwt::sign_hs512(&header, &claims, key)
    }

    fn code_response_extras(
        &self,
        _issuer: &Issuer,
        _req: &AuthorizeRequest,
        sid: &str,
        _ids: &IdSource,
    ) -> Vec<(String, String)> {
        vec![("session_state".into(), sid.into())]
    }

    fn token_response<'a>(&self, t: &'a Issued) -> Members<'a> {
        Members::new()
            .put("access_token", &t.access_token)
            .put("expires_in", t.expires_in)
            .put("refresh_expires_in", t.refresh_expires_in.unwrap_or(0))
            .put("refresh_token", t.refresh_token.as_ref())
            .put("token_type", super::BEARER)
            .put("id_token", t.id_token.as_ref())
            .put("not-before-policy", 0)
            .put("session_state", t.session_state.as_ref())
            .put("scope", t.scopes.join(" "))
            .put("issued_token_type", t.issued_token_type)
    }

    fn shape_error(&self, err: &OAuthError, issuer: &Issuer) -> ErrorReply {
        let challenge = format!("Basic realm=\"{}\"", issuer.config.realm_name());
        let reply = |status: u16, code: &str, description: &str| ErrorReply {
            status,
            www_authenticate: (status == 401).then(|| challenge.clone()),
            body: Some(super::error_body(code, description)),
        };
        let bare = |status: u16, code: &str, description: &str| ErrorReply {
            status,
            www_authenticate: None,
            body: Some(super::error_body(code, description)),
        };
        match err.cause {
            Cause::UnknownClient | Cause::DeviceUnknownClient => {
                reply(401, "invalid_client", INVALID_CLIENT)
            }
            Cause::BadClientSecret => reply(401, "unauthorized_client", INVALID_CLIENT),
            Cause::MissingClientId | Cause::DeviceMissingClientId => {
                reply(400, "invalid_client", "Missing client_id parameter")
            }
            Cause::UnsupportedAuthScheme => ErrorReply {
                status: 401,
                www_authenticate: Some(challenge),
                body: None,
            },
            Cause::UnsupportedGrantType => {
                reply(400, "unsupported_grant_type", "Unsupported grant_type")
            }
            Cause::PublicClientCredentials => reply(
                401,
                "unauthorized_client",
                "Public client not allowed to retrieve service account",
            ),
            Cause::ClientCredentialsNotAllowed => reply(
                401,
                "unauthorized_client",
                "Client not enabled to retrieve service account",
            ),
            // ResourceOwnerPasswordCredentialsGrantType, ValidateUsername, ValidatePassword:
            // a wrong password is 401, an unknown or disabled user 400 (both no challenge).
            Cause::PasswordNotAllowed => reply(
                400,
                "unauthorized_client",
                "Client not allowed for direct access grants",
            ),
            Cause::MissingUsername => bare(401, "invalid_request", "Missing parameter: username"),
            // ValidatePassword checks whatever came, an absent password included.
            Cause::WrongPassword | Cause::MissingPassword => {
                bare(401, "invalid_grant", "Invalid user credentials")
            }
            Cause::UnknownUser => reply(400, "invalid_grant", "Invalid user credentials"),
            Cause::UserDisabled => reply(400, "invalid_grant", "Account disabled"),
            // RefreshTokenGrantType / TokenManager: python-keycloak logs in again on these words.
            Cause::RefreshTokenExpired => reply(400, "invalid_grant", "Token is not active"),
            Cause::SessionNotActive => reply(400, "invalid_grant", "Session not active"),
            // AbstractJWTClientValidator.failure: 400 invalid_client, its own description.
            Cause::BadClientAssertion => reply(400, "invalid_client", &err.description),
            Cause::MissingGrantType
            | Cause::GrantNotAllowed
            | Cause::UnknownDeviceCode
            | Cause::Other => super::standard_error(err, &challenge),
        }
    }

    /// `GET /realms/{realm}`: what python-keycloak's `public_key()` and older adapters read.
    fn issuer_info(&self, issuer: &Issuer, urls: &Urls, key: &SigningKey) -> Option<Value> {
        Some(json!({
            "realm": issuer.config.realm_name(),
            "public_key": key.public_key_base64()?,
            "token-service": format!("{}/protocol/openid-connect", urls.issuer),
            "account-service": format!("{}/account", urls.issuer),
            "tokens-not-before": 0,
        }))
    }

    /// keycloak-js's third-party cookie check (`init()` waits for its message): step 1 sets a
    /// cookie and moves to step 2, which tells the parent window whether it came back. And its
    /// session status iframe, which `updateToken()` waits on: it answers `unchanged` while the
    /// browser's session is the token's (`sid`), `changed` once it is not, `error` for a client
    /// or origin the realm does not know.
    fn page(&self, rel: &str) -> Option<Reply> {
        let script = match rel.trim_start_matches('/') {
            "protocol/openid-connect/3p-cookies/step1.html" => STEP1_SCRIPT,
            "protocol/openid-connect/3p-cookies/step2.html" => STEP2_SCRIPT,
            "protocol/openid-connect/login-status-iframe.html" => STATUS_IFRAME_SCRIPT,
            _ => return None,
        };
        Some(Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: crate::http::render_page(&ScriptPage { script }),
        })
    }


    fn profile(&self) -> &'static Profile {
        &PROFILE
    }
}

/// keycloak-js's iframes: a page that is only its script (`templates/keycloak/script_page.html`).
#[derive(askama::Template)]
#[template(path = "keycloak/script_page.html")]
struct ScriptPage {
    script: &'static str,
}

const STATUS_IFRAME_SCRIPT: &str = include_str!("../../assets/keycloak/login-status-iframe.js");
const STEP1_SCRIPT: &str = include_str!("../../assets/keycloak/3p-cookies-step1.js");
const STEP2_SCRIPT: &str = include_str!("../../assets/keycloak/3p-cookies-step2.js");
