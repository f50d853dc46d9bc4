//! Keys of external identity providers trusted for token exchange: an inline JWKS, a JWKS file
//! or a JWKS URL. The engine does no I/O: a URL's document is fetched by the HTTP edge
//! (`http::remote_jwks`) and handed to [`TrustedIssuer::verify`]. Keys are parsed by the one
//! JWKS parser, [`JwkSet`].

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;

use super::jwk_set::JwkSet;

use crate::config::{CaCertificates, Config, TrustedIssuerConfig};
use crate::error::Error;

/// Where a JWKS document is fetched from: its URL and, for a server whose certificate a
/// private CA signed, that CA (read at start-up, so a broken file stops it).
#[derive(Debug, Clone)]
pub(crate) struct JwksSource {
    pub(crate) url: String,
    /// The CA file, as configured (resolved against the fixture file).
    pub(crate) ca_file: Option<PathBuf>,
    /// Its certificates, trusted besides the webpki roots.
    pub(crate) ca_certs: Arc<[CertificateDer<'static>]>,
}

impl JwksSource {
    /// A source at `url` (`https://`, or `http://`), trusting the certificates of `ca_file`
    /// (read with the fixtures: [`crate::config::CaCertificates`]) besides the webpki roots.
    pub(crate) fn new(
        url: &str,
        ca_file: Option<PathBuf>,
        ca_certs: CaCertificates,
    ) -> Result<Self, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "jwks_url {:?} must start with https:// (or http://)",
                crate::error::clipped(url, 200)
            ));
        }
        if let Some(file) = &ca_file
            && ca_certs.is_empty()
        {
            return Err(format!(
                "ca_file {}: not read (fixtures are read by Config::from_file, from_toml or from_json)",
                file.display()
            ));
        }
        Ok(Self {
            url: url.to_string(),
            ca_file,
            ca_certs,
        })
    }
}

impl PartialEq for JwksSource {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url && self.ca_file == other.ca_file
    }
}

impl Eq for JwksSource {}

impl std::hash::Hash for JwksSource {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.url.hash(state);
        self.ca_file.hash(state);
    }
}

enum Source {
    Static(Arc<JwkSet>),
    /// Fetched by the HTTP edge.
    Url(JwksSource),
}

/// An external issuer's keys.
pub(crate) struct TrustedIssuer {
    pub(crate) issuer: String,
    source: Source,
}

impl TrustedIssuer {
    /// Loads inline or file keys now (so a broken file stops start-up); URLs are fetched later.
    pub(crate) fn load(cfg: &TrustedIssuerConfig, config: &Config) -> Result<Self, Error> {
        let bad = |why: String| Error::Config(format!("trusted issuer {:?}: {why}", cfg.issuer));
        let source = if let Some(jwks) = &cfg.jwks {
            Source::Static(Arc::new(JwkSet::from_jwks(jwks).map_err(bad)?))
        } else if let Some(file) = &cfg.jwks_file {
            // Loading the fixtures replaces the file by its JWKS (`jwks`).
            return Err(bad(format!(
                "jwks_file {}: not read (fixtures are read by Config::from_file, from_toml or from_json)",
                file.display()
            )));
        } else if let Some(url) = &cfg.jwks_url {
            let ca_file = cfg.ca_file.as_ref().map(|f| config.resolve(f));
            Source::Url(JwksSource::new(url, ca_file, cfg.ca_certs.clone()).map_err(bad)?)
        } else {
            return Err(bad("no keys: set jwks, jwks_file or jwks_url".into()));
        };
        Ok(Self {
            issuer: cfg.issuer.clone(),
            source,
        })
    }

    /// Where this issuer's keys must be fetched from, if they are remote.
    pub(crate) fn remote(&self) -> Option<&JwksSource> {
        match &self.source {
            Source::Url(source) => Some(source),
            Source::Static(_) => None,
        }
    }

    /// Whether one of this issuer's keys (the one named `kid`, if given) signed `input`.
    /// Remote keys are the set the edge fetched (`fetched`), or why it could not.
    pub(crate) fn verify(
        &self,
        alg: &str,
        kid: Option<&str>,
        (input, sig): (&[u8], &[u8]),
        fetched: Option<&Result<Arc<JwkSet>, String>>,
    ) -> Result<(), String> {
        let keys = match (&self.source, fetched) {
            (Source::Static(keys), _) | (Source::Url(_), Some(Ok(keys))) => keys,
            (Source::Url(_), Some(Err(why))) => return Err(why.clone()),
            (Source::Url(s), None) => {
                return Err(format!("the JWKS at {} was not fetched", s.url));
            }
        };
        if !keys.has_kid(kid) {
            return Err(format!(
                "no key with kid {:?} in the issuer's JWKS",
                kid.unwrap_or("")
            ));
        }
        if keys.verify(alg, kid, input, sig) {
            Ok(())
        } else {
            Err(format!(
                "the signature ({alg}) does not verify with the issuer's keys"
            ))
        }
    }
}
