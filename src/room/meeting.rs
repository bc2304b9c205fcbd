//! The meeting state machine (PROTOCOL.md §4): Idle → Joining → InMeeting or WaitingRoom → Idle.
//!
//! Its tables first: [`CALLS`], which `Call/Meeting` action is allowed in which state (checked
//! before every action, refused at once otherwise: the acknowledgement carries the code, no
//! event follows), and [`SIGNALS`], what the service's answers and reports do. Then the
//! actions, and the service's answers to them; each ends in an event. The states, guards and
//! signals the tables are written in are in `machine.rs`; the moves in and out of a meeting in
//! `phase.rs`.

use super::machine::{Answer, CallRule, Guard, MeetingState, Next, Signal, Transition};
use super::phase::{Exit, Phase};
use super::{BackendCall, Effect, Room, event};
use crate::domain::{
    BackendEvent, BackendResult, Capability, JoinRequest, Joined, MeetingDetails, RoomRole,
    Session, StartRequest,
};
use crate::modules::meeting::{self as m, MeetingAction, Reason, StartKind};
use crate::wire::{ErrorCode, Refusal};
use MeetingState::*;

const IN_A_MEETING: &[MeetingState] = &[
    WaitingRoom,
    LeavingWaitingRoom,
    InMeeting,
    Leaving,
    Dissolving,
];
const NOT_IN_A_MEETING: &[MeetingState] = &[Idle, Joining, WaitingRoom, LeavingWaitingRoom];
const LEAVING: &[MeetingState] = &[Leaving, Dissolving];

const fn refused_with(code: ErrorCode, why: &'static str) -> Answer {
    Answer::Refuse(code, why)
}

/// Which `Call/Meeting` action is allowed in which state. Every (call, state) pair has exactly
/// one rule.
#[rustfmt::skip]
pub const CALLS: &[CallRule] = &[
    CallRule { call: "StartMeeting", from: &[Idle], answer: Answer::Accept {
        next: Next::To(Joining),
        guards: &[Guard::NotCasting(ErrorCode::CANNOT_START_WHILE_SHARING), Guard::BackendReachable],
    } },
    CallRule { call: "StartMeeting", from: &[Joining],
        answer: refused_with(ErrorCode::REPEAT_OPERATION, "a start or join is already in progress") },
    CallRule { call: "StartMeeting", from: IN_A_MEETING,
        answer: refused_with(ErrorCode::ALREADY_IN_MEETING, "the room is already in a meeting") },

    CallRule { call: "JoinMeeting", from: &[Idle], answer: Answer::Accept {
        next: Next::To(Joining),
        guards: &[Guard::NotCasting(ErrorCode::CANNOT_JOIN_WHILE_SHARING), Guard::BackendReachable],
    } },
    CallRule { call: "JoinMeeting", from: &[Joining],
        answer: refused_with(ErrorCode::REPEAT_OPERATION, "a start or join is already in progress") },
    CallRule { call: "JoinMeeting", from: IN_A_MEETING,
        answer: refused_with(ErrorCode::ALREADY_IN_MEETING, "the room is already in a meeting") },

    CallRule { call: "LeaveWaitingRoom", from: &[WaitingRoom],
        answer: Answer::Accept { next: Next::To(LeavingWaitingRoom), guards: &[] } },
    CallRule { call: "LeaveWaitingRoom", from: &[LeavingWaitingRoom],
        answer: refused_with(ErrorCode::REPEAT_OPERATION, "already leaving the waiting room") },
    CallRule { call: "LeaveWaitingRoom", from: &[Idle, Joining, InMeeting, Leaving, Dissolving],
        answer: refused_with(ErrorCode::NOT_IN_MEETING, "the room is not in a waiting room") },

    CallRule { call: "LeaveMeeting", from: &[InMeeting],
        answer: Answer::Accept { next: Next::To(Leaving), guards: &[] } },
    CallRule { call: "LeaveMeeting", from: LEAVING,
        answer: refused_with(ErrorCode::REPEAT_OPERATION, "already leaving the meeting") },
    CallRule { call: "LeaveMeeting", from: NOT_IN_A_MEETING,
        answer: refused_with(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },

    CallRule { call: "DissolveMeeting", from: &[InMeeting],
        answer: Answer::Accept { next: Next::To(Dissolving), guards: &[Guard::HostOrCoHost] } },
    CallRule { call: "DissolveMeeting", from: LEAVING,
        answer: refused_with(ErrorCode::REPEAT_OPERATION, "already leaving the meeting") },
    CallRule { call: "DissolveMeeting", from: NOT_IN_A_MEETING,
        answer: refused_with(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },

    CallRule { call: "SwitchLayout", from: &[InMeeting, Leaving, Dissolving],
        answer: Answer::Accept { next: Next::Stays, guards: &[Guard::SomeoneElseThere] } },
    CallRule { call: "SwitchLayout", from: NOT_IN_A_MEETING,
        answer: refused_with(ErrorCode::NOT_IN_MEETING, "the room is not in a meeting") },
];

/// The rule for `call` in `state`.
/// The rule for `call` in `state`: there is one for every Meeting action in every state
/// (tested).
pub fn call_rule(state: MeetingState, call: &str) -> Option<&'static CallRule> {
    CALLS
        .iter()
        .find(|rule| rule.call == call && rule.from.contains(&state))
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

fn refuse(code: ErrorCode, message: impl Into<String>) -> Result<Vec<Effect>, Refusal> {
    Err(Refusal::new(code, message))
}

impl Room {
    /// A `Call/Meeting` action: allowed or refused as `CALLS` says, then carried out.
    ///
    /// Before the table: what the service cannot do is refused with 9 in any state, and a
    /// code that does not follow the service's rule with 10010.
    pub(super) fn meeting_action(
        &mut self,
        mut action: MeetingAction,
    ) -> Result<Vec<Effect>, Refusal> {
        match &mut action {
            MeetingAction::Start(StartKind::Instant) => {
                self.profile.require(Capability::StartInstant)?;
            }
            MeetingAction::Start(StartKind::Pmi) => self.profile.require(Capability::StartPmi)?,
            MeetingAction::Join { code, .. } => {
                self.profile.require(Capability::Join)?;
                *code = self.profile.code_rule.normalize(code)?;
            }
            MeetingAction::Dissolve => self.profile.require(Capability::Dissolve)?,
            _ => {}
        }
        let call = action.name();
        let Some(rule) = call_rule(self.phase.state(), call) else {
            // A table without the action's rows: a bug, not a client's mistake. Refuse rather
            // than bring the daemon down.
            tracing::error!(call, "the meeting table has no rule for this action");
            return refuse(ErrorCode::FAIL, "internal error: no rule for this action");
        };
        match rule.answer {
            Answer::Refuse(code, why) => return refuse(code, why),
            Answer::Accept { guards, .. } => {
                for guard in guards {
                    self.check(*guard, call)?;
                }
            }
        }
        match (action, &mut self.phase) {
            (MeetingAction::Start(kind), Phase::Idle) => {
                let media = self.devices.for_meeting(None, None);
                let (session, mut effects) = self.begin_joining(media);
                let request = StartRequest {
                    session,
                    kind,
                    media,
                };
                let start = BackendCall::new(
                    "start",
                    Some(session),
                    move |b| b.start(request.clone()),
                    move |room, answer| room.start_answered(session, answer),
                );
                effects.push(Effect::Run(start.attempt()));
                Ok(effects)
            }
            (
                MeetingAction::Join {
                    code,
                    password,
                    mic_enable,
                    camera_enable,
                },
                Phase::Idle,
            ) => {
                let media = self.devices.for_meeting(mic_enable, camera_enable);
                let (session, mut effects) = self.begin_joining(media);
                let request = JoinRequest {
                    session,
                    code,
                    password,
                    media,
                };
                let join = BackendCall::new(
                    "join",
                    Some(session),
                    move |b| b.join(request.clone()),
                    move |room, answer| room.join_answered(session, answer),
                );
                effects.push(Effect::Run(join.attempt()));
                Ok(effects)
            }
            (
                MeetingAction::LeaveWaitingRoom,
                Phase::WaitingRoom {
                    session, leaving, ..
                },
            ) => {
                *leaving = true;
                Ok(vec![leave(*session)])
            }
            (MeetingAction::Leave, Phase::InMeeting { session, exit, .. }) => {
                *exit = Some(Exit::Leave);
                Ok(vec![leave(*session)])
            }
            (MeetingAction::Dissolve, Phase::InMeeting { session, exit, .. }) => {
                *exit = Some(Exit::Dissolve);
                let session = *session;
                Ok(vec![Effect::Run(BackendCall::new(
                    "dissolve",
                    Some(session),
                    move |b| b.dissolve(session),
                    move |room, answer| room.dissolve_answered(session, answer),
                ))])
            }
            (
                MeetingAction::SwitchLayout {
                    switch_type,
                    show_voice_active,
                },
                Phase::InMeeting { .. },
            ) => {
                self.layout.switch(switch_type, show_voice_active);
                Ok(vec![event(m::LAYOUT_SWITCH_CHANGED, self.layout_data())])
            }
            (action, phase) => {
                // CALLS allowed what the code below it does not handle: a bug, not a client's
                // mistake. Refuse rather than bring the daemon down.
                debug_assert!(false, "CALLS allows {action:?} in {phase:?}");
                tracing::error!(?action, ?phase, "the meeting table and its code disagree");
                refuse(
                    ErrorCode::FAIL,
                    "internal error: action not handled in this state",
                )
            }
        }
    }

    /// Whether a guard of `CALLS` holds.
    fn check(&self, guard: Guard, call: &str) -> Result<(), Refusal> {
        let holds = match guard {
            Guard::NotCasting(_) => !self.share.casting(),
            // Only a service known to be away refuses: one not reached yet may well answer.
            Guard::BackendReachable => self.backend.connected || self.backend.last_error.is_empty(),
            Guard::HostOrCoHost => self
                .phase
                .in_meeting()
                .is_some_and(|m| m.room_role != RoomRole::Attendee),
            Guard::SomeoneElseThere => self.layout_switchable(),
        };
        if holds {
            return Ok(());
        }
        let why = match guard {
            Guard::NotCasting(_) => {
                let verb = if call == "StartMeeting" {
                    "start"
                } else {
                    "join"
                };
                format!("cannot {verb} a meeting while casting to the room: end the cast first")
            }
            Guard::BackendReachable => format!(
                "the meeting service ({}) is unreachable: {}",
                self.backend.kind, self.backend.last_error
            ),
            Guard::HostOrCoHost => "only the host or a co-host can dissolve the meeting".into(),
            Guard::SomeoneElseThere => {
                "layouts can be switched once someone else is in the meeting".into()
            }
        };
        Err(Refusal::new(guard.code(), why))
    }

    /// The service's answer to a start.
    pub(super) fn start_answered(
        &mut self,
        session: Session,
        answer: BackendResult<MeetingDetails>,
    ) -> Vec<Effect> {
        self.answer_about(session, answer.is_ok(), |room| {
            match (answer, &room.phase) {
                (Ok(meeting), Phase::Joining { .. }) => room.enter_meeting(meeting),
                (Err(refusal), Phase::Joining { .. }) => room.join_failed(&refusal),
                (answer, phase) => misfit("start", &answer, phase),
            }
        })
    }

    /// The service's answer to a join: in the meeting, in its waiting room, or refused.
    pub(super) fn join_answered(
        &mut self,
        session: Session,
        answer: BackendResult<Joined>,
    ) -> Vec<Effect> {
        self.answer_about(session, answer.is_ok(), |room| {
            match (answer, &room.phase) {
                (Ok(Joined::InMeeting(meeting)), Phase::Joining { .. }) => {
                    room.enter_meeting(meeting)
                }
                (Ok(Joined::WaitingRoom(meeting)), Phase::Joining { .. }) => {
                    room.phase = Phase::WaitingRoom {
                        session,
                        meeting,
                        leaving: false,
                    };
                    vec![event(
                        m::JOIN_WAITING_ROOM,
                        room.stay_data(Reason::Requested),
                    )]
                }
                (Err(refusal), Phase::Joining { .. }) => room.join_failed(&refusal),
                (answer, phase) => misfit("join", &answer, phase),
            }
        })
    }

    /// The service's answer to leaving the meeting or its waiting room: out, or still in with
    /// the failure told.
    pub(super) fn leave_answered(
        &mut self,
        session: Session,
        answer: BackendResult<()>,
    ) -> Vec<Effect> {
        self.answer_about(session, false, |room| match (answer, &mut room.phase) {
            (Ok(()), Phase::WaitingRoom { leaving: true, .. }) => {
                room.exit(m::LEAVE_WAITING_ROOM, Reason::Requested, None)
            }
            (Err(refusal), Phase::WaitingRoom { leaving, .. }) => {
                *leaving = false;
                room.exit_failed(m::LEAVE_WAITING_ROOM, &refusal)
            }
            (
                Ok(()),
                Phase::InMeeting {
                    exit: Some(Exit::Leave),
                    ..
                },
            ) => room.exit(m::LEAVE_MEETING, Reason::Requested, None),
            (Err(refusal), Phase::InMeeting { exit, .. }) => {
                *exit = None;
                room.exit_failed(m::LEAVE_MEETING, &refusal)
            }
            (answer, phase) => misfit("leave", &answer, phase),
        })
    }

    /// The service's answer to dissolving the meeting.
    pub(super) fn dissolve_answered(
        &mut self,
        session: Session,
        answer: BackendResult<()>,
    ) -> Vec<Effect> {
        self.answer_about(session, false, |room| match (answer, &mut room.phase) {
            (
                Ok(()),
                Phase::InMeeting {
                    exit: Some(Exit::Dissolve),
                    ..
                },
            ) => room.exit(m::DISSOLVE_MEETING, Reason::Requested, None),
            (Err(refusal), Phase::InMeeting { exit, .. }) => {
                *exit = None;
                room.exit_failed(m::DISSOLVE_MEETING, &refusal)
            }
            (answer, phase) => misfit("dissolve", &answer, phase),
        })
    }

    /// Applies an answer about meeting attempt `session` with `take`, if the room is still in
    /// that attempt; else drops it, and undoes a start or join that `got_in` after the room gave
    /// it up. Reports the service sent about the attempt before its answer are applied after
    /// it.
    fn answer_about(
        &mut self,
        session: Session,
        got_in: bool,
        take: impl FnOnce(&mut Self) -> Vec<Effect>,
    ) -> Vec<Effect> {
        if self.phase.session() != Some(session) {
            tracing::debug!(?session, "dropping a backend answer for an earlier meeting");
            return if got_in {
                vec![Effect::Abandon(session)]
            } else {
                Vec::new()
            };
        }
        let early = match &mut self.phase {
            Phase::Joining { early, .. } => std::mem::take(early),
            _ => Vec::new(),
        };
        let mut effects = take(self);
        match &mut self.phase {
            Phase::Joining { early: kept, .. } => *kept = early,
            Phase::Idle => {}
            _ => {
                for happening in early {
                    let session = Some(session);
                    effects.extend(self.happen(BackendEvent { session, happening }));
                }
            }
        }
        effects
    }
}

#[cfg(test)]
#[path = "meeting_tests.rs"]
mod tests;

/// An answer the meeting state has no row for: logged and ignored.
fn misfit(call: &str, answer: &dyn std::fmt::Debug, phase: &Phase) -> Vec<Effect> {
    tracing::warn!(
        call,
        ?answer,
        ?phase,
        "backend answer does not fit the meeting state; ignored"
    );
    Vec::new()
}

/// Leaving the meeting or the waiting room.
fn leave(session: Session) -> Effect {
    Effect::Run(BackendCall::new(
        "leave",
        Some(session),
        move |b| b.leave(session),
        move |room, answer| room.leave_answered(session, answer),
    ))
}
