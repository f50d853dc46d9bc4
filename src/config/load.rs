//! Reading fixtures: TOML text or a file, the files they name (client JWKS, realm exports,
//! resolved against the fixture's directory), then the checks of [`super::validate`].

use std::path::{Path, PathBuf};

use super::{Config, DEFAULT_FIXTURES};
use crate::error::Error;

impl Config {
    /// Parses TOML fixtures; errors carry the line and column.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        Self::from_toml_in(text, None)
    }

    /// Parses TOML fixtures whose relative paths (keys, realm imports) are relative to `dir`.
    pub(super) fn from_toml_in(text: &str, dir: Option<&Path>) -> Result<Self, Error> {
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
            let mut issuer = crate::config::realm_import::issuer_from_realm_export(&json)
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
