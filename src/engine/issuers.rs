//! The issuers of one server and how a request path finds one. The table is replaced whole
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
pub struct Issuer {
    pub config: IssuerConfig,
    /// Mount path without trailing slash; `""` for the root.
    pub path: String,
    pub dialect: &'static dyn Dialect,
    clients: HashMap<String, usize>,
    /// Public keys of `private_key_jwt` clients, by client id (aliases included).
    client_keys: HashMap<String, Arc<JwkSet>>,
    /// Where `private_key_jwt` clients with a `jwks_url` have their keys, by client id.
    client_key_sources: HashMap<String, trust::JwksSource>,
    /// External issuers whose tokens token exchange accepts.
    pub trusted: Arc<Vec<trust::TrustedIssuer>>,
    /// Protected resources: the configured ones, else the product's default.
    pub resources: Vec<ResourceConfig>,
    /// Absolute path of the page that shows who is logged in (Inqom's `/home`).
    pub home_path: String,
}

impl Issuer {
    pub fn new(config: IssuerConfig, trusted: Arc<Vec<trust::TrustedIssuer>>) -> Self {
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
            let source = c
                .jwks_url
                .as_ref()
                .and_then(|url| trust::JwksSource::new(url, c.ca_file.clone()).ok());
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
    pub fn client_keys(&self, id: &str) -> Option<Arc<JwkSet>> {
        self.client_keys.get(id).cloned()
    }

    /// Where client `id`'s keys are fetched from, if it has a `jwks_url`.
    pub fn client_key_source(&self, id: &str) -> Option<&trust::JwksSource> {
        self.client_key_sources.get(id)
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The issuer URL when the fixtures fix it (`public_url`, else `frontend_url`).
    pub fn fixed_url(&self) -> Option<String> {
        self.config
            .public_url
            .as_ref()
            .or(self.config.frontend_url.as_ref())
            .map(|u| u.trim_end_matches('/').to_string())
    }

    /// The client registered under `id` (or one of its aliases).
    pub fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.get(id).map(|&i| &self.config.clients[i])
    }

    /// Refresh token lifetime: the issuer's, else the product's for this grant.
    pub fn refresh_token_ttl(&self, grant: &Grant) -> u64 {
        self.config.refresh_token_ttl.unwrap_or_else(|| {
            (self.dialect.profile()).refresh_token_ttl(grant.has_scope("offline_access"))
        })
    }

    /// Access token lifetime for `client`: its own, else the issuer's, else the product's.
    pub fn access_token_ttl(&self, client: &ClientConfig) -> u64 {
        client
            .access_token_ttl
            .or(self.config.access_token_ttl)
            .unwrap_or(self.dialect.profile().lifetimes.access_token)
    }
}

/// Every issuer of a server, with the routing rules.
pub struct Issuers {
    list: Vec<Arc<Issuer>>,
}

impl Issuers {
    /// Builds the issuers of `config`, loading trusted issuers' keys.
    pub fn load(config: &Config) -> Result<Self, Error> {
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
    pub fn replaced(&self, issuer: Issuer) -> Self {
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
    pub fn with(&self, issuer: Issuer) -> Self {
        let mut list = self.list.clone();
        list.push(Arc::new(issuer));
        Self { list }
    }

    /// A copy without the issuer named `name`.
    pub fn without(&self, name: &str) -> Self {
        Self {
            list: self
                .list
                .iter()
                .filter(|i| i.name() != name)
                .cloned()
                .collect(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Issuer>> {
        self.list.iter()
    }

    /// The issuer named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Arc<Issuer>> {
        self.list.iter().find(|i| i.name() == name)
    }

    /// The issuer that the issuer URL `iss` names.
    pub fn hosted(&self, iss: &str, prefix: &str) -> Option<&Arc<Issuer>> {
        let path = iss
            .split_once("://")
            .map_or("", |(_, rest)| rest.find('/').map_or("", |i| &rest[i..]));
        // A namespace's issuers are served under its `/ns/{id}` prefix.
        let path = path.strip_prefix(prefix)?;
        self.route(path.trim_end_matches('/'))
            .filter(|(_, rest)| rest.is_empty())
            .map(|(i, _)| i)
            // An issuer whose URL is fixed recognises that URL only; the others answer on any
            // host (their URL follows the request), so only the path can tell.
            .filter(|i| {
                i.fixed_url()
                    .is_none_or(|fixed| fixed == iss.trim_end_matches('/'))
            })
    }

    /// The protected resource at `path`, and its issuer.
    pub fn resource_at(&self, path: &str) -> Option<(&Arc<Issuer>, &ResourceConfig)> {
        let trimmed = path.trim_end_matches('/');
        self.list.iter().find_map(|i| {
            i.resources
                .iter()
                .find(|r| r.path.trim_end_matches('/') == trimmed)
                .map(|r| (i, r))
        })
    }

    /// The issuer whose SSO landing page (Inqom's `/home`) is at `path`.
    pub fn home_of(&self, path: &str) -> Option<&Arc<Issuer>> {
        let path = path.trim_end_matches('/');
        self.list
            .iter()
            .find(|i| i.home_path.trim_end_matches('/') == path)
    }

    /// Finds the issuer mounted at the longest prefix of `path` (already slash-normalised) and
    /// the rest of the path below it. Keycloak issuers also answer under the legacy `/auth`.
    pub fn route<'p>(&self, path: &'p str) -> Option<(&Arc<Issuer>, &'p str)> {
        let mut best: Option<(&Arc<Issuer>, &'p str)> = None;
        for issuer in &self.list {
            let candidates = [Some(path), path.strip_prefix("/auth")];
            let legacy_ok = issuer.dialect.profile().accepts_auth_prefix;
            for (i, p) in candidates.into_iter().enumerate() {
                let Some(p) = p else { continue };
                if i == 1 && !legacy_ok {
                    continue;
                }
                if let Some(rest) = p.strip_prefix(issuer.path.as_str())
                    && (rest.is_empty() || rest.starts_with('/'))
                    && best.is_none_or(|(b, _)| b.path.len() < issuer.path.len())
                {
                    best = Some((issuer, rest));
                }
            }
        }
        best
    }
}
