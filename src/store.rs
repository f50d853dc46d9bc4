//! A bounded in-memory map whose entries expire. Every artefact a client can hand back to us
//! (opaque tokens today; codes and device codes later) lives in one, so memory stays bounded
//! however hard a test suite hammers the server.

use std::collections::HashMap;
use std::sync::Mutex;

/// Entries live until their expiry (in [`crate::clock::Clock`] seconds) and at most `capacity`
/// are kept: when full, expired entries are purged first, then the one closest to expiry goes.
pub struct TtlStore<V> {
    capacity: usize,
    entries: Mutex<HashMap<String, (u64, V)>>,
}

impl<V: Clone> TtlStore<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Stores `value` under `key` until `expires_at`.
    pub fn insert(&self, key: String, value: V, expires_at: u64, now: u64) {
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, (exp, _)| *exp > now);
            if map.len() >= self.capacity {
                let soonest = map
                    .iter()
                    .min_by_key(|(_, (exp, _))| *exp)
                    .map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, (expires_at, value));
    }

    /// The live value under `key`, if any.
    pub fn get(&self, key: &str, now: u64) -> Option<V> {
        let mut map = self.lock();
        match map.get(key) {
            Some((exp, v)) if *exp > now => Some(v.clone()),
            Some(_) => {
                map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Removes and returns the live value under `key`: of concurrent callers exactly one wins.
    pub fn take(&self, key: &str, now: u64) -> Option<V> {
        match self.lock().remove(key) {
            Some((exp, v)) if exp > now => Some(v),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, V)>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
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
    fn take_is_single_use() {
        let s = TtlStore::new(3);
        s.insert("c".into(), "v", 10, 0);
        assert_eq!(s.take("c", 1), Some("v"));
        assert_eq!(s.take("c", 1), None);
    }
}
