//! Form parameters of a request, with RFC 6749 §3.1's rules applied once: no parameter may
//! appear twice, and an empty value counts as absent.

use crate::error::{OAuthError, clipped};

/// Decoded `application/x-www-form-urlencoded` parameters, free of duplicates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(Vec<(String, String)>);

/// The one field a page's form repeats (no OAuth parameter): IdentityServer3's consent page
/// posts a `scopes` per ticked checkbox. Its values are joined by spaces.
const LIST: &str = "scopes";

impl Params {
    /// Parses a form body or query string. A repeated name is `invalid_request` (RFC 6749 §3.1:
    /// "Request and response parameters MUST NOT be included more than once"), but for
    /// [`LIST`].
    pub(crate) fn parse(form: &[u8]) -> Result<Self, OAuthError> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Nameless pairs (`&&`, `=x`) carry nothing: skipped, as form parsers do.
        for (k, v) in form_urlencoded::parse(form).filter(|(k, _)| !k.is_empty()) {
            if k == LIST
                && let Some((_, list)) = out.iter_mut().find(|(name, _)| name == LIST)
            {
                list.push(' ');
                list.push_str(&v);
                continue;
            }
            if !seen.insert(k.clone()) {
                return Err(OAuthError::invalid_request(format!(
                    "duplicated parameter: {}",
                    clipped(&k, 100)
                )));
            }
            out.push((k.into_owned(), v.into_owned()));
        }
        Ok(Self(out))
    }

    /// The value of `name`, treating an empty value as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of a required parameter, or `invalid_request` naming it.
    pub(crate) fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("Missing parameter: {name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_refused_and_empty_is_absent() {
        assert!(Params::parse(b"a=1&a=2").is_err());
        assert!(Params::parse(b"&&=&=x&a=1").is_ok_and(|p| p.get("a") == Some("1")));
        let p = Params::parse(b"scopes=a&scopes=b&c=1").unwrap();
        assert_eq!(p.get("scopes"), Some("a b"));
        let p = Params::parse(b"a=&b=x%20y+z").unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x y z"));
    }
}
