//! What the state machines are written in (PROTOCOL.md §4 and §4.1): the meeting's states,
//! the guards and answers of its `CALLS` table and the signals of its `SIGNALS` table (both in
//! `meeting.rs`, beside the code that follows them), and the layout and screen tables.
//!
//! The room checks every `Call/Meeting` against `CALLS` before it acts, so that table is the
//! one place that says which action is allowed when and what a refusal answers. The other
//! tables are checked descriptions: `SIGNALS` (what the meeting service's answers and reports
//! do), [`LAYOUT_TRANSITIONS`] and [`SCREEN_TRANSITIONS`] describe what the code in
//! `meeting.rs`, `reports.rs`, `layout.rs` and `screens.rs` does, and the property tests
//! (`props.rs`) fail when the room moves in a way they do not list. `docs/STATE-MACHINES.md`
//! is generated from all of them.
//!
//! [`MeetingState`] names the states of `Phase`, which holds their data; `Phase::state` maps
//! one to the other.

use super::screens::ScreenSetup;
use crate::modules::Ends;
use crate::modules::meeting as m;
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

/// The `Call/Meeting` actions the meeting state machine decides on (`CALLS`), in the module's
/// order: those whose outcome the machine tells (`Ends::MeetingMachine`).
pub fn meeting_calls() -> impl Iterator<Item = &'static str> {
    m::MODULE
        .actions
        .iter()
        .filter(|action| action.ends == Ends::MeetingMachine)
        .map(|action| action.name)
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
    /// The action's name.
    pub call: &'static str,
    pub from: &'static [MeetingState],
    pub answer: Answer,
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
