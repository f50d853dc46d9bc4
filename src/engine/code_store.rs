//! The store of unredeemed authorization codes, kept compact: a burst of codes that nobody
//! redeems (issue 14) is the largest thing a test suite can make mockidp hold. A
//! [`CodeRecord`] has about ten separately allocated strings and a 350-byte inline body; a
//! [`PackedCode`] keeps every string of a code in one buffer next to a 56-byte body, less than
//! half the bytes per pending code (bench/README.md, "Memory after a burst").

use std::sync::Arc;

use super::authorize::CodeRecord;
use super::issue::Grant;
use super::pkce::Method;
use super::users::User;
use crate::store::{Store, TtlStore};

/// Unredeemed codes, by code: a [`TtlStore`] whose entries are packed on the way in and
/// unpacked on the (rare) way out.
pub(crate) struct CodeStore(TtlStore<PackedCode>);

impl CodeStore {
    pub(crate) fn new(capacity: usize) -> Self {
        Self(TtlStore::new(capacity))
    }

    /// Stores `record` under `code` until `expires_at`.
    pub(crate) fn insert(&self, code: String, record: CodeRecord, expires_at: u64, now: u64) {
        self.0
            .insert(code, PackedCode::pack(record), expires_at, now);
    }

    /// Removes and returns the live record under `code` if `keep` accepts it (see
    /// [`TtlStore::take_if`]: of concurrent callers exactly one wins).
    pub(crate) fn take_if(
        &self,
        code: &str,
        now: u64,
        keep: impl FnOnce(&CodeRecord) -> bool,
    ) -> Option<CodeRecord> {
        self.0
            .take_if(code, now, |p| keep(&p.unpack()))
            .map(|p| p.unpack())
    }

    /// Drops every code for which `doomed` is true.
    pub(crate) fn remove_where(&self, doomed: impl Fn(&CodeRecord) -> bool) {
        self.0.remove_where(|p| doomed(&p.unpack()));
    }
}

impl Store for CodeStore {
    fn purge(&self, now: u64) {
        self.0.purge(now);
    }
    fn clear(&self) {
        self.0.clear();
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A [`CodeRecord`] in one allocation plus a small body: its strings, each length-prefixed,
/// in `text`; what a code from the authorization endpoint never carries (token-exchange
/// fields) boxed apart.
#[derive(Clone)]
pub(crate) struct PackedCode {
    /// issuer, client id, redirect URI, PKCE challenge, sid, nonce, chain, then the scopes.
    text: Box<[u8]>,
    user: Option<Arc<User>>,
    auth_time: Option<u64>,
    pkce_method: Option<Method>,
    rare: Option<Box<Rare>>,
}

/// The fields of a [`Grant`] that only token exchange sets.
#[derive(Clone)]
struct Rare {
    act: Option<serde_json::Value>,
    audience: Option<Vec<String>>,
}

impl PackedCode {
    fn pack(record: CodeRecord) -> Self {
        // Destructured in full, so that a field added to either struct cannot be forgotten here.
        let CodeRecord {
            issuer,
            grant,
            redirect_uri,
            pkce,
        } = record;
        let Grant {
            client_id,
            user,
            scopes,
            sid,
            auth_time,
            nonce,
            act,
            audience,
            chain,
        } = grant;
        let (challenge, pkce_method) = pkce.unzip();
        let mut text = Vec::with_capacity(128);
        for s in [
            Some(issuer),
            Some(client_id),
            redirect_uri,
            challenge,
            sid,
            nonce,
            chain,
        ] {
            put(&mut text, s.as_deref());
        }
        put_len(&mut text, scopes.len());
        for s in &scopes {
            put(&mut text, Some(s));
        }
        // `into_boxed_slice` trims the buffer to its length.
        let rare = (act.is_some() || audience.is_some()).then(|| Box::new(Rare { act, audience }));
        Self {
            text: text.into_boxed_slice(),
            user,
            auth_time,
            pkce_method,
            rare,
        }
    }

    fn unpack(&self) -> CodeRecord {
        let mut r = Reader(&self.text);
        let issuer = r.string().unwrap_or_default();
        let client_id = r.string().unwrap_or_default();
        let redirect_uri = r.string();
        let challenge = r.string();
        let sid = r.string();
        let nonce = r.string();
        let chain = r.string();
        let scopes = (0..r.len()).filter_map(|_| r.string()).collect();
        let (act, audience) = self
            .rare
            .as_deref()
            .map_or((None, None), |x| (x.act.clone(), x.audience.clone()));
        CodeRecord {
            issuer,
            grant: Grant {
                client_id,
                user: self.user.clone(),
                scopes,
                sid,
                auth_time: self.auth_time,
                nonce,
                act,
                audience,
                chain,
            },
            redirect_uri,
            pkce: challenge.zip(self.pkce_method),
        }
    }
}

/// `None` as 0, a string as its length + 1 (LEB128), then its bytes.
fn put(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_len(out, s.len() + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads back what [`put`] wrote (the buffer is ours: nothing malformed ever reaches it).
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn len(&mut self) -> usize {
        let (mut n, mut shift) = (0usize, 0);
        while let Some((&b, rest)) = self.0.split_first() {
            self.0 = rest;
            n |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 || shift >= usize::BITS as usize {
                break;
            }
        }
        n
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len().checked_sub(1)?;
        let (s, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(long: bool) -> CodeRecord {
        let text = |s: &str| if long { s.repeat(100) } else { s.to_string() };
        CodeRecord {
            issuer: "iopole".into(),
            grant: Grant {
                client_id: text("iopole-web"),
                user: None,
                scopes: vec!["openid".into(), String::new(), text("profile")],
                sid: Some(text("sid")),
                auth_time: Some(7),
                nonce: None,
                act: long.then(|| serde_json::json!({"sub": "x"})),
                audience: long.then(|| vec!["api".to_string()]),
                chain: Some(String::new()),
            },
            redirect_uri: Some(text("http://localhost:8080/cb")),
            pkce: long.then(|| (text("challenge"), Method::S256)),
        }
    }

    #[test]
    fn a_packed_record_unpacks_to_the_same_record() {
        for long in [false, true] {
            let r = record(long);
            assert_eq!(
                format!("{:?}", PackedCode::pack(r.clone()).unpack()),
                format!("{r:?}")
            );
        }
    }

    #[test]
    fn a_packed_record_is_small() {
        assert!(
            std::mem::size_of::<PackedCode>() <= 56,
            "{}",
            std::mem::size_of::<PackedCode>()
        );
        assert!(std::mem::size_of::<CodeRecord>() > 300);
    }
}
