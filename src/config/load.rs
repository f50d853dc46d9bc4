//! Reading fixtures: TOML text or a file, the files they name (client JWKS, realm exports,
//! resolved against the fixture's directory), then the checks of [`super::validate`].

use std::path::{Path, PathBuf};

use super::location::{FixturePath, LineCol, Refusal};
use super::{Config, DEFAULT_FIXTURES};
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
        config.read_client_jwks_files()?;
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
}
