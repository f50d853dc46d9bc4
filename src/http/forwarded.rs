//! What a reverse proxy's headers (`Forwarded`, `X-Forwarded-Proto`/`-Host`/`-Prefix`) may
//! change in the URLs mockidp writes: the scheme, the host and port, and a path prefix that is
//! a plain absolute path. Anything else is ignored (and logged the first time), so that no
//! header can turn an issuer URL or a post-login redirect into `//evil.test/...`. With
//! `trust_forwarded = false` they are ignored entirely, as a real product does unless told
//! to trust a proxy (Keycloak's `proxy-headers` option is off by default).

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::clipped;

/// Whether forwarded headers count, and whether an ignored one was already logged.
#[derive(Debug)]
pub struct ForwardedPolicy {
    trust: bool,
    warned: AtomicBool,
}

/// Where the caller thinks this server is: `scheme://host` and the proxy's path prefix.
pub struct Origin {
    pub scheme: &'static str,
    pub host: String,
    pub prefix: String,
}

impl ForwardedPolicy {
    pub fn new(trust: bool) -> Self {
        Self {
            trust,
            warned: AtomicBool::new(false),
        }
    }

    /// The scheme, host and prefix the caller sees this server at.
    pub fn origin(&self, req: &HttpRequest) -> Origin {
        let own_scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let own_host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| usable_host(h))
            .map_or_else(|| req.app_config().local_addr().to_string(), str::to_string);
        if !self.trust {
            return Origin {
                scheme: own_scheme,
                host: own_host,
                prefix: String::new(),
            };
        }
        let info = req.connection_info();
        Origin {
            scheme: self.forwarded_scheme(info.scheme(), own_scheme),
            host: self.forwarded_host(info.host(), own_host),
            prefix: self.forwarded_prefix(req).to_string(),
        }
    }

    /// The forwarded scheme if it is `http` or `https`, else ours.
    fn forwarded_scheme(&self, forwarded: &str, own: &'static str) -> &'static str {
        match forwarded {
            s if s.eq_ignore_ascii_case("https") => "https",
            s if s.eq_ignore_ascii_case("http") => "http",
            other => {
                self.ignored("forwarded scheme", other);
                own
            }
        }
    }

    /// The forwarded host if it is a plain `host[:port]`, else ours.
    fn forwarded_host(&self, forwarded: &str, own: String) -> String {
        if usable_host(forwarded) {
            forwarded.to_string()
        } else {
            self.ignored("forwarded host", forwarded);
            own
        }
    }

    /// `X-Forwarded-Prefix` without its trailing slash, if it is a plain absolute path.
    fn forwarded_prefix<'a>(&self, req: &'a HttpRequest) -> &'a str {
        match req
            .headers()
            .get("x-forwarded-prefix")
            .map(|v| v.to_str().map(|p| p.trim_end_matches('/')))
        {
            None => "",
            Some(Ok(p)) if p.is_empty() || plain_path(p) => p,
            Some(Ok(p)) => {
                self.ignored("X-Forwarded-Prefix", p);
                ""
            }
            Some(Err(_)) => {
                self.ignored("X-Forwarded-Prefix", "(not ASCII)");
                ""
            }
        }
    }

    /// Logs the first ignored header of this server; the next ones would only repeat it.
    fn ignored(&self, what: &str, value: &str) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                header = what,
                value = ?clipped(value, 100),
                "forwarded header ignored: only a scheme (http, https), a host[:port] and a \
                 plain absolute path prefix (/x/y) are taken; further ignored headers are not logged"
            );
        }
    }
}

/// A host, optionally with a port: letters, digits, `-._:` and IPv6 brackets only.
fn usable_host(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

/// A plain absolute path (`/x/y`): one leading slash, no `//`, no `\`, no scheme, no query or
/// fragment, no control character or space: what a browser can only read as a path on this
/// host (RFC 3986 §4.2: `//host` is a network-path reference; browsers treat `\` as `/`).
pub fn plain_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.contains("//")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@%".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_pass() {
        for good in ["/x", "/x/y", "/auth", "/a-b_c.d~e/%20"] {
            assert!(plain_path(good), "{good}");
        }
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "x/y",
            "https://evil.test",
            "/a//b",
            "/a\r\nb",
            "/a b",
            "/a?b",
            "/a#b",
            "",
        ] {
            assert!(!plain_path(bad), "{bad:?}");
        }
    }
}
