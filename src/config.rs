//! The fixture model: what a TOML file (or the builder) says the issuers, clients and users are.
//! `fixtures/default.toml` is compiled in, so `mockidp` runs with no file at all.
//!
//! Issuers are configuration, not code: any number of them, each with a dialect, a path,
//! lifetimes, clients and users. Validation happens once, here, with messages that name the
//! offending issuer and client.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;

/// The default fixtures, as shipped in `fixtures/default.toml`.
pub const DEFAULT_FIXTURES: &str = include_str!("../fixtures/default.toml");

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
fn unimplemented_grant(grant: &str) -> String {
    format!(
        "unknown grant {grant:?}: mockidp implements {}",
        IMPLEMENTED_GRANTS.join(", ")
    )
}

impl Config {
    /// Parses TOML fixtures; errors carry the line and column.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        Self::from_toml_in(text, None)
    }

    /// Parses TOML fixtures whose relative paths (keys, realm imports) are relative to `dir`.
    fn from_toml_in(text: &str, dir: Option<&Path>) -> Result<Self, Error> {
        let config: Config = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.loaded_from(dir)
    }

    /// Fixtures as a JSON document (the TOML file's structure: `issuer` is the list of issuers).
    pub fn from_json(json: serde_json::Value) -> Result<Self, Error> {
        let config: Config = serde_json::from_value(json)
            .map_err(|e| Error::Config(format!("invalid fixtures: {e}")))?;
        config.loaded_from(None)
    }

    /// Parsed fixtures made whole: files they name read (relative to `dir`), realm imports
    /// turned into issuers, everything checked.
    fn loaded_from(self, dir: Option<&Path>) -> Result<Self, Error> {
        let mut config = self;
        config.base_dir = dir.map(Path::to_path_buf);
        config.read_client_jwks_files()?;
        for import in std::mem::take(&mut config.realm_imports) {
            let file = config.resolve(&import.file);
            let json = std::fs::read_to_string(&file)
                .map_err(|e| Error::Config(format!("cannot read {}: {e}", file.display())))?;
            let mut issuer = crate::realm_import::issuer_from_realm_export(&json)
                .map_err(|e| Error::Config(format!("{}: {e}", file.display())))?;
            if let Some(name) = import.name {
                issuer.name = name;
            }
            issuer.public_url = import.public_url.or(issuer.public_url);
            config.issuers.push(issuer);
        }
        config.validate()?;
        Ok(config)
    }

    /// Reads each client's `jwks_file` into its `jwks`, so that issuers built later (also by
    /// the admin API) need no file access, and resolves its `ca_file` against the fixture.
    fn read_client_jwks_files(&mut self) -> Result<(), Error> {
        let base = self.base_dir.clone();
        for issuer in &mut self.issuers {
            for client in &mut issuer.clients {
                if let (Some(dir), Some(ca)) = (&base, &client.ca_file)
                    && ca.is_relative()
                {
                    client.ca_file = Some(dir.join(ca));
                }
                let Some(file) = client.jwks_file.take() else {
                    continue;
                };
                let bad = |why: String| {
                    Error::Config(format!(
                        "issuer {:?}, client {:?}: {why}",
                        issuer.name, client.id
                    ))
                };
                if client.jwks.is_some() {
                    return Err(bad("set jwks or jwks_file, not both".into()));
                }
                let path = match &base {
                    Some(dir) if file.is_relative() => dir.join(&file),
                    _ => file.clone(),
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| bad(format!("cannot read jwks_file {}: {e}", path.display())))?;
                let jwks = serde_json::from_str(&text)
                    .map_err(|e| bad(format!("jwks_file {} is not JSON: {e}", path.display())))?;
                client.jwks = Some(jwks);
            }
        }
        Ok(())
    }

    /// The compiled-in default fixtures.
    pub fn default_fixtures() -> Result<Self, Error> {
        Self::from_toml(DEFAULT_FIXTURES)
    }

    /// Reads a fixture file; relative key paths are resolved against its directory.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_in(&text, path.parent())
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Resolves a path from the fixture file against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        match &self.base_dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        }
    }

    /// Checks a configuration built in code (files are checked as they load).
    pub fn check(&self) -> Result<(), Error> {
        self.validate()
    }

    fn validate(&self) -> Result<(), Error> {
        if self.issuers.is_empty() {
            return Err(Error::Config("no [[issuer]] is configured".into()));
        }
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        for issuer in &self.issuers {
            let name = &issuer.name;
            if name.is_empty() || !names.insert(name.as_str()) {
                return Err(Error::Config(format!(
                    "issuer name {name:?} is empty or used twice"
                )));
            }
            if !paths.insert(issuer.mount_path()) {
                return Err(Error::Config(format!(
                    "issuer {name:?}: path {:?} is used by another issuer",
                    issuer.mount_path()
                )));
            }
            issuer.validate().map_err(Error::Config)?;
        }
        Ok(())
    }
}

/// Builds a fixture struct from a minimal JSON object, so serde's defaults apply exactly as in
/// a TOML file.
fn from_minimal<T: serde::de::DeserializeOwned>(v: Value) -> T {
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

/// `mockidp check`: validates a fixture file. The summary on success; on failure the message,
/// prefixed with `FILE:LINE:` where the culprit can be found in the text.
pub fn check_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    match Config::from_toml_in(&text, path.parent()) {
        Ok(c) => {
            let clients: usize = c.issuers.iter().map(|i| i.clients.len()).sum();
            let users: usize = c.issuers.iter().map(|i| i.users.len()).sum();
            Ok(format!(
                "{}: OK ({} issuers, {clients} clients, {users} users)",
                path.display(),
                c.issuers.len()
            ))
        }
        Err(e) => {
            let msg = match e {
                Error::Config(m) => m,
                other => other.to_string(),
            };
            // Syntax errors, unknown keys and refused values (grants, auth methods): the
            // parser's own span. Checks after parsing quote the culprit, found in the text.
            let line = if let Some((line, column)) = parse_error_position(&text) {
                return Err(format!("{}:{line}:{column}: {msg}", path.display()));
            } else if msg.contains(" line ") {
                None
            } else {
                // The most specific culprit is quoted last ("issuer "a", client "c": ... "x"").
                let quoted: Vec<&str> = msg.split('"').skip(1).step_by(2).collect();
                quoted
                    .into_iter()
                    .rev()
                    .filter(|q| !q.is_empty())
                    .find_map(|q| {
                        let quoted = format!("\"{q}\"");
                        text.lines().position(|l| l.contains(&quoted))
                    })
            };
            Err(match line {
                Some(n) => format!("{}:{}: {msg}", path.display(), n + 1),
                None => format!("{}: {msg}", path.display()),
            })
        }
    }
}

/// Where the TOML parser (and the deserializers it drives) refused `text`, as 1-based line and
/// column, from the error's byte span.
fn parse_error_position(text: &str) -> Option<(usize, usize)> {
    let start = toml::from_str::<Config>(text).err()?.span()?.start;
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

impl IssuerConfig {
    /// Checks one issuer on its own (the admin API calls this after a runtime change).
    pub fn validate(&self) -> Result<(), String> {
        let fail = |msg: String| Err(msg);
        let issuer = self;
        let name = &self.name;
        let path = issuer.mount_path();
        if !path.is_empty() && (!path.starts_with('/') || path.ends_with('/')) {
            return fail(format!(
                "issuer {name:?}: path {path:?} must start with '/' and not end with one"
            ));
        }
        for (what, url) in [
            ("public_url", &issuer.public_url),
            ("frontend_url", &issuer.frontend_url),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return fail(format!(
                    "issuer {name:?}: {what} {url:?} must start with http:// or https://"
                ));
            }
        }
        let lifetimes = [
            ("access_token_ttl", issuer.access_token_ttl),
            ("id_token_ttl", issuer.id_token_ttl),
            ("refresh_token_ttl", issuer.refresh_token_ttl),
            ("code_ttl", issuer.code_ttl),
            ("session_ttl", issuer.session_ttl),
            ("device_code_ttl", issuer.device_code_ttl),
            ("device_interval", issuer.device_interval),
        ];
        let clients = issuer
            .clients
            .iter()
            .map(|c| ("a client's access_token_ttl", c.access_token_ttl));
        if let Some((what, _)) = lifetimes
            .into_iter()
            .chain(clients)
            .find(|(_, v)| v.is_some_and(|v| v > MAX_SECS))
        {
            return fail(format!(
                "issuer {name:?}: {what} is over {MAX_SECS} seconds (10 years)"
            ));
        }
        let mut ids = HashSet::new();
        for client in &issuer.clients {
            for id in std::iter::once(&client.id).chain(&client.aliases) {
                if id.is_empty() || !ids.insert(id.as_str()) {
                    return fail(format!(
                        "issuer {name:?}: client id {id:?} is empty or used twice"
                    ));
                }
            }
            if let Some(g) = client
                .grants
                .iter()
                .find(|g| !IMPLEMENTED_GRANTS.contains(&g.as_str()))
            {
                return fail(format!(
                    "issuer {name:?}, client {:?}: {}",
                    client.id,
                    unimplemented_grant(g)
                ));
            }
            client_auth_valid(self.dialect, client)
                .map_err(|why| format!("issuer {name:?}, client {:?}: {why}", client.id))?;
            if let Some(s) = client
                .default_scopes
                .iter()
                .flatten()
                .find(|s| !client.scopes.contains(s))
            {
                return fail(format!(
                    "issuer {name:?}, client {:?}: default scope {s:?} is not in its scopes",
                    client.id
                ));
            }
            let uris = client
                .redirect_uris
                .iter()
                .chain(client.post_logout_redirect_uris.iter().flatten());
            if let Some((uri, why)) = uris
                .into_iter()
                .find_map(|u| redirect_uri_refusal(u).map(|why| (u, why)))
            {
                return fail(format!(
                    "issuer {name:?}, client {:?}: redirect URI {:?} {why}",
                    client.id,
                    crate::error::clipped(uri, 200)
                ));
            }
        }
        for t in &issuer.trusted_issuers {
            let sources = [
                t.jwks.is_some(),
                t.jwks_file.is_some(),
                t.jwks_url.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() != 1 {
                return fail(format!(
                    "issuer {name:?}: trusted issuer {:?} needs exactly one of jwks, jwks_file, jwks_url",
                    t.issuer
                ));
            }
            if t.ca_file.is_some() && t.jwks_url.is_none() {
                return fail(format!(
                    "issuer {name:?}: trusted issuer {:?}: ca_file is only used with jwks_url",
                    t.issuer
                ));
            }
        }
        for r in &issuer.resources {
            if !r.path.starts_with('/') {
                return fail(format!(
                    "issuer {name:?}: resource path {:?} must start with '/'",
                    r.path
                ));
            }
        }
        let mut usernames = HashSet::new();
        for user in &issuer.users {
            if user.username.is_empty() || !usernames.insert(user.username.as_str()) {
                return fail(format!(
                    "issuer {name:?}: username {:?} is empty or used twice",
                    user.username
                ));
            }
        }
        Ok(())
    }

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

    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }

    /// Whether `uri` is one of the registered redirect URIs (exact, or a `*` prefix pattern).
    pub fn redirect_uri_registered(&self, uri: &str) -> bool {
        uri_registered(&self.redirect_uris, uri)
    }

    /// Whether logout may redirect to `uri`.
    pub fn post_logout_uri_registered(&self, uri: &str) -> bool {
        uri_registered(
            self.post_logout_redirect_uris
                .as_ref()
                .unwrap_or(&self.redirect_uris),
            uri,
        )
    }
}

/// The client's authentication method against what it has (secret, keys) and what its
/// product offers: Django OAuth Toolkit 3.4 has no RFC 7523 client authentication (its
/// changelog lists it as unreleased), Keycloak and IdentityServer3 do.
fn client_auth_valid(dialect: DialectKind, client: &ClientConfig) -> Result<(), String> {
    let method = client.auth_method();
    let supported = dialect.profile().client_auth_methods;
    if !supported.contains(&method) {
        let names: Vec<&str> = supported.iter().map(|m| m.as_str()).collect();
        return Err(format!(
            "token_endpoint_auth_method {:?} is not offered by the {} dialect (it offers: {})",
            method.as_str(),
            dialect.as_str(),
            names.join(", ")
        ));
    }
    let has_secret = client.secret.is_some();
    match method {
        ClientAuthMethod::None if has_secret => {
            return Err(
                "token_endpoint_auth_method \"none\" is for public clients: remove the \
                        secret"
                    .into(),
            );
        }
        ClientAuthMethod::ClientSecretBasic
        | ClientAuthMethod::ClientSecretPost
        | ClientAuthMethod::ClientSecretJwt
            if !has_secret =>
        {
            return Err(format!(
                "token_endpoint_auth_method {:?} needs a secret",
                method.as_str()
            ));
        }
        _ => {}
    }
    if client.jwks.is_some() && client.jwks_url.is_some() {
        return Err("set one of jwks, jwks_file and jwks_url".into());
    }
    if client.ca_file.is_some() && client.jwks_url.is_none() {
        return Err("ca_file is only used with jwks_url".into());
    }
    let has_keys = client.jwks.is_some() || client.jwks_url.is_some();
    match (has_keys, method) {
        (false, ClientAuthMethod::PrivateKeyJwt) => Err(
            "token_endpoint_auth_method \"private_key_jwt\" needs the client's public keys: \
             jwks = { keys = [...] }, jwks_file = \"...\" or jwks_url = \"https://...\""
                .into(),
        ),
        (true, m) if m != ClientAuthMethod::PrivateKeyJwt => Err(format!(
            "jwks / jwks_file / jwks_url are only used with token_endpoint_auth_method \
             \"private_key_jwt\" (this client's is {:?})",
            m.as_str()
        )),
        _ => {
            if let Some(jwks) = &client.jwks {
                crate::engine::jwk_set::JwkSet::from_jwks(jwks)
                    .map_err(|why| format!("jwks: {why}"))?;
            }
            if let Some(url) = &client.jwks_url {
                crate::engine::trust::JwksSource::new(url, client.ca_file.clone())?;
            }
            Ok(())
        }
    }
}

/// Why `uri` cannot be registered as a redirect URI, if it cannot: it must be absolute, with a
/// scheme a browser hands a code to an application through (a web URL or an app's own scheme),
/// never one that runs script in the IdP's page; it must hold no control character or space
/// (RFC 3986 §2: they would split a `Location` header or a page, and no browser sends them);
/// and a wildcard must not stand for the host (`http://*`, `https://*`, `*`): a catch-all sends
/// codes anywhere, the open redirect of RFC 9700 §4.1.
fn redirect_uri_refusal(uri: &str) -> Option<&'static str> {
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some("contains a control character or a space (CR, LF, tab...): remove it");
    }
    let not_absolute = "is not an absolute URI an application can receive a code at \
                        (javascript:, data: and the like are refused, as Keycloak does)";
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Some(not_absolute);
    };
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !["javascript", "data", "vbscript", "file", "about", "blob"].contains(&scheme.as_str());
    if !scheme_ok {
        return Some(not_absolute);
    }
    let catch_all = uri.ends_with('*')
        && match rest.strip_prefix("//") {
            Some(authority) => authority.trim_end_matches('*').is_empty(),
            None => rest.trim_start_matches('/') == "*",
        };
    catch_all.then_some(
        "is a catch-all: a wildcard may only follow a host (http://localhost:3000/*), \
         never stand for it",
    )
}

/// `scheme://host[:port]` of a URL (of a registered redirect URI, wildcard included): what
/// browsers send as `Origin`, and what Keycloak lists in `allowed-origins`.
pub fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host_len = rest.find(['/', '?', '#', '*']).unwrap_or(rest.len());
    (host_len > 0).then(|| &url[..scheme.len() + 3 + host_len])
}

fn uri_registered(registered: &[String], uri: &str) -> bool {
    // RFC 6749 §3.1.2: no fragment; and nothing that could split a Location header.
    if uri.contains('#') || !uri.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return false;
    }
    registered.iter().any(|r| match r.strip_suffix('*') {
        // A wildcard right after the host must not let the host itself grow
        // (`http://localhost:8080*` does not match `http://localhost:8080.evil.test`); and
        // `http://app/*` also takes `http://app`, as Keycloak does.
        Some(prefix) => {
            uri.strip_prefix(prefix).is_some_and(|rest| {
                let has_path = prefix
                    .split_once("://")
                    .is_some_and(|(_, after)| after.contains('/'));
                has_path || rest.is_empty() || rest.starts_with(['/', '?'])
            }) || (prefix.ends_with('/') && uri == prefix.trim_end_matches('/'))
        }
        None => r == uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fixtures_load() {
        let c = Config::default_fixtures().unwrap();
        let paths: Vec<_> = c.issuers.iter().map(|i| i.mount_path()).collect();
        assert!(paths.contains(&"/realms/iopole".to_string()));
        assert!(paths.contains(&"/identity".to_string()));
        assert!(paths.contains(&String::new()));
    }

    #[test]
    fn errors_name_the_line_and_the_culprit() {
        let err = Config::from_toml("[[issuer]]\nname = \"a\"\ndialect = \"okta\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='generic'\n[[issuer.client]]\nid='c'\ngrants=['magic']\n",
        )
        .unwrap_err()
        .to_string();
        // The parser's own position of the value, and what is implemented.
        assert!(err.contains("line 6, column 8"), "{err}");
        assert!(err.contains("unknown grant \"magic\""), "{err}");
        assert!(
            err.contains("client_credentials, refresh_token, password"),
            "{err}"
        );
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='keycloak'\n[[issuer.client]]\nid='c'\n\
             secret='s'\ntoken_endpoint_auth_method='tls_client_auth'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 7") && err.contains("private_key_jwt"),
            "{err}"
        );
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='generic'\n[[issuer.client]]\nid='c'\n\
             secret='s'\ntoken_endpoint_auth_method='client_secret_jwt'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not offered by the generic dialect"), "{err}");
        // A client's keys at a URL: private_key_jwt implied; the URL must be http(s), and a
        // ca_file goes with a jwks_url only.
        let client = "[[issuer]]\nname='a'\ndialect='keycloak'\n[[issuer.client]]\nid='c'\n";
        let cfg =
            Config::from_toml(&format!("{client}jwks_url='https://keys.test/jwks'\n")).unwrap();
        assert_eq!(
            cfg.issuers[0].clients[0].auth_method(),
            ClientAuthMethod::PrivateKeyJwt
        );
        let err = Config::from_toml(&format!("{client}jwks_url='file:///etc/jwks'\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must start with https://"), "{err}");
        let err = Config::from_toml(&format!("{client}secret='s'\nca_file='ca.pem'\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ca_file is only used with jwks_url"), "{err}");
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='keycloak'\n[[issuer.client]]\nid='c'\nsecrte='s'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 6") && err.contains("unknown field `secrte`"),
            "{err}"
        );
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='generic'\n[[issuer]]\nname='b'\ndialect='generic'\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("used by another issuer"), "{err}");
    }

    #[test]
    fn redirect_uris_refuse_script_schemes_and_wildcards_take_the_bare_origin() {
        for bad in [
            "javascript:alert(1)//",
            "JavaScript:x",
            "data:text/html,x",
            "nocolon",
        ] {
            assert!(redirect_uri_refusal(bad).is_some(), "{bad}");
        }
        for good in [
            "http://localhost:8080/cb",
            "https://app.test/",
            "com.example.app:/cb",
            "http://localhost:3000/*",
            "http://localhost:3000*",
        ] {
            assert_eq!(redirect_uri_refusal(good), None, "{good}");
        }
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='generic'\n[[issuer.client]]\nid='c'\n\
             grants=['authorization_code']\nredirect_uris=['javascript:alert(1)']\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("javascript:alert(1)"), "{err}");
        let registered = ["http://localhost:8080/*".to_string()];
        assert!(uri_registered(&registered, "http://localhost:8080"));
        assert!(uri_registered(&registered, "http://localhost:8080/cb"));
        assert!(!uri_registered(
            &registered,
            "http://localhost:8080.evil.test"
        ));
    }

    #[test]
    fn redirect_uris_refuse_control_characters_and_catch_alls() {
        for (bad, why) in [
            (
                "http://localhost:3000/cb\r\nSet-Cookie: x=1",
                "control character",
            ),
            ("http://localhost:3000/\u{7f}", "control character"),
            ("http://localhost:3000/a b", "control character"),
            ("http://*", "catch-all"),
            ("https://*", "catch-all"),
            ("HTTP://*", "catch-all"),
            ("*", "not an absolute URI"),
            ("myapp:*", "catch-all"),
        ] {
            let mut issuer = IssuerConfig::new("a", DialectKind::Generic);
            issuer.clients.push(ClientConfig::public("c", bad));
            let err = issuer.validate().unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("http://localhost:8080/cb?x"),
            Some("http://localhost:8080")
        );
        assert_eq!(
            origin_of("http://localhost:8080"),
            Some("http://localhost:8080")
        );
        assert_eq!(origin_of("https://a.test/*"), Some("https://a.test"));
        assert_eq!(origin_of("nope"), None);
    }
}
