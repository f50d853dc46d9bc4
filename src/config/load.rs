//! Reading fixtures: TOML text or a file, the files they name (client JWKS, realm exports,
//! resolved against the fixture's directory), then the checks of [`super::validate`].

use std::path::{Path, PathBuf};

use super::location::{FixturePath, LineCol, Refusal};
use super::{CaCertificates, Config, DEFAULT_FIXTURES};
use crate::error::Error;

impl Config {
    /// Parses TOML fixtures; errors carry the line and column of their culprit.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        Self::from_toml_in(text, None)
    }

    /// Parses TOML fixtures whose relative paths (keys, realm imports) are relative to `dir`.
    fn from_toml_in(text: &str, dir: Option<&Path>) -> Result<Self, Error> {
        load_toml(text, dir).map_err(|e| Error::Config(e.into_message()))
    }

    /// Fixtures as a JSON document (the TOML file's structure: `issuer` is the list of issuers).
    pub fn from_json(json: serde_json::Value) -> Result<Self, Error> {
        let config: Config = serde_json::from_value(json)
            .map_err(|e| Error::Config(format!("invalid fixtures: {e}")))?;
        config
            .loaded_from(None)
            .map_err(|r| Error::Config(r.message))
    }

    /// Parsed fixtures made whole: files they name read (relative to `dir`), realm imports
    /// turned into issuers, everything checked. A refusal names its place in the document; an
    /// imported issuer's is its `[[realm_import]]`'s `file`.
    fn loaded_from(self, dir: Option<&Path>) -> Result<Self, Refusal> {
        let mut config = self;
        config.base_dir = dir.map(Path::to_path_buf);
        config.read_files()?;
        let written = config.issuers.len();
        let import_file = |j: usize| {
            FixturePath::default()
                .key("realm_import")
                .index(j)
                .key("file")
        };
        for (j, import) in std::mem::take(&mut config.realm_imports)
            .into_iter()
            .enumerate()
        {
            let file = config.resolve(&import.file);
            let json = std::fs::read_to_string(&file).map_err(|e| {
                Refusal::new(
                    import_file(j),
                    format!("cannot read {}: {e}", file.display()),
                )
            })?;
            let mut issuer = crate::config::realm_import::issuer_from_realm_export(&json)
                .map_err(|e| Refusal::new(import_file(j), format!("{}: {e}", file.display())))?;
            if let Some(name) = import.name {
                issuer.name = name;
            }
            issuer.public_url = import.public_url.or(issuer.public_url);
            config.issuers.push(issuer);
        }
        config
            .validate()
            .map_err(|r| match r.at.index_under("issuer") {
                Some(i) if i >= written => Refusal::new(import_file(i - written), r.message),
                _ => r,
            })?;
        Ok(config)
    }

    /// Reads every file the fixtures name (the signing key, JWKS files, CA files) into the
    /// values the engine takes, which reads no files. Done when fixtures are loaded, and again
    /// (a no-op for what was read) by the embedded server's builder for issuers it was given.
    pub(crate) fn read_files(&mut self) -> Result<(), Refusal> {
        self.read_key_files()?;
        self.read_client_jwks_files()?;
        self.read_trusted_issuer_files()
    }

    /// `keys.private_key` and `keys.certificate`, as PEM text.
    fn read_key_files(&mut self) -> Result<(), Refusal> {
        let read = |config: &Config, key: &'static str, p: &Path| {
            let path = config.resolve(p);
            std::fs::read_to_string(&path).map_err(|e| {
                let at = FixturePath::default().key("keys").key(key);
                Refusal::new(at, format!("cannot read {}: {e}", path.display()))
            })
        };
        if let (Some(p), None) = (&self.keys.private_key, &self.keys.private_key_pem) {
            self.keys.private_key_pem = Some(read(self, "private_key", p)?);
        }
        if let (Some(p), None) = (&self.keys.certificate, &self.keys.certificate_pem) {
            self.keys.certificate_pem = Some(read(self, "certificate", p)?);
        }
        Ok(())
    }

    /// Each trusted issuer's `jwks_file` into its `jwks`, and its `ca_file`'s certificates.
    fn read_trusted_issuer_files(&mut self) -> Result<(), Refusal> {
        let base = self.base_dir.clone();
        let resolve = |p: &Path| match &base {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        };
        for (i, issuer) in self.issuers.iter_mut().enumerate() {
            for (k, trusted) in issuer.trusted_issuers.iter_mut().enumerate() {
                let at = FixturePath::default()
                    .key("issuer")
                    .index(i)
                    .key("trusted_issuer")
                    .index(k);
                let bad = |key: &'static str, why: String| {
                    let why = format!("trusted issuer {:?}: {why}", trusted.issuer);
                    Refusal::new(at.clone().key(key), why)
                };
                if trusted.jwks_url.is_some() {
                    let ca_file = trusted.ca_file.as_deref().map(resolve);
                    trusted.ca_certs = read_ca(ca_file.as_deref(), &trusted.ca_certs)
                        .map_err(|why| bad("ca_file", why))?;
                }
                let Some(file) = trusted.jwks_file.take() else {
                    continue;
                };
                let path = resolve(&file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    bad("jwks_file", format!("cannot read {}: {e}", path.display()))
                })?;
                let jwks = serde_json::from_str(&text).map_err(|e| {
                    bad("jwks_file", format!("{} is not JSON: {e}", path.display()))
                })?;
                trusted.jwks = Some(jwks);
            }
        }
        Ok(())
    }

    /// Reads each client's `jwks_file` into its `jwks`, so that issuers built later (also by
    /// the admin API) need no file access, and resolves its `ca_file` against the fixture.
    fn read_client_jwks_files(&mut self) -> Result<(), Refusal> {
        let base = self.base_dir.clone();
        for (i, issuer) in self.issuers.iter_mut().enumerate() {
            for (j, client) in issuer.clients.iter_mut().enumerate() {
                if let (Some(dir), Some(ca)) = (&base, &client.ca_file)
                    && ca.is_relative()
                {
                    client.ca_file = Some(dir.join(ca));
                }
                let at = FixturePath::default()
                    .key("issuer")
                    .index(i)
                    .key("client")
                    .index(j);
                // Only a `jwks_url` uses it (validation refuses a `ca_file` without one).
                if client.jwks_url.is_some() {
                    client.ca_certs = read_ca(client.ca_file.as_deref(), &client.ca_certs)
                        .map_err(|why| Refusal::new(at.clone().key("ca_file"), why))?;
                }
                let Some(file) = client.jwks_file.take() else {
                    continue;
                };
                let at = FixturePath::default()
                    .key("issuer")
                    .index(i)
                    .key("client")
                    .index(j);
                let bad = |why: String| {
                    let why = format!("issuer {:?}, client {:?}: {why}", issuer.name, client.id);
                    Refusal::new(at.key("jwks_file"), why)
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
}

impl crate::config::ClientConfig {
    /// Reads `ca_file`'s certificates (used with a `jwks_url` only), for a client given
    /// outside a fixture file (the admin API); a relative path is the server's working
    /// directory's.
    pub(crate) fn read_ca_file(&mut self) -> Result<(), String> {
        if self.jwks_url.is_some() {
            self.ca_certs = read_ca(self.ca_file.as_deref(), &self.ca_certs)?;
        }
        Ok(())
    }
}

/// The certificates of `ca_file` (none without one); `read` when they were read already.
fn read_ca(ca_file: Option<&Path>, read: &CaCertificates) -> Result<CaCertificates, String> {
    match ca_file {
        Some(path) if read.is_empty() => crate::tls::ca_certificates(path)
            .map(Into::into)
            .map_err(|e| format!("ca_file {e}")),
        _ => Ok(read.clone()),
    }
}

/// Fixtures that did not load: why, and where the culprit is in the TOML text when known.
pub(super) struct LoadError {
    pub(super) message: String,
    pub(super) at: Option<LineCol>,
    /// The TOML parser's own message names the line and column already.
    from_parser: bool,
}

impl LoadError {
    /// The message, after the line and column of its culprit unless it names them itself.
    fn into_message(self) -> String {
        match self.at {
            Some(at) if !self.from_parser => format!("{at}: {}", self.message),
            _ => self.message,
        }
    }
}

/// Parses and loads TOML fixtures, their relative paths against `dir`. Syntax errors, unknown
/// keys and values refused while parsing (grants, authentication methods) are located by the
/// parser's span; the checks after parsing by the span of the value they name.
pub(super) fn load_toml(text: &str, dir: Option<&Path>) -> Result<Config, LoadError> {
    let config: Config = toml::from_str(text).map_err(|e| LoadError {
        at: e.span().and_then(|s| LineCol::of_offset(text, s.start)),
        message: e.to_string(),
        from_parser: true,
    })?;
    config.loaded_from(dir).map_err(|r| LoadError {
        at: LineCol::of_path(text, &r.at),
        message: r.message,
        from_parser: false,
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

    /// The engine reads no files: loading puts the key's PEM, a trusted issuer's JWKS file and
    /// its CA certificates into the fixtures, and the engine builds from those alone.
    #[test]
    fn loading_reads_every_file_the_fixtures_name() {
        let dir = std::env::temp_dir().join(format!("mockidp-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let jwks = std::fs::read_to_string(root.join("tests/keys/client-jwks.json")).unwrap();
        std::fs::write(dir.join("partner.json"), &jwks).unwrap();
        let toml = format!(
            r#"
[keys]
private_key = "{key}"
certificate = "{cert}"

[[issuer]]
name = "kc"
dialect = "keycloak"

[[issuer.trusted_issuer]]
issuer = "https://partner.test"
jwks_file = "partner.json"

[[issuer.trusted_issuer]]
issuer = "https://other.test"
jwks_url = "https://other.test/jwks"
ca_file = "{ca}"
"#,
            key = root.join("fixtures/keys/signing.pem").display(),
            cert = root.join("fixtures/keys/signing.crt").display(),
            ca = root.join("fixtures/tls/ca.crt").display(),
        );
        let file = dir.join("fixtures.toml");
        std::fs::write(&file, toml).unwrap();
        let c = Config::from_file(&file).unwrap();
        assert!(
            c.keys
                .private_key_pem
                .as_deref()
                .unwrap()
                .contains("PRIVATE KEY")
        );
        assert!(c.keys.certificate_pem.is_some());
        let trusted = &c.issuers[0].trusted_issuers;
        assert_eq!(trusted[0].jwks, Some(serde_json::from_str(&jwks).unwrap()));
        assert!(trusted[0].jwks_file.is_none());
        assert!(!trusted[1].ca_certs.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
        crate::engine::Engine::new(c, crate::clock::Clock::default()).unwrap();
    }
}
