//! RSA signing keys. The parsed key pair stays in memory: re-parsing a private key per token
//! costs a third of the signing budget (see `bench/README.md`).
//!
//! The fixture key and its self-signed certificate ship in `fixtures/keys/` and are compiled in,
//! so start-up needs no key generation. A generated key gets a self-signed certificate of its own,
//! because IdentityServer clients look for `x5t`/`x5c`.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::digest::{self, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// The key pair compiled into the binary (`fixtures/keys/signing.pem`).
pub const FIXTURE_KEY_PEM: &str = include_str!("../fixtures/keys/signing.pem");
/// Its self-signed certificate (`fixtures/keys/signing.crt`).
pub const FIXTURE_CERT_PEM: &str = include_str!("../fixtures/keys/signing.crt");

/// Why a key could not be loaded or made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no PEM block labelled {0} found")]
    NoPem(&'static str),
    #[error("PEM body is not valid base64")]
    BadBase64,
    #[error("not an RSA private key in PKCS#8 or PKCS#1 form: {0}")]
    Rejected(String),
    #[error("RSA key generation failed")]
    Generation,
}

/// One RS256 signing key with everything a JWKS or JWT header may name it by.
pub struct SigningKey {
    pair: RsaKeyPair,
    /// RFC 7638 JWK thumbprint (SHA-256, base64url): stable for the same key.
    pub kid: String,
    /// base64url SHA-1 of the certificate (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 of the certificate (`x5t#S256`).
    pub x5t_s256: String,
    /// base64 DER certificate (`x5c[0]`).
    pub x5c: String,
    /// base64url big-endian modulus.
    pub n: String,
    /// base64url big-endian public exponent.
    pub e: String,
}

impl SigningKey {
    /// Loads a PEM private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`) and, when given,
    /// its PEM certificate; without one a self-signed certificate is made.
    pub fn from_pem(key_pem: &str, cert_pem: Option<&str>) -> Result<Self, KeyError> {
        let pair = if let Ok(der) = pem_body(key_pem, "PRIVATE KEY") {
            RsaKeyPair::from_pkcs8(&der)
        } else {
            RsaKeyPair::from_der(&pem_body(key_pem, "RSA PRIVATE KEY")?)
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        let cert = match cert_pem {
            Some(pem) => pem_body(pem, "CERTIFICATE")?,
            None => self_signed_certificate(&pair)?,
        };
        Ok(Self::assemble(pair, cert))
    }

    /// The fixture key compiled into the binary.
    pub fn fixture() -> Result<Self, KeyError> {
        Self::from_pem(FIXTURE_KEY_PEM, Some(FIXTURE_CERT_PEM))
    }

    /// The fixture key, parsed once per process and shared by every engine that uses it (a
    /// test suite starts many servers; keys are never changed in place, only replaced).
    pub fn shared_fixture() -> Result<Arc<Self>, KeyError> {
        static PARSED: OnceLock<Arc<SigningKey>> = OnceLock::new();
        if let Some(key) = PARSED.get() {
            return Ok(key.clone());
        }
        let key = Arc::new(Self::fixture()?);
        Ok(PARSED.get_or_init(|| key).clone())
    }

    /// A fresh 2048-bit key with a self-signed certificate.
    pub fn generate() -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| KeyError::Generation)?;
        let cert = self_signed_certificate(&pair)?;
        Ok(Self::assemble(pair, cert))
    }

    fn assemble(pair: RsaKeyPair, cert_der: Vec<u8>) -> Self {
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, canonical.as_bytes()));
        Self {
            kid,
            x5t: URL_SAFE_NO_PAD.encode(digest::digest(&SHA1_FOR_LEGACY_USE_ONLY, &cert_der)),
            x5t_s256: URL_SAFE_NO_PAD.encode(digest::digest(&SHA256, &cert_der)),
            x5c: STANDARD.encode(&cert_der),
            n,
            e,
            pair,
        }
    }

    /// The base64 DER SubjectPublicKeyInfo (Keycloak's realm `public_key`).
    pub fn public_key_base64(&self) -> Option<String> {
        let spki: PublicKeyX509Der = self.pair.public_key().as_der().ok()?;
        Some(STANDARD.encode(spki.as_ref()))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (JWS `RS256`) over `message`.
    pub fn sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .ok()?;
        Some(sig)
    }

    /// Checks an RS256 signature made by this key.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.pair.public_key().as_ref(),
        )
        .verify(message, sig)
        .is_ok()
    }

    /// The PKCS#8 PEM of the private key (a round trip through [`SigningKey::from_pem`]).
    #[cfg(test)]
    pub fn private_pem(&self) -> Option<String> {
        let der = self.pair.as_der().ok()?;
        Some(to_pem("PRIVATE KEY", der.as_ref()))
    }
}

/// The signing key and the keys it replaced, each published until its grace period ends, so
/// tokens signed before a rotation keep verifying for a while.
#[derive(Debug)]
pub struct KeyRing {
    pub current: Arc<SigningKey>,
    retiring: Vec<(Arc<SigningKey>, u64)>,
}

impl KeyRing {
    pub fn new(key: Arc<SigningKey>) -> Self {
        Self {
            current: key,
            retiring: Vec::new(),
        }
    }

    /// Keys to publish and accept at `now`: the current one first.
    pub fn live(&self, now: u64) -> Vec<&SigningKey> {
        std::iter::once(self.current.as_ref())
            .chain(
                self.retiring
                    .iter()
                    .filter(|(_, until)| *until > now)
                    .map(|(k, _)| k.as_ref()),
            )
            .collect()
    }

    /// A ring where `key` signs and the current key retires after `grace` seconds.
    pub fn rotated(&self, key: SigningKey, now: u64, grace: u64) -> Self {
        let mut retiring: Vec<_> = self
            .retiring
            .iter()
            .filter(|(_, until)| *until > now)
            .cloned()
            .collect();
        retiring.push((self.current.clone(), now + grace));
        Self {
            current: Arc::new(key),
            retiring,
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish()
    }
}

fn pem_body(pem: &str, label: &'static str) -> Result<Vec<u8>, KeyError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(KeyError::NoPem(label))? + begin.len();
    let stop = pem[start..].find(&end).ok_or(KeyError::NoPem(label))? + start;
    let b64: String = pem[start..stop].split_whitespace().collect();
    STANDARD.decode(b64).map_err(|_| KeyError::BadBase64)
}

#[cfg(test)]
fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A minimal X.509 v3 self-signed certificate (CN=mockidp, valid 2025..2099) for `x5c`/`x5t`.
fn self_signed_certificate(pair: &RsaKeyPair) -> Result<Vec<u8>, KeyError> {
    let spki: PublicKeyX509Der = pair
        .public_key()
        .as_der()
        .map_err(|_| KeyError::Generation)?;
    // sha256WithRSAEncryption, NULL parameters.
    let alg = der(
        0x30,
        &[
            der(
                0x06,
                &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
            ),
            vec![0x05, 0x00],
        ]
        .concat(),
    );
    let name = der(
        0x30,
        &der(
            0x31,
            &der(
                0x30,
                &[der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, b"mockidp")].concat(),
            ),
        ),
    );
    let validity = der(
        0x30,
        &[der(0x17, b"250101000000Z"), der(0x18, b"20991231235959Z")].concat(),
    );
    let tbs = der(
        0x30,
        &[
            der(0xa0, &der(0x02, &[2])),
            der(0x02, &[0x01]),
            alg.clone(),
            name.clone(),
            validity,
            name,
            spki.as_ref().to_vec(),
        ]
        .concat(),
    );
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        &tbs,
        &mut sig,
    )
    .map_err(|_| KeyError::Generation)?;
    let bits = [&[0u8][..], &sig].concat();
    Ok(der(0x30, &[tbs, alg, der(0x03, &bits)].concat()))
}

/// One DER TLV with a definite length.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_key_signs_and_verifies() {
        let key = SigningKey::fixture().unwrap();
        let sig = key.sign(b"hello").unwrap();
        assert_eq!(sig.len(), 256);
        assert!(key.verify(b"hello", &sig));
        assert!(!key.verify(b"hellO", &sig));
        assert_eq!(key.e, "AQAB");
    }

    #[test]
    fn self_signed_certificate_is_parseable_der() {
        let key = SigningKey::fixture().unwrap();
        let cert = self_signed_certificate(&key.pair).unwrap();
        assert_eq!(cert[0], 0x30);
        // Outer length covers the whole buffer.
        assert_eq!(cert[1], 0x82);
        let len = u16::from_be_bytes([cert[2], cert[3]]) as usize;
        assert_eq!(len + 4, cert.len());
    }

    #[test]
    fn pem_round_trip() {
        let key = SigningKey::fixture().unwrap();
        let again = SigningKey::from_pem(&key.private_pem().unwrap(), None).unwrap();
        assert_eq!(again.kid, key.kid);
    }
}
