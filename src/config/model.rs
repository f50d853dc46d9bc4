//! The fixture model: what a TOML file (or the builder) says the issuers, clients and users are.
//! `fixtures/default.toml` is compiled in, so `mockidp` runs with no file at all.
//!
//! Issuers are configuration, not code: any number of them, each with a dialect, a path,
//! lifetimes, clients and users. Reading them is [`super::load`]'s, checking them
//! [`super::validate`]'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The default fixtures, as shipped in `fixtures/default.toml`.
pub const DEFAULT_FIXTURES: &str = include_str!("../../fixtures/default.toml");

/// The whole configuration of one mockidp server.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Bearer token the admin API (`/_mockidp/...`) requires; none: the admin API is open.
    pub admin_token: Option<String>,
    /// Whether a proxy's `Forwarded` / `X-Forwarded-*` headers may change the scheme, host and
    /// path prefix of the URLs mockidp writes (default true; `--no-forwarded-headers`).
    #[serde(default = "yes")]
    pub trust_forwarded: bool,
    #[serde(default)]
    pub keys: KeysConfig,
    /// Deterministic mode: every generated value (codes, ids, opaque tokens, refresh handles)
    /// derives from this seed and the clock starts frozen at a fixed time (`--seed`).
    pub seed: Option<u64>,
    /// Most namespaces (`POST /_mockidp/namespaces`) alive at once (default 10000).
    pub namespace_limit: Option<usize>,
    /// Seconds after which a namespace nobody used is forgotten (default 3600).
    pub namespace_idle_secs: Option<u64>,
    #[serde(default, rename = "issuer")]
    pub issuers: Vec<IssuerConfig>,
    /// Keycloak realm exports (`kc.sh export`) loaded as Keycloak issuers.
    #[serde(default, rename = "realm_import", skip_serializing)]
    pub realm_imports: Vec<RealmImport>,
    /// Directory that relative key paths are resolved against.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// A Keycloak realm export to load as an issuer.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RealmImport {
    /// The realm-export JSON, relative to the fixture file.
    pub file: PathBuf,
    /// Issuer name (default: the realm name).
    pub name: Option<String>,
    /// Fixed issuer URL, as for any issuer.
    pub public_url: Option<String>,
}

/// Where the signing key comes from. With nothing set, the fixture key compiled into the binary.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// PEM private key (PKCS#8 or PKCS#1), relative to the fixture file.
    pub private_key: Option<PathBuf>,
    /// PEM certificate for that key (`x5c`); made up when absent.
    pub certificate: Option<PathBuf>,
    /// Make a fresh key at start instead (takes about half a second).
    #[serde(default)]
    pub generate: bool,
    /// `private_key`'s PEM text, read when the fixtures are loaded (the engine reads no files).
    #[serde(skip)]
    pub private_key_pem: Option<String>,
    /// `certificate`'s PEM text, read with it.
    #[serde(skip)]
    pub certificate_pem: Option<String>,
}

/// Which product an issuer imitates: an entry of the dialect registry.
pub use crate::dialect::DialectKind;

/// Access tokens as signed JWTs, or as opaque random strings that only this server can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenFormat {
    #[default]
    Jwt,
    /// 30 alphanumeric characters, as stock Django OAuth Toolkit issues them.
    Opaque,
}

/// One issuer: a product dialect at a path with its clients and users.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Short name used in logs, the CLI and the admin API.
    pub name: String,
    pub dialect: DialectKind,
    /// Keycloak realm name; defaults to `name`. Sets the path to `/realms/{realm}`.
    pub realm: Option<String>,
    /// URL path the issuer lives at; each dialect has a default.
    pub path: Option<String>,
    /// Fixed issuer URL (e.g. `https://auth.example.test/realms/x`); by default it follows the
    /// request's `Host` and `X-Forwarded-*` headers.
    pub public_url: Option<String>,
    /// Front-channel URL (what a browser sees, e.g. `http://localhost:8180/realms/x`): the
    /// issuer (`iss`) and the browser endpoints use it, while token, JWKS and userinfo URLs
    /// follow the request, so containers reach them by their own host name (Keycloak's
    /// `hostname` with a dynamic back channel).
    pub frontend_url: Option<String>,
    /// Access token lifetime in seconds; the product's default when absent.
    pub access_token_ttl: Option<u64>,
    /// ID token lifetime in seconds; the product's default when absent.
    pub id_token_ttl: Option<u64>,
    /// Refresh token lifetime in seconds; the product's default when absent.
    pub refresh_token_ttl: Option<u64>,
    /// Authorization code lifetime in seconds (default 60).
    pub code_ttl: Option<u64>,
    /// Device codes' lifetime in seconds (RFC 8628); the product's default when absent.
    pub device_code_ttl: Option<u64>,
    /// Minimum polling interval for device codes in seconds; the product's default when absent.
    pub device_interval: Option<u64>,
    /// How long a browser login (SSO session) lasts, in seconds (default 10 hours).
    pub session_ttl: Option<u64>,
    /// IdentityServer3's `EnableCheckSessionEndpoint` (default true): `check_session_iframe` in
    /// discovery and `session_state` in authorization responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_session: Option<bool>,
    /// Origins allowed to call the token, userinfo, discovery and JWKS endpoints from a browser
    /// (CORS); `["*"]` allows any. Default: the origins of the clients' redirect URIs.
    pub allowed_origins: Option<Vec<String>>,
    /// Absolute path of the page showing who is logged in (Inqom's `/home`); each dialect has
    /// a default.
    pub home_path: Option<String>,
    /// Whether a tester may log in as any username typed on the login page (default true).
    #[serde(default = "yes")]
    pub allow_any_user: bool,
    /// Claims of users typed on the login page who are not in the fixtures.
    #[serde(default)]
    pub default_user_claims: Map<String, Value>,
    #[serde(default)]
    pub token_format: TokenFormat,
    /// `aud` of access tokens where the dialect does not fix it.
    pub audience: Option<String>,
    /// Claims added to every access token of this issuer.
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// External identity providers whose tokens token exchange accepts as `subject_token`.
    #[serde(default, rename = "trusted_issuer")]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    /// Whether tokens of the other issuers of this server are accepted too (default true).
    #[serde(default = "yes")]
    pub trust_hosted_issuers: bool,
    /// Protected resources answering like the generic seed's `GET /resource/`.
    #[serde(default, rename = "resource")]
    pub resources: Vec<ResourceConfig>,
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientConfig>,
    #[serde(default, rename = "user")]
    pub users: Vec<UserConfig>,
    /// Role definitions (Keycloak's realm and client roles); roles that clients, users and
    /// groups hold are defined implicitly.
    #[serde(default, rename = "role")]
    pub roles: Vec<RoleConfig>,
    /// Keycloak groups: members get the group's roles (and its parents').
    #[serde(default, rename = "group")]
    pub groups: Vec<GroupConfig>,
}

/// A role definition: a realm role, or with `client` a role of that client.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    pub name: String,
    /// The client id whose role this is; none for a realm role.
    pub client: Option<String>,
    pub description: Option<String>,
}

/// A Keycloak group: a node of the realm's group tree.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    /// Stable id (default: derived from the issuer and the name).
    pub id: Option<String>,
    pub name: String,
    /// The parent group's id; none for a top-level group.
    pub parent: Option<String>,
    /// Realm roles members get.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Client roles members get, by client id.
    #[serde(default)]
    pub client_roles: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The certificates of a `ca_file` (empty without one).
pub type CaCertificates = std::sync::Arc<[rustls::pki_types::CertificateDer<'static>]>;

/// An external issuer and where its signing keys come from (exactly one of the three).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuerConfig {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// The JWKS itself, inline (`jwks = { keys = [...] }`).
    pub jwks: Option<Value>,
    /// A JWKS file, relative to the fixture file.
    pub jwks_file: Option<PathBuf>,
    /// A JWKS URL (`https://`, or `http://`), fetched when first needed (with timeouts),
    /// cached, and fetched again for a `kid` it lacks.
    pub jwks_url: Option<String>,
    /// A PEM file of the private CA that `jwks_url`'s server certificate chains to (besides
    /// the webpki roots), relative to the fixture file.
    pub ca_file: Option<PathBuf>,
    /// `ca_file`'s certificates, read when the fixtures are loaded.
    #[serde(skip)]
    pub ca_certs: CaCertificates,
}

/// A protected resource: a path that answers with who called it when the token is good.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfig {
    /// Absolute URL path, e.g. `/resource/` or `/api/invoices`.
    pub path: String,
    /// A scope the token must carry (403 `insufficient_scope` otherwise).
    pub scope: Option<String>,
    /// A role the token must carry (realm or client role).
    pub role: Option<String>,
}

/// A registered OAuth client.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub id: String,
    /// Other spellings of the id that also find this client (Inqom's docs use two).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Absent for a public client.
    pub secret: Option<String>,
    /// Shown at start-up and on login pages.
    pub description: Option<String>,
    /// Grant types the client may use, e.g. `client_credentials`; one mockidp does not
    /// implement is refused where the fixture names it (line and column from the parser).
    #[serde(default, deserialize_with = "implemented_grants")]
    pub grants: Vec<String>,
    /// How the client authenticates at the token endpoint (OpenID Connect Registration §2
    /// `token_endpoint_auth_method`); default: its secret (Basic or in the body), or none for a
    /// public client. The JWT methods take the keys below (`private_key_jwt`) or the secret
    /// (`client_secret_jwt`).
    pub token_endpoint_auth_method: Option<ClientAuthMethod>,
    /// `private_key_jwt`: the client's public keys, inline (`jwks = { keys = [...] }`).
    pub jwks: Option<Value>,
    /// `private_key_jwt`: a JWKS file with the client's public keys, relative to the fixture.
    pub jwks_file: Option<PathBuf>,
    /// `private_key_jwt`: a JWKS URL (`https://`, or `http://`) with the client's public keys,
    /// fetched when an assertion needs it (with timeouts), cached, and fetched again for a
    /// `kid` it lacks (key rotation), as Keycloak's "Use JWKS URL" does.
    pub jwks_url: Option<String>,
    /// A PEM file of the private CA that `jwks_url`'s server certificate chains to (besides
    /// the webpki roots), relative to the fixture file.
    pub ca_file: Option<PathBuf>,
    /// `ca_file`'s certificates, read when the fixtures are loaded.
    #[serde(skip)]
    pub ca_certs: CaCertificates,
    /// Scopes the client may ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Scopes granted when none are asked for; all of `scopes` when absent.
    pub default_scopes: Option<Vec<String>>,
    /// Exact redirect URIs; a trailing `*` matches any suffix (Keycloak's wildcard).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where logout may send the browser back to; the redirect URIs when absent.
    pub post_logout_redirect_uris: Option<Vec<String>>,
    /// OpenID Connect Core §3.2 / RFC 6749 §4.2: tokens straight from the authorization
    /// endpoint (`token`, `id_token`, `id_token token`): Keycloak's `implicitFlowEnabled`
    /// (with `authorization_code`, its hybrid responses too), IdentityServer3's
    /// `Flow = Implicit`, Django OAuth Toolkit's `implicit` grant type.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implicit_flow: bool,
    /// OpenID Connect Core §3.3: a code and tokens from the authorization endpoint, the code
    /// redeemed as usual (IdentityServer3's `Flow = Hybrid`, Django OAuth Toolkit's
    /// `openid-hybrid`). Keycloak has no such switch: refused there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hybrid_flow: bool,
    /// Demand PKCE even though the client is confidential (public clients always must).
    #[serde(default)]
    pub require_pkce: bool,
    /// Realm roles (Keycloak `realm_access.roles`, `role` elsewhere).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Client roles by client id (Keycloak `resource_access`).
    #[serde(default)]
    pub client_roles: BTreeMap<String, Vec<String>>,
    /// Claims added to this client's access tokens (after the issuer's).
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// Overrides the issuer's access token lifetime for this client.
    pub access_token_ttl: Option<u64>,
    /// Answer `authorize` for this client with a code for the `login_hint` user (a fixture
    /// user, or any name with `allow_any_user`) instead of showing the login page: code-flow
    /// tests without a browser. mockidp's own switch; no product has it.
    #[serde(default)]
    pub auto_login: bool,
    /// Whether the browser flow asks the user to allow the client's scopes on a consent page
    /// after login: Keycloak's `consentRequired` (default false), IdentityServer3's
    /// `RequireConsent` (default true), the opposite of Django OAuth Toolkit's
    /// `skip_authorization` (default false, so the page shows). Absent: the product's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_required: Option<bool>,
    /// IdentityServer3's `AllowRememberConsent` (default true): the consent page offers
    /// "Remember My Decision". Keycloak always remembers, Django OAuth Toolkit never does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember_consent: Option<bool>,
}

/// A user who can log in at the issuer's pages.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    /// Checked only when set (a user without one logs in with any password).
    pub password: Option<String>,
    /// A disabled user cannot log in (Keycloak "Account disabled"); default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Subject identifier; derived from the username when absent.
    pub sub: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Client roles by client id (Keycloak `resource_access`).
    #[serde(default)]
    pub client_roles: BTreeMap<String, Vec<String>>,
    /// Ids of the groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Keycloak's required actions (`UPDATE_PASSWORD`, `VERIFY_EMAIL`, ...), as recorded.
    #[serde(default)]
    pub required_actions: Vec<String>,
    /// When the user was created (Unix milliseconds, Keycloak's `createdTimestamp`).
    pub created_timestamp: Option<u64>,
    #[serde(default)]
    pub claims: Map<String, Value>,
}

/// The longest lifetime, grace period or clock move accepted (10 years): beyond it, time
/// arithmetic could overflow and no test needs it.
pub const MAX_SECS: u64 = 10 * 365 * 24 * 3600;

/// Grant types the engine implements, in the order discovery lists them.
pub const IMPLEMENTED_GRANTS: &[&str] = &[
    "authorization_code",
    "client_credentials",
    "refresh_token",
    PASSWORD,
    DEVICE_CODE,
    TOKEN_EXCHANGE,
];

/// RFC 6749 §4.2: what tokens issued at the authorization endpoint were granted by (not a
/// token endpoint `grant_type`: a client gets them with [`ClientConfig::implicit_flow`]).
pub const IMPLICIT: &str = "implicit";

/// RFC 6749 §4.3's grant type (resource owner password credentials).
pub const PASSWORD: &str = "password";

/// RFC 8628's grant type.
pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn yes() -> bool {
    true
}

/// RFC 6749 §2.3 / OpenID Connect Core §9: how a client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// The secret in HTTP Basic (or, as every emulated product also takes, in the body).
    ClientSecretBasic,
    /// The secret in the body (or in HTTP Basic).
    ClientSecretPost,
    /// RFC 7523 §2.2: a JWT signed HS256/384/512 with the client secret.
    ClientSecretJwt,
    /// RFC 7523 §2.2: a JWT signed with the client's private key (`jwks` / `jwks_file`).
    PrivateKeyJwt,
    /// A public client: `client_id` only.
    None,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// Whether the client proves itself with a `client_assertion` (RFC 7523 §2.2).
    pub fn is_jwt(self) -> bool {
        matches!(self, Self::ClientSecretJwt | Self::PrivateKeyJwt)
    }
}

/// `grants = [...]` of a fixture: each one must be implemented. Refused here, inside the
/// deserializer, so that the TOML parser's error carries the offending value's line and column.
fn implemented_grants<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Implemented(String);
    impl<'de> Deserialize<'de> for Implemented {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let grant = String::deserialize(d)?;
            match IMPLEMENTED_GRANTS.iter().find(|g| **g == grant) {
                Some(_) => Ok(Self(grant)),
                None => Err(serde::de::Error::custom(unimplemented_grant(&grant))),
            }
        }
    }
    Ok(Vec::<Implemented>::deserialize(d)?
        .into_iter()
        .map(|g| g.0)
        .collect())
}

/// The refusal of a grant mockidp does not implement, with the list of those it does.
pub(super) fn unimplemented_grant(grant: &str) -> String {
    format!(
        "unknown grant {grant:?}: mockidp implements {}",
        IMPLEMENTED_GRANTS.join(", ")
    )
}

/// Builds a fixture struct from a minimal JSON object, so serde's defaults apply exactly as in
/// a TOML file.
pub(super) fn from_minimal<T: serde::de::DeserializeOwned>(v: Value) -> T {
    // The objects passed here always deserialize: they carry every required field.
    serde_json::from_value(v).unwrap_or_else(|e| unreachable!("minimal fixture: {e}"))
}

/// Keycloak's administration realm: its admins manage every realm.
pub const MASTER_REALM: &str = "master";

/// The master realm's role that makes a user an administrator of every realm.
pub const MASTER_ADMIN_ROLE: &str = "admin";

impl Config {
    /// Keycloak's bootstrap admin (`KC_BOOTSTRAP_ADMIN_USERNAME` / `..._PASSWORD`): renames
    /// the master realm's admin user and sets its password, or adds the user.
    pub fn set_master_admin(
        &mut self,
        username: Option<&str>,
        password: Option<&str>,
    ) -> Result<(), Error> {
        if username.is_none() && password.is_none() {
            return Ok(());
        }
        let master = self
            .issuers
            .iter_mut()
            .find(|i| i.is_master_realm())
            .ok_or_else(|| {
                Error::Config(format!(
                    "a bootstrap admin needs a Keycloak issuer with realm {MASTER_REALM:?}"
                ))
            })?;
        let position = master.users.iter().position(UserConfig::is_master_admin);
        let admin = match position {
            Some(i) => &mut master.users[i],
            None => {
                let mut user = UserConfig::new("admin");
                user.roles = vec![MASTER_ADMIN_ROLE.into(), "create-realm".into()];
                master.users.push(user);
                master
                    .users
                    .last_mut()
                    .ok_or_else(|| Error::Config("no admin".into()))?
            }
        };
        if let Some(u) = username {
            admin.username = u.to_string();
        }
        if let Some(p) = password {
            admin.password = Some(p.to_string());
        }
        Ok(())
    }

    /// The username of the master realm's administrator, if the fixtures have one.
    pub fn master_admin(&self) -> Option<&str> {
        self.issuers
            .iter()
            .filter(|i| i.is_master_realm())
            .flat_map(|i| &i.users)
            .find(|u| u.is_master_admin())
            .map(|u| u.username.as_str())
    }
}

impl UserConfig {
    /// Whether this user, in the master realm, administers every realm.
    pub fn is_master_admin(&self) -> bool {
        self.roles.iter().any(|r| r == MASTER_ADMIN_ROLE)
    }
}

impl IssuerConfig {
    /// Whether this is Keycloak's master realm.
    pub fn is_master_realm(&self) -> bool {
        self.dialect == DialectKind::Keycloak && self.realm_name() == MASTER_REALM
    }

    /// An issuer with the product's defaults, no clients and no users.
    pub fn new(name: &str, dialect: DialectKind) -> Self {
        from_minimal(serde_json::json!({ "name": name, "dialect": dialect }))
    }
}

impl ClientConfig {
    /// A confidential client (client credentials) with this secret.
    pub fn confidential(id: &str, secret: &str) -> Self {
        from_minimal(serde_json::json!({
            "id": id, "secret": secret, "grants": ["client_credentials"],
        }))
    }

    /// A public client (authorization code with PKCE) redirecting to `redirect_uri`.
    pub fn public(id: &str, redirect_uri: &str) -> Self {
        from_minimal(serde_json::json!({
            "id": id,
            "grants": ["authorization_code", "refresh_token"],
            "scopes": ["openid", "profile", "email"],
            "redirect_uris": [redirect_uri],
        }))
    }
}

impl UserConfig {
    /// A user with no password (any password is accepted) and no claims.
    pub fn new(username: &str) -> Self {
        from_minimal(serde_json::json!({ "username": username }))
    }
}

impl IssuerConfig {
    /// The URL path the issuer is mounted at, without a trailing slash (`""` for the root).
    pub fn mount_path(&self) -> String {
        if let Some(p) = &self.path {
            return p.trim_end_matches('/').to_string();
        }
        self.dialect.profile().mount_path(self.realm_name())
    }

    /// The Keycloak realm name (the issuer name unless set).
    pub fn realm_name(&self) -> &str {
        self.realm.as_deref().unwrap_or(&self.name)
    }
}

impl ClientConfig {
    pub fn is_public(&self) -> bool {
        self.secret.is_none() && self.auth_method() == ClientAuthMethod::None
    }

    /// The configured authentication method, else what the client's secret implies.
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.token_endpoint_auth_method
            .unwrap_or(match self.secret {
                Some(_) => ClientAuthMethod::ClientSecretBasic,
                None if self.jwks.is_some()
                    || self.jwks_file.is_some()
                    || self.jwks_url.is_some() =>
                {
                    ClientAuthMethod::PrivateKeyJwt
                }
                None => ClientAuthMethod::None,
            })
    }

    /// Whether the client may use `grant`: listed, or a code redeemed by a hybrid client
    /// (IdentityServer3's AllowedFlowsForAuthorizationCodeGrantType, Django OAuth Toolkit's
    /// GRANT_TYPE_MAPPING).
    pub fn allows_grant(&self, grant: &str) -> bool {
        self.lists_grant(grant) || (grant == "authorization_code" && self.hybrid_flow)
    }

    /// Whether the fixture lists `grant` itself.
    pub fn lists_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }
}
