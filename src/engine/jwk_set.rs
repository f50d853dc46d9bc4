//! A set of public signature keys (RFC 7517 JWKS), the one parser for every JWKS mockidp
//! reads: a `private_key_jwt` client's keys (RFC 7523 §2.2) and a trusted issuer's (token
//! exchange). Fixture sets are parsed at load; sets at a `jwks_url` are fetched and parsed by
//! the async HTTP edge (`http::remote_jwks`) and handed to the engine
//! ([`super::TokenRequest::client_keys`], [`super::TokenRequest::remote_jwks`]), so the
//! engine itself never does I/O.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// JWS algorithms a client assertion may be signed with by a private key (RFC 7518 §3).
pub(crate) const ASYMMETRIC_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
];

/// One public key of the set.
#[derive(Debug, Clone)]
struct Jwk {
    kid: Option<String>,
    key: PublicKey,
}

#[derive(Debug, Clone)]
enum PublicKey {
    /// RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed EC point (`04 || x || y`) on P-256 or P-384.
    Ec { curve: Curve, point: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// The signature keys of one client or issuer.
#[derive(Debug, Clone, Default)]
pub(crate) struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a JWKS (`{"keys": [...]}`). Keys marked `"use": "enc"` and keys of a type or
    /// curve mockidp cannot verify with (a real IdP's set may hold `OKP` or `oct` keys too)
    /// are skipped; a set with no usable signature key, or a usable key that does not parse,
    /// is refused with the reason.
    pub(crate) fn from_jwks(jwks: &Value) -> Result<Self, String> {
        let list = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("expected a JWKS object with a \"keys\" array")?;
        let mut keys = Vec::with_capacity(list.len());
        let mut skipped = Vec::new();
        for (i, jwk) in list.iter().enumerate() {
            if jwk.get("use").and_then(Value::as_str) == Some("enc") {
                continue;
            }
            let member = |name: &str| -> Result<Vec<u8>, String> {
                let text = jwk
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("keys[{i}]: member {name:?} is missing"))?;
                URL_SAFE_NO_PAD
                    .decode(text.trim_end_matches('='))
                    .map_err(|_| format!("keys[{i}]: {name:?} is not base64url"))
            };
            let key = match jwk.get("kty").and_then(Value::as_str) {
                Some("RSA") => PublicKey::Rsa {
                    n: member("n")?,
                    e: member("e")?,
                },
                Some("EC") => {
                    let curve = match jwk.get("crv").and_then(Value::as_str) {
                        Some("P-256") => Curve::P256,
                        Some("P-384") => Curve::P384,
                        other => {
                            skipped.push(format!(
                                "keys[{i}]: curve {other:?} is not supported (P-256, P-384)"
                            ));
                            continue;
                        }
                    };
                    let mut point = vec![4u8];
                    point.extend(member("x")?);
                    point.extend(member("y")?);
                    PublicKey::Ec { curve, point }
                }
                other => {
                    skipped.push(format!(
                        "keys[{i}]: kty {other:?} is not supported (RSA, EC)"
                    ));
                    continue;
                }
            };
            keys.push(Jwk {
                kid: jwk.get("kid").and_then(Value::as_str).map(String::from),
                key,
            });
        }
        if keys.is_empty() {
            let mut why = String::from("the JWKS holds no usable signature key");
            for s in &skipped {
                why.push_str("; ");
                why.push_str(s);
            }
            return Err(why);
        }
        Ok(Self { keys })
    }

    /// Whether a key could have signed a token whose header names `kid`: one named so, or one
    /// without a name (a key rotated away fails this, which makes the edge fetch again).
    pub(crate) fn has_kid(&self, kid: Option<&str>) -> bool {
        self.candidates(kid).next().is_some()
    }

    fn candidates<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a Jwk> {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
    }

    /// Whether a key of this set (the one named `kid`, when the header names one) signed
    /// `input` with `alg`.
    pub(crate) fn verify(&self, alg: &str, kid: Option<&str>, input: &[u8], sig: &[u8]) -> bool {
        self.candidates(kid).any(|k| k.key.verify(alg, input, sig))
    }
}

impl PublicKey {
    fn verify(&self, alg: &str, input: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Rsa { n, e } => {
                let params: &signature::RsaParameters = match alg {
                    "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
                    "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
                    "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
                    "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
                    "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
                    "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, input, sig)
                    .is_ok()
            }
            Self::Ec { curve, point } => {
                let params = match (curve, alg) {
                    (Curve::P256, "ES256") => &signature::ECDSA_P256_SHA256_FIXED,
                    (Curve::P384, "ES384") => &signature::ECDSA_P384_SHA384_FIXED,
                    _ => return false,
                };
                UnparsedPublicKey::new(params, point)
                    .verify(input, sig)
                    .is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_sets_are_refused_with_the_reason() {
        assert!(JwkSet::from_jwks(&json!({})).is_err());
        let err = JwkSet::from_jwks(&json!({"keys": [{"kty": "oct", "k": "x"}]})).unwrap_err();
        assert!(err.contains("oct"), "{err}");
        let err = JwkSet::from_jwks(&json!({"keys": [{"kty": "RSA", "e": "AQAB"}]})).unwrap_err();
        assert!(err.contains("\"n\""), "{err}");
        let mixed = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AQ"},
            {"kty": "RSA", "n": "AQ", "e": "AQAB", "kid": "r"}]});
        let set = JwkSet::from_jwks(&mixed).unwrap();
        assert!(set.has_kid(Some("r")) && set.has_kid(None) && !set.has_kid(Some("other")));
        let enc_only = json!({"keys": [{"kty": "RSA", "use": "enc", "n": "AQ", "e": "AQAB"}]});
        assert!(JwkSet::from_jwks(&enc_only).is_err());
    }
}
