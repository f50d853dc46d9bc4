//! Test control: what the admin API queues for the next tokens and requests (claim overrides,
//! token defects, endpoint failures) and the request journal. Rules are consumed in the order
//! they were queued; each applies to at most `count` matches.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which token of a response a rule applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TokenTarget {
    #[default]
    AccessToken,
    IdToken,
}

/// Whom a rule applies to: every field left out matches anything.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Target {
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) username: Option<String>,
}

impl Target {
    fn matches(&self, issuer: &str, client: &str, user: Option<&str>) -> bool {
        self.issuer.as_deref().is_none_or(|i| i == issuer)
            && self.client_id.as_deref().is_none_or(|c| c == client)
            && self.username.as_deref().is_none_or(|u| Some(u) == user)
    }
}

fn one() -> u32 {
    1
}

/// Claims to set (or, with `null`, remove) and header members to set, for the next tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Override {
    #[serde(flatten)]
    pub(crate) target: Target,
    #[serde(default)]
    pub(crate) token: TokenTarget,
    #[serde(default = "one")]
    pub(crate) count: u32,
    #[serde(default)]
    pub(crate) claims: Map<String, Value>,
    #[serde(default)]
    pub(crate) header: Map<String, Value>,
}

/// Ways to break the next token, so a test can prove its app rejects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DefectKind {
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    BadSignature,
    UnknownKid,
    AlgNone,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Defect {
    #[serde(flatten)]
    pub(crate) target: Target,
    pub(crate) defect: DefectKind,
    #[serde(default)]
    pub(crate) token: TokenTarget,
    #[serde(default = "one")]
    pub(crate) count: u32,
}

/// A failure for the next calls of an endpoint: a delay, an error status, or a dropped
/// connection.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Failure {
    pub(crate) issuer: Option<String>,
    /// Endpoint name: token, authorize, userinfo, jwks, discovery, introspect, revoke,
    /// device_authorization, logout, resource.
    pub(crate) endpoint: String,
    #[serde(default = "one")]
    pub(crate) count: u32,
    /// HTTP status to answer with (none: answer normally after `delay_ms`).
    pub(crate) status: Option<u16>,
    /// OAuth `error` code for the body (default `temporarily_unavailable`).
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
    #[serde(default)]
    pub(crate) delay_ms: u64,
    /// Close the connection without a complete answer.
    #[serde(default)]
    pub(crate) drop: bool,
}

/// One line of the request journal. Secrets, codes and tokens are never recorded: only the
/// path (no query), the client id and the grant type.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct JournalEntry {
    pub(crate) seq: u64,
    pub(crate) time: u64,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) issuer: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) grant_type: Option<String>,
    pub(crate) status: u16,
    /// `ok`, or the OAuth error code.
    pub(crate) outcome: String,
    /// The JWTs the answer carried, as header and claims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tokens: Vec<TokenContents>,
}

/// What an issued JWT says: its signed part only (base64url header and claims, without the
/// signature, so no verifier accepts it as a token), decoded to header and claims when the
/// journal is read, off the token endpoint's hot path.
#[derive(Debug, Clone)]
pub(crate) struct TokenContents {
    /// `access_token` or `id_token`.
    pub(crate) kind: &'static str,
    signed: Box<str>,
}

/// Longest signed part kept: the journal's memory stays bounded (10,000 × 16 KiB at worst).
const MAX_TOKEN_CONTENTS: usize = 16 * 1024;

impl TokenContents {
    /// The contents of `token`, if it is a compact JWS (opaque tokens are not).
    pub(crate) fn of(kind: &'static str, token: &str) -> Option<Self> {
        let (signed, _signature) = token.rsplit_once('.')?;
        (signed.len() <= MAX_TOKEN_CONTENTS && signed.contains('.')).then(|| Self {
            kind,
            signed: signed.into(),
        })
    }

    /// Decoded header and claims.
    pub(crate) fn decode(&self) -> Option<(Map<String, Value>, Map<String, Value>)> {
        crate::jwt::decode_unverified(&format!("{}.", self.signed))
    }
}

impl Serialize for TokenContents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (header, claims) = self.decode().unzip();
        serde_json::json!({"token": self.kind, "header": header, "claims": claims}).serialize(s)
    }
}

/// Journal length limit: the oldest entries go first.
const JOURNAL_CAPACITY: usize = 10_000;

/// Queued rules and the journal.
#[derive(Default)]
pub(crate) struct Control {
    overrides: Mutex<Vec<Override>>,
    defects: Mutex<Vec<Defect>>,
    failures: Mutex<Vec<Failure>>,
    journal: Mutex<(u64, VecDeque<JournalEntry>)>,
    /// Wakes the requests waiting for a journal entry (`GET /_mockidp/journal?wait=`).
    recorded: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Queued rules of one kind at most: a runaway test loop gets an error, not unbounded memory.
const MAX_RULES: usize = 1000;

/// Queues `rule`, which applies `count` times: at least once (the admin document's minimum;
/// a rule for 0 calls would sit in the queue and fail a call anyway).
fn push_bounded<T>(rules: &mut Vec<T>, rule: T, count: u32) -> Result<(), String> {
    if count == 0 {
        return Err("count must be at least 1".into());
    }
    if rules.len() >= MAX_RULES {
        return Err(format!(
            "{MAX_RULES} rules of this kind are already queued: reset or let them run out"
        ));
    }
    rules.push(rule);
    Ok(())
}

/// Removes and returns the first rule that `pick` selects, counting one use.
fn take_first<T: Clone>(
    rules: &mut Vec<T>,
    pick: impl Fn(&T) -> bool,
    count: impl Fn(&mut T) -> &mut u32,
) -> Option<T> {
    let i = rules.iter().position(pick)?;
    let rule = rules[i].clone();
    let left = count(&mut rules[i]);
    *left = left.saturating_sub(1);
    if *left == 0 {
        rules.remove(i);
    }
    Some(rule)
}

impl Control {
    pub(crate) fn push_override(&self, o: Override) -> Result<(), String> {
        let count = o.count;
        push_bounded(&mut lock(&self.overrides), o, count)
    }

    pub(crate) fn push_defect(&self, d: Defect) -> Result<(), String> {
        let count = d.count;
        push_bounded(&mut lock(&self.defects), d, count)
    }

    pub(crate) fn push_failure(&self, f: Failure) -> Result<(), String> {
        let count = f.count;
        push_bounded(&mut lock(&self.failures), f, count)
    }

    /// Every override queued for this token, each counted once.
    pub(crate) fn take_overrides(
        &self,
        token: TokenTarget,
        issuer: &str,
        client: &str,
        user: Option<&str>,
    ) -> Vec<Override> {
        let mut rules = lock(&self.overrides);
        let mut out = Vec::new();
        let mut i = 0;
        while i < rules.len() {
            if rules[i].token == token && rules[i].target.matches(issuer, client, user) {
                out.push(rules[i].clone());
                rules[i].count = rules[i].count.saturating_sub(1);
                if rules[i].count == 0 {
                    rules.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        out
    }

    pub(crate) fn take_defect(
        &self,
        token: TokenTarget,
        issuer: &str,
        client: &str,
        user: Option<&str>,
    ) -> Option<DefectKind> {
        take_first(
            &mut lock(&self.defects),
            |d| d.token == token && d.target.matches(issuer, client, user),
            |d| &mut d.count,
        )
        .map(|d| d.defect)
    }

    pub(crate) fn take_failure(&self, issuer: &str, endpoint: &str) -> Option<Failure> {
        take_first(
            &mut lock(&self.failures),
            |f| f.endpoint == endpoint && f.issuer.as_deref().is_none_or(|i| i == issuer),
            |f| &mut f.count,
        )
    }

    /// What is still queued.
    pub(crate) fn pending(&self) -> Value {
        serde_json::json!({
            "overrides": *lock(&self.overrides),
            "defects": *lock(&self.defects),
            "failures": *lock(&self.failures),
        })
    }

    pub(crate) fn record(&self, mut entry: JournalEntry) {
        let mut j = lock(&self.journal);
        j.0 += 1;
        entry.seq = j.0;
        if j.1.len() >= JOURNAL_CAPACITY {
            j.1.pop_front();
        }
        j.1.push_back(entry);
        drop(j);
        self.recorded.notify_waiters();
    }

    /// Resolves at the next recorded entry; create it before looking, so none is missed.
    pub(crate) fn next_entry(&self) -> tokio::sync::futures::Notified<'_> {
        self.recorded.notified()
    }

    /// Journal entries for which `keep` is true, oldest first.
    pub(crate) fn journal(&self, keep: impl Fn(&JournalEntry) -> bool) -> Vec<JournalEntry> {
        lock(&self.journal)
            .1
            .iter()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// Drops the queued rules of one kind (`overrides`, `defects`, `failures`); false for
    /// another name.
    pub(crate) fn clear_queue(&self, kind: &str) -> bool {
        match kind {
            "overrides" => lock(&self.overrides).clear(),
            "defects" => lock(&self.defects).clear(),
            "failures" => lock(&self.failures).clear(),
            _ => return false,
        }
        true
    }

    /// How many journal entries are kept.
    pub(crate) fn journal_len(&self) -> usize {
        lock(&self.journal).1.len()
    }

    pub(crate) fn clear_journal(&self) {
        lock(&self.journal).1.clear();
    }

    /// Drops every queued rule.
    pub(crate) fn clear_rules(&self) {
        for kind in ["overrides", "defects", "failures"] {
            self.clear_queue(kind);
        }
    }

    /// Drops every queued rule and the journal.
    pub(crate) fn clear(&self) {
        self.clear_rules();
        self.clear_journal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_counted_and_targeted() {
        let c = Control::default();
        let _ = c.push_defect(Defect {
            target: Target {
                client_id: Some("a".into()),
                ..Default::default()
            },
            defect: DefectKind::Expired,
            token: TokenTarget::AccessToken,
            count: 2,
        });
        assert_eq!(
            c.take_defect(TokenTarget::AccessToken, "i", "b", None),
            None
        );
        assert_eq!(c.take_defect(TokenTarget::IdToken, "i", "a", None), None);
        assert_eq!(
            c.take_defect(TokenTarget::AccessToken, "i", "a", None),
            Some(DefectKind::Expired)
        );
        assert_eq!(
            c.take_defect(TokenTarget::AccessToken, "i", "a", None),
            Some(DefectKind::Expired)
        );
        assert_eq!(
            c.take_defect(TokenTarget::AccessToken, "i", "a", None),
            None
        );
    }
}
