//! What the property tests' random runs are made of: the steps, and how they are drawn.

use proptest::prelude::*;

use super::MeetingAction;
use crate::config::{ScreenCount, ScreenMode};
use crate::domain::RoomRole;
use crate::modules::meeting::StartKind;

#[derive(Debug, Clone)]
pub enum Step {
    Call(MeetingAction),
    /// The service answers one of the operations under way (`pick` modulo how many).
    Answer {
        pick: usize,
        ok: bool,
        waiting_room: bool,
        role: RoomRole,
        others: usize,
    },
    Participants(usize),
    Admitted(usize),
    /// `stale`: about an earlier meeting, so it must change nothing.
    HostEnded {
        stale: bool,
    },
    Removed {
        stale: bool,
    },
    Reachable(bool),
    /// These of [`OUTPUTS`] are connected.
    Displays(Vec<bool>),
    /// A cast to the room starts or stops.
    Cast(bool),
}

pub fn meeting_action() -> impl Strategy<Value = MeetingAction> {
    prop_oneof![
        Just(MeetingAction::Start(StartKind::Instant)),
        Just(MeetingAction::Join {
            code: "111222333".into(),
            password: String::new(),
            mic_enable: None,
            camera_enable: None,
        }),
        Just(MeetingAction::LeaveWaitingRoom),
        Just(MeetingAction::Leave),
        Just(MeetingAction::Dissolve),
        (1u8..=7, proptest::option::of(any::<bool>())).prop_map(
            |(switch_type, show_voice_active)| MeetingAction::SwitchLayout {
                switch_type,
                show_voice_active,
            }
        ),
    ]
}

pub fn role() -> impl Strategy<Value = RoomRole> {
    prop_oneof![
        Just(RoomRole::Host),
        Just(RoomRole::CoHost),
        Just(RoomRole::Attendee)
    ]
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => meeting_action().prop_map(Step::Call),
        4 => (any::<usize>(), prop::bool::weighted(0.8), any::<bool>(), role(), 0usize..3)
            .prop_map(|(pick, ok, waiting_room, role, others)| Step::Answer {
                pick,
                ok,
                waiting_room,
                role,
                others,
            }),
        2 => (0usize..4).prop_map(Step::Participants),
        1 => (0usize..3).prop_map(Step::Admitted),
        1 => prop::bool::weighted(0.2).prop_map(|stale| Step::HostEnded { stale }),
        1 => prop::bool::weighted(0.2).prop_map(|stale| Step::Removed { stale }),
        1 => any::<bool>().prop_map(Step::Reachable),
        2 => prop::collection::vec(any::<bool>(), OUTPUTS.len()).prop_map(Step::Displays),
        1 => any::<bool>().prop_map(Step::Cast),
    ]
}

/// Connector names hot-plug may report; the configured main output (`HDMI-A-1` by default) is
/// not the first of them.
pub const OUTPUTS: [&str; 3] = ["DP-1", "HDMI-A-1", "DP-2"];

pub fn screens() -> impl Strategy<Value = (ScreenCount, ScreenMode)> {
    (
        prop_oneof![Just(ScreenCount::One), Just(ScreenCount::Two)],
        prop_oneof![Just(ScreenMode::Extend), Just(ScreenMode::Mirror)],
    )
}
