//! The meeting state machine (PROTOCOL.md §4): Idle → Joining → InMeeting or WaitingRoom → Idle.
//!
//! Preconditions are checked when an action arrives and refused at once (the acknowledgement
//! carries the code, no event follows). What the backend answers later, and what it reports on
//! its own, ends in an event.

use super::machine::{Answer, Call, Guard, MeetingState, call_rule};
use super::share::Share;
use super::{BackendCall, Completed, Effect, Room, event, failed_event};
use crate::domain::{
    BackendEvent, Capability, Happening, JoinRequest, Joined, Media, MeetingDetails, RoomRole,
    Session, StartRequest,
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
                    move |answer| Completed::Started(session, answer),
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
                    move |answer| Completed::Joined(session, answer),
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
                    move |answer| Completed::Dissolved(session, answer),
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

    /// Applies the backend's answer to an operation. Answers about an attempt the room has left
    /// behind are dropped.
    pub fn complete(&mut self, completed: Completed) -> Vec<Effect> {
        let session = match completed {
            Completed::MeetingList(Ok(list)) => return self.set_meeting_list(list),
            Completed::MeetingList(Err(refusal)) => {
                tracing::warn!(%refusal, "could not fetch the meeting list");
                return Vec::new();
            }
            Completed::Media(session, change, result) => {
                return self.media_completed(session, change, result);
            }
            Completed::Controlled(session, action, result) => {
                return self.control_completed(session, action, result);
            }
            Completed::Reconciled(session, result) => return self.reconciled(session, result),
            Completed::Started(session, _)
            | Completed::Joined(session, _)
            | Completed::Left(session, _)
            | Completed::Dissolved(session, _) => session,
        };
        if self.phase.session() != Some(session) {
            tracing::debug!(?session, "dropping a backend answer for an earlier meeting");
            // A start or join that got in after the room gave it up: undo it.
            return match completed {
                Completed::Started(_, Ok(_)) | Completed::Joined(_, Ok(_)) => {
                    vec![Effect::Abandon(session)]
                }
                _ => Vec::new(),
            };
        }
        let early = match &mut self.phase {
            Phase::Joining { early, .. } => std::mem::take(early),
            _ => Vec::new(),
        };
        let mut effects = self.apply_answer(completed);
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

    /// [`Room::complete`] for an answer about the current attempt.
    fn apply_answer(&mut self, completed: Completed) -> Vec<Effect> {
        match (completed, &mut self.phase) {
            (Completed::Started(_, Ok(meeting)), Phase::Joining { .. })
            | (Completed::Joined(_, Ok(Joined::InMeeting(meeting))), Phase::Joining { .. }) => {
                self.enter_meeting(meeting)
            }
            (
                Completed::Joined(_, Ok(Joined::WaitingRoom(meeting))),
                Phase::Joining { session, .. },
            ) => {
                let session = *session;
                self.phase = Phase::WaitingRoom {
                    session,
                    meeting,
                    leaving: false,
                };
                vec![event(
                    m::JOIN_WAITING_ROOM,
                    self.stay_data(Reason::Requested),
                )]
            }
            (
                Completed::Started(_, Err(refusal)) | Completed::Joined(_, Err(refusal)),
                Phase::Joining { .. },
            ) => self.join_failed(&refusal),
            (Completed::Left(_, Ok(())), Phase::WaitingRoom { leaving: true, .. }) => {
                self.exit(m::LEAVE_WAITING_ROOM, Reason::Requested, None)
            }
            (Completed::Left(_, Err(refusal)), Phase::WaitingRoom { leaving, .. }) => {
                *leaving = false;
                vec![failed_event(
                    m::LEAVE_WAITING_ROOM,
                    &refusal,
                    self.stay_data(Reason::Requested),
                )]
            }
            (
                Completed::Left(_, Ok(())),
                Phase::InMeeting {
                    exit: Some(Exit::Leave),
                    ..
                },
            ) => self.exit(m::LEAVE_MEETING, Reason::Requested, None),
            (
                Completed::Dissolved(_, Ok(())),
                Phase::InMeeting {
                    exit: Some(Exit::Dissolve),
                    ..
                },
            ) => self.exit(m::DISSOLVE_MEETING, Reason::Requested, None),
            (Completed::Left(_, Err(refusal)), Phase::InMeeting { exit, .. }) => {
                *exit = None;
                vec![failed_event(
                    m::LEAVE_MEETING,
                    &refusal,
                    self.stay_data(Reason::Requested),
                )]
            }
            (Completed::Dissolved(_, Err(refusal)), Phase::InMeeting { exit, .. }) => {
                *exit = None;
                vec![failed_event(
                    m::DISSOLVE_MEETING,
                    &refusal,
                    self.stay_data(Reason::Requested),
                )]
            }
            (completed, phase) => {
                tracing::warn!(
                    ?completed,
                    ?phase,
                    "backend answer does not fit the meeting state; ignored"
                );
                Vec::new()
            }
        }
    }

    /// Applies what the backend reports on its own.
    pub fn happen(&mut self, report: BackendEvent) -> Vec<Effect> {
        match report.happening {
            Happening::Recording(recording) if report.session == self.phase.session() => {
                return self.set_recording(recording);
            }
            Happening::MeetingList(list) => return self.set_meeting_list(list),
            _ => {}
        }
        if report.session.is_none() || report.session != self.phase.session() {
            tracing::debug!(?report, "dropping a backend report for an earlier meeting");
            return Vec::new();
        }
        if let Phase::Joining { early, .. } = &mut self.phase {
            early.push(report.happening);
            return Vec::new();
        }
        match (report.happening, &mut self.phase) {
            (Happening::Admitted(meeting), Phase::WaitingRoom { leaving: false, .. }) => {
                self.enter_meeting(*meeting)
            }
            (Happening::HostEnded, Phase::InMeeting { .. }) => {
                self.exit(m::DISSOLVE_MEETING, Reason::HostEnded, None)
            }
            (Happening::HostEnded, Phase::WaitingRoom { .. }) => {
                self.exit(m::LEAVE_WAITING_ROOM, Reason::HostEnded, None)
            }
            (Happening::Removed, Phase::InMeeting { .. }) => {
                self.exit(m::LEAVE_MEETING, Reason::Removed, None)
            }
            (Happening::Removed, Phase::WaitingRoom { .. }) => {
                self.exit(m::LEAVE_WAITING_ROOM, Reason::Removed, None)
            }
            (
                Happening::Participants(people),
                Phase::InMeeting { .. } | Phase::WaitingRoom { .. },
            ) => self.set_participants(people),
            (Happening::Members(changes), Phase::InMeeting { .. } | Phase::WaitingRoom { .. }) => {
                self.change_members(changes)
            }
            (
                Happening::Waiting(people),
                Phase::InMeeting { meeting, .. } | Phase::WaitingRoom { meeting, .. },
            ) => {
                meeting.waiting = people;
                if self.phase.in_meeting().is_some() {
                    self.members_changed().into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            (happening, phase) => {
                tracing::debug!(
                    ?happening,
                    ?phase,
                    "backend report does not apply now; ignored"
                );
                Vec::new()
            }
        }
    }

    fn enter_meeting(&mut self, meeting: MeetingDetails) -> Vec<Effect> {
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
    fn exit(
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
    fn join_failed(&mut self, refusal: &Refusal) -> Vec<Effect> {
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

    /// The service came back (the meeting list may have changed meanwhile, and the room may
    /// still be in a meeting it had to let go of) or went away (which ends any meeting: nothing
    /// the room does in it can reach the service).
    pub(super) fn reachability_changed(&mut self, reachable: bool) -> Vec<Effect> {
        if reachable {
            let mut effects = self.refresh_meeting_list();
            effects.extend(self.reconcile());
            return effects;
        }
        let lost = Refusal::new(
            ErrorCode::NETWORK,
            format!(
                "lost the connection to the meeting service ({}): {}",
                self.backend.kind, self.backend.last_error
            ),
        );
        match self.phase {
            Phase::Idle => Vec::new(),
            Phase::Joining { .. } => self.join_failed(&lost),
            Phase::WaitingRoom { .. } => {
                self.exit(m::LEAVE_WAITING_ROOM, Reason::BackendLost, Some(lost))
            }
            Phase::InMeeting { .. } => self.exit(m::LEAVE_MEETING, Reason::BackendLost, Some(lost)),
        }
    }

    fn set_meeting_list(&mut self, list: Vec<crate::domain::ScheduledMeeting>) -> Vec<Effect> {
        if list == self.meeting_list {
            return Vec::new();
        }
        self.meeting_list = list;
        vec![event(m::MEETING_LIST_CHANGED, self.meeting_list_data())]
    }

    fn set_participants(&mut self, people: Vec<crate::domain::Participant>) -> Vec<Effect> {
        self.participants_change(|room| {
            if let Phase::InMeeting { meeting, .. } | Phase::WaitingRoom { meeting, .. } =
                &mut room.phase
            {
                meeting.participants = people;
            }
            room.phase
                .in_meeting()
                .is_some()
                .then(|| room.members_changed())
                .flatten()
        })
    }

    /// Runs `change` on the participants, and adds the events of what it changed besides the
    /// list: whether a host is present, whether layouts can be switched.
    pub(super) fn participants_change(
        &mut self,
        change: impl FnOnce(&mut Self) -> Option<Effect>,
    ) -> Vec<Effect> {
        let host_before = self.meeting_info().host_status;
        let switchable_before = self.layout_switchable();
        let mut effects: Vec<Effect> = change(self).into_iter().collect();
        if self.meeting_info().host_status != host_before {
            effects.push(event(m::MEETING_INFO_CHANGED, self.meeting_info_data()));
        }
        if self.layout_switchable() != switchable_before {
            effects.push(event(m::LAYOUT_SWITCH_CHANGED, self.layout_data()));
        }
        effects
    }
}

#[cfg(test)]
#[path = "meeting_tests.rs"]
mod tests;

/// Leaving the meeting or the waiting room.
fn leave(session: Session) -> Effect {
    Effect::Run(BackendCall::new(
        "leave",
        Some(session),
        move |b| b.leave(session),
        move |answer| Completed::Left(session, answer),
    ))
}
