//! Keys of external identity providers trusted for token exchange: an inline JWKS, a JWKS file
//! or a JWKS URL. The engine does no I/O: a URL's document is fetched by the HTTP edge
//! (`http::remote_jwks`) and handed to [`TrustedIssuer::verify`]. RS256 and ES256 keys.

use std::path::PathBuf;
use std::sync::Arc;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::pki_types::CertificateDer;
use serde_json::Value;

use crate::config::{Config, TrustedIssuerConfig};
use crate::error::Error;

/// Where a JWKS document is fetched from: its URL and, for a server whose certificate a
/// private CA signed, that CA (read at start-up, so a broken file stops it).
#[derive(Debug, Clone)]
pub struct JwksSource {
    pub url: String,
    /// The CA file, as configured (resolved against the fixture file).
    pub ca_file: Option<PathBuf>,
    /// Its certificates, trusted besides the webpki roots.
    pub ca_certs: Arc<[CertificateDer<'static>]>,
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

/// One public key from a JWKS.
#[derive(Debug, Clone)]
struct Jwk {
    kid: Option<String>,
    key: PublicKey,
}

#[derive(Debug, Clone)]
enum PublicKey {
    /// RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed P-256 point.
    P256(Vec<u8>),
}

enum Source {
    Static(Vec<Jwk>),
    /// Fetched by the HTTP edge.
    Url(JwksSource),
}

/// An external issuer's keys.
pub struct TrustedIssuer {
    pub issuer: String,
    source: Source,
}

impl TrustedIssuer {
    /// Loads inline or file keys now (so a broken file stops start-up); URLs are fetched later.
    pub fn load(cfg: &TrustedIssuerConfig, config: &Config) -> Result<Self, Error> {
        let bad = |why: String| Error::Config(format!("trusted issuer {:?}: {why}", cfg.issuer));
        let source = if let Some(jwks) = &cfg.jwks {
            Source::Static(parse_jwks(jwks).map_err(bad)?)
        } else if let Some(file) = &cfg.jwks_file {
            let path = config.resolve(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
            let json: Value = serde_json::from_str(&text)
                .map_err(|e| bad(format!("{} is not JSON: {e}", path.display())))?;
            Source::Static(parse_jwks(&json).map_err(bad)?)
        } else if let Some(url) = &cfg.jwks_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad(format!(
                    "jwks_url {url:?} must start with https:// (or http://)"
                )));
            }
            let ca_file = cfg.ca_file.as_ref().map(|f| config.resolve(f));
            let ca_certs = match &ca_file {
                Some(path) => {
                    crate::tls::ca_certificates(path).map_err(|e| bad(format!("ca_file {e}")))?
                }
                None => Vec::new(),
            };
            Source::Url(JwksSource {
                url: url.clone(),
                ca_file,
                ca_certs: ca_certs.into(),
            })
        } else {
            return Err(bad("no keys: set jwks, jwks_file or jwks_url".into()));
        };
        Ok(Self {
            issuer: cfg.issuer.clone(),
            source,
        })
    }

    /// Where this issuer's keys must be fetched from, if they are remote.
    pub fn remote(&self) -> Option<&JwksSource> {
        match &self.source {
            Source::Url(source) => Some(source),
            Source::Static(_) => None,
        }
    }

    /// Whether one of this issuer's keys (the one named `kid`, if given) signed `input`.
    /// Remote keys are the document the edge fetched (`fetched`), or why it could not.
    pub fn verify(
        &self,
        alg: &str,
        kid: Option<&str>,
        (input, sig): (&[u8], &[u8]),
        fetched: Option<&Result<Arc<Value>, String>>,
    ) -> Result<(), String> {
        let remote;
        let keys = match (&self.source, fetched) {
            (Source::Static(keys), _) => keys,
            (Source::Url(_), Some(Ok(doc))) => {
                remote = parse_jwks(doc)?;
                &remote
            }
            (Source::Url(_), Some(Err(why))) => return Err(why.clone()),
            (Source::Url(s), None) => {
                return Err(format!("the JWKS at {} was not fetched", s.url));
            }
        };
        let candidates: Vec<&Jwk> = keys
            .iter()
            .filter(|k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
            .collect();
        if candidates.is_empty() {
            return Err(format!(
                "no key with kid {:?} in the issuer's JWKS",
                kid.unwrap_or("")
            ));
        }
        let ok = candidates.iter().any(|k| match (&k.key, alg) {
            (PublicKey::Rsa { n, e }, "RS256") => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
                .is_ok(),
            (PublicKey::P256(point), "ES256") => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(input, sig)
                    .is_ok()
            }
            _ => false,
        });
        if ok {
            Ok(())
        } else {
            Err(format!(
                "the signature ({alg}) does not verify with the issuer's keys"
            ))
        }
    }
}

fn b64(v: &Value, member: &str) -> Result<Vec<u8>, String> {
    let s = v[member]
        .as_str()
        .ok_or_else(|| format!("a JWK lacks {member:?}"))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("JWK member {member:?} is not base64url"))
}

/// The RSA and P-256 keys of a JWKS document (others are skipped).
fn parse_jwks(jwks: &Value) -> Result<Vec<Jwk>, String> {
    let keys = jwks["keys"]
        .as_array()
        .ok_or("not a JWKS: no \"keys\" array")?;
    let mut out = Vec::new();
    for k in keys {
        let kid = k["kid"].as_str().map(str::to_string);
        let key = match (k["kty"].as_str(), k["crv"].as_str()) {
            (Some("RSA"), _) => PublicKey::Rsa {
                n: b64(k, "n")?,
                e: b64(k, "e")?,
            },
            (Some("EC"), Some("P-256")) => {
                let mut point = vec![4u8];
                point.extend(b64(k, "x")?);
                point.extend(b64(k, "y")?);
                PublicKey::P256(point)
            }
            _ => continue,
        };
        out.push(Jwk { kid, key });
    }
    if out.is_empty() {
        return Err("the JWKS has no RSA or P-256 key".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwks_without_usable_keys_is_refused() {
        assert!(parse_jwks(&serde_json::json!({"keys": [{"kty": "oct"}]})).is_err());
        assert!(parse_jwks(&serde_json::json!({"nokeys": 1})).is_err());
    }
}
