//! What a product is as data: its routes, defaults, names, switches and wordings. Each product
//! file holds one [`Profile`] constant; engine and HTTP code read it instead of asking the
//! product, so a new product is a new value rather than new code paths.

use crate::config::ClientAuthMethod;
use crate::error::ErrorCode;
use crate::ids::IdSource;

use super::{Endpoint, ExchangeStyle, LoginBinding, Reply};

/// One product, as data.
#[derive(Debug)]
pub struct Profile {
    /// The fixture's `dialect = "..."` name; also what the admin API and metrics show.
    pub name: &'static str,
    /// Other names the fixture may use (`identity-server`).
    pub aliases: &'static [&'static str],
    /// The product's name, shown on pages and in messages.
    pub product: &'static str,
    /// The endpoints it serves and their paths below the issuer's mount (no leading slash);
    /// the first path of each is the one discovery advertises.
    pub routes: &'static [(Endpoint, &'static [&'static str])],
    /// Where an issuer is mounted when the fixture sets no `path`; `{realm}` stands for its
    /// realm name.
    pub default_path: &'static str,
    /// Keycloak before version 17 lived under `/auth`; clients still call that.
    pub accepts_auth_prefix: bool,
    /// The product's page showing who is logged in; `{mount}` stands for the mount path.
    pub home_path: &'static str,
    /// Protected resources served when the fixture configures none, below the mount path.
    pub resources: &'static [&'static str],
    pub lifetimes: Lifetimes,
    /// Scopes any client may ask for without registering them.
    pub always_allowed_scopes: &'static [&'static str],
    /// Whether asked-for scopes are added to the client's defaults instead of replacing them.
    pub scopes_extend_defaults: bool,
    /// How its clients may authenticate at the token endpoint.
    pub client_auth_methods: &'static [ClientAuthMethod],
    /// RFC 7523 §3: what a client assertion's `aud` may name (the issuer itself is
    /// [`Endpoint::IssuerInfo`]); none: the product takes no client assertions.
    pub client_assertion_audiences: &'static [Endpoint],
    /// The scope that lets a bearer token (instead of client credentials) call introspection
    /// (Django OAuth Toolkit's `introspection`).
    pub introspection_scope: Option<&'static str>,
    /// How token exchange behaves.
    pub exchange_style: ExchangeStyle,
    /// Formats of the codes and handles it makes.
    pub formats: Formats,
    /// Name of the SSO session cookie (suffixed with the issuer name, so issuers never share).
    pub session_cookie: &'static str,
    /// A cookie scripts may read telling the product's session iframe which session the
    /// browser holds (Keycloak's `KEYCLOAK_SESSION`, IdentityServer3's `idsvr.session`).
    pub script_session: Option<ScriptSession>,
    /// The login form's browser binding (see [`LoginBinding`]).
    pub login_binding: LoginBinding,
    /// Element ids of the login page (form, username, password, submit button) as the
    /// product's own page names them, so browser tests written against it find their fields.
    pub login_ids: [&'static str; 4],
    /// The query parameter of `verification_uri_complete` that carries the user code.
    pub user_code_param: &'static str,
    /// The consent page and how a decision is remembered.
    pub consent: ConsentStyle,
    /// What a protected endpoint says of a token whose browser session ended (with
    /// `features.tokens_need_session`).
    pub session_ended: &'static str,
    /// `typ` claim values of the tokens it signs.
    pub typ: TypValues,
    pub features: Features,
    /// Its implicit and hybrid flows.
    pub front_channel: FrontChannel,
    /// How the `preferred_username` of a client's service-account user begins (Keycloak's
    /// `service-account-{client}`), telling its tokens from a user's.
    pub service_account_username: Option<&'static str>,
    /// A path under the issuer that serves nothing.
    pub not_found: StaticReply,
    /// A path that looks like this product's but names no configured issuer (Keycloak's
    /// "Realm does not exist"): the path prefix (after the legacy `/auth` where accepted) and
    /// the answer.
    pub unknown_issuer: Option<(&'static str, StaticReply)>,
}

/// Lifetimes in seconds when the fixture sets none.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access_token: u64,
    /// `None`: as long as the access token (Keycloak).
    pub id_token: Option<u64>,
    pub refresh_token: u64,
    /// Refresh tokens of grants with `offline_access`.
    pub offline_refresh_token: u64,
    pub code: u64,
    pub device_code: u64,
}

impl Lifetimes {
    /// Ten minutes for an access token and its ID token, a minute for a code (RFC 6749
    /// §4.1.2 recommends at most ten), thirty days for a refresh token.
    pub const COMMON: Self = Self {
        access_token: 600,
        id_token: None,
        refresh_token: 30 * 24 * 3600,
        offline_refresh_token: 30 * 24 * 3600,
        code: 60,
        device_code: 600,
    };
}

/// The product's switches: each is a behaviour some products have and others lack.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// Whether polling a device code faster than its interval gets `slow_down` (RFC 8628 §3.5).
    pub slow_down: bool,
    /// Whether using a refresh token retires it (IdentityServer3's OneTimeOnly, Django OAuth
    /// Toolkit's ROTATE_REFRESH_TOKEN); otherwise it stays valid until it expires.
    pub refresh_single_use: bool,
    /// Whether refresh tokens are issued only for grants with `offline_access`.
    pub refresh_needs_offline_access: bool,
    /// Whether revoking a refresh token also revokes the access tokens issued with it.
    pub refresh_revocation_revokes_access_tokens: bool,
    /// Whether presenting a used authorization code again revokes the tokens issued from it
    /// (RFC 6749 §4.1.2 "SHOULD").
    pub code_replay_revokes_tokens: bool,
    /// Whether a user's tokens die with their browser session ("Session not active" for
    /// refresh, 401 at userinfo after logout), except for `offline_access`.
    pub tokens_need_session: bool,
    /// Whether the password grant with `openid` returns an ID token.
    pub password_id_token: bool,
    /// Whether userinfo answers a client-credentials token with its service-account user;
    /// otherwise such a token is refused (it is about no user).
    pub userinfo_for_service_accounts: bool,
    /// Whether CORS answers carry `Access-Control-Allow-Credentials: true`, so a page may call
    /// with `credentials: 'include'`.
    pub cors_credentials: bool,
    /// Whether the home page also answers the product's account REST API.
    pub account_rest: bool,
    /// Whether a client may end a session by posting its refresh token to the logout
    /// endpoint (answered 204).
    pub logout_by_refresh_token: bool,
    /// Whether authorization responses, errors included, carry RFC 9207's `iss`.
    pub authorization_response_iss: bool,
}

impl Features {
    /// The RFCs' behaviour where they say SHOULD, and none of the products' own extras.
    pub const COMMON: Self = Self {
        slow_down: true,
        refresh_single_use: true,
        refresh_needs_offline_access: false,
        refresh_revocation_revokes_access_tokens: true,
        code_replay_revokes_tokens: false,
        tokens_need_session: false,
        password_id_token: false,
        userinfo_for_service_accounts: false,
        cors_credentials: false,
        account_rest: false,
        logout_by_refresh_token: false,
        authorization_response_iss: false,
    };
}

/// How a product answers implicit and hybrid requests (OpenID Connect Core §3.2, §3.3), whose
/// tokens come back from the authorization endpoint.
#[derive(Debug, Clone, Copy)]
pub struct FrontChannel {
    /// `response_types_supported`, in the product's order: exactly those it answers.
    pub response_types: &'static [&'static str],
    /// Whether hybrid response types need the client's own hybrid flow switch (`hybrid_flow`:
    /// IdentityServer3's `Flow = Hybrid`, Django OAuth Toolkit's `openid-hybrid`, whose codes
    /// redeem too); otherwise they need `authorization_code` and `implicit_flow` (Keycloak's
    /// standard and implicit flow switches), and a fixture's `hybrid_flow` is refused.
    pub hybrid_switch: bool,
    /// Whether every implicit or hybrid OpenID request needs a `nonce` (IdentityServer3), not
    /// only those asking for an ID token (OpenID Connect Core §3.2.2.1, §3.3.2.11).
    pub nonce_for_any_token: bool,
    /// The refusal of a request without a needed `nonce` (always `invalid_request`).
    pub missing_nonce: &'static str,
    /// Whether front-channel ID tokens carry `s_hash` when there is a `state` (Keycloak, after
    /// the Financial-grade API part 2).
    pub s_hash: bool,
    /// Whether the response carries `scope` (IdentityServer3, oauthlib).
    pub scope: bool,
    /// The answer to a response type with a code (or `none`) the client may not use.
    pub code_not_allowed: Refusal,
    /// The answer to a response type with tokens the client may not use.
    pub not_allowed: Refusal,
    /// The answer to `response_mode=query` with tokens (Multiple Response Types §5: tokens
    /// never go in the query).
    pub query_refused: Refusal,
    /// The answer to a response type the product lacks.
    pub unsupported: Refusal,
}

impl FrontChannel {
    /// Only the authorization code flow (RFC 6749 §4.1).
    pub const CODE_ONLY: Self = Self {
        response_types: &["code"],
        hybrid_switch: false,
        nonce_for_any_token: false,
        missing_nonce: "Missing parameter: nonce",
        s_hash: false,
        scope: false,
        code_not_allowed: Refusal::redirect(
            ErrorCode::UnauthorizedClient,
            "The client may not use the authorization code flow",
        ),
        not_allowed: Refusal::redirect(
            ErrorCode::UnauthorizedClient,
            "The client may not use this response_type",
        ),
        query_refused: Refusal::redirect(
            ErrorCode::InvalidRequest,
            "response_mode=query cannot carry tokens",
        ),
        unsupported: Refusal::redirect(
            ErrorCode::UnsupportedResponseType,
            "Unsupported response_type: only code is supported",
        ),
    };
}

/// An error of the authorization endpoint as a product words and sends it.
#[derive(Debug, Clone, Copy)]
pub struct Refusal {
    pub code: ErrorCode,
    /// Empty: the product sends no `error_description`.
    pub description: &'static str,
    /// Shown on the product's error page instead of sent to the client (IdentityServer3's
    /// `ErrorTypes.User`).
    pub page: bool,
    /// Sent in the query unless `response_mode` asks otherwise, whatever the response type's
    /// default mode.
    pub in_query: bool,
}

impl Refusal {
    /// Sent to the client in the response's mode.
    pub const fn redirect(code: ErrorCode, description: &'static str) -> Self {
        Self {
            code,
            description,
            page: false,
            in_query: false,
        }
    }

    /// Shown on the error page.
    pub const fn page(code: ErrorCode, description: &'static str) -> Self {
        Self {
            page: true,
            ..Self::redirect(code, description)
        }
    }
}

/// `typ` claim values: what marks a token as not an access token, and what the product
/// writes.
#[derive(Debug, Clone, Copy)]
pub struct TypValues {
    /// In access tokens (Keycloak: `Bearer`).
    pub access: Option<&'static str>,
    /// In ID tokens (Keycloak: `ID`).
    pub id: Option<&'static str>,
    /// In refresh tokens, online and offline (Keycloak: `Refresh`, `Offline`).
    pub refresh: Option<&'static str>,
    pub offline: Option<&'static str>,
}

impl TypValues {
    /// No `typ` claims.
    pub const NONE: Self = Self {
        access: None,
        id: None,
        refresh: None,
        offline: None,
    };

    /// Whether `typ` marks a token that is not an access token.
    pub fn is_not_access(&self, typ: &str) -> bool {
        [self.id, self.refresh, self.offline].contains(&Some(typ))
    }
}

/// How random codes and handles look.
#[derive(Debug, Clone, Copy)]
pub enum IdFormat {
    /// Letters and digits (oauthlib's tokens).
    Alnum(usize),
    /// 32 hex digits (IdentityModel's CryptoRandom.CreateUniqueId).
    Hex32,
    /// This many UUIDs joined by dots (Keycloak's authorization code).
    Uuids(usize),
}

impl IdFormat {
    pub fn make(self, ids: &IdSource) -> String {
        match self {
            Self::Alnum(n) => ids.alnum(n),
            Self::Hex32 => ids.hex32(),
            Self::Uuids(n) => (0..n).map(|_| ids.uuid()).collect::<Vec<_>>().join("."),
        }
    }
}

/// RFC 8628 user codes: `len` characters of `alphabet`, split in two by a dash if `dashed`.
#[derive(Debug, Clone, Copy)]
pub struct UserCodeFormat {
    pub alphabet: &'static [u8],
    pub len: usize,
    pub dashed: bool,
}

impl UserCodeFormat {
    pub fn make(self, ids: &IdSource) -> String {
        let code = ids.from(self.alphabet, self.len);
        if self.dashed {
            let (a, b) = code.split_at(self.len / 2);
            format!("{a}-{b}")
        } else {
            code
        }
    }
}

/// Formats of the product's codes and opaque handles.
#[derive(Debug, Clone, Copy)]
pub struct Formats {
    pub code: IdFormat,
    /// Opaque refresh tokens (a product signing them overrides `Dialect::refresh_token`).
    pub refresh_token: IdFormat,
    pub user_code: UserCodeFormat,
}

/// The script-readable session cookie and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct ScriptSession {
    pub cookie: &'static str,
    pub value: SessionValue,
}

/// What the script-readable session cookie holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionValue {
    /// Keycloak's `{realm}/{user id}/{session id}`, each part percent-encoded (a configured
    /// `sub` may hold `/`, `;` or spaces).
    RealmSubSid,
    /// The session id itself (a UUID, cookie-safe as it is).
    Sid,
}

impl SessionValue {
    /// The cookie's value for session `sid` of user `sub` in `realm`.
    pub fn of(self, realm: &str, sub: &str, sid: &str) -> String {
        match self {
            Self::Sid => sid.to_string(),
            Self::RealmSubSid => {
                let part = |s: &str| {
                    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                        .to_string()
                };
                format!("{}/{}/{}", part(realm), part(sub), part(sid))
            }
        }
    }
}

/// How a product asks the user to allow a client (its consent page), and what it remembers.
#[derive(Debug, Clone, Copy)]
pub struct ConsentStyle {
    /// A client's `consent_required` when the fixture leaves it out.
    pub required_by_default: bool,
    pub memory: ConsentMemory,
    /// What `prompt=consent` does.
    pub prompt: PromptConsent,
    /// The error a `prompt=none` request gets when the page would show (OpenID Connect Core
    /// §3.1.2.6 names `consent_required`; Keycloak and IdentityServer3 answer
    /// `interaction_required`).
    pub passive_error: ErrorCode,
    pub page: ConsentPage,
}

/// The consent page's wording, element ids and the fields its form posts, the product's.
#[derive(Debug, Clone, Copy)]
pub struct ConsentPage {
    /// The page's heading; `{client}` stands for the client id.
    pub heading: &'static str,
    /// The line above the list of scopes.
    pub intro: &'static str,
    /// The id of the element around the list and the form (`""`: none).
    pub box_id: &'static str,
    /// The form's id (`""`: none).
    pub form_id: &'static str,
    /// The hidden field carrying the page's id.
    pub id_field: &'static str,
    /// What the list says for a scope (the others show their name); `""` leaves it out.
    pub scope_texts: &'static [(&'static str, &'static str)],
    /// Whether each scope is a checkbox (`scopes`, id `scopes_{name}`) the user may untick,
    /// the required ones disabled (IdentityServer3).
    pub scope_choice: bool,
    /// Scopes always granted with `scope_choice` (IdentityServer3's `Scope.Required`).
    pub required_scopes: &'static [&'static str],
    pub allow: ConsentButton,
    pub deny: ConsentButton,
    /// The "remember" checkbox's label (field `RememberConsent`), with `remember_consent`.
    pub remember: Option<&'static str>,
}

impl ConsentPage {
    /// What the page says for `scope`: the product's words, else its name; `""` where the
    /// page leaves it out.
    pub fn text<'a>(&self, scope: &'a str) -> &'a str {
        self.scope_texts
            .iter()
            .find(|(name, _)| *name == scope)
            .map_or(scope, |(_, text)| *text)
    }

    /// Whether the page lists `scope`.
    pub fn shows(&self, scope: &str) -> bool {
        !self.text(scope).is_empty()
    }
}

/// A consent button: element id (`""`: none), the form field it posts (`""`: none), its value
/// and its label. A deny button with a field of its own counts whatever the value.
#[derive(Debug, Clone, Copy)]
pub struct ConsentButton {
    pub id: &'static str,
    pub name: &'static str,
    pub value: &'static str,
    pub label: &'static str,
}

/// What makes a later authorization skip the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentMemory {
    /// Every Allow is kept per user and client (Keycloak's `UserConsentModel`), logout
    /// included, until the fixtures are reset.
    Always,
    /// An Allow is kept only with "Remember My Decision" ticked, an Allow without it forgets
    /// the earlier one; a request with `offline_access` always asks
    /// (IdentityServer3's `DefaultConsentService`).
    WhenAsked,
    /// Nothing is kept; with `approval_prompt=auto` the page is skipped when the user holds a
    /// live access token of the client covering the scopes (Django OAuth Toolkit's
    /// `AuthorizationView.get`).
    LiveToken,
}

/// What `prompt=consent` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptConsent {
    /// Ignores a remembered decision, for clients that need consent (Keycloak's
    /// `AuthenticationManager.getEffectiveGrantedConsent`).
    IgnoresMemory,
    /// Shows the page, even to a client that needs no consent (IdentityServer3's
    /// `AuthorizeInteractionResponseGenerator.ProcessConsentAsync`).
    ShowsPage,
    /// Nothing (Django OAuth Toolkit reads `approval_prompt` instead).
    Ignored,
}

/// A fixed answer (404 pages and the like).
#[derive(Debug, Clone, Copy)]
pub struct StaticReply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: &'static str,
}

impl StaticReply {
    pub fn reply(&self) -> Reply {
        Reply {
            status: self.status,
            content_type: self.content_type,
            body: self.body.to_string(),
        }
    }
}

impl Profile {
    /// What most products do, and the RFCs' defaults: a product's profile starts from it
    /// (`..Profile::COMMON`) and sets its names, routes and what it does otherwise.
    pub const COMMON: Self = Self {
        name: "",
        aliases: &[],
        product: "",
        routes: &[],
        default_path: "",
        accepts_auth_prefix: false,
        home_path: "",
        resources: &[],
        lifetimes: Lifetimes::COMMON,
        always_allowed_scopes: &[],
        scopes_extend_defaults: false,
        client_auth_methods: &[
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
            ClientAuthMethod::None,
        ],
        client_assertion_audiences: &[],
        introspection_scope: None,
        exchange_style: ExchangeStyle::Delegation,
        // oauthlib's: 30-character codes and tokens, user codes of eight characters of its
        // base32 alphabet, no dash.
        formats: Formats {
            code: IdFormat::Alnum(30),
            refresh_token: IdFormat::Alnum(30),
            user_code: UserCodeFormat {
                alphabet: b"0123456789ABCDEFGHIJKLMNOPQRSTUV",
                len: 8,
                dashed: false,
            },
        },
        session_cookie: "session",
        script_session: None,
        login_binding: LoginBinding {
            cookie: "login",
            status: 400,
            restart: "The login form expired: start again from the application.",
        },
        login_ids: ["login", "username", "password", "submit"],
        user_code_param: "user_code",
        // Django OAuth Toolkit's `oauth2_provider/templates/oauth2_provider/authorize.html`
        // and `AllowForm` (`allow`, a BooleanField): Cancel posts no field. Its application
        // field `skip_authorization` defaults to false, so the page shows.
        consent: ConsentStyle {
            required_by_default: true,
            memory: ConsentMemory::LiveToken,
            prompt: PromptConsent::Ignored,
            // oauthlib's `ConsentRequired` (DOT's validator leaves
            // `validate_silent_authorization` unimplemented).
            passive_error: ErrorCode::ConsentRequired,
            page: ConsentPage {
                heading: "Authorize {client}?",
                intro: "Application requires the following permissions",
                box_id: "",
                form_id: "authorizationForm",
                id_field: "consent_id",
                // oauth2_settings.SCOPES's defaults, and docs/oidc.rst's `openid`.
                scope_texts: &[
                    ("read", "Reading scope"),
                    ("write", "Writing scope"),
                    ("openid", "OpenID Connect scope"),
                ],
                scope_choice: false,
                required_scopes: &[],
                allow: ConsentButton {
                    id: "",
                    name: "allow",
                    value: "Authorize",
                    label: "Authorize",
                },
                deny: ConsentButton {
                    id: "",
                    name: "",
                    value: "Cancel",
                    label: "Cancel",
                },
                remember: None,
            },
        },
        session_ended: "The user's session ended (logout or expiry)",
        typ: TypValues::NONE,
        service_account_username: None,
        features: Features::COMMON,
        front_channel: FrontChannel::CODE_ONLY,
        not_found: StaticReply {
            status: 404,
            content_type: "text/plain; charset=utf-8",
            body: "",
        },
        unknown_issuer: None,
    };

    /// The mount path of an issuer with realm `realm` when the fixture sets none.
    pub fn mount_path(&self, realm: &str) -> String {
        self.default_path.replace("{realm}", realm)
    }

    /// The home page's path for an issuer mounted at `mount`.
    pub fn home_path(&self, mount: &str) -> String {
        self.home_path.replace("{mount}", mount)
    }

    /// Refresh token lifetime for a grant with or without `offline_access`.
    pub fn refresh_token_ttl(&self, offline: bool) -> u64 {
        if offline {
            self.lifetimes.offline_refresh_token
        } else {
            self.lifetimes.refresh_token
        }
    }

    /// Whether a grant of `grant_type` with `openid` returns an ID token. IdentityServer3
    /// (TokenResponseGenerator.ProcessTokenRequestAsync) and oauthlib (no OpenID Connect
    /// password grant) give the password grant none; Keycloak does.
    pub fn issues_id_token(&self, grant_type: &str) -> bool {
        grant_type != crate::config::PASSWORD || self.features.password_id_token
    }

    /// The answer to `path` when it looks like this product's but names no issuer.
    pub fn unknown_issuer(&self, path: &str) -> Option<Reply> {
        let (prefix, reply) = self.unknown_issuer.as_ref()?;
        let path = match path.strip_prefix("/auth") {
            Some(p) if self.accepts_auth_prefix => p,
            _ => path,
        };
        path.starts_with(prefix).then(|| reply.reply())
    }
}
