//! The checks fixtures pass once, as they load (and the admin API's after a runtime change):
//! names and paths unique, lifetimes bounded, grants implemented, client authentication
//! consistent with what the client has and its product offers, redirect URIs registrable.
//! Messages name the offending issuer and client.

use std::collections::HashSet;

use super::model::unimplemented_grant;
use super::redirect_uri::redirect_uri_refusal;
use super::{
    ClientAuthMethod, ClientConfig, Config, DialectKind, IMPLEMENTED_GRANTS, IssuerConfig, MAX_SECS,
};
use crate::error::Error;

impl Config {
    /// Checks a configuration built in code (files are checked as they load).
    pub fn check(&self) -> Result<(), Error> {
        self.validate()
    }

    pub(super) fn validate(&self) -> Result<(), Error> {
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
}

/// The client's authentication method against what it has (secret, keys) and what its
/// product offers: Django OAuth Toolkit 3.4 has no RFC 7523 client authentication (its
/// changelog lists it as unreleased), Keycloak and IdentityServer3 do.
fn client_auth_valid(dialect: DialectKind, client: &ClientConfig) -> Result<(), String> {
    let method = client.auth_method();
    let supported: &[ClientAuthMethod] = match dialect {
        DialectKind::Generic => &[
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
            ClientAuthMethod::None,
        ],
        DialectKind::Keycloak => &[
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
            ClientAuthMethod::ClientSecretJwt,
            ClientAuthMethod::PrivateKeyJwt,
            ClientAuthMethod::None,
        ],
        // IdentityServer3's PrivateKeyJwtSecretValidator; it has no client_secret_jwt.
        DialectKind::IdentityServer => &[
            ClientAuthMethod::ClientSecretBasic,
            ClientAuthMethod::ClientSecretPost,
            ClientAuthMethod::PrivateKeyJwt,
            ClientAuthMethod::None,
        ],
    };
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
}
