//! A connection's event subscriptions (PROTOCOL.md §2.4): all events, a module, or one event.
//!
//! Kept as a set of topics with no overlap. Unsubscribing part of a broader topic splits that
//! topic into its remaining parts, so the listing always says exactly what is delivered.

use crate::modules::{MODULES, snake_case};
use crate::room::history::{EventFrame, EventLog, Gone, SharedText};
use crate::wire::{ErrorCode, Refusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Topic {
    All,
    /// Index into [`MODULES`], of a module with events.
    Module(usize),
    /// Module index and event index.
    Event(usize, usize),
}

impl Topic {
    fn covers(self, other: Topic) -> bool {
        match (self, other) {
            (Topic::All, _) => true,
            (Topic::Module(m), Topic::Module(n) | Topic::Event(n, _)) => m == n,
            (Topic::Event(..), _) => self == other,
            (Topic::Module(_), Topic::All) => false,
        }
    }

    /// The next narrower topics that together make up this one.
    fn parts(self) -> Vec<Topic> {
        match self {
            Topic::All => (0..MODULES.len())
                .filter(|&m| !MODULES[m].events.is_empty())
                .map(Topic::Module)
                .collect(),
            Topic::Module(m) => (0..MODULES[m].events.len())
                .map(|e| Topic::Event(m, e))
                .collect(),
            Topic::Event(..) => Vec::new(),
        }
    }

    fn path(self) -> Vec<&'static str> {
        match self {
            Topic::All => vec![],
            Topic::Module(m) => vec![MODULES[m].name],
            Topic::Event(m, e) => vec![MODULES[m].name, MODULES[m].events[e].name],
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Subscriptions {
    topics: Vec<Topic>,
    /// The client asked for sequence numbers (`Subscribe` with `since`): it gets them in every
    /// event from then on.
    with_seq: bool,
    /// The number of the last event this connection's live receiver has handed over.
    seen: u64,
    /// Live events numbered up to this were replayed instead (or were not wanted then).
    replayed_through: u64,
    /// Replayed events waiting to be sent after the answer to the `Subscribe`.
    replay: Vec<EventFrame>,
}

/// Where a `Subscribe` with `since` starts.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    /// From now on: the answer says where the sequence stands.
    Now,
    /// After event `seq` of `epoch`: the events missed since are replayed first.
    After { epoch: u64, seq: u64 },
}

/// Where the sequence stood when a `Subscribe` with `since` was answered.
#[derive(Debug, Clone, Copy)]
pub struct Position {
    pub epoch: u64,
    pub seq: u64,
}

impl Subscriptions {
    /// For a connection whose live receiver delivers the events numbered after `seen`.
    pub fn starting_after(seen: u64) -> Self {
        Self {
            seen,
            replayed_through: seen,
            ..Self::default()
        }
    }

    /// The bytes to send for a live event, if the connection wants it.
    pub fn deliver<'f>(&mut self, frame: &'f EventFrame) -> Option<&'f SharedText> {
        self.seen = self.seen.max(frame.seq);
        if frame.seq <= self.replayed_through || !self.wants(frame.module, frame.name) {
            return None;
        }
        Some(if self.with_seq {
            &frame.with_seq
        } else {
            &frame.text
        })
    }

    /// The replayed events to send now, after the answer.
    pub fn take_replay(&mut self) -> Vec<EventFrame> {
        std::mem::take(&mut self.replay)
    }

    /// Subscribes to `path` with sequence numbers, from now or after a position: with a
    /// position, the events since that match `path` are queued for replay and the live events
    /// they cover are skipped. Refused (and nothing subscribed) when the history no longer
    /// holds them.
    pub fn subscribe_since(
        &mut self,
        path: &[String],
        since: Since,
        log: &EventLog,
    ) -> Result<Position, Refusal> {
        let before = self.clone();
        self.subscribe(path)?;
        // Read under the publishing lock: the live receiver delivers exactly what comes after.
        let mut history = log.lock();
        let (epoch, head) = (history.epoch(), history.last());
        let Since::After { epoch: asked, seq } = since else {
            self.with_seq = true;
            return Ok(Position { epoch, seq: head });
        };
        // The events the live receiver has not handed over yet are replayed too, so that
        // skipping them live loses nothing.
        let from = seq.min(self.seen);
        let missed = match history
            .after(asked, from, std::time::Instant::now())
            .and_then(|missed| {
                // A position ahead of what was published is no position of this epoch's.
                if seq > head {
                    Err(Gone::Position)
                } else {
                    Ok(missed)
                }
            }) {
            Ok(missed) => missed,
            Err(gone) => {
                drop(history);
                *self = before;
                return Err(gone_refusal(&gone, asked, seq, epoch, head));
            }
        };
        drop(history);
        for frame in missed {
            let now = self.wants(frame.module, frame.name);
            let then = before.wants(frame.module, frame.name);
            let send = if frame.seq > self.seen {
                // Not seen live yet: what would have been delivered, less what the client
                // says it has.
                now && (frame.seq > seq || then)
            } else {
                // Seen live already, under the subscriptions before this one.
                now && !then && frame.seq > seq
            };
            if send {
                self.replay.push(frame);
            }
        }
        self.with_seq = true;
        self.replayed_through = self.replayed_through.max(head);
        Ok(Position { epoch, seq: head })
    }

    pub fn subscribe(&mut self, path: &[String]) -> Result<(), Refusal> {
        let topic = resolve(path)?;
        if !self.topics.iter().any(|t| t.covers(topic)) {
            self.topics.retain(|t| !topic.covers(*t));
            self.topics.push(topic);
            self.topics.sort();
        }
        Ok(())
    }

    pub fn unsubscribe(&mut self, path: &[String]) -> Result<(), Refusal> {
        let topic = resolve(path)?;
        // Split broader topics until `topic` itself is a member, then drop everything it covers.
        while let Some(i) = self
            .topics
            .iter()
            .position(|t| t.covers(topic) && *t != topic)
        {
            let broader = self.topics.remove(i);
            self.topics.extend(broader.parts());
        }
        self.topics.retain(|t| !topic.covers(*t));
        self.topics.sort();
        Ok(())
    }

    /// Whether an event goes to this connection. Called for every event on every connection.
    pub fn wants(&self, module: &str, event: &str) -> bool {
        self.topics.iter().any(|t| match *t {
            Topic::All => true,
            Topic::Module(m) => MODULES[m].name == module,
            Topic::Event(m, e) => MODULES[m].name == module && MODULES[m].events[e].name == event,
        })
    }

    /// The subscriptions as paths, for the Subscribe/Unsubscribe response.
    pub fn paths(&self) -> Vec<Vec<&'static str>> {
        self.topics.iter().map(|t| t.path()).collect()
    }
}

fn gone_refusal(gone: &Gone, asked: u64, seq: u64, epoch: u64, head: u64) -> Refusal {
    let why = match gone {
        Gone::Epoch => {
            format!("epoch {asked} is not the current one ({epoch}): roomsd restarted since")
        }
        Gone::Position => format!("the events after {seq} are no longer kept (the last is {head})"),
    };
    Refusal::new(
        ErrorCode::RESUME_GONE,
        format!("cannot resume: {why}; query again, then subscribe from now (since 0)"),
    )
}

fn resolve(path: &[String]) -> Result<Topic, Refusal> {
    let unknown = || {
        Refusal::new(
            ErrorCode::SUBSCRIBE_PATH,
            format!("no events at path {path:?}"),
        )
    };
    // A module without events (Members) is no topic.
    let module = |name: &str| {
        position(MODULES.iter().map(|m| m.name), name)
            .filter(|&m| !MODULES[m].events.is_empty())
            .ok_or_else(unknown)
    };
    match path {
        [] => Ok(Topic::All),
        [m] => Ok(Topic::Module(module(m)?)),
        [m, event] => {
            let m = module(m)?;
            let e =
                position(MODULES[m].events.iter().map(|e| e.name), event).ok_or_else(unknown)?;
            Ok(Topic::Event(m, e))
        }
        _ => Err(unknown()),
    }
}

/// Where `wanted` is among `names`, written as is or in snake_case.
fn position(names: impl IntoIterator<Item = &'static str>, wanted: &str) -> Option<usize> {
    names
        .into_iter()
        .position(|name| name == wanted || snake_case(name) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn nothing_until_subscribed() {
        let s = Subscriptions::default();
        assert!(!s.wants("Meeting", "LeaveMeeting"));
        assert!(s.paths().is_empty());
    }

    #[test]
    fn all_module_and_one_event() {
        let mut s = Subscriptions::default();
        s.subscribe(&path(&["Meeting", "LeaveMeeting"])).unwrap();
        assert!(s.wants("Meeting", "LeaveMeeting") && !s.wants("Meeting", "DissolveMeeting"));
        s.subscribe(&path(&["meeting"])).unwrap();
        assert_eq!(
            s.paths(),
            vec![vec!["Meeting"]],
            "the module absorbs the event"
        );
        assert!(s.wants("Meeting", "DissolveMeeting") && !s.wants("Device", "EnableMic"));
        s.subscribe(&[]).unwrap();
        assert_eq!(s.paths(), vec![Vec::<&str>::new()]);
        assert!(s.wants("Device", "EnableMic"));
    }

    #[test]
    fn unsubscribing_part_of_a_module_keeps_the_rest() {
        let mut s = Subscriptions::default();
        s.subscribe(&path(&["Meeting"])).unwrap();
        s.unsubscribe(&path(&["Meeting", "LayoutSwitchChanged"]))
            .unwrap();
        assert!(!s.wants("Meeting", "LayoutSwitchChanged"));
        assert!(s.wants("Meeting", "LeaveMeeting"));
        assert_eq!(
            s.paths().len(),
            crate::modules::meeting::MODULE.events.len() - 1
        );
    }

    #[test]
    fn unsubscribing_a_module_from_all_keeps_the_others() {
        let mut s = Subscriptions::default();
        s.subscribe(&[]).unwrap();
        s.unsubscribe(&path(&["Meeting"])).unwrap();
        assert!(!s.wants("Meeting", "LeaveMeeting"));
        assert!(s.wants("Device", "EnableMic"));
        s.unsubscribe(&[]).unwrap();
        assert!(s.paths().is_empty());
    }

    #[test]
    fn unknown_paths_are_error_7() {
        let mut s = Subscriptions::default();
        for p in [
            &["Nope"][..],
            &["Meeting", "Nope"],
            &["Meeting", "LeaveMeeting", "x"],
        ] {
            assert_eq!(
                s.subscribe(&path(p)).unwrap_err().code,
                ErrorCode::SUBSCRIBE_PATH,
                "{p:?}"
            );
            assert_eq!(
                s.unsubscribe(&path(p)).unwrap_err().code,
                ErrorCode::SUBSCRIBE_PATH,
                "{p:?}"
            );
        }
    }
}

#[cfg(test)]
mod resume_tests {
    use std::time::Duration;

    use super::*;
    use crate::room::history::{History, HistoryLimits};

    fn log() -> EventLog {
        let limits = HistoryLimits {
            events: 100,
            age: Duration::from_secs(60),
            bytes: usize::MAX,
        };
        EventLog::new(History::new(1, limits), 100)
    }

    fn publish(log: &EventLog, module: &'static str, name: &'static str) {
        let text = format!(
            "{{\"jsonrpc\": \"2.0\", \"method\": \"Event/{module}\", \"params\": {{\"sub_event\": \"{name}\"}}}}"
        );
        log.publish(module, name, text, std::time::Instant::now());
    }

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| (*s).to_owned()).collect()
    }

    /// A connection subscribed to Device live, which then resumes Meeting from before it
    /// connected: the Meeting events are replayed, and no Device event comes twice or not at
    /// all, whether its live receiver had handed it over yet or not.
    #[test]
    fn resuming_beside_live_subscriptions_loses_and_repeats_nothing() {
        let log = log();
        publish(&log, "Meeting", "LeaveMeeting"); // 1, before the connection
        let (mut live, seen) = log.subscribe();
        let mut s = Subscriptions::starting_after(seen);
        s.subscribe(&path(&["Device"])).unwrap();
        publish(&log, "Device", "EnableMic"); // 2
        publish(&log, "Meeting", "LeaveMeeting"); // 3
        let mut delivered = Vec::new();
        let frame = live.try_recv().unwrap(); // 2, handed over before the resume
        delivered.extend(s.deliver(&frame).map(|_| frame.seq));
        publish(&log, "Device", "EnableMic"); // 4, still in the receiver at the resume

        let position = s
            .subscribe_since(&path(&["Meeting"]), Since::After { epoch: 1, seq: 0 }, &log)
            .unwrap();
        assert_eq!(position.seq, 4);
        delivered.extend(s.take_replay().iter().map(|f| f.seq));
        publish(&log, "Meeting", "LeaveMeeting"); // 5, live
        while let Ok(frame) = live.try_recv() {
            delivered.extend(s.deliver(&frame).map(|_| frame.seq));
        }
        assert_eq!(
            delivered,
            vec![2, 1, 3, 4, 5],
            "2 live, then the replay, then live"
        );
    }
}
