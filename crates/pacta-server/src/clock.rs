//! Time as the server sees it. The core reads no clock: the server asks a [`Clock`] for
//! `now` and passes it in, so tests drive deadlines and windows with a [`FakeClock`].

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use pacta_core::time::{Duration, Timestamp};

/// A source of the current time, in whole seconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A clock set before 1970 is a misconfigured machine; reading it as the epoch keeps
        // the server answering, and every submission then fails the skew check loudly.
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(seconds)
    }
}

/// A clock that moves only when told to: for tests and simulations.
#[derive(Debug)]
pub struct FakeClock {
    seconds: AtomicI64,
}

impl FakeClock {
    /// A clock reading `start`.
    pub fn new(start: Timestamp) -> FakeClock {
        FakeClock {
            seconds: AtomicI64::new(start.0),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: Timestamp) {
        self.seconds.store(now.0, Ordering::SeqCst);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.seconds.fetch_add(by.0, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.seconds.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_clock_moves_only_when_advanced() {
        let clock = FakeClock::new(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance(Duration(60));
        assert_eq!(clock.now(), Timestamp(1_060));
        clock.set(Timestamp(5));
        assert_eq!(clock.now(), Timestamp(5));
    }

    #[test]
    fn system_clock_reads_after_2020() {
        assert!(SystemClock.now().0 > 1_577_836_800);
    }
}
