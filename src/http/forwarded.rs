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
        // The embedded server says where a connection arrived in its data; under
        // `HttpServer` (the binary), the app's configuration says it.
        let (secure, local_addr) = match req.conn_data::<crate::embedded::Listener>() {
            Some(own) => (own.secure, own.addr),
            None => (req.app_config().secure(), req.app_config().local_addr()),
        };
        let own_scheme = if secure { "https" } else { "http" };
        let own_host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| usable_host(h))
            .map_or_else(|| local_addr.to_string(), str::to_string);
        if !self.trust {
            return Origin {
                scheme: own_scheme,
                host: own_host,
                prefix: String::new(),
            };
        }
        let (proto, host) = forwarded_proto_and_host(req);
        Origin {
            scheme: proto.map_or(own_scheme, |p| self.forwarded_scheme(p, own_scheme)),
            host: match host {
                Some(h) => self.forwarded_host(h, own_host),
                None => own_host,
            },
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

/// The scheme and host a proxy forwarded, read as actix's `ConnectionInfo` reads them: the
/// first `proto=` and `host=` of `Forwarded` (RFC 7239 §4), else the first value of
/// `X-Forwarded-Proto` and `X-Forwarded-Host`. Not `ConnectionInfo` itself: where there is
/// none, it falls back to the app's configuration, which the embedded server leaves default.
fn forwarded_proto_and_host(req: &HttpRequest) -> (Option<&str>, Option<&str>) {
    let (mut proto, mut host) = (None, None);
    let pairs = req
        .headers()
        .get_all(header::FORWARDED)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|pair| pair.trim().split_once('='));
    for (name, value) in pairs {
        let value = value.trim().trim_matches('"');
        match name.trim() {
            n if n.eq_ignore_ascii_case("proto") => _ = proto.get_or_insert(value),
            n if n.eq_ignore_ascii_case("host") => _ = host.get_or_insert(value),
            _ => {}
        }
    }
    let first = |name: &str| {
        let value = req.headers().get(name)?.to_str().ok()?;
        value.split(',').next().map(str::trim)
    };
    (
        proto.or_else(|| first("x-forwarded-proto")),
        host.or_else(|| first("x-forwarded-host")),
    )
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
    fn forwarded_wins_over_x_forwarded_and_the_first_value_counts() {
        let req = |headers: &[(&str, &str)]| {
            let mut r = actix_web::test::TestRequest::default();
            for h in headers {
                r = r.insert_header(*h);
            }
            r.to_http_request()
        };
        let both = req(&[
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"a.test:8443\", for=5.6.7.8;host=b",
            ),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "c.test"),
        ]);
        assert_eq!(
            forwarded_proto_and_host(&both),
            (Some("https"), Some("a.test:8443"))
        );
        let x = req(&[
            ("x-forwarded-proto", "https, http"),
            ("x-forwarded-host", "c.test"),
        ]);
        assert_eq!(
            forwarded_proto_and_host(&x),
            (Some("https"), Some("c.test"))
        );
        assert_eq!(forwarded_proto_and_host(&req(&[])), (None, None));
    }

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
