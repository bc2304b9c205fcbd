//! Which event tells the outcome of which action, for clients that wait for it (`roomsctl call`
//! waits by default). Meeting actions are read off the state machine's tables, so a new state or
//! signal there changes the answer here; the other modules follow PROTOCOL.md §6.

use crate::modules::{device, meeting_control};
use crate::room::machine::{Answer, CALLS, LAYOUT_TRANSITIONS, Next, SIGNALS};

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

/// The outcome of `module`'s `action`, as canonical names (see `MODULES`).
pub fn outcome(module: &str, action: &str) -> Outcome {
    match module {
        "Meeting" => meeting(action),
        "Device" => events(device_event(action)),
        // Every MeetingControl action but the member list goes to the service and ends in the
        // event of its own name (room/control.rs, `control_completed`); the list has none.
        "MeetingControl" => events(event_named(meeting_control::EVENTS, action)),
        _ => Outcome::Acknowledged,
    }
}

/// An accepted Meeting call moves the room to a state that the service's answer leaves (start
/// and join: joining → in the meeting, the waiting room, or back to idle), or keeps the state
/// and says so in the layout event (`SwitchLayout`).
fn meeting(action: &str) -> Outcome {
    let mut events = Vec::new();
    let accepted = CALLS.iter().filter(|rule| rule.call.name() == action);
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

/// A Device action's event: its own name, but for the tests, which report their state
/// (room/device.rs, `device_action`).
fn device_event(action: &str) -> Vec<&'static str> {
    match action {
        "TestSpeaker" => vec![device::SPEAKER_TEST_STATE_CHANGE],
        "TestMic" => vec![device::MIC_TEST_STATE_CHANGE],
        other => event_named(device::EVENTS, other),
    }
}

fn event_named(events: &'static [&'static str], name: &str) -> Vec<&'static str> {
    events.iter().copied().filter(|e| *e == name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::MODULES;

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
                if let Outcome::Event(events) = outcome(module.name, action) {
                    assert!(!events.is_empty(), "{}.{action}", module.name);
                    for event in events {
                        assert!(module.events.contains(&event), "{}.{event}", module.name);
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
