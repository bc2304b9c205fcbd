//! A connection's event subscriptions (PROTOCOL.md §2.4): all events, a module, or one event.
//!
//! Kept as a set of topics with no overlap. Unsubscribing part of a broader topic splits that
//! topic into its remaining parts, so the listing always says exactly what is delivered.

use crate::modules::{EVENT_MODULES, ModuleInfo, snake_case};
use crate::wire::{ErrorCode, Refusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Topic {
    All,
    /// Index into [`EVENT_MODULES`].
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
            Topic::All => (0..EVENT_MODULES.len()).map(Topic::Module).collect(),
            Topic::Module(m) => (0..EVENT_MODULES[m].events.len())
                .map(|e| Topic::Event(m, e))
                .collect(),
            Topic::Event(..) => Vec::new(),
        }
    }

    fn path(self) -> Vec<&'static str> {
        match self {
            Topic::All => vec![],
            Topic::Module(m) => vec![EVENT_MODULES[m].name],
            Topic::Event(m, e) => vec![EVENT_MODULES[m].name, EVENT_MODULES[m].events[e]],
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Subscriptions {
    topics: Vec<Topic>,
}

impl Subscriptions {
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
            Topic::Module(m) => EVENT_MODULES[m].name == module,
            Topic::Event(m, e) => {
                EVENT_MODULES[m].name == module && EVENT_MODULES[m].events[e] == event
            }
        })
    }

    /// The subscriptions as paths, for the Subscribe/Unsubscribe response.
    pub fn paths(&self) -> Vec<Vec<&'static str>> {
        self.topics.iter().map(|t| t.path()).collect()
    }
}

fn resolve(path: &[String]) -> Result<Topic, Refusal> {
    let unknown = || {
        Refusal::new(
            ErrorCode::SUBSCRIBE_PATH,
            format!("no events at path {path:?}"),
        )
    };
    let module = |name: &str| {
        position(EVENT_MODULES.iter().map(|m: &ModuleInfo| m.name), name).ok_or_else(unknown)
    };
    match path {
        [] => Ok(Topic::All),
        [m] => Ok(Topic::Module(module(m)?)),
        [m, event] => {
            let m = module(m)?;
            let e = position(EVENT_MODULES[m].events.iter().copied(), event).ok_or_else(unknown)?;
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
        assert_eq!(s.paths().len(), crate::modules::meeting::EVENTS.len() - 1);
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
