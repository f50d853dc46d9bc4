//! The one source of time. Tokens, codes, sessions, device codes and every store read it, so a
//! test (or the admin API) can freeze it, set it and move it to expire things without sleeping.
//!
//! Reading it is two relaxed atomic loads and, when it is not frozen, one `SystemTime::now()`
//! (a vDSO call): it sits on the token hot path. Changes are rare (tests, the admin API) and
//! take a small lock so that a freeze racing an advance cannot lose either.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// `frozen_at` when the clock runs.
const RUNNING: i64 = i64::MIN;

/// Furthest the clock may be moved from real time: tokens carry times as JSON numbers, kept
/// well inside what every parser reads.
pub const MAX_OFFSET_SECS: i64 = 100 * 366 * 86_400;

/// Time in whole seconds since the Unix epoch: real time plus an offset, or frozen at an instant.
/// Clones share the same time (the server and the test hold the same clock).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    offset_secs: AtomicI64,
    frozen_at: AtomicI64,
    change: Mutex<()>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            offset_secs: AtomicI64::new(0),
            frozen_at: AtomicI64::new(RUNNING),
            change: Mutex::new(()),
        }
    }
}

/// Real seconds since the Unix epoch.
pub(crate) fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Clock {
    /// A clock frozen at the current real time: it moves only when told to.
    pub fn frozen() -> Self {
        let clock = Self::default();
        clock.freeze();
        clock
    }

    /// A clock frozen at `secs` since the Unix epoch (clamped to [`MAX_OFFSET_SECS`] of real time).
    pub fn frozen_at(secs: u64) -> Self {
        let clock = Self::frozen();
        clock.set(secs);
        clock
    }

    /// Seconds since the Unix epoch as this server sees them.
    pub fn now(&self) -> u64 {
        let frozen = self.state.frozen_at.load(Ordering::Relaxed);
        let secs = if frozen == RUNNING {
            real_now().saturating_add(self.state.offset_secs.load(Ordering::Relaxed))
        } else {
            frozen
        };
        u64::try_from(secs).unwrap_or(0)
    }

    /// Whether the clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.state.frozen_at.load(Ordering::Relaxed) != RUNNING
    }

    /// The current distance from real time, in seconds.
    pub fn offset(&self) -> i64 {
        let frozen = self.state.frozen_at.load(Ordering::Relaxed);
        if frozen == RUNNING {
            self.state.offset_secs.load(Ordering::Relaxed)
        } else {
            frozen.saturating_sub(real_now())
        }
    }

    /// Moves the clock by `secs` (negative goes back), frozen or not; moves accumulate.
    pub fn advance(&self, secs: i64) {
        self.change(|now, _| now.saturating_add(secs));
    }

    /// Sets the clock to `secs` since the Unix epoch; a running clock runs on from there.
    pub fn set(&self, secs: u64) {
        let target = i64::try_from(secs).unwrap_or(i64::MAX);
        self.change(|_, _| target);
    }

    /// Puts the clock `secs` from real time (frozen there if it is frozen).
    pub fn set_offset(&self, secs: i64) {
        self.change(|_, real| real.saturating_add(secs));
    }

    /// Stops the clock at its current time.
    pub fn freeze(&self) {
        let _guard = self.lock();
        let now = i64::try_from(self.now()).unwrap_or(i64::MAX);
        self.state.frozen_at.store(now, Ordering::Relaxed);
    }

    /// Lets a frozen clock run again from the time it shows.
    pub fn unfreeze(&self) {
        let _guard = self.lock();
        let frozen = self.state.frozen_at.load(Ordering::Relaxed);
        if frozen != RUNNING {
            self.state
                .offset_secs
                .store(frozen.saturating_sub(real_now()), Ordering::Relaxed);
            self.state.frozen_at.store(RUNNING, Ordering::Relaxed);
        }
    }

    /// Back to real time, running.
    pub fn reset(&self) {
        let _guard = self.lock();
        self.state.offset_secs.store(0, Ordering::Relaxed);
        self.state.frozen_at.store(RUNNING, Ordering::Relaxed);
    }

    /// Moves the time shown to `to(now, real now)`, kept within [`MAX_OFFSET_SECS`] of real time.
    fn change(&self, to: impl FnOnce(i64, i64) -> i64) {
        let _guard = self.lock();
        let real = real_now();
        let frozen = self.state.frozen_at.load(Ordering::Relaxed);
        let offset = self.state.offset_secs.load(Ordering::Relaxed);
        let now = if frozen == RUNNING {
            real.saturating_add(offset)
        } else {
            frozen
        };
        let target = to(now, real).clamp(
            real.saturating_sub(MAX_OFFSET_SECS),
            real.saturating_add(MAX_OFFSET_SECS),
        );
        if frozen == RUNNING {
            self.state
                .offset_secs
                .store(target - real, Ordering::Relaxed);
        } else {
            self.state.frozen_at.store(target, Ordering::Relaxed);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.state.change.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_and_accumulates() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(3600);
        clock.advance(60);
        assert!(clock.now() >= before + 3660);
        assert_eq!(clock.offset(), 3660);
    }

    #[test]
    fn frozen_time_stands_still_across_real_seconds() {
        let clock = Clock::frozen_at(1_900_000_000);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(clock.now(), 1_900_000_000);
        clock.advance(5);
        assert_eq!(clock.now(), 1_900_000_005);
        clock.set(1_900_000_100);
        assert_eq!(clock.now(), 1_900_000_100);
        assert!(clock.is_frozen());
    }

    #[test]
    fn unfreezing_runs_on_from_the_frozen_time_and_reset_returns_to_real_time() {
        let clock = Clock::frozen_at(1_900_000_000);
        clock.unfreeze();
        assert!(!clock.is_frozen());
        assert!((1_900_000_000..=1_900_000_002).contains(&clock.now()));
        clock.reset();
        assert_eq!(clock.offset(), 0);
        assert!(clock.now().abs_diff(u64::try_from(real_now()).unwrap_or(0)) <= 1);
    }

    #[test]
    fn moves_are_bounded() {
        let clock = Clock::frozen();
        clock.advance(i64::MAX);
        assert!(clock.offset() <= MAX_OFFSET_SECS);
        clock.set(0);
        assert!(clock.offset() >= -MAX_OFFSET_SECS);
    }
}
