//! `GET` and `DELETE /journal`: the requests the issuers answered, filtered, and a wait for the
//! next matching one.

use actix_web::{HttpRequest, web};
use serde_json::json;

use super::{Answer, Routes, bad_request, no_content, ok};
use crate::engine::Engine;
use crate::engine::control::JournalEntry;

/// Longest `GET /_mockidp/journal?wait=` hold.
const MAX_WAIT_SECS: u64 = 300;

pub fn routes(cfg: &mut Routes) {
    cfg.at("/journal").get(read).delete(clear);
}

/// The entries the query selects; with `wait=SECONDS`, held until there is one.
async fn read(engine: web::Data<Engine>, req: HttpRequest) -> Answer {
    let query = req.query_string();
    let Some((_, wait)) = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "wait")
    else {
        return ok(json!(entries(&engine, query)));
    };
    match wait.parse::<u64>() {
        Ok(secs) if secs <= MAX_WAIT_SECS => ok(json!(await_entries(&engine, query, secs).await)),
        _ => Err(bad_request(format!(
            "wait is a whole number of seconds, at most {MAX_WAIT_SECS}"
        ))),
    }
}

async fn clear(engine: web::Data<Engine>) -> Answer {
    engine.control.clear_journal();
    no_content()
}

/// Journal entries filtered by the query (`issuer`, `client_id`, `grant_type`, `endpoint`,
/// `outcome`, `after`: newer than that `seq`, `limit`: the newest `limit`; `wait` is
/// [`await_entries`]'s).
pub fn entries(engine: &Engine, query: &str) -> Vec<JournalEntry> {
    let q: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let want = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let after = want("after").and_then(|a| a.parse::<u64>().ok());
    let mut entries = engine.control.journal(|e| {
        want("issuer").is_none_or(|v| e.issuer.as_deref() == Some(v))
            && want("client_id").is_none_or(|v| e.client_id.as_deref() == Some(v))
            && want("grant_type").is_none_or(|v| e.grant_type.as_deref() == Some(v))
            && want("endpoint").is_none_or(|v| e.endpoint.as_deref() == Some(v))
            && want("outcome").is_none_or(|v| e.outcome == v)
            && after.is_none_or(|a| e.seq > a)
    });
    if let Some(limit) = want("limit").and_then(|l| l.parse::<usize>().ok()) {
        let skip = entries.len().saturating_sub(limit);
        entries.drain(..skip);
    }
    entries
}

/// The journal entries the query selects, as soon as there is one, or none after `secs`
/// seconds. The request waits on the runtime (a `Notify` woken by each new entry), never
/// blocking a worker thread.
async fn await_entries(engine: &Engine, query: &str, secs: u64) -> Vec<JournalEntry> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let next = engine.control.next_entry();
        let mut next = std::pin::pin!(next);
        next.as_mut().enable();
        let entries = entries(engine, query);
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if !entries.is_empty() || left.is_zero() {
            return entries;
        }
        if actix_web::rt::time::timeout(left, next).await.is_err() {
            return Vec::new();
        }
    }
}
