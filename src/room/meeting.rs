//! The meeting state machine (PROTOCOL.md §4): Idle → Joining → InMeeting or WaitingRoom → Idle.
//!
//! Preconditions are checked when an action arrives and refused at once (the acknowledgement
//! carries the code, no event follows). What the backend answers later, and what it reports on
//! its own, ends in an event.

use super::machine::{Answer, Call, Guard, MeetingState, call_rule};
use super::share::Share;
use super::{BackendCall, Effect, Room, event, failed_event};
use crate::domain::{
    BackendEvent, BackendResult, Capability, Happening, JoinRequest, Joined, Media, MeetingDetails,
    RoomRole, Session, StartRequest,
};
use crate::modules::EventDef;
use crate::modules::meeting::{self as m, MeetingAction, Reason, StartKind, Stay};
use crate::wire::{ErrorCode, Refusal};

/// Where the room is with respect to meetings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Idle,
    /// A start or join is with the backend.
    Joining {
        session: Session,
        /// What the service reported about this attempt before its answer arrived (reports and
        /// answers travel separately), applied once the answer is in.
        early: Vec<Happening>,
    },
    WaitingRoom {
        session: Session,
        meeting: MeetingDetails,
        leaving: bool,
    },
    InMeeting {
        session: Session,
        meeting: MeetingDetails,
        exit: Option<Exit>,
    },
}

/// A way out of a meeting that is with the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Leave,
    Dissolve,
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> Result<Vec<Effect>, Refusal> {
    Err(Refusal::new(code, message))
}

impl Phase {
    pub fn session(&self) -> Option<Session> {
        match self {
            Phase::Idle => None,
            Phase::Joining { session, .. }
            | Phase::WaitingRoom { session, .. }
            | Phase::InMeeting { session, .. } => Some(*session),
        }
    }
}

impl Phase {
    /// The state of the meeting state machine (`machine::CALLS`).
    pub fn state(&self) -> MeetingState {
        match self {
            Phase::Idle => MeetingState::Idle,
            Phase::Joining { .. } => MeetingState::Joining,
            Phase::WaitingRoom { leaving: false, .. } => MeetingState::WaitingRoom,
            Phase::WaitingRoom { leaving: true, .. } => MeetingState::LeavingWaitingRoom,
            Phase::InMeeting { exit: None, .. } => MeetingState::InMeeting,
            Phase::InMeeting {
                exit: Some(Exit::Leave),
                ..
            } => MeetingState::Leaving,
            Phase::InMeeting {
                exit: Some(Exit::Dissolve),
                ..
            } => MeetingState::Dissolving,
        }
    }
}

impl Room {
    /// A `Call/Meeting` action: allowed or refused as `machine::CALLS` says, then carried out.
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
        let call = Call::of(&action);
        match call_rule(self.phase.state(), call).answer {
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

    /// Whether a guard of `machine::CALLS` holds.
    fn check(&self, guard: Guard, call: Call) -> Result<(), Refusal> {
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
                let verb = if call == Call::StartMeeting {
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

    /// Start and Join accepted: from here on the devices are the meeting's, and the share
    /// guide, if it was showing, gives way (the effects say so).
    fn begin_joining(&mut self, media: Media) -> (Session, Vec<Effect>) {
        let session = self.next_session();
        self.phase = Phase::Joining {
            session,
            early: Vec::new(),
        };
        let mut effects = self.devices_enter_meeting(media);
        effects.extend(self.update_share(Share::meeting_begins));
        (session, effects)
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

    /// An exit the service refused: the room stays where it is, and says so in the exit's
    /// event.
    fn exit_failed(&self, def: EventDef<Stay>, refusal: &Refusal) -> Vec<Effect> {
        vec![failed_event(
            def,
            refusal,
            self.stay_data(Reason::Requested),
        )]
    }

    pub(super) fn enter_meeting(&mut self, meeting: MeetingDetails) -> Vec<Effect> {
        let session = self
            .phase
            .session()
            .expect("entering a meeting from an attempt");
        self.enter_meeting_as(session, meeting)
    }

    /// In `meeting`, followed as `session`, with the event that says so.
    pub(super) fn enter_meeting_as(
        &mut self,
        session: Session,
        meeting: MeetingDetails,
    ) -> Vec<Effect> {
        self.layout.reset();
        self.record_requested = false;
        self.phase = Phase::InMeeting {
            session,
            meeting,
            exit: None,
        };
        self.members_announced_as_now();
        vec![event(m::JOIN_MEETING_COMPLETED, self.joined_data())]
    }

    /// Out of the meeting or waiting room, back to Idle, with the event that says why.
    pub(super) fn exit(
        &mut self,
        name: EventDef<Stay>,
        reason: Reason,
        failure: Option<Refusal>,
    ) -> Vec<Effect> {
        let data = self.stay_data(reason);
        let record_before = self.record_status();
        self.phase = Phase::Idle;
        self.members_announced_as_now();
        self.layout.reset();
        self.record_requested = false;
        let mut effects = match failure {
            None => vec![event(name, data)],
            Some(refusal) => vec![failed_event(name, &refusal, data)],
        };
        // Everything the meeting carried ends with it, and says so.
        effects.extend(self.devices_leave_meeting());
        effects.extend(self.update_share(Share::meeting_ends));
        if record_before != 0 {
            effects.push(self.record_event());
        }
        // The member list empties too; the exit event itself says so.
        effects
    }

    /// A start or join failed: back to Idle and the room's own devices, and the attempt is
    /// abandoned, so that what it did on the service (a call placed before the failure) is
    /// undone and Idle stays true.
    pub(super) fn join_failed(&mut self, refusal: &Refusal) -> Vec<Effect> {
        let attempt = self.phase.session();
        self.phase = Phase::Idle;
        let mut effects = vec![failed_event(
            m::JOIN_MEETING_COMPLETED,
            refusal,
            self.joined_data(),
        )];
        effects.extend(self.devices_leave_meeting());
        effects.extend(attempt.map(Effect::Abandon));
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
