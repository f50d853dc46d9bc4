//! The issuers of one server, found by name or by issuer URL. The table is replaced whole
//! when the admin API changes a client or user, so requests in flight keep a consistent view.

use std::collections::HashMap;
use std::sync::Arc;

use super::issue::Grant;
use super::jwk_set::JwkSet;
use super::trust;
use crate::config::{ClientConfig, Config, IssuerConfig, ResourceConfig};
use crate::dialect::{self, Dialect};
use crate::error::Error;

/// One configured issuer with its dialect and a client index.
pub(crate) struct Issuer {
    pub(crate) config: IssuerConfig,
    /// Mount path without trailing slash; `""` for the root.
    pub(crate) path: String,
    pub(crate) dialect: &'static dyn Dialect,
    clients: HashMap<String, usize>,
    /// Public keys of `private_key_jwt` clients, by client id (aliases included).
    client_keys: HashMap<String, Arc<JwkSet>>,
    /// Where `private_key_jwt` clients with a `jwks_url` have their keys, by client id.
    client_key_sources: HashMap<String, trust::JwksSource>,
    /// External issuers whose tokens token exchange accepts.
    pub(crate) trusted: Arc<Vec<trust::TrustedIssuer>>,
    /// Protected resources: the configured ones, else the product's default.
    pub(crate) resources: Vec<ResourceConfig>,
    /// Absolute path of the page that shows who is logged in (Inqom's `/home`).
    pub(crate) home_path: String,
}

impl Issuer {
    pub(crate) fn new(config: IssuerConfig, trusted: Arc<Vec<trust::TrustedIssuer>>) -> Self {
        let mut clients = HashMap::new();
        let mut client_keys = HashMap::new();
        let mut client_key_sources = HashMap::new();
        for (i, c) in config.clients.iter().enumerate() {
            // Validated at load: a set that does not parse gives the client no keys.
            let keys = c
                .jwks
                .as_ref()
                .and_then(|j| JwkSet::from_jwks(j).ok())
                .map(Arc::new);
            let source = c.jwks_url.as_ref().and_then(|url| {
                trust::JwksSource::new(url, c.ca_file.clone(), c.ca_certs.clone()).ok()
            });
            for id in std::iter::once(&c.id).chain(&c.aliases) {
                clients.insert(id.clone(), i);
                if let Some(k) = &keys {
                    client_keys.insert(id.clone(), k.clone());
                }
                if let Some(s) = &source {
                    client_key_sources.insert(id.clone(), s.clone());
                }
            }
        }
        let path = config.mount_path();
        let dialect = dialect::for_kind(config.dialect);
        let profile = dialect.profile();
        let resources = if config.resources.is_empty() {
            // The product's defaults: open to any token.
            (profile.resources.iter())
                .map(|rel| ResourceConfig {
                    path: format!("{path}/{rel}"),
                    scope: None,
                    role: None,
                })
                .collect()
        } else {
            config.resources.clone()
        };
        let home_path = config
            .home_path
            .clone()
            .unwrap_or_else(|| profile.home_path(&path));
        Self {
            home_path,
            path,
            dialect,
            config,
            clients,
            client_keys,
            client_key_sources,
            trusted,
            resources,
        }
    }

    /// The fixture keys of client `id` (`jwks` / `jwks_file`).
    pub(crate) fn client_keys(&self, id: &str) -> Option<Arc<JwkSet>> {
        self.client_keys.get(id).cloned()
    }

    /// Where client `id`'s keys are fetched from, if it has a `jwks_url`.
    pub(crate) fn client_key_source(&self, id: &str) -> Option<&trust::JwksSource> {
        self.client_key_sources.get(id)
    }

    pub(crate) fn name(&self) -> &str {
        &self.config.name
    }

    /// The issuer URL when the fixtures fix it (`public_url`, else `frontend_url`).
    pub(crate) fn fixed_url(&self) -> Option<String> {
        self.config
            .public_url
            .as_ref()
            .or(self.config.frontend_url.as_ref())
            .map(|u| u.trim_end_matches('/').to_string())
    }

    /// The client registered under `id` (or one of its aliases).
    pub(crate) fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.get(id).map(|&i| &self.config.clients[i])
    }

    /// Refresh token lifetime: the issuer's, else the product's for this grant.
    pub(crate) fn refresh_token_ttl(&self, grant: &Grant) -> u64 {
        self.config.refresh_token_ttl.unwrap_or_else(|| {
            (self.dialect.profile()).refresh_token_ttl(grant.has_scope("offline_access"))
        })
    }

    /// Access token lifetime for `client`: its own, else the issuer's, else the product's.
    pub(crate) fn access_token_ttl(&self, client: &ClientConfig) -> u64 {
        client
            .access_token_ttl
            .or(self.config.access_token_ttl)
            .unwrap_or(self.dialect.profile().lifetimes.access_token)
    }
}

/// Every issuer of a server.
pub(crate) struct Issuers {
    list: Vec<Arc<Issuer>>,
}

impl Issuers {
    /// Builds the issuers of `config`, loading trusted issuers' keys.
    pub(crate) fn load(config: &Config) -> Result<Self, Error> {
        let mut list = Vec::new();
        for issuer in &config.issuers {
            let trusted = issuer
                .trusted_issuers
                .iter()
                .map(|t| trust::TrustedIssuer::load(t, config))
                .collect::<Result<Vec<_>, _>>()?;
            list.push(Arc::new(Issuer::new(issuer.clone(), Arc::new(trusted))));
        }
        Ok(Self { list })
    }

    /// A copy with `issuer` in place of the one with the same name.
    pub(crate) fn replaced(&self, issuer: Issuer) -> Self {
        let issuer = Arc::new(issuer);
        Self {
            list: self
                .list
                .iter()
                .map(|i| {
                    if i.name() == issuer.name() {
                        issuer.clone()
                    } else {
                        i.clone()
                    }
                })
                .collect(),
        }
    }

    /// A copy with `issuer` added.
    pub(crate) fn with(&self, issuer: Issuer) -> Self {
        let mut list = self.list.clone();
        list.push(Arc::new(issuer));
        Self { list }
    }

    /// A copy without the issuer named `name`.
    pub(crate) fn without(&self, name: &str) -> Self {
        Self {
            list: self
                .list
                .iter()
                .filter(|i| i.name() != name)
                .cloned()
                .collect(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<Issuer>> {
        self.list.iter()
    }

    /// The issuer named `name`.
    pub(crate) fn by_name(&self, name: &str) -> Option<&Arc<Issuer>> {
        self.list.iter().find(|i| i.name() == name)
    }

    /// The issuer whose issuer identifier (OpenID Connect Discovery 1.0 §3 `issuer`) is the URL
    /// `iss`, for issuers served under `prefix` (`""`, or a namespace's `/ns/{id}`): its mount
    /// path on any host (an issuer's URL follows the host it was reached by), or that path
    /// behind Keycloak's legacy `/auth`; only its own URL when the fixtures fix one. A lookup
    /// by identifier, for the tokens' `iss` and `aud`: request paths are routed by the HTTP
    /// edge (`http::routing`).
    pub(crate) fn by_issuer_url(&self, iss: &str, prefix: &str) -> Option<&Arc<Issuer>> {
        let path = iss
            .split_once("://")
            .map_or("", |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        let path = path.strip_prefix(prefix)?.trim_end_matches('/');
        let mounted_at = |p: &str| self.list.iter().find(|i| i.path == p);
        mounted_at(path)
            .or_else(|| {
                path.strip_prefix("/auth")
                    .and_then(mounted_at)
                    .filter(|i| i.dialect.profile().accepts_auth_prefix)
            })
            // An issuer whose URL is fixed recognises that URL only; the others answer on any
            // host (their URL follows the request), so only the path can tell.
            .filter(|i| {
                i.fixed_url()
                    .is_none_or(|fixed| fixed == iss.trim_end_matches('/'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"
[[issuer]]
name = "kc"
dialect = "keycloak"
realm = "kc"

[[issuer]]
name = "fixed"
dialect = "keycloak"
realm = "fixed"
public_url = "https://sso.example.test/realms/fixed"

[[issuer]]
name = "is3"
dialect = "identityserver"
path = "/identity"

[[issuer]]
name = "dot"
dialect = "generic"
path = ""
"#;

    fn issuers() -> Issuers {
        let config = Config::from_toml(FIXTURE).expect("the fixture loads");
        Issuers::load(&config).expect("the issuers load")
    }

    fn named(issuers: &Issuers, iss: &str, prefix: &str) -> Option<String> {
        issuers
            .by_issuer_url(iss, prefix)
            .map(|i| i.name().to_string())
    }

    #[test]
    fn issuer_urls_name_their_issuer_on_any_host() {
        let issuers = issuers();
        let at = |iss| named(&issuers, iss, "");
        assert_eq!(at("http://127.0.0.1:8080/realms/kc").as_deref(), Some("kc"));
        assert_eq!(at("https://other.test/realms/kc/").as_deref(), Some("kc"));
        assert_eq!(at("http://h/auth/realms/kc").as_deref(), Some("kc"));
        assert_eq!(at("http://h/identity").as_deref(), Some("is3"));
        assert_eq!(at("http://h/").as_deref(), Some("dot"));
        assert_eq!(at("http://h").as_deref(), Some("dot"));
        // Only Keycloak answers under the legacy /auth; a path below an issuer is no issuer.
        assert_eq!(at("http://h/auth/identity"), None);
        assert_eq!(at("http://h/realms/kc/protocol"), None);
    }

    #[test]
    fn a_fixed_url_names_its_issuer_only_as_fixed() {
        let issuers = issuers();
        let at = |iss| named(&issuers, iss, "");
        assert_eq!(
            at("https://sso.example.test/realms/fixed").as_deref(),
            Some("fixed")
        );
        assert_eq!(at("http://127.0.0.1/realms/fixed"), None);
    }

    #[test]
    fn a_namespace_s_issuer_urls_carry_its_prefix() {
        let issuers = issuers();
        assert_eq!(
            named(&issuers, "http://h/ns/abc/realms/kc", "/ns/abc").as_deref(),
            Some("kc")
        );
        assert_eq!(named(&issuers, "http://h/realms/kc", "/ns/abc"), None);
        assert_eq!(named(&issuers, "http://h/ns/abc/realms/kc", ""), None);
    }
}
