//! The meeting, layout and screen state machines as data (PROTOCOL.md §4 and §4.1).
//!
//! The room checks every `Call/Meeting` against [`CALLS`] before it acts, so that table is the
//! one place that says which action is allowed when and what a refusal answers.
//!
//! The other tables are checked descriptions: [`SIGNALS`] (what the meeting service's answers
//! and reports do), [`LAYOUT_TRANSITIONS`] and [`SCREEN_TRANSITIONS`] describe what the code in
//! `meeting.rs`, `layout.rs` and `screens.rs` does, and the property tests (`props.rs`) fail when
//! the room moves in a way they do not list. `docs/STATE-MACHINES.md` is generated from all of
//! them.
//!
//! [`MeetingState`] names the states of `Phase`, which holds their data; `Phase::state` maps
//! one to the other.

use super::screens::ScreenSetup;
use crate::modules::meeting::{self as m, MeetingAction};
use crate::wire::ErrorCode;

/// The meeting state machine's states: the `meeting_status` values, with the exits that are
/// under way told apart (a second exit is a repeat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MeetingState {
    Idle,
    Joining,
    WaitingRoom,
    LeavingWaitingRoom,
    InMeeting,
    Leaving,
    Dissolving,
}

use MeetingState::*;

pub const MEETING_STATES: [MeetingState; 7] = [
    Idle,
    Joining,
    WaitingRoom,
    LeavingWaitingRoom,
    InMeeting,
    Leaving,
    Dissolving,
];

impl MeetingState {
    pub fn name(self) -> &'static str {
        match self {
            Idle => "Idle",
            Joining => "Joining",
            WaitingRoom => "WaitingRoom",
            LeavingWaitingRoom => "LeavingWaitingRoom",
            InMeeting => "InMeeting",
            Leaving => "Leaving",
            Dissolving => "Dissolving",
        }
    }

    /// `meeting_status` in this state (4, casting, is Idle with a cast under way).
    pub fn status(self) -> u8 {
        match self {
            Idle => 0,
            InMeeting | Leaving | Dissolving => 1,
            Joining => 2,
            WaitingRoom | LeavingWaitingRoom => 3,
        }
    }
}

/// A `Call/Meeting` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    StartMeeting,
    JoinMeeting,
    LeaveWaitingRoom,
    LeaveMeeting,
    DissolveMeeting,
    SwitchLayout,
}

pub const CALL_ORDER: [Call; 6] = [
    Call::StartMeeting,
    Call::JoinMeeting,
    Call::LeaveWaitingRoom,
    Call::LeaveMeeting,
    Call::DissolveMeeting,
    Call::SwitchLayout,
];

impl Call {
    pub fn of(action: &MeetingAction) -> Self {
        match action {
            MeetingAction::Start(_) => Self::StartMeeting,
            MeetingAction::Join { .. } => Self::JoinMeeting,
            MeetingAction::LeaveWaitingRoom => Self::LeaveWaitingRoom,
            MeetingAction::Leave => Self::LeaveMeeting,
            MeetingAction::Dissolve => Self::DissolveMeeting,
            MeetingAction::SwitchLayout { .. } => Self::SwitchLayout,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::StartMeeting => "StartMeeting",
            Self::JoinMeeting => "JoinMeeting",
            Self::LeaveWaitingRoom => "LeaveWaitingRoom",
            Self::LeaveMeeting => "LeaveMeeting",
            Self::DissolveMeeting => "DissolveMeeting",
            Self::SwitchLayout => "SwitchLayout",
        }
    }
}

/// A condition beyond the state that an accepted call must also meet, checked in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// No cast to the room is under way; refused with the code given.
    NotCasting(ErrorCode),
    /// The meeting service is not known to be unreachable.
    BackendReachable,
    /// The room is the host or a co-host.
    HostOrCoHost,
    /// Someone other than the room is in the meeting.
    SomeoneElseThere,
}

impl Guard {
    /// The code a call is refused with when the guard fails.
    pub fn code(self) -> ErrorCode {
        match self {
            Self::NotCasting(code) => code,
            Self::BackendReachable => ErrorCode::NETWORK,
            Self::HostOrCoHost => ErrorCode::NOT_HOST,
            Self::SomeoneElseThere => ErrorCode::CANNOT_SWITCH_LAYOUT,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::NotCasting(_) => "not casting",
            Self::BackendReachable => "service not known to be away",
            Self::HostOrCoHost => "host or co-host",
            Self::SomeoneElseThere => "someone else there",
        }
    }
}

/// Where an accepted call takes the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    To(MeetingState),
    Stays,
}

/// How the room answers a call in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Accepted if every guard holds; the acknowledgement is 0.
    Accept {
        next: Next,
        guards: &'static [Guard],
    },
    /// Refused at once: the acknowledgement carries the code and no event follows.
    Refuse(ErrorCode, &'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct CallRule {
    pub call: Call,
    pub from: &'static [MeetingState],
    pub answer: Answer,
}

const IN_A_MEETING: &[MeetingState] = &[
    WaitingRoom,
    LeavingWaitingRoom,
    InMeeting,
    Leaving,
    Dissolving,
];
const NOT_IN_A_MEETING: &[MeetingState] = &[Idle, Joining, WaitingRoom, LeavingWaitingRoom];
const LEAVING: &[MeetingState] = &[Leaving, Dissolving];

const fn refuse(code: ErrorCode, why: &'static str) -> Answer {
    Answer::Refuse(code, why)
}

/// Which `Call/Meeting` action is allowed in which state. Every (call, state) pair has exactly
/// one rule.
#[rustfmt::skip]
pub const CALLS: &[CallRule] = &[
    CallRule { call: Call::StartMeeting, from: &[Idle], answer: Answer::Accept {
        next: Next::To(Joining),
        guards: &[Guard::NotCasting(ErrorCode::CANNOT_START_WHILE_SHARING), Guard::BackendReachable],
    } },
    CallRule { call: Call::StartMeeting, from: &[Joining],
        answer: refuse(ErrorCode::REPEAT_OPERATION, "a start or join is already in progress") },
    CallRule { call: Call::StartMeeting, from: IN_A_MEETING,
        answer: refuse(ErrorCode::ALREADY_IN_MEETING, "the room is already in a meeting") },

    CallRule { call: Call::JoinMeeting, from: &[Idle], answer: Answer::Accept {
        next: Next::To(Joining),
        guards: &[Guard::NotCasting(ErrorCode::CANNOT_JOIN_WHILE_SHARING), Guard::BackendReachable],
    } },
    CallRule { call: Call::JoinMeeting, from: &[Joining],
        answer: refuse(ErrorCode::REPEAT_OPERATION, "a start or join is already in progress") },
    CallRule { call: Call::JoinMeeting, from: IN_A_MEETING,
        answer: refuse(ErrorCode::ALREADY_IN_MEETING, "the room is already in a meeting") },

    CallRule { call: Call::LeaveWaitingRoom, from: &[WaitingRoom],
        answer: Answer::Accept { next: Next::To(LeavingWaitingRoom), guards: &[] } },
    CallRule { call: Call::LeaveWaitingRoom, from: &[LeavingWaitingRoom],
        answer: refuse(ErrorCode::REPEAT_OPERATION, "already leaving the waiting room") },
    CallRule { call: Call::LeaveWaitingRoom, from: &[Idle, Joining, InMeeting, Leaving, Dissolving],
        answer: refuse(ErrorCode::NOT_IN_MEETING, "the room is not in a waiting room") },

    CallRule { call: Call::LeaveMeeting, from: &[InMeeting],
        answer: Answer::Accept { next: Next::To(Leaving), guards: &[] } },
    CallRule { call: Call::LeaveMeeting, from: LEAVING,
        answer: refuse(ErrorCode::REPEAT_OPERATION, "already leaving the meeting") },
    CallRule { call: Call::LeaveMeeting, from: NOT_IN_A_MEETING,
        answer: refuse(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },

    CallRule { call: Call::DissolveMeeting, from: &[InMeeting],
        answer: Answer::Accept { next: Next::To(Dissolving), guards: &[Guard::HostOrCoHost] } },
    CallRule { call: Call::DissolveMeeting, from: LEAVING,
        answer: refuse(ErrorCode::REPEAT_OPERATION, "already leaving the meeting") },
    CallRule { call: Call::DissolveMeeting, from: NOT_IN_A_MEETING,
        answer: refuse(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },

    CallRule { call: Call::SwitchLayout, from: &[InMeeting, Leaving, Dissolving],
        answer: Answer::Accept { next: Next::Stays, guards: &[Guard::SomeoneElseThere] } },
    CallRule { call: Call::SwitchLayout, from: NOT_IN_A_MEETING,
        answer: refuse(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },
];

/// The rule for `call` in `state`.
pub fn call_rule(state: MeetingState, call: Call) -> &'static CallRule {
    CALLS
        .iter()
        .find(|rule| rule.call == call && rule.from.contains(&state))
        .expect("CALLS has a rule for every call in every state (tested)")
}

/// What the meeting service tells the room: answers to its operations, and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Start or join answered: the room is in the meeting.
    Entered,
    /// Join answered: the room is in the waiting room.
    Waiting,
    /// A leave or dissolve answered: done.
    Done,
    /// An operation refused, or not answered within `timeout_ms`.
    Failed,
    /// The host let the room in from the waiting room.
    Admitted,
    HostEnded,
    Removed,
    /// The service became unreachable.
    Lost,
    /// Asked at start or when it comes back, the service says the room is in a meeting.
    Found,
}

impl Signal {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Entered => "service enters the meeting",
            Self::Waiting => "service puts it in the waiting room",
            Self::Done => "service confirms",
            Self::Failed => "service refuses or times out",
            Self::Admitted => "host admits the room",
            Self::HostEnded => "host ends the meeting",
            Self::Removed => "room removed",
            Self::Lost => "service unreachable",
            Self::Found => "service finds the room in a meeting",
        }
    }
}

/// A move the service's answer or report makes, and the event that tells subscribers.
#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub from: &'static [MeetingState],
    pub on: Signal,
    pub to: MeetingState,
    pub event: &'static str,
    /// The event carries a non-zero `error_code`.
    pub failed: bool,
}

const WAITING: &[MeetingState] = &[WaitingRoom, LeavingWaitingRoom];
const MEETING: &[MeetingState] = &[InMeeting, Leaving, Dissolving];

/// What the service's answers and reports do. Anything not listed leaves the state alone.
#[rustfmt::skip]
pub const SIGNALS: &[Transition] = &[
    Transition { from: &[Joining], on: Signal::Entered, to: InMeeting, event: m::JOIN_MEETING_COMPLETED.name, failed: false },
    Transition { from: &[Joining], on: Signal::Waiting, to: WaitingRoom, event: m::JOIN_WAITING_ROOM.name, failed: false },
    Transition { from: &[Joining], on: Signal::Failed, to: Idle, event: m::JOIN_MEETING_COMPLETED.name, failed: true },
    Transition { from: &[Joining], on: Signal::Lost, to: Idle, event: m::JOIN_MEETING_COMPLETED.name, failed: true },
    Transition { from: &[WaitingRoom], on: Signal::Admitted, to: InMeeting, event: m::JOIN_MEETING_COMPLETED.name, failed: false },
    Transition { from: &[LeavingWaitingRoom], on: Signal::Done, to: Idle, event: m::LEAVE_WAITING_ROOM.name, failed: false },
    Transition { from: &[LeavingWaitingRoom], on: Signal::Failed, to: WaitingRoom, event: m::LEAVE_WAITING_ROOM.name, failed: true },
    Transition { from: WAITING, on: Signal::HostEnded, to: Idle, event: m::LEAVE_WAITING_ROOM.name, failed: false },
    Transition { from: WAITING, on: Signal::Removed, to: Idle, event: m::LEAVE_WAITING_ROOM.name, failed: false },
    Transition { from: WAITING, on: Signal::Lost, to: Idle, event: m::LEAVE_WAITING_ROOM.name, failed: true },
    Transition { from: &[Leaving], on: Signal::Done, to: Idle, event: m::LEAVE_MEETING.name, failed: false },
    Transition { from: &[Leaving], on: Signal::Failed, to: InMeeting, event: m::LEAVE_MEETING.name, failed: true },
    Transition { from: &[Dissolving], on: Signal::Done, to: Idle, event: m::DISSOLVE_MEETING.name, failed: false },
    Transition { from: &[Dissolving], on: Signal::Failed, to: InMeeting, event: m::DISSOLVE_MEETING.name, failed: true },
    Transition { from: MEETING, on: Signal::HostEnded, to: Idle, event: m::DISSOLVE_MEETING.name, failed: false },
    Transition { from: MEETING, on: Signal::Removed, to: Idle, event: m::LEAVE_MEETING.name, failed: false },
    Transition { from: MEETING, on: Signal::Lost, to: Idle, event: m::LEAVE_MEETING.name, failed: true },
    Transition { from: &[Idle], on: Signal::Found, to: InMeeting, event: m::JOIN_MEETING_COMPLETED.name, failed: false },
];

/// Where `signal` takes the room from `state`, if anywhere.
pub fn signal_transition(state: MeetingState, signal: Signal) -> Option<&'static Transition> {
    SIGNALS
        .iter()
        .find(|t| t.on == signal && t.from.contains(&state))
}

/// Whether layouts can be switched (PROTOCOL.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LayoutState {
    /// Not in a meeting: both screens all zero, every switch disabled.
    Off,
    /// In a meeting with nobody else: the layout shows, switching is disabled (10032).
    Alone,
    /// In a meeting with someone else: every switch enabled.
    Switchable,
}

impl LayoutState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "Off",
            Self::Alone => "Alone",
            Self::Switchable => "Switchable",
        }
    }
}

/// A layout move: what causes it and the event that tells subscribers (`""`: the meeting's own
/// event says it).
#[derive(Debug, Clone, Copy)]
pub struct LayoutTransition {
    pub from: LayoutState,
    pub on: &'static str,
    pub to: LayoutState,
    pub event: &'static str,
}

#[rustfmt::skip]
pub const LAYOUT_TRANSITIONS: &[LayoutTransition] = &[
    LayoutTransition { from: LayoutState::Off, on: "enters a meeting alone", to: LayoutState::Alone, event: "" },
    LayoutTransition { from: LayoutState::Off, on: "enters a meeting with others", to: LayoutState::Switchable, event: "" },
    LayoutTransition { from: LayoutState::Alone, on: "someone joins", to: LayoutState::Switchable, event: m::LAYOUT_SWITCH_CHANGED.name },
    LayoutTransition { from: LayoutState::Switchable, on: "the last other leaves", to: LayoutState::Alone, event: m::LAYOUT_SWITCH_CHANGED.name },
    LayoutTransition { from: LayoutState::Switchable, on: "SwitchLayout", to: LayoutState::Switchable, event: m::LAYOUT_SWITCH_CHANGED.name },
    LayoutTransition { from: LayoutState::Alone, on: "meeting ends (back to grid)", to: LayoutState::Off, event: "" },
    LayoutTransition { from: LayoutState::Switchable, on: "meeting ends (back to grid)", to: LayoutState::Off, event: "" },
];

/// How many outputs are connected, as far as the screens are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outputs {
    /// Two or more connected.
    Two,
    /// One or none connected.
    One,
}

/// A move of the screen setup under display hot-plug (`[screens] drm_root`). The mode of two
/// screens is configured, so extended and mirrored never turn into each other.
#[derive(Debug, Clone, Copy)]
pub struct ScreenTransition {
    pub from: ScreenSetup,
    pub on: Outputs,
    pub to: ScreenSetup,
}

#[rustfmt::skip]
pub const SCREEN_TRANSITIONS: &[ScreenTransition] = &[
    ScreenTransition { from: ScreenSetup::Single, on: Outputs::Two, to: ScreenSetup::DualExtended },
    ScreenTransition { from: ScreenSetup::Single, on: Outputs::Two, to: ScreenSetup::DualMirrored },
    ScreenTransition { from: ScreenSetup::DualExtended, on: Outputs::One, to: ScreenSetup::Single },
    ScreenTransition { from: ScreenSetup::DualMirrored, on: Outputs::One, to: ScreenSetup::Single },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_exactly_one_rule_in_every_state() {
        for call in CALL_ORDER {
            for state in MEETING_STATES {
                let rules = CALLS
                    .iter()
                    .filter(|r| r.call == call && r.from.contains(&state))
                    .count();
                assert_eq!(rules, 1, "{call:?} in {state:?}");
            }
        }
    }

    #[test]
    fn signals_are_unambiguous() {
        for state in MEETING_STATES {
            for t in SIGNALS {
                let same = SIGNALS
                    .iter()
                    .filter(|u| u.on == t.on && u.from.contains(&state))
                    .count();
                assert!(same <= 1, "{:?} in {state:?}", t.on);
            }
        }
    }

    #[test]
    fn every_state_a_call_leads_to_ends_either_way() {
        // The service's work a call starts ends in success or failure, never in a wait for ever:
        // every state an accepted call leads to has a row for `Failed` and for one success.
        for rule in CALLS {
            if let Answer::Accept {
                next: Next::To(state),
                ..
            } = rule.answer
            {
                assert!(
                    signal_transition(state, Signal::Failed).is_some(),
                    "{state:?} has no way out when the service fails"
                );
                let succeeds = [Signal::Entered, Signal::Waiting, Signal::Done]
                    .into_iter()
                    .any(|s| signal_transition(state, s).is_some());
                assert!(
                    succeeds,
                    "{state:?} has no way out when the service succeeds"
                );
            }
        }
    }
}
