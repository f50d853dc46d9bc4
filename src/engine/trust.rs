//! Keys of external identity providers trusted for token exchange: an inline JWKS, a JWKS file
//! or a JWKS URL (plain `http://`, fetched with a timeout and cached). RS256 and ES256 keys.

use std::sync::Mutex;
use std::time::Duration;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::config::{Config, TrustedIssuerConfig};
use crate::error::Error;

/// How long a fetched JWKS is reused.
const JWKS_CACHE_SECS: u64 = 300;
/// How long a failed fetch is remembered.
const FAILURE_CACHE_SECS: u64 = 5;
/// The whole time a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

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

/// When a JWKS was fetched, and what came of it.
type Fetched = (u64, Result<Vec<Jwk>, String>);

enum Source {
    Static(Vec<Jwk>),
    Url {
        url: String,
        /// The last fetch and when it happened; failures are kept too (briefly), so a dead
        /// URL costs one timeout per few seconds, not one per request.
        cache: Mutex<Option<Fetched>>,
    },
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
            if !url.starts_with("http://") {
                return Err(bad(format!(
                    "jwks_url {url:?}: only http:// URLs can be fetched; save the JWKS and use jwks_file"
                )));
            }
            Source::Url {
                url: url.clone(),
                cache: Mutex::new(None),
            }
        } else {
            return Err(bad("no keys: set jwks, jwks_file or jwks_url".into()));
        };
        Ok(Self {
            issuer: cfg.issuer.clone(),
            source,
        })
    }

    /// Whether one of this issuer's keys (the one named `kid`, if given) signed `input`.
    pub fn verify(
        &self,
        alg: &str,
        kid: Option<&str>,
        input: &[u8],
        sig: &[u8],
        now: u64,
    ) -> Result<(), String> {
        let keys = match &self.source {
            Source::Static(keys) => keys.clone(),
            Source::Url { url, cache } => {
                // Held during the fetch on purpose: concurrent requests wait for one bounded
                // fetch (FETCH_TIMEOUT) and share its result instead of each fetching.
                let mut cached = cache.lock().unwrap_or_else(|e| e.into_inner());
                let fresh = |at: u64, ok: bool| {
                    now < at.saturating_add(if ok {
                        JWKS_CACHE_SECS
                    } else {
                        FAILURE_CACHE_SECS
                    })
                };
                match &*cached {
                    Some((at, result)) if fresh(*at, result.is_ok()) => result.clone()?,
                    _ => {
                        let result = fetch_jwks(url);
                        *cached = Some((now, result.clone()));
                        result?
                    }
                }
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

/// Fetches and parses a JWKS (plain http only: the JWKS of a test IdP on loopback).
fn fetch_jwks(url: &str) -> Result<Vec<Jwk>, String> {
    let fail = |why: &str| format!("fetching {url}: {why}");
    let (status, body) = crate::fetch::get(url, FETCH_TIMEOUT).map_err(|e| fail(&e))?;
    if status != 200 {
        return Err(fail(&format!("HTTP {status}")));
    }
    let json: Value = serde_json::from_str(&body).map_err(|_| fail("the body is not JSON"))?;
    parse_jwks(&json).map_err(|e| fail(&e))
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
