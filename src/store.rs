//! A bounded in-memory map whose entries expire. Every artefact a client can hand back to us
//! (opaque tokens today; codes and device codes later) lives in one, so memory stays bounded
//! however hard a test suite hammers the server.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// Entries live until their expiry (in [`crate::clock::Clock`] seconds) and at most `capacity`
/// are kept: when full, expired entries go first, then the ones closest to expiry. Every
/// operation is O(log n), so a full store costs no more than an empty one.
pub struct TtlStore<V> {
    capacity: usize,
    inner: Mutex<Inner<V>>,
}

struct Inner<V> {
    /// The key is stored once, shared with `by_expiry` (codes and tokens are long keys).
    entries: HashMap<Arc<str>, (u64, u64, V)>,
    /// (expiry, insertion sequence, key), soonest first.
    by_expiry: BTreeSet<(u64, u64, Arc<str>)>,
    seq: u64,
}

/// Below this many slots a map is not worth shrinking.
const MIN_SHRINK: usize = 1024;

impl<V: Clone> TtlStore<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                by_expiry: BTreeSet::new(),
                seq: 0,
            }),
        }
    }

    /// Stores `value` under `key` until `expires_at`, replacing any previous value.
    pub fn insert(&self, key: String, value: V, expires_at: u64, now: u64) {
        let mut inner = self.lock();
        self.put(&mut inner, key, value, expires_at, now);
    }

    /// Stores `value` under `key` unless a live value is there already: of concurrent callers
    /// with one key exactly one gets `true` (single-use identifiers such as a `jti`).
    pub fn insert_new(&self, key: String, value: V, expires_at: u64, now: u64) -> bool {
        let mut inner = self.lock();
        if inner
            .entries
            .get(key.as_str())
            .is_some_and(|(exp, _, _)| *exp > now)
        {
            return false;
        }
        self.put(&mut inner, key, value, expires_at, now);
        true
    }

    fn put(&self, inner: &mut Inner<V>, key: String, value: V, expires_at: u64, now: u64) {
        inner.remove(&key);
        inner.purge(now);
        while inner.entries.len() >= self.capacity {
            let Some((_, _, k)) = inner.by_expiry.pop_first() else {
                break;
            };
            inner.entries.remove(&k);
        }
        inner.seq += 1;
        let seq = inner.seq;
        let key: Arc<str> = key.into();
        inner.by_expiry.insert((expires_at, seq, key.clone()));
        inner.entries.insert(key, (expires_at, seq, value));
    }

    /// Drops every entry that expired at or before `now`, and gives back the memory a burst
    /// left: a periodic sweep calls this, so a store no one writes to any more still shrinks.
    pub fn purge(&self, now: u64) {
        self.lock().purge(now);
    }

    /// The live value under `key`, if any.
    pub fn get(&self, key: &str, now: u64) -> Option<V> {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some((exp, _, v)) if *exp > now => Some(v.clone()),
            Some(_) => {
                inner.remove(key);
                None
            }
            None => None,
        }
    }

    /// The live value under `key` with its expiry.
    pub fn get_with_expiry(&self, key: &str, now: u64) -> Option<(u64, V)> {
        let inner = self.lock();
        match inner.entries.get(key) {
            Some((exp, _, v)) if *exp > now => Some((*exp, v.clone())),
            _ => None,
        }
    }

    /// Changes the live value under `key` in place, atomically; `None` if there is none.
    pub fn update<R>(&self, key: &str, now: u64, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut inner = self.lock();
        match inner.entries.get_mut(key) {
            Some((exp, _, v)) if *exp > now => Some(change(v)),
            _ => None,
        }
    }

    /// Removes and returns the live value under `key` if `keep` accepts it; of concurrent
    /// callers exactly one wins, and a value `keep` refuses stays.
    pub fn take_if(&self, key: &str, now: u64, keep: impl FnOnce(&V) -> bool) -> Option<V> {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some((exp, _, v)) if *exp > now && keep(v) => inner.remove(key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes and returns the live value under `key`: of concurrent callers exactly one wins.
    pub fn take(&self, key: &str, now: u64) -> Option<V> {
        match self.lock().remove(key) {
            Some((exp, v)) if exp > now => Some(v),
            _ => None,
        }
    }

    /// Drops `key` whether live or not.
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Drops every entry for which `doomed` is true.
    pub fn remove_where(&self, doomed: impl Fn(&V) -> bool) {
        let mut inner = self.lock();
        let keys: Vec<Arc<str>> = inner
            .entries
            .iter()
            .filter(|(_, (_, _, v))| doomed(v))
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            inner.remove(&k);
        }
    }

    /// What `pick` makes of each entry, live or not, where it makes something.
    pub fn collect<T>(&self, pick: impl Fn(&V) -> Option<T>) -> Vec<T> {
        self.lock()
            .entries
            .values()
            .filter_map(|(_, _, v)| pick(v))
            .collect()
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries = HashMap::new();
        inner.by_expiry.clear();
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<V>> {
        // A poisoned lock only means another thread panicked mid-operation; the maps stay
        // consistent because every operation updates both before returning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What runs on each HTTP worker thread after its periodic sweep of the stores.
static AFTER_SWEEP: OnceLock<fn()> = OnceLock::new();

/// Installs `hook`, run on every HTTP worker thread after each periodic sweep of the stores
/// (every 15 s), so that a binary can ask its allocator to return to the system what sweeps
/// freed: mimalloc gives a page back only from the thread that owns it, and the sweeping thread
/// is rarely the one that allocated a burst's entries. The library never picks an allocator;
/// the first hook installed stays.
pub fn set_sweep_hook(hook: fn()) {
    let _ = AFTER_SWEEP.set(hook);
}

/// Runs the hook [`set_sweep_hook`] installed, if any.
pub(crate) fn after_sweep() {
    if let Some(hook) = AFTER_SWEEP.get() {
        hook();
    }
}

/// What the engine does to all its stores alike, whatever they hold.
pub trait Store {
    /// Drops what expired at or before `now` (see [`TtlStore::purge`]).
    fn purge(&self, now: u64);
    /// Forgets everything.
    fn clear(&self);
    /// How many entries it holds, expired or not.
    fn len(&self) -> usize;
}

impl<V: Clone> Store for TtlStore<V> {
    fn purge(&self, now: u64) {
        TtlStore::purge(self, now);
    }
    fn clear(&self) {
        TtlStore::clear(self);
    }
    fn len(&self) -> usize {
        TtlStore::len(self)
    }
}

impl<V> Inner<V> {
    fn remove(&mut self, key: &str) -> Option<(u64, V)> {
        let (key, (exp, seq, v)) = self.entries.remove_entry(key)?;
        self.by_expiry.remove(&(exp, seq, key));
        Some((exp, v))
    }

    /// Drops every entry that expired at or before `now`; a map left mostly empty is shrunk
    /// (a `HashMap` keeps its largest size otherwise).
    fn purge(&mut self, now: u64) {
        let mut purged = false;
        while let Some((exp, _, _)) = self.by_expiry.first() {
            if *exp > now {
                break;
            }
            if let Some((_, _, k)) = self.by_expiry.pop_first() {
                self.entries.remove(&k);
                purged = true;
            }
        }
        let len = self.entries.len();
        if purged && self.entries.capacity() > MIN_SHRINK.max(len * 4) {
            self.entries.shrink_to(len * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire() {
        let s = TtlStore::new(10);
        s.insert("a".into(), 1, 100, 0);
        assert_eq!(s.get("a", 99), Some(1));
        assert_eq!(s.get("a", 100), None);
        assert_eq!(s.len(), 0, "an expired entry is dropped when seen");
    }

    #[test]
    fn insert_new_takes_a_key_once_until_it_expires() {
        let s = TtlStore::new(10);
        assert!(s.insert_new("jti".into(), (), 100, 0));
        assert!(
            !s.insert_new("jti".into(), (), 200, 50),
            "a live key is refused"
        );
        assert_eq!(
            s.get_with_expiry("jti", 50),
            Some((100, ())),
            "and left as it was"
        );
        assert!(
            s.insert_new("jti".into(), (), 200, 100),
            "an expired one is free again"
        );
    }

    #[test]
    fn capacity_is_a_hard_bound() {
        let s = TtlStore::new(3);
        for i in 0..10u64 {
            s.insert(format!("k{i}"), i, 1000 + i, 0);
        }
        assert_eq!(s.len(), 3);
        assert_eq!(s.get("k9", 0), Some(9), "the newest entry survives");
        assert_eq!(s.get("k0", 0), None, "the one closest to expiry went first");
    }

    #[test]
    fn inserting_purges_expired_entries() {
        let s = TtlStore::new(100);
        for i in 0..10u64 {
            s.insert(format!("old{i}"), i, 50, 0);
        }
        s.insert("new".into(), 0, 500, 60);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn a_purged_burst_gives_its_room_back() {
        let s = TtlStore::new(100_000);
        for i in 0..50_000u64 {
            s.insert(format!("code{i}"), i, 100, 0);
        }
        let full = s.lock().entries.capacity();
        s.purge(100);
        assert_eq!(s.len(), 0);
        let after = s.lock().entries.capacity();
        assert!(after < full / 8, "capacity {full} -> {after}");
    }

    #[test]
    fn take_is_single_use() {
        let s = TtlStore::new(3);
        s.insert("c".into(), "v", 10, 0);
        assert_eq!(s.take("c", 1), Some("v"));
        assert_eq!(s.take("c", 1), None);
    }
}
