//! What the meeting service reports on its own, outside any answer to a call: the host admits
//! the room, ends the meeting or removes it; the members and the waiting room change; the
//! meeting list changes; the service goes away or comes back.

use super::{Effect, Phase, Room, event};
use crate::domain::{BackendEvent, Happening, Participant, ScheduledMeeting};
use crate::modules::meeting::{self as m, Reason};
use crate::wire::{ErrorCode, Refusal};

impl Room {
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

    pub(super) fn set_meeting_list(&mut self, list: Vec<ScheduledMeeting>) -> Vec<Effect> {
        if list == self.meeting_list {
            return Vec::new();
        }
        self.meeting_list = list;
        vec![event(m::MEETING_LIST_CHANGED, self.meeting_list_data())]
    }

    fn set_participants(&mut self, people: Vec<Participant>) -> Vec<Effect> {
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
