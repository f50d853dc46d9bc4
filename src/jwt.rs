//! Compact JWS (RFC 7515) with RS256: assembling and signing tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::keys::SigningKey;

/// A JSON object: a JOSE header or a claims set.
pub type Object = Map<String, Value>;

/// Serialises `header` and `claims` and signs them; `None` only if the crypto backend fails.
pub fn sign(header: &Object, claims: &Object, key: &SigningKey) -> Option<String> {
    let mut out = String::with_capacity(1024);
    out.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).ok()?));
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?));
    let sig = key.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Some(out)
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
        let payload = token.split('.').nth(1).unwrap();
        let claims: Object =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["sub"], "alice");
    }
}
