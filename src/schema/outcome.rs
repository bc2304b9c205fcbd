//! Which event tells the outcome of which action, for clients that wait for it (`roomsctl call`
//! waits by default). Each action's description says (`ActionSpec::ends`); Meeting actions are
//! read off the state machine's tables, so a new state or signal there changes the answer here.

use crate::modules::Ends;
use crate::room::machine::{Answer, LAYOUT_TRANSITIONS, Next};
use crate::room::meeting::{CALLS, SIGNALS};

/// How a client learns whether an accepted action did what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The acknowledgement is the outcome.
    Acknowledged,
    /// The first of these events of the action's module tells it, with its `error_code`.
    Event(Vec<&'static str>),
}

impl Outcome {
    pub fn is_async(&self) -> bool {
        matches!(self, Self::Event(_))
    }
}

/// The outcome of `module`'s `action`, as canonical names (see `modules::MODULES`): what the
/// action's description says, read off the state machine's tables for Meeting.
pub fn outcome(module: &str, action: &str) -> Outcome {
    let spec = crate::modules::module(module).and_then(|m| m.action(action));
    match spec.map(|spec| spec.ends) {
        None | Some(Ends::Acknowledged) => Outcome::Acknowledged,
        Some(Ends::OwnEvent) => Outcome::Event(vec![spec.expect("described").name]),
        Some(Ends::In(events)) => self::events(events.to_vec()),
        Some(Ends::MeetingMachine) => meeting(spec.expect("described").name),
    }
}

/// An accepted Meeting call moves the room to a state that the service's answer leaves (start
/// and join: joining → in the meeting, the waiting room, or back to idle), or keeps the state
/// and says so in the layout event (`SwitchLayout`).
fn meeting(action: &str) -> Outcome {
    let mut events = Vec::new();
    let accepted = CALLS.iter().filter(|rule| rule.call == action);
    for rule in accepted {
        match rule.answer {
            Answer::Accept {
                next: Next::To(state),
                ..
            } => {
                let leaving = SIGNALS.iter().filter(|t| t.from.contains(&state));
                events.extend(leaving.map(|t| t.event));
            }
            Answer::Accept {
                next: Next::Stays, ..
            } => {
                let told = LAYOUT_TRANSITIONS.iter().filter(|t| t.on == action);
                events.extend(told.map(|t| t.event));
            }
            Answer::Refuse(..) => {}
        }
    }
    events.sort_unstable();
    events.dedup();
    self::events(events)
}

fn events(events: Vec<&'static str>) -> Outcome {
    if events.is_empty() {
        Outcome::Acknowledged
    } else {
        Outcome::Event(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::MODULES;

    #[test]
    fn meeting_actions_end_in_the_events_of_the_state_machine() {
        let join = Outcome::Event(vec!["JoinMeetingCompleted", "JoinWaitingRoom"]);
        assert_eq!(outcome("Meeting", "JoinMeeting"), join);
        assert_eq!(outcome("Meeting", "StartMeeting"), join);
        let leave = Outcome::Event(vec!["DissolveMeeting", "LeaveMeeting"]);
        assert_eq!(outcome("Meeting", "LeaveMeeting"), leave);
        let layout = Outcome::Event(vec!["LayoutSwitchChanged"]);
        assert_eq!(outcome("Meeting", "SwitchLayout"), layout);
    }

    #[test]
    fn every_asynchronous_action_ends_in_an_event_of_its_module() {
        for module in MODULES {
            for action in module.actions {
                if let Outcome::Event(events) = outcome(module.name, action.name) {
                    assert!(!events.is_empty(), "{}.{}", module.name, action.name);
                    for event in events {
                        let sent = module.event(event).is_some_and(|e| e.data.is_some());
                        assert!(sent, "{}.{event}", module.name);
                    }
                }
            }
        }
        assert_eq!(outcome("Share", "StartShare"), Outcome::Acknowledged);
        let list = outcome("MeetingControl", "ListMemberIds");
        assert_eq!(list, Outcome::Acknowledged);
        let tests = outcome("Device", "TestMic");
        assert_eq!(tests, Outcome::Event(vec!["MicTestStateChange"]));
    }
}
