//! Compact JWS (RFC 7515): assembling, signing and verifying tokens.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::keys::SigningKey;

/// A JSON object: a JOSE header or a claims set.
pub type Object = Map<String, Value>;

/// Serialises `header` and `claims` and signs them with RS256; `None` only if the crypto
/// backend fails.
pub fn sign(header: &Object, claims: &Object, key: &SigningKey) -> Option<String> {
    sign_with(header, claims, |input| key.sign(input))
}

/// Signs with HS512 (Keycloak's refresh tokens, which only the server itself reads).
pub fn sign_hs512(header: &Object, claims: &Object, key: &hmac::Key) -> Option<String> {
    sign_with(header, claims, |input| {
        Some(hmac::sign(key, input).as_ref().to_vec())
    })
}

/// The claims of a compact JWS that `key` signed with HS512 (this server's own refresh
/// tokens); `None` for anything else. The MAC is checked in constant time.
pub fn verify_hs512(token: &str, key: &hmac::Key) -> Option<Object> {
    let (input, sig) = signing_input(token)?;
    hmac::verify(key, input.as_bytes(), &sig).ok()?;
    decode_unverified(token).map(|(_, claims)| claims)
}

/// An unsecured JWS (`alg: none`, RFC 7515 Appendix A.5): for tests that prove a client
/// refuses it.
pub fn unsigned(header: &Object, claims: &Object) -> Option<String> {
    sign_with(header, claims, |_| Some(Vec::new()))
}

/// The token with one signature byte changed: well-formed, but it no longer verifies.
pub fn corrupt_signature(token: &str) -> String {
    let Some((input, sig)) = token.rsplit_once('.') else {
        return token.to_string();
    };
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap_or_default();
    let middle = bytes.len() / 2;
    if let Some(b) = bytes.get_mut(middle) {
        *b ^= 0x55;
    }
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn sign_with(
    header: &Object,
    claims: &Object,
    signer: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
) -> Option<String> {
    // Sized once: tokens are built on every request and run to a kilobyte or two.
    let mut json = Vec::with_capacity(2048);
    let mut out = String::with_capacity(3072);
    serde_json::to_writer(&mut json, header).ok()?;
    URL_SAFE_NO_PAD.encode_string(&json, &mut out);
    out.push('.');
    json.clear();
    serde_json::to_writer(&mut json, claims).ok()?;
    URL_SAFE_NO_PAD.encode_string(&json, &mut out);
    let sig = signer(out.as_bytes())?;
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(sig, &mut out);
    Some(out)
}

/// The header and claims of a compact JWS whose RS256 signature `key` made; `None` for
/// anything else (malformed, another algorithm, another key, tampered).
pub fn verify(token: &str, key: &SigningKey) -> Option<(Object, Object)> {
    let (input, sig) = token.rsplit_once('.')?;
    let (h, c) = input.split_once('.')?;
    let header: Object = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    if header.get("alg").and_then(serde_json::Value::as_str) != Some("RS256") {
        return None;
    }
    if !key.verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).ok()?) {
        return None;
    }
    let claims: Object = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    Some((header, claims))
}

/// Header and claims of a compact JWS, without checking the signature.
pub fn decode_unverified(token: &str) -> Option<(Object, Object)> {
    let mut parts = token.split('.');
    let (h, c, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    Some((header, claims))
}

/// The signed part of a compact JWS and its decoded signature.
pub fn signing_input(token: &str) -> Option<(&str, Vec<u8>)> {
    let (input, sig) = token.rsplit_once('.')?;
    Some((input, URL_SAFE_NO_PAD.decode(sig).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signed_tokens_verify() {
        let key = SigningKey::fixture().unwrap();
        let header = json!({"alg": "RS256", "kid": key.kid})
            .as_object()
            .unwrap()
            .clone();
        let claims = json!({"sub": "alice"}).as_object().unwrap().clone();
        let token = sign(&header, &claims, &key).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        assert!(key.verify(input.as_bytes(), &sig));
        let (_, verified) = verify(&token, &key).unwrap();
        assert_eq!(verified["sub"], "alice");
        assert!(verify(&token.replacen("eyJ", "eyK", 2), &key).is_none());
        let payload = token.split('.').nth(1).unwrap();
        let claims: Object =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["sub"], "alice");
    }
}
