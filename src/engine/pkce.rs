//! RFC 7636: Proof Key for Code Exchange.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::OAuthError;

/// `code_challenge_method` (RFC 7636 §4.3); `plain` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Plain,
    S256,
}

impl Method {
    pub(crate) fn parse(s: Option<&str>) -> Option<Self> {
        match s {
            None | Some("plain") => Some(Self::Plain),
            Some("S256") => Some(Self::S256),
            Some(_) => None,
        }
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`; challenges have the same shape.
pub(crate) fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// RFC 7636 §4.6: does `verifier` match the `challenge` made with `method`?
pub(crate) fn verify(
    challenge: &str,
    method: Method,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    let Some(verifier) = verifier else {
        return Err(OAuthError::invalid_grant(
            "PKCE verification failed: Missing parameter: code_verifier",
        ));
    };
    if !well_formed(verifier) {
        return Err(OAuthError::invalid_grant(
            "PKCE verification failed: Invalid code verifier (43-128 characters of A-Z a-z 0-9 - . _ ~)",
        ));
    }
    let computed = match method {
        Method::Plain => verifier.to_string(),
        Method::S256 => URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes())),
    };
    verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).map_err(|_| {
        OAuthError::invalid_grant(
            "PKCE verification failed: code_verifier does not match the code_challenge",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(challenge, Method::S256, Some(verifier)).is_ok());
        assert!(verify(challenge, Method::S256, Some(&verifier.replace('d', "e"))).is_err());
        assert!(verify(challenge, Method::S256, None).is_err());
        assert!(verify(verifier, Method::Plain, Some(verifier)).is_ok());
        assert_eq!(Method::parse(Some("S512")), None);
    }
}
