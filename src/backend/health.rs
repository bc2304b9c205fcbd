//! How the meeting service is doing, as `Query ["Backend"]` shows it (beyond the vendor
//! protocol). Adapters record every exchange with their service; the room follows the result
//! through a watch channel, so the latest state always wins and none is queued behind another.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

pub use crate::domain::Health;

/// The health at start-up: the embedded simulator is there at once; a real service has not been
/// reached yet.
pub fn initial(config: &crate::config::Config) -> Health {
    if config.backend.kind == super::sim::SERVICE.profile.service {
        Health {
            connected: true,
            last_ok_at: unix_now(),
            ..Health::unknown()
        }
    } else {
        Health::unknown()
    }
}

/// Consecutive failed exchanges after which a service counts as gone. One lost packet does not
/// end a meeting; a service that stays silent for three tries does (the Kedacom clients' rule).
pub const FAILURES_BEFORE_DISCONNECTED: u32 = 3;

/// Successful exchanges refresh `last_ok_at` and `latency_ms` at most this often, so that a
/// polling adapter does not rebuild the room's state on every poll.
const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// Records exchanges with the service and publishes the resulting [`Health`]. Cheap to clone.
#[derive(Clone)]
pub struct HealthTracker {
    inner: Arc<Mutex<Counters>>,
    published: watch::Sender<Health>,
}

struct Counters {
    failures: u32,
    last_refresh: Option<Instant>,
}

impl HealthTracker {
    /// A tracker starting from `initial`, and the receiver the room follows.
    pub fn new(initial: Health) -> (Self, watch::Receiver<Health>) {
        let (published, receiver) = watch::channel(initial);
        let tracker = Self {
            inner: Arc::new(Mutex::new(Counters {
                failures: 0,
                last_refresh: None,
            })),
            published,
        };
        (tracker, receiver)
    }

    /// The health as last published.
    pub fn current(&self) -> Health {
        self.published.borrow().clone()
    }

    /// The service answered.
    pub fn answered(&self, latency: Duration) {
        self.record_answer(latency, None);
    }

    /// The service answered with an error of its own: it is reachable, and this is what went
    /// wrong.
    pub fn refused(&self, latency: Duration, error: &str) {
        self.record_answer(latency, Some(error));
    }

    /// An answer, published in one change with the error it carried, if any.
    fn record_answer(&self, latency: Duration, error: Option<&str>) {
        let mut counters = self.inner.lock().expect("health lock");
        counters.failures = 0;
        let refresh_due = counters
            .last_refresh
            .is_none_or(|at| at.elapsed() >= REFRESH_EVERY);
        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let mut refreshed = false;
        self.published.send_if_modified(|health| {
            let new_error = error.is_some_and(|e| e != health.last_error);
            if let Some(error) = error.filter(|_| new_error) {
                health.last_error = error.to_owned();
            }
            if health.connected && !refresh_due {
                return new_error;
            }
            health.connected = true;
            health.last_ok_at = unix_now();
            health.latency_ms = latency_ms;
            refreshed = true;
            true
        });
        if refreshed {
            counters.last_refresh = Some(Instant::now());
        }
    }

    /// The service could not be reached (refused connection, timeout, garbage). After
    /// [`FAILURES_BEFORE_DISCONNECTED`] in a row it counts as disconnected; before it was ever
    /// reached, at once.
    pub fn unreachable(&self, error: &str) {
        let mut counters = self.inner.lock().expect("health lock");
        counters.failures = counters.failures.saturating_add(1);
        let failures = counters.failures;
        self.published.send_if_modified(|health| {
            let gone = failures >= FAILURES_BEFORE_DISCONNECTED || health.last_ok_at == 0;
            let changed = health.last_error != error || (gone && health.connected);
            health.last_error = error.to_owned();
            if gone {
                health.connected = false;
            }
            changed
        });
    }

    /// One exchange failed in a way that says nothing about the service being there (the
    /// simulator's injected failures): recorded as the last error, neither counted towards
    /// disconnection nor clearing the count.
    pub fn failed_once(&self, error: &str) {
        self.published.send_if_modified(|health| {
            let changed = health.last_error != error;
            health.last_error = error.to_owned();
            changed
        });
    }

    /// The service is gone, whatever the count says (e.g. heartbeats and re-login failed).
    pub fn disconnected(&self, error: &str) {
        self.published.send_if_modified(|health| {
            let changed = health.connected || health.last_error != error;
            health.connected = false;
            health.last_error = error.to_owned();
            changed
        });
    }
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connected_once_answered_and_gone_after_three_failures() {
        let (tracker, health) = HealthTracker::new(Health::unknown());
        tracker.answered(Duration::from_millis(12));
        assert!(health.borrow().connected);
        assert_eq!(health.borrow().latency_ms, 12);
        assert!(health.borrow().last_ok_at > 0);
        tracker.unreachable("connection refused");
        tracker.unreachable("connection refused");
        assert!(health.borrow().connected, "two failures are a blip");
        assert_eq!(health.borrow().last_error, "connection refused");
        tracker.unreachable("connection refused");
        assert!(!health.borrow().connected);
        tracker.answered(Duration::from_millis(3));
        assert!(health.borrow().connected);
        assert_eq!(
            health.borrow().last_error,
            "connection refused",
            "the last error stays for the operator to read"
        );
    }

    #[test]
    fn a_service_never_reached_is_disconnected_at_the_first_failure() {
        let (tracker, health) = HealthTracker::new(Health::unknown());
        tracker.unreachable("timed out");
        assert!(!health.borrow().connected);
        assert_eq!(health.borrow().last_error, "timed out");
    }

    #[test]
    fn a_service_error_keeps_it_connected_and_is_recorded() {
        let (tracker, health) = HealthTracker::new(Health::unknown());
        tracker.refused(Duration::from_millis(5), "kedacom 20003: MCU busy");
        assert!(health.borrow().connected);
        assert_eq!(health.borrow().last_error, "kedacom 20003: MCU busy");
    }

    #[test]
    fn answers_refresh_the_published_state_only_now_and_then() {
        let (tracker, mut health) = HealthTracker::new(Health::unknown());
        tracker.answered(Duration::from_millis(1));
        assert!(health.has_changed().unwrap());
        health.borrow_and_update();
        tracker.answered(Duration::from_millis(2));
        assert!(!health.has_changed().unwrap(), "no rebuild per poll");
    }
}
