//! Where the room is with respect to meetings ([`Phase`]), and the moves into and out of a
//! meeting that the actions, the service's answers and its reports share.

use super::machine::MeetingState;
use super::share::Share;
use super::{Effect, Room, event, failed_event};
use crate::domain::{Happening, Media, MeetingDetails, Session};
use crate::modules::EventDef;
use crate::modules::meeting::{self as m, Reason, Stay};
use crate::wire::Refusal;

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

impl Phase {
    pub fn session(&self) -> Option<Session> {
        match self {
            Phase::Idle => None,
            Phase::Joining { session, .. }
            | Phase::WaitingRoom { session, .. }
            | Phase::InMeeting { session, .. } => Some(*session),
        }
    }

    /// The state of the meeting state machine (`meeting::CALLS`).
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
    /// Start and Join accepted: from here on the devices are the meeting's, and the share
    /// guide, if it was showing, gives way (the effects say so).
    pub(super) fn begin_joining(&mut self, media: Media) -> (Session, Vec<Effect>) {
        let session = self.next_session();
        self.phase = Phase::Joining {
            session,
            early: Vec::new(),
        };
        let mut effects = self.devices_enter_meeting(media);
        effects.extend(self.update_share(Share::meeting_begins));
        (session, effects)
    }

    /// An exit the service refused: the room stays where it is, and says so in the exit's
    /// event.
    pub(super) fn exit_failed(&self, def: EventDef<Stay>, refusal: &Refusal) -> Vec<Effect> {
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
