//! The checks fixtures pass once, as they load (and the admin API's after a runtime change):
//! names and paths unique, lifetimes bounded, grants implemented, client authentication
//! consistent with what the client has and its product offers, redirect URIs registrable.
//! Messages name the offending issuer and client.

use std::collections::HashSet;

use super::location::{FixturePath, Refusal};
use super::model::unimplemented_grant;
use super::redirect_uri::redirect_uri_refusal;
use super::{
    ClientAuthMethod, ClientConfig, Config, DialectKind, IMPLEMENTED_GRANTS, IssuerConfig, MAX_SECS,
};
use crate::error::Error;

impl Config {
    /// Checks a configuration built in code (files are checked as they load).
    pub fn check(&self) -> Result<(), Error> {
        self.validate().map_err(|r| Error::Config(r.message))
    }

    /// The first thing wrong with the fixtures, at its place in the document (`issuer[i]...`).
    pub(super) fn validate(&self) -> Result<(), Refusal> {
        if self.issuers.is_empty() {
            let none = "no [[issuer]] is configured";
            return Err(Refusal::new(FixturePath::default(), none));
        }
        let mut names = HashSet::new();
        let mut paths = HashSet::new();
        for (i, issuer) in self.issuers.iter().enumerate() {
            let at = FixturePath::default().key("issuer").index(i);
            let name = &issuer.name;
            if name.is_empty() || !names.insert(name.as_str()) {
                let why = format!("issuer name {name:?} is empty or used twice");
                return Err(Refusal::new(at.key("name"), why));
            }
            if !paths.insert(issuer.mount_path()) {
                let why = format!(
                    "issuer {name:?}: path {:?} is used by another issuer",
                    issuer.mount_path()
                );
                return Err(Refusal::new(at.key("path"), why));
            }
            issuer
                .refusal()
                .map_err(|r| Refusal::new(at.join(&r.at), r.message))?;
        }
        Ok(())
    }
}

impl IssuerConfig {
    /// Checks one issuer on its own (the admin API calls this after a runtime change).
    pub fn validate(&self) -> Result<(), String> {
        self.refusal().map_err(|r| r.message)
    }

    /// The first thing wrong with this issuer, at its place in the issuer's table.
    fn refusal(&self) -> Result<(), Refusal> {
        let name = &self.name;
        let of_issuer = |r: Refusal| Refusal::new(r.at, format!("issuer {name:?}: {}", r.message));
        self.addresses_valid().map_err(of_issuer)?;
        self.lifetimes_bounded().map_err(of_issuer)?;
        self.clients_valid()?;
        self.trusted_issuers_valid().map_err(of_issuer)?;
        self.resources_and_users_valid().map_err(of_issuer)
    }

    /// The mount path, `public_url` and `frontend_url`.
    fn addresses_valid(&self) -> Result<(), Refusal> {
        let at = FixturePath::default();
        let path = self.mount_path();
        if !path.is_empty() && (!path.starts_with('/') || path.ends_with('/')) {
            let why = format!("path {path:?} must start with '/' and not end with one");
            return Err(Refusal::new(at.key("path"), why));
        }
        for (what, url) in [
            ("public_url", &self.public_url),
            ("frontend_url", &self.frontend_url),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                let why = format!("{what} {url:?} must start with http:// or https://");
                return Err(Refusal::new(at.key(what), why));
            }
        }
        Ok(())
    }

    /// Client ids and aliases unique, then each client on its own.
    fn clients_valid(&self) -> Result<(), Refusal> {
        let name = &self.name;
        let mut ids = HashSet::new();
        for (j, client) in self.clients.iter().enumerate() {
            let at = FixturePath::default().key("client").index(j);
            let aliases = client
                .aliases
                .iter()
                .enumerate()
                .map(|(k, a)| (at.key("aliases").index(k), a));
            for (key, id) in std::iter::once((at.key("id"), &client.id)).chain(aliases) {
                if id.is_empty() || !ids.insert(id.as_str()) {
                    let why = format!("issuer {name:?}: client id {id:?} is empty or used twice");
                    return Err(Refusal::new(key, why));
                }
            }
            client_valid(self.dialect, client).map_err(|r| {
                let why = format!("issuer {name:?}, client {:?}: {}", client.id, r.message);
                Refusal::new(at.join(&r.at), why)
            })?;
        }
        Ok(())
    }

    /// Each trusted issuer has exactly one source of keys, and a CA file only for a URL.
    fn trusted_issuers_valid(&self) -> Result<(), Refusal> {
        for (k, t) in self.trusted_issuers.iter().enumerate() {
            let at = FixturePath::default().key("trusted_issuer").index(k);
            let sources = [
                t.jwks.is_some(),
                t.jwks_file.is_some(),
                t.jwks_url.is_some(),
            ];
            if sources.iter().filter(|s| **s).count() != 1 {
                let why = format!(
                    "trusted issuer {:?} needs exactly one of jwks, jwks_file, jwks_url",
                    t.issuer
                );
                return Err(Refusal::new(at.key("issuer"), why));
            }
            if t.ca_file.is_some() && t.jwks_url.is_none() {
                let why = format!(
                    "trusted issuer {:?}: ca_file is only used with jwks_url",
                    t.issuer
                );
                return Err(Refusal::new(at.key("ca_file"), why));
            }
        }
        Ok(())
    }

    /// Resource paths absolute, usernames unique.
    fn resources_and_users_valid(&self) -> Result<(), Refusal> {
        let at = FixturePath::default();
        for (k, r) in self.resources.iter().enumerate() {
            if !r.path.starts_with('/') {
                let why = format!("resource path {:?} must start with '/'", r.path);
                return Err(Refusal::new(at.key("resource").index(k).key("path"), why));
            }
        }
        let mut usernames = HashSet::new();
        for (k, user) in self.users.iter().enumerate() {
            if user.username.is_empty() || !usernames.insert(user.username.as_str()) {
                let why = format!("username {:?} is empty or used twice", user.username);
                return Err(Refusal::new(at.key("user").index(k).key("username"), why));
            }
        }
        Ok(())
    }

    /// No lifetime over [`MAX_SECS`], the issuer's nor a client's.
    fn lifetimes_bounded(&self) -> Result<(), Refusal> {
        let at = FixturePath::default();
        let lifetimes = [
            ("access_token_ttl", self.access_token_ttl),
            ("id_token_ttl", self.id_token_ttl),
            ("refresh_token_ttl", self.refresh_token_ttl),
            ("code_ttl", self.code_ttl),
            ("session_ttl", self.session_ttl),
            ("device_code_ttl", self.device_code_ttl),
            ("device_interval", self.device_interval),
        ]
        .map(|(key, v)| (at.key(key), key, v));
        let clients = self.clients.iter().enumerate().map(|(j, c)| {
            let key = at.key("client").index(j).key("access_token_ttl");
            (key, "a client's access_token_ttl", c.access_token_ttl)
        });
        match lifetimes
            .into_iter()
            .chain(clients)
            .find(|(_, _, v)| v.is_some_and(|v| v > MAX_SECS))
        {
            Some((key, what, _)) => Err(Refusal::new(
                key,
                format!("{what} is over {MAX_SECS} seconds (10 years)"),
            )),
            None => Ok(()),
        }
    }
}

/// A browser flow the client's product lacks: Keycloak has no hybrid switch (its hybrid
/// responses need its standard and implicit flows: `authorization_code` and `implicit_flow`).
fn browser_flow_refusal(
    dialect: DialectKind,
    client: &ClientConfig,
) -> Option<(&'static str, String)> {
    let flows = dialect.profile().front_channel;
    let product = dialect.profile().product;
    let code_only = flows.response_types.len() == 1;
    if client.hybrid_flow && (code_only || !flows.hybrid_switch) {
        let why = format!(
            "{product} has no hybrid flow switch: its hybrid response types need \
             grants = [\"authorization_code\"] and implicit_flow = true"
        );
        return Some(("hybrid_flow", why));
    }
    (client.implicit_flow && code_only)
        .then(|| ("implicit_flow", format!("{product} has no implicit flow")))
}

/// One client's grants, authentication, scopes and redirect URIs, at their place in the
/// client's table.
fn client_valid(dialect: DialectKind, client: &ClientConfig) -> Result<(), Refusal> {
    let at = FixturePath::default();
    if let Some((k, g)) = client
        .grants
        .iter()
        .enumerate()
        .find(|(_, g)| !IMPLEMENTED_GRANTS.contains(&g.as_str()))
    {
        return Err(Refusal::new(
            at.key("grants").index(k),
            unimplemented_grant(g),
        ));
    }
    if let Some((key, why)) = browser_flow_refusal(dialect, client) {
        return Err(Refusal::new(at.key(key), why));
    }
    client_auth_valid(dialect, client).map_err(|(key, why)| Refusal::new(at.key(key), why))?;
    if let Some((k, s)) = client
        .default_scopes
        .iter()
        .flatten()
        .enumerate()
        .find(|(_, s)| !client.scopes.contains(s))
    {
        return Err(Refusal::new(
            at.key("default_scopes").index(k),
            format!("default scope {s:?} is not in its scopes"),
        ));
    }
    let uris = client
        .redirect_uris
        .iter()
        .enumerate()
        .map(|(k, u)| (at.key("redirect_uris").index(k), u));
    let logout = client
        .post_logout_redirect_uris
        .iter()
        .flatten()
        .enumerate()
        .map(|(k, u)| (at.key("post_logout_redirect_uris").index(k), u));
    if let Some((key, uri, why)) = uris
        .chain(logout)
        .find_map(|(key, u)| redirect_uri_refusal(u).map(|why| (key, u, why)))
    {
        return Err(Refusal::new(
            key,
            format!("redirect URI {:?} {why}", crate::error::clipped(uri, 200)),
        ));
    }
    Ok(())
}

/// The client's authentication method against what it has (secret, keys) and what its
/// product offers: Django OAuth Toolkit 3.4 has no RFC 7523 client authentication (its
/// changelog lists it as unreleased), Keycloak and IdentityServer3 do.
fn client_auth_valid(
    dialect: DialectKind,
    client: &ClientConfig,
) -> Result<(), (&'static str, String)> {
    const METHOD: &str = "token_endpoint_auth_method";
    let method = client.auth_method();
    let supported = dialect.profile().client_auth_methods;
    if !supported.contains(&method) {
        let names: Vec<&str> = supported.iter().map(|m| m.as_str()).collect();
        return Err((
            METHOD,
            format!(
                "token_endpoint_auth_method {:?} is not offered by the {} dialect (it offers: {})",
                method.as_str(),
                dialect.as_str(),
                names.join(", ")
            ),
        ));
    }
    let has_secret = client.secret.is_some();
    match method {
        ClientAuthMethod::None if has_secret => {
            return Err((
                "secret",
                "token_endpoint_auth_method \"none\" is for public clients: remove the \
                        secret"
                    .into(),
            ));
        }
        ClientAuthMethod::ClientSecretBasic
        | ClientAuthMethod::ClientSecretPost
        | ClientAuthMethod::ClientSecretJwt
            if !has_secret =>
        {
            return Err((
                METHOD,
                format!(
                    "token_endpoint_auth_method {:?} needs a secret",
                    method.as_str()
                ),
            ));
        }
        _ => {}
    }
    if client.jwks.is_some() && client.jwks_url.is_some() {
        return Err(("jwks_url", "set one of jwks, jwks_file and jwks_url".into()));
    }
    if client.ca_file.is_some() && client.jwks_url.is_none() {
        return Err(("ca_file", "ca_file is only used with jwks_url".into()));
    }
    let has_keys = client.jwks.is_some() || client.jwks_url.is_some();
    match (has_keys, method) {
        (false, ClientAuthMethod::PrivateKeyJwt) => Err((
            METHOD,
            "token_endpoint_auth_method \"private_key_jwt\" needs the client's public keys: \
             jwks = { keys = [...] }, jwks_file = \"...\" or jwks_url = \"https://...\""
                .into(),
        )),
        (true, m) if m != ClientAuthMethod::PrivateKeyJwt => Err((
            if client.jwks_url.is_some() {
                "jwks_url"
            } else {
                "jwks"
            },
            format!(
                "jwks / jwks_file / jwks_url are only used with token_endpoint_auth_method \
                 \"private_key_jwt\" (this client's is {:?})",
                m.as_str()
            ),
        )),
        _ => {
            if let Some(jwks) = &client.jwks {
                crate::engine::jwk_set::JwkSet::from_jwks(jwks)
                    .map_err(|why| ("jwks", format!("jwks: {why}")))?;
            }
            if let Some(url) = &client.jwks_url {
                crate::engine::trust::JwksSource::new(
                    url,
                    client.ca_file.clone(),
                    client.ca_certs.clone(),
                )
                .map_err(|why| ("jwks_url", why))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn refusals_after_parsing_name_the_values_line_and_column() {
        let client = "[[issuer]]\nname = 'a'\ndialect = 'generic'\n\n[[issuer.client]]\nid = 'c'\n";
        let err = Config::from_toml(&format!(
            "{client}grants = ['authorization_code']\nredirect_uris = ['http://ok/cb', 'data:x']\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 8, column 34: issuer \"a\", client \"c\": redirect URI \"data:x\""),
            "{err}"
        );
        let err = Config::from_toml(&format!("{client}aliases = ['x', 'c']\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 7, column 17: issuer \"a\": client id \"c\""),
            "{err}"
        );
        let err = Config::from_toml(&format!(
            "{client}secret = 's'\ndefault_scopes = ['openid']\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 8, column 19: issuer"), "{err}");
        assert!(
            err.contains("default scope \"openid\" is not in its scopes"),
            "{err}"
        );
        // Built in code, no text: the message alone.
        let mut issuer = IssuerConfig::new("a", DialectKind::Generic);
        issuer.clients.push(ClientConfig::public("c", "data:x"));
        assert!(
            issuer
                .validate()
                .unwrap_err()
                .starts_with("issuer \"a\", client \"c\"")
        );
    }
}
