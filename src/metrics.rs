//! Counters for `/_mockidp/metrics`: requests by issuer, endpoint and outcome, tokens issued by
//! issuer (hence dialect) and grant, and a latency histogram per issuer and endpoint.
//!
//! The token endpoint is the hot path (it runs near the machine's RSA signing limit), so
//! recording is a few relaxed atomic additions into tables laid out when the server starts:
//! no lock, no allocation, no map. Labels are looked up in short static lists; what is not in
//! them counts as `other`. The text is built only when scraped.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Issuers given their own series; more (a large realm import) share the `other` row.
const MAX_ISSUERS: usize = 64;

/// Endpoint labels: the dialects' endpoints (see `dialect::Endpoint::name`), then resources and
/// home pages, then requests that reached no endpoint (unknown paths).
const ENDPOINTS: &[&str] = &[
    "discovery",
    "jwks",
    "token",
    "authorize",
    "login",
    "userinfo",
    "logout",
    "introspect",
    "revoke",
    "device_authorization",
    "device_verify",
    "issuer_info",
    "page",
    "session_status_init",
    "resource",
    "home",
    "none",
];

/// Outcome labels: `ok`, the OAuth error codes clients receive (RFC 6749 §5.2, RFC 6750 §3.1,
/// RFC 8628 §3.5, OIDC Core §3.1.2.6, RFC 7009 §2.2.1), what the admin API injects, and bare HTTP
/// statuses of answers without an error code.
const OUTCOMES: &[&str] = &[
    "ok",
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_response_type",
    "unsupported_token_type",
    "login_required",
    "request_not_supported",
    "request_uri_not_supported",
    "invalid_token",
    "insufficient_scope",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "device_not_found",
    "server_error",
    "temporarily_unavailable",
    "injected_failure",
    "dropped",
    "http_400",
    "http_401",
    "http_403",
    "http_404",
    "http_405",
    "http_413",
    "http_415",
    "http_500",
    "other",
];

/// Grant labels (`grant_type` values, RFC 6749 §4, RFC 8628 §3.4, RFC 8693 §2.1, and
/// `implicit`, RFC 6749 §4.2).
const GRANTS: &[&str] = &[
    "client_credentials",
    "authorization_code",
    "refresh_token",
    "password",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    // Tokens from the authorization endpoint (implicit and hybrid flows).
    "implicit",
    "other",
];

/// Upper bounds of the latency buckets, in microseconds (the last, `+Inf`, is implicit).
const BUCKETS_US: &[u64] = &[
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];

/// Where `label` sits in `labels`, or the last slot (`other`, `none`).
fn slot(labels: &[&str], label: &str) -> usize {
    labels
        .iter()
        .position(|l| *l == label)
        .unwrap_or(labels.len() - 1)
}

fn counters(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The counters of one server. Issuers are numbered in the order the fixtures list them: the
/// set of issuer names is fixed at start (runtime changes edit clients and users, resets reload
/// the same fixtures).
pub struct Metrics {
    /// Issuer names, then one row for requests that matched none (or beyond [`MAX_ISSUERS`]).
    issuers: Vec<String>,
    /// issuer × endpoint × outcome.
    requests: Box<[AtomicU64]>,
    /// issuer × grant.
    tokens: Box<[AtomicU64]>,
    /// issuer × endpoint × (buckets, +Inf, sum in µs).
    latency: Box<[AtomicU64]>,
}

/// Slots per latency series: every bucket, `+Inf`, and the sum.
const LATENCY_SLOTS: usize = BUCKETS_US.len() + 2;

impl Metrics {
    pub fn new<'a>(issuer_names: impl IntoIterator<Item = &'a str>) -> Self {
        let issuers: Vec<String> = issuer_names
            .into_iter()
            .take(MAX_ISSUERS)
            .map(String::from)
            .collect();
        let rows = issuers.len() + 1;
        Self {
            requests: counters(rows * ENDPOINTS.len() * OUTCOMES.len()),
            tokens: counters(rows * GRANTS.len()),
            latency: counters(rows * ENDPOINTS.len() * LATENCY_SLOTS),
            issuers,
        }
    }

    fn issuer_slot(&self, issuer: Option<&str>) -> usize {
        issuer
            .and_then(|name| self.issuers.iter().position(|i| i == name))
            .unwrap_or(self.issuers.len())
    }

    /// One answered request.
    pub fn request(
        &self,
        issuer: Option<&str>,
        endpoint: Option<&str>,
        outcome: &str,
        took: Duration,
    ) {
        let i = self.issuer_slot(issuer);
        let e = slot(ENDPOINTS, endpoint.unwrap_or("none"));
        let o = slot(OUTCOMES, outcome);
        if let Some(c) = self
            .requests
            .get((i * ENDPOINTS.len() + e) * OUTCOMES.len() + o)
        {
            add(c, 1);
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let b = BUCKETS_US
            .iter()
            .position(|limit| us <= *limit)
            .unwrap_or(BUCKETS_US.len());
        let base = (i * ENDPOINTS.len() + e) * LATENCY_SLOTS;
        if let (Some(bucket), Some(sum)) = (
            self.latency.get(base + b),
            self.latency.get(base + LATENCY_SLOTS - 1),
        ) {
            add(bucket, 1);
            add(sum, us);
        }
    }

    /// One token response (access token and whatever came with it) for `grant_type`.
    pub fn token_issued(&self, issuer: &str, grant_type: &str) {
        let i = self.issuer_slot(Some(issuer));
        if let Some(c) = self.tokens.get(i * GRANTS.len() + slot(GRANTS, grant_type)) {
            add(c, 1);
        }
    }

    /// Prometheus' text exposition format (version 0.0.4). `dialect_of` names an issuer's
    /// dialect; `stores` are the stores' sizes, by name. Counters that never moved are left out.
    pub fn render(
        &self,
        dialect_of: impl Fn(&str) -> Option<&'static str>,
        stores: &[(&str, u64)],
    ) -> String {
        let mut out = String::new();
        let issuer_label = |i: usize| self.issuers.get(i).map_or("other", String::as_str);
        family(
            &mut out,
            "mockidp_requests_total",
            "counter",
            "Requests answered (admin API calls aside), by issuer, endpoint and outcome (ok, or the OAuth error code sent).",
        );
        for (n, c) in self.requests.iter().enumerate() {
            let v = read(c);
            if v == 0 {
                continue;
            }
            let (rest, o) = (n / OUTCOMES.len(), n % OUTCOMES.len());
            let (i, e) = (rest / ENDPOINTS.len(), rest % ENDPOINTS.len());
            let _ = writeln!(
                out,
                "mockidp_requests_total{{issuer=\"{}\",endpoint=\"{}\",outcome=\"{}\"}} {v}",
                escape(issuer_label(i)),
                ENDPOINTS[e],
                OUTCOMES[o]
            );
        }
        family(
            &mut out,
            "mockidp_tokens_issued_total",
            "counter",
            "Successful token responses, by issuer, its dialect and the grant.",
        );
        for (n, c) in self.tokens.iter().enumerate() {
            let v = read(c);
            if v == 0 {
                continue;
            }
            let (i, g) = (n / GRANTS.len(), n % GRANTS.len());
            let issuer = issuer_label(i);
            let _ = writeln!(
                out,
                "mockidp_tokens_issued_total{{issuer=\"{}\",dialect=\"{}\",grant=\"{}\"}} {v}",
                escape(issuer),
                dialect_of(issuer).unwrap_or("other"),
                GRANTS[g]
            );
        }
        self.render_latency(&mut out, issuer_label);
        family(
            &mut out,
            "mockidp_store_entries",
            "gauge",
            "Entries held by each in-memory store (expired ones until purged) and the journal.",
        );
        for (store, n) in stores {
            let _ = writeln!(out, "mockidp_store_entries{{store=\"{store}\"}} {n}");
        }
        out
    }

    fn render_latency<'a>(&'a self, out: &mut String, issuer_label: impl Fn(usize) -> &'a str) {
        const NAME: &str = "mockidp_request_duration_seconds";
        family(
            out,
            NAME,
            "histogram",
            "Time from the request's arrival to its answer, by issuer and endpoint.",
        );
        for (n, series) in self.latency.chunks(LATENCY_SLOTS).enumerate() {
            let (i, e) = (n / ENDPOINTS.len(), n % ENDPOINTS.len());
            let counts: Vec<u64> = series[..LATENCY_SLOTS - 1].iter().map(read).collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let labels = format!(
                "issuer=\"{}\",endpoint=\"{}\"",
                escape(issuer_label(i)),
                ENDPOINTS[e]
            );
            let mut cumulative = 0;
            for (b, count) in counts.iter().enumerate() {
                cumulative += count;
                let le = BUCKETS_US
                    .get(b)
                    .map_or("+Inf".to_string(), |us| seconds(*us));
                let _ = writeln!(out, "{NAME}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let sum = seconds(read(&series[LATENCY_SLOTS - 1]));
            let _ = writeln!(out, "{NAME}_sum{{{labels}}} {sum}");
            let _ = writeln!(out, "{NAME}_count{{{labels}}} {total}");
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Microseconds as seconds, exactly (`0.00025`).
fn seconds(us: u64) -> String {
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A label value as the exposition format writes it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_series_and_render_as_prometheus_text() {
        let m = Metrics::new(["iopole", "we\"ird"]);
        m.request(
            Some("iopole"),
            Some("token"),
            "ok",
            Duration::from_micros(300),
        );
        m.request(
            Some("iopole"),
            Some("token"),
            "invalid_client",
            Duration::from_millis(2),
        );
        m.request(None, None, "http_404", Duration::from_secs(3));
        m.request(Some("we\"ird"), Some("jwks"), "ok", Duration::ZERO);
        m.token_issued("iopole", "client_credentials");
        m.token_issued("iopole", "made_up");
        let text = m.render(|i| (i == "iopole").then_some("keycloak"), &[("codes", 3)]);
        for line in [
            r#"mockidp_requests_total{issuer="iopole",endpoint="token",outcome="ok"} 1"#,
            r#"mockidp_requests_total{issuer="iopole",endpoint="token",outcome="invalid_client"} 1"#,
            r#"mockidp_requests_total{issuer="other",endpoint="none",outcome="http_404"} 1"#,
            r#"mockidp_requests_total{issuer="we\"ird",endpoint="jwks",outcome="ok"} 1"#,
            r#"mockidp_tokens_issued_total{issuer="iopole",dialect="keycloak",grant="client_credentials"} 1"#,
            r#"mockidp_tokens_issued_total{issuer="iopole",dialect="keycloak",grant="other"} 1"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="iopole",endpoint="token",le="0.00025"} 0"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="iopole",endpoint="token",le="0.0005"} 1"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="iopole",endpoint="token",le="0.0025"} 2"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="iopole",endpoint="token",le="+Inf"} 2"#,
            r#"mockidp_request_duration_seconds_sum{issuer="iopole",endpoint="token"} 0.0023"#,
            r#"mockidp_request_duration_seconds_count{issuer="iopole",endpoint="token"} 2"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="other",endpoint="none",le="1"} 0"#,
            r#"mockidp_request_duration_seconds_bucket{issuer="other",endpoint="none",le="+Inf"} 1"#,
            "# TYPE mockidp_request_duration_seconds histogram",
            r#"mockidp_store_entries{store="codes"} 3"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(
            !text.contains("outcome=\"slow_down\""),
            "unmoved series are left out"
        );
    }

    #[test]
    fn endpoint_labels_follow_the_dialects_endpoints() {
        for e in crate::dialect::Endpoint::ALL {
            assert!(
                ENDPOINTS.contains(&e.name()),
                "{} has no metrics label",
                e.name()
            );
        }
    }
}
