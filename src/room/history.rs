//! Event sequence numbers and the bounded history that resuming replays from (docs/CONTINUITY.md).
//!
//! The owner publishes every event under the history's lock: it numbers the event, keeps it in
//! the ring and sends it to the live subscribers in one step. A connection that creates its
//! receiver, or reads the history, under the same lock therefore knows exactly which events
//! its receiver will still deliver (those numbered after what it read): replay, then live,
//! with no gap and no duplicate.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::broadcast;

/// UTF-8 text shared by every subscriber: cloning it counts a reference, never copies. It is
/// only ever made from a `String`, so its bytes are always UTF-8, which lets the server hand
/// them to the WebSocket library without checking them again (`server::connection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedText(Bytes);

impl SharedText {
    pub fn as_str(&self) -> &str {
        // Checked only where asked for (tests, logs); delivery uses `bytes`.
        std::str::from_utf8(&self.0).expect("made from a String")
    }

    /// The UTF-8 bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SharedText {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl std::ops::Deref for SharedText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

/// An event serialized once for every subscriber, in the two forms a subscriber may get.
#[derive(Debug, Clone)]
pub struct EventFrame {
    pub module: &'static str,
    pub name: &'static str,
    /// Its place in this epoch's sequence: the first event published is 1.
    pub seq: u64,
    /// Today's bytes, for clients that did not ask for sequence numbers.
    pub text: SharedText,
    /// The same with `, "seq": N` as the last key of `params`.
    pub with_seq: SharedText,
}

impl EventFrame {
    /// `text` is a whole event (`{..., "params": {...}}`): the sequence number goes before the
    /// closing braces of `params` and of the frame.
    pub fn new(module: &'static str, name: &'static str, seq: u64, text: String) -> Self {
        let body = text
            .strip_suffix("}}")
            .expect("an event ends with the braces of params and of the frame");
        let with_seq = format!("{body}, \"seq\": {seq}}}}}");
        Self {
            module,
            name,
            seq,
            text: text.into(),
            with_seq: with_seq.into(),
        }
    }

    /// What the history counts for this frame: both forms and the bookkeeping around them.
    fn cost(&self) -> usize {
        self.text.len() + self.with_seq.len() + 64
    }
}

/// How much history is kept: the oldest events go once any bound is passed.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    pub events: usize,
    pub age: Duration,
    pub bytes: usize,
}

impl HistoryLimits {
    /// The bounds `[events]` sets.
    pub fn from_config(events: &crate::config::EventsConfig) -> Self {
        Self {
            events: events.history_size.get(),
            age: Duration::from_secs(events.history_secs.0),
            bytes: events.history_bytes.get(),
        }
    }
}

/// Why a resume cannot be served.
#[derive(Debug, PartialEq, Eq)]
pub enum Gone {
    /// The epoch is not this run's: the daemon restarted since.
    Epoch,
    /// Events after the position asked for are no longer kept, or the position is ahead of
    /// what was published.
    Position,
}

/// The events published lately, and where the sequence stands.
pub struct History {
    epoch: u64,
    /// The number of the last event published (0 before the first).
    last: u64,
    ring: VecDeque<(Instant, EventFrame)>,
    bytes: usize,
    limits: HistoryLimits,
}

impl History {
    pub fn new(epoch: u64, limits: HistoryLimits) -> Self {
        Self {
            epoch,
            last: 0,
            ring: VecDeque::new(),
            bytes: 0,
            limits,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn last(&self) -> u64 {
        self.last
    }

    /// Numbers and keeps a new event published at `now`; the frame to send live.
    pub fn push(
        &mut self,
        module: &'static str,
        name: &'static str,
        text: String,
        now: Instant,
    ) -> EventFrame {
        self.last += 1;
        let frame = EventFrame::new(module, name, self.last, text);
        self.bytes += frame.cost();
        self.ring.push_back((now, frame.clone()));
        self.expire(now);
        frame
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, frame)) = self.ring.front() {
            let too_old = now.duration_since(*at) > self.limits.age;
            if !too_old && self.ring.len() <= self.limits.events && self.bytes <= self.limits.bytes
            {
                break;
            }
            self.bytes -= frame.cost();
            self.ring.pop_front();
        }
    }

    /// The events numbered after `after`, oldest first, if this epoch's history still holds
    /// every one of them at `now`.
    pub fn after(&mut self, epoch: u64, after: u64, now: Instant) -> Result<Vec<EventFrame>, Gone> {
        if epoch != self.epoch {
            return Err(Gone::Epoch);
        }
        self.expire(now);
        let oldest_kept = self.ring.front().map_or(self.last + 1, |(_, f)| f.seq);
        if after > self.last || after + 1 < oldest_kept {
            return Err(Gone::Position);
        }
        let skip = usize::try_from(after + 1 - oldest_kept).unwrap_or(usize::MAX);
        Ok(self
            .ring
            .iter()
            .skip(skip)
            .map(|(_, f)| f.clone())
            .collect())
    }
}

/// Where events are published: the history and the live channel, behind one lock.
#[derive(Clone)]
pub struct EventLog {
    history: Arc<Mutex<History>>,
    live: broadcast::Sender<EventFrame>,
}

impl EventLog {
    pub fn new(history: History, capacity: usize) -> Self {
        Self {
            history: Arc::new(Mutex::new(history)),
            live: broadcast::channel(capacity).0,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, History> {
        // Nothing panics while holding it; a poisoned lock still holds a consistent ring.
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Numbers, keeps and sends an event published at `now` in one step.
    pub fn publish(&self, module: &'static str, name: &'static str, text: String, now: Instant) {
        let mut history = self.lock();
        let frame = history.push(module, name, text, now);
        // No receivers is fine: nobody is connected.
        let _ = self.live.send(frame);
    }

    /// A live receiver, and the number of the last event it will not deliver.
    pub fn subscribe(&self) -> (broadcast::Receiver<EventFrame>, u64) {
        let history = self.lock();
        (self.live.subscribe(), history.last())
    }
}

/// A number that differs at every start: the start time in milliseconds, times 1024, plus
/// random bits, so that two starts within the same millisecond differ too. It stays below 2^53
/// so that JavaScript reads it exactly.
pub fn new_epoch() -> u64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
    ((millis % (1 << 43)) << 10) | rand::random_range(0..1024u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(events: usize, bytes: usize) -> History {
        History::new(
            7,
            HistoryLimits {
                events,
                age: Duration::from_secs(60),
                bytes,
            },
        )
    }

    fn event(n: u64) -> String {
        format!(
            "{{\"jsonrpc\": \"2.0\", \"method\": \"Event/Device\", \"params\": {{\"sub_event\": \"X\", \"data\": {{\"n\": {n}}}}}}}"
        )
    }

    #[test]
    fn seq_is_the_last_key_of_params() {
        let frame = EventFrame::new("Device", "X", 3, event(1));
        assert_eq!(
            frame.with_seq.as_str(),
            "{\"jsonrpc\": \"2.0\", \"method\": \"Event/Device\", \"params\": {\"sub_event\": \"X\", \"data\": {\"n\": 1}, \"seq\": 3}}"
        );
        assert_eq!(frame.text.as_str(), event(1));
    }

    #[test]
    fn after_returns_what_was_missed_or_says_it_is_gone() {
        let mut h = history(3, usize::MAX);
        assert_eq!(
            h.after(7, 0, Instant::now()).unwrap().len(),
            0,
            "nothing published yet"
        );
        for n in 1..=5 {
            h.push("Device", "X", event(n), Instant::now());
        }
        let seqs = |v: Vec<EventFrame>| v.iter().map(|f| f.seq).collect::<Vec<_>>();
        assert_eq!(seqs(h.after(7, 2, Instant::now()).unwrap()), vec![3, 4, 5]);
        assert_eq!(seqs(h.after(7, 4, Instant::now()).unwrap()), vec![5]);
        assert_eq!(
            seqs(h.after(7, 5, Instant::now()).unwrap()),
            Vec::<u64>::new()
        );
        assert_eq!(
            h.after(7, 1, Instant::now()).unwrap_err(),
            Gone::Position,
            "event 2 is gone"
        );
        assert_eq!(
            h.after(7, 6, Instant::now()).unwrap_err(),
            Gone::Position,
            "not published"
        );
        assert_eq!(h.after(8, 5, Instant::now()).unwrap_err(), Gone::Epoch);
    }

    #[test]
    fn bytes_bound_the_ring() {
        let one = EventFrame::new("Device", "X", 1, event(1)).cost();
        let mut h = history(100, one * 2 + one / 2);
        for n in 1..=10 {
            h.push("Device", "X", event(n), Instant::now());
        }
        assert_eq!(h.ring.len(), 2);
        assert!(h.bytes <= one * 2 + one / 2);
        assert_eq!(h.after(7, 8, Instant::now()).unwrap().len(), 2);
    }

    #[test]
    fn epochs_differ() {
        let epochs: std::collections::HashSet<u64> = (0..10).map(|_| new_epoch()).collect();
        assert!(
            epochs.len() > 1,
            "random bits set starts in the same millisecond apart"
        );
        assert!(epochs.iter().all(|e| *e < 1 << 53));
    }
}
