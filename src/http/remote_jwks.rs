//! Fetching JWKS documents from the network, at the async HTTP edge: the engine never does I/O,
//! it is handed the document (issue 13). Used for trusted issuers' `jwks_url` (token exchange);
//! made to serve clients' `jwks_url` (private_key_jwt) the same way:
//!
//! ```ignore
//! let jwks: Arc<Value> = edge.jwks.get(&source, kid).await?;
//! ```
//!
//! `https://` goes through rustls with the webpki roots, plus the source's own CA file if it
//! has one. Each fetch is bounded (connect and total timeouts, body size); documents are cached
//! per source, failures briefly too; a `kid` the cached document lacks triggers one refetch
//! (key rotation), at most every [`REFETCH_SECS`]. Concurrent requests for one source wait,
//! without holding a worker thread, for a single fetch and share its result.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::engine::trust::JwksSource;

/// How long a fetched document is reused.
pub const CACHE_SECS: u64 = 300;
/// How long a failed fetch is remembered (a dead URL costs one timeout per few seconds).
pub const FAILURE_SECS: u64 = 5;
/// The shortest time between two fetches of one source for an unknown `kid`.
pub const REFETCH_SECS: u64 = 10;
/// The time a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole time one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest document read.
pub const MAX_BODY: usize = 1024 * 1024;
/// Sources cached at most (each trusted issuer or client with a `jwks_url` is one).
pub const MAX_SOURCES: usize = 256;

/// A document, or why it could not be had.
pub type Fetched = Result<Arc<Value>, String>;

/// The last fetch of one source.
struct Last {
    at: Instant,
    result: Fetched,
}

/// JWKS documents by source, fetched on demand.
#[derive(Default)]
pub struct RemoteJwks {
    /// One slot per source; its async lock is held during a fetch.
    slots: Mutex<HashMap<JwksSource, Arc<tokio::sync::Mutex<Option<Last>>>>>,
    /// One HTTP client per CA file (`None`: the webpki roots only), reusing connections.
    clients: Mutex<HashMap<Option<PathBuf>, http_client::Client>>,
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteJwks").finish_non_exhaustive()
    }
}

impl RemoteJwks {
    /// The JWKS document of `source`: cached while fresh, fetched when stale or when it has
    /// no key named `kid`.
    pub async fn get(&self, source: &JwksSource, kid: Option<&str>) -> Fetched {
        let slot = self.slot(source);
        let mut last = slot.lock().await;
        if let Some(l) = &*last
            && !must_fetch(l, kid)
        {
            return l.result.clone();
        }
        let result = self.fetch(source).await;
        if let Err(why) = &result {
            tracing::info!(
                url = source.url.as_str(),
                reason = why.as_str(),
                "JWKS fetch failed"
            );
        }
        *last = Some(Last {
            at: Instant::now(),
            result: result.clone(),
        });
        result
    }

    fn slot(&self, source: &JwksSource) -> Arc<tokio::sync::Mutex<Option<Last>>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = slots.get(source) {
            return slot.clone();
        }
        if slots.len() >= MAX_SOURCES {
            // Sources are configuration, so this only happens when clients come and go at
            // runtime: forget the idle ones.
            slots.retain(|_, s| Arc::strong_count(s) > 1);
        }
        slots.entry(source.clone()).or_default().clone()
    }

    fn client(&self, source: &JwksSource) -> Result<http_client::Client, String> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&source.ca_file) {
            return Ok(c.clone());
        }
        let tls = crate::tls::client_config(&source.ca_certs)?;
        let client = http_client::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .redirect(http_client::redirect::Policy::none())
            .user_agent(concat!("mockidp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        clients.insert(source.ca_file.clone(), client.clone());
        Ok(client)
    }

    async fn fetch(&self, source: &JwksSource) -> Fetched {
        let url = &source.url;
        let fail = |why: String| format!("fetching {url}: {why}");
        let client = self.client(source).map_err(fail)?;
        let mut resp = client
            .get(url)
            .header(http_client::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| fail(describe(&e)))?;
        if resp.status() != http_client::StatusCode::OK {
            return Err(fail(format!("HTTP {}", resp.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(describe(&e)))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(fail(format!("the document is over {MAX_BODY} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body)
            .map(Arc::new)
            .map_err(|_| fail("the body is not JSON".into()))
    }
}

/// Whether `last` cannot answer: stale, a failure past its short memory, or lacking `kid`.
fn must_fetch(last: &Last, kid: Option<&str>) -> bool {
    let age = last.at.elapsed().as_secs();
    match &last.result {
        Err(_) => age >= FAILURE_SECS,
        Ok(_) if age >= CACHE_SECS => true,
        Ok(doc) => kid.is_some_and(|k| !has_kid(doc, k)) && age >= REFETCH_SECS,
    }
}

fn has_kid(doc: &Value, kid: &str) -> bool {
    doc["keys"]
        .as_array()
        .is_some_and(|keys| keys.iter().any(|k| k["kid"].as_str() == Some(kid)))
}

/// A fetch error in a few words, with its cause (reqwest's own message omits it).
fn describe(e: &http_client::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        e.to_string()
    };
    let mut cause = std::error::Error::source(e);
    let mut out = what;
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    crate::error::clipped(&out, 300)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(age_secs: u64, result: Fetched) -> Last {
        Last {
            at: Instant::now() - Duration::from_secs(age_secs),
            result,
        }
    }

    #[test]
    fn cached_documents_are_reused_until_stale_or_lacking_a_kid() {
        let doc: Fetched = Ok(Arc::new(serde_json::json!({"keys": [{"kid": "k1"}]})));
        assert!(!must_fetch(&last(0, doc.clone()), Some("k1")));
        assert!(!must_fetch(&last(CACHE_SECS - 1, doc.clone()), None));
        assert!(must_fetch(&last(CACHE_SECS, doc.clone()), Some("k1")));
        // An unknown kid (a rotated key) refetches, but not more often than REFETCH_SECS.
        assert!(!must_fetch(&last(1, doc.clone()), Some("k2")));
        assert!(must_fetch(&last(REFETCH_SECS, doc), Some("k2")));
        // Failures are remembered briefly.
        assert!(!must_fetch(&last(1, Err("down".into())), None));
        assert!(must_fetch(&last(FAILURE_SECS, Err("down".into())), None));
    }
}
