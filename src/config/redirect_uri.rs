//! Redirect URIs: which ones a client may register (RFC 9700 §4.1, Keycloak's refusals) and
//! which requested URIs match them (exact, or Keycloak's trailing `*` wildcard).

use super::ClientConfig;

impl ClientConfig {
    /// Whether `uri` is one of the registered redirect URIs (exact, or a `*` prefix pattern).
    pub fn redirect_uri_registered(&self, uri: &str) -> bool {
        uri_registered(&self.redirect_uris, uri)
    }

    /// Whether logout may redirect to `uri`.
    pub fn post_logout_uri_registered(&self, uri: &str) -> bool {
        uri_registered(
            self.post_logout_redirect_uris
                .as_ref()
                .unwrap_or(&self.redirect_uris),
            uri,
        )
    }
}

/// Why `uri` cannot be registered as a redirect URI, if it cannot: it must be absolute, with a
/// scheme a browser hands a code to an application through (a web URL or an app's own scheme),
/// never one that runs script in the IdP's page; it must hold no control character or space
/// (RFC 3986 §2: they would split a `Location` header or a page, and no browser sends them);
/// and a wildcard must not stand for the host (`http://*`, `https://*`, `*`): a catch-all sends
/// codes anywhere, the open redirect of RFC 9700 §4.1.
pub(super) fn redirect_uri_refusal(uri: &str) -> Option<&'static str> {
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Some("contains a control character or a space (CR, LF, tab...): remove it");
    }
    let not_absolute = "is not an absolute URI an application can receive a code at \
                        (javascript:, data: and the like are refused, as Keycloak does)";
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Some(not_absolute);
    };
    let scheme = scheme.to_ascii_lowercase();
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !["javascript", "data", "vbscript", "file", "about", "blob"].contains(&scheme.as_str());
    if !scheme_ok {
        return Some(not_absolute);
    }
    let catch_all = uri.ends_with('*')
        && match rest.strip_prefix("//") {
            Some(authority) => authority.trim_end_matches('*').is_empty(),
            None => rest.trim_start_matches('/') == "*",
        };
    catch_all.then_some(
        "is a catch-all: a wildcard may only follow a host (http://localhost:3000/*), \
         never stand for it",
    )
}

/// `scheme://host[:port]` of a URL (of a registered redirect URI, wildcard included): what
/// browsers send as `Origin`, and what Keycloak lists in `allowed-origins`.
pub fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host_len = rest.find(['/', '?', '#', '*']).unwrap_or(rest.len());
    (host_len > 0).then(|| &url[..scheme.len() + 3 + host_len])
}

fn uri_registered(registered: &[String], uri: &str) -> bool {
    // RFC 6749 §3.1.2: no fragment; and nothing that could split a Location header.
    if uri.contains('#') || !uri.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return false;
    }
    registered.iter().any(|r| match r.strip_suffix('*') {
        // A wildcard right after the host must not let the host itself grow
        // (`http://localhost:8080*` does not match `http://localhost:8080.evil.test`); and
        // `http://app/*` also takes `http://app`, as Keycloak does.
        Some(prefix) => {
            uri.strip_prefix(prefix).is_some_and(|rest| {
                let has_path = prefix
                    .split_once("://")
                    .is_some_and(|(_, after)| after.contains('/'));
                has_path || rest.is_empty() || rest.starts_with(['/', '?'])
            }) || (prefix.ends_with('/') && uri == prefix.trim_end_matches('/'))
        }
        None => r == uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, DialectKind, IssuerConfig};

    #[test]
    fn redirect_uris_refuse_script_schemes_and_wildcards_take_the_bare_origin() {
        for bad in [
            "javascript:alert(1)//",
            "JavaScript:x",
            "data:text/html,x",
            "nocolon",
        ] {
            assert!(redirect_uri_refusal(bad).is_some(), "{bad}");
        }
        for good in [
            "http://localhost:8080/cb",
            "https://app.test/",
            "com.example.app:/cb",
            "http://localhost:3000/*",
            "http://localhost:3000*",
        ] {
            assert_eq!(redirect_uri_refusal(good), None, "{good}");
        }
        let err = Config::from_toml(
            "[[issuer]]\nname='a'\ndialect='generic'\n[[issuer.client]]\nid='c'\n\
             grants=['authorization_code']\nredirect_uris=['javascript:alert(1)']\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("javascript:alert(1)"), "{err}");
        let registered = ["http://localhost:8080/*".to_string()];
        assert!(uri_registered(&registered, "http://localhost:8080"));
        assert!(uri_registered(&registered, "http://localhost:8080/cb"));
        assert!(!uri_registered(
            &registered,
            "http://localhost:8080.evil.test"
        ));
    }

    #[test]
    fn redirect_uris_refuse_control_characters_and_catch_alls() {
        for (bad, why) in [
            (
                "http://localhost:3000/cb\r\nSet-Cookie: x=1",
                "control character",
            ),
            ("http://localhost:3000/\u{7f}", "control character"),
            ("http://localhost:3000/a b", "control character"),
            ("http://*", "catch-all"),
            ("https://*", "catch-all"),
            ("HTTP://*", "catch-all"),
            ("*", "not an absolute URI"),
            ("myapp:*", "catch-all"),
        ] {
            let mut issuer = IssuerConfig::new("a", DialectKind::Generic);
            issuer.clients.push(ClientConfig::public("c", bad));
            let err = issuer.validate().unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("http://localhost:8080/cb?x"),
            Some("http://localhost:8080")
        );
        assert_eq!(
            origin_of("http://localhost:8080"),
            Some("http://localhost:8080")
        );
        assert_eq!(origin_of("https://a.test/*"), Some("https://a.test"));
        assert_eq!(origin_of("nope"), None);
    }
}
