//! Recording each request in the admin journal. Handlers annotate the request as they learn
//! who called and how it ended; only ids, grant types and error codes are kept, never secrets,
//! codes or tokens, and never the query string.

use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::engine::Engine;
use crate::engine::control::{JournalEntry, TokenContents};
use crate::engine::issue::Issued;
use crate::error::{ErrorReply, OAuthError, clipped};

/// What a request turned out to be, filled in along the way.
#[derive(Debug, Clone, Default)]
pub struct Note {
    issuer: Option<String>,
    endpoint: Option<&'static str>,
    client_id: Option<String>,
    grant_type: Option<String>,
    error: Option<String>,
    tokens: Vec<TokenContents>,
}

impl Note {
    pub fn at(&mut self, issuer: &str, endpoint: &'static str) {
        self.issuer = Some(issuer.to_string());
        self.endpoint = Some(endpoint);
    }

    pub fn client(&mut self, client_id: Option<&str>, grant_type: Option<&str>) {
        self.client_id = client_id.map(clip);
        self.grant_type = grant_type.map(clip);
    }

    /// A failure queued through the admin API answered instead.
    pub fn injected(&mut self, dropped: bool) {
        self.error = Some(String::from(if dropped {
            "dropped"
        } else {
            "injected_failure"
        }));
    }

    /// The JWTs of a token response, as header and claims (never the tokens).
    pub fn issued(&mut self, issued: &Issued) {
        let tokens = [
            ("access_token", Some(&issued.access_token)),
            ("id_token", issued.id_token.as_ref()),
        ];
        self.tokens = tokens
            .into_iter()
            .filter_map(|(kind, token)| TokenContents::of(kind, token?))
            .collect();
    }

    pub fn failed(&mut self, err: &OAuthError) {
        self.error = Some(err.code.as_str().to_string());
    }

    /// The error code as the client received it (a dialect may reword the engine's).
    pub fn sent(&mut self, reply: &ErrorReply) {
        if let Some(code) = reply
            .body
            .as_ref()
            .and_then(|b| b.get("error"))
            .and_then(|e| e.as_str())
        {
            self.error = Some(code.to_string());
        }
    }
}

/// Journal fields come from requests: kept short, so the journal's memory stays bounded.
fn clip(s: &str) -> String {
    clipped(s, 200)
}

/// Updates the request's note.
pub fn note(req: &HttpRequest, f: impl FnOnce(&mut Note)) {
    let mut ext = req.extensions_mut();
    if ext.get::<Note>().is_none() {
        ext.insert(Note::default());
    }
    if let Some(n) = ext.get_mut::<Note>() {
        f(n);
    }
}

/// Appends the finished request to the journal and counts it in the metrics.
pub fn record(
    engine: &Engine,
    req: &HttpRequest,
    path: &str,
    resp: &HttpResponse,
    took: std::time::Duration,
) {
    let n = req.extensions_mut().remove::<Note>().unwrap_or_default();
    let status = resp.status().as_u16();
    let outcome = match n.error {
        Some(code) => code,
        None if status < 400 => "ok".to_string(),
        None => format!("http_{status}"),
    };
    engine
        .metrics
        .request(n.issuer.as_deref(), n.endpoint, &outcome, took);
    engine.control.record(JournalEntry {
        seq: 0,
        time: engine.clock.now(),
        method: req.method().to_string(),
        path: clip(path),
        issuer: n.issuer,
        endpoint: n.endpoint.map(String::from),
        client_id: n.client_id,
        grant_type: n.grant_type,
        status,
        outcome,
        tokens: n.tokens,
    });
}

/// Keycloak's admin REST API asked for an e-mail (`execute-actions-email`,
/// `send-verify-email`): mockidp sends none, and records the request instead so that a test
/// can see it was made.
pub fn record_unsent_email(engine: &Engine, req: &HttpRequest, issuer: &str, endpoint: &str) {
    engine.control.record(JournalEntry {
        seq: 0,
        time: engine.clock.now(),
        method: req.method().to_string(),
        path: clip(req.path()),
        issuer: Some(issuer.to_string()),
        endpoint: Some(endpoint.to_string()),
        client_id: None,
        grant_type: None,
        status: 204,
        outcome: "email_not_sent".to_string(),
        tokens: Vec::new(),
    });
}
