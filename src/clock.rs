//! The one source of time. Tokens, codes and stores read it, so a test (or the admin API) can move
//! it forward to expire things without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time in whole seconds since the Unix epoch, plus a movable offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch as this server sees them.
    pub fn now(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        real.saturating_add_signed(self.offset_secs.load(Ordering::Relaxed))
    }

    /// Moves the clock by `secs` (negative goes back); the offset accumulates.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }

    /// The current offset from real time, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
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
}
