//! Reconciling: the room asks the meeting service whether it is in a meeting the room is not
//! following, and shows that meeting if so. It asks at start (the daemon may have restarted in
//! a meeting) and whenever the service comes back (the room let its meeting go when the service
//! went away, but the call may have carried on). Only an Idle room adopts what the service
//! finds; a found meeting the room cannot adopt is abandoned, which only stops the adapter
//! following it (the room never placed that call, so nothing is hung up).

use super::share::Share;
use super::{BackendCall, Effect, Phase, Room};
use crate::domain::{BackendResult, MeetingDetails, ScheduledMeeting, Session};

impl Room {
    /// What the room asks the service for when the daemon starts: the meeting list, and
    /// whether the room is already in a meeting.
    pub fn started(&mut self) -> Vec<Effect> {
        let mut effects = self.refresh_meeting_list();
        effects.extend(self.reconcile());
        effects
    }

    /// Fetches the scheduled meetings, from a service that has them.
    pub(super) fn refresh_meeting_list(&self) -> Vec<Effect> {
        if self.profile.can(crate::domain::Capability::MeetingList) {
            vec![Effect::Run(BackendCall::new(
                "meeting_list",
                None,
                |b| b.meeting_list(),
                Room::meeting_list_answered,
            ))]
        } else {
            Vec::new()
        }
    }

    /// The service's answer to the meeting list.
    pub(super) fn meeting_list_answered(
        &mut self,
        answer: BackendResult<Vec<ScheduledMeeting>>,
    ) -> Vec<Effect> {
        match answer {
            Ok(list) => self.set_meeting_list(list),
            Err(refusal) => {
                tracing::warn!(%refusal, "could not fetch the meeting list");
                Vec::new()
            }
        }
    }

    /// Asks the service whether the room is in a meeting, if it is Idle. One question at a
    /// time: asked again while one is under way, it is asked once more after the answer.
    pub(super) fn reconcile(&mut self) -> Vec<Effect> {
        if self.phase != Phase::Idle {
            return Vec::new();
        }
        if self.reconciling.is_some() {
            self.reconcile_again = true;
            return Vec::new();
        }
        let session = self.next_session();
        self.reconciling = Some(session);
        vec![Effect::Run(BackendCall::new(
            "reconcile",
            Some(session),
            move |b| b.reconcile(session),
            move |room, answer| room.reconcile_answered(session, answer),
        ))]
    }

    /// The service's answer: the meeting the room is in, if any, adopted when the room is
    /// still Idle.
    pub(super) fn reconcile_answered(
        &mut self,
        session: Session,
        result: BackendResult<Option<MeetingDetails>>,
    ) -> Vec<Effect> {
        if self.reconciling == Some(session) {
            self.reconciling = None;
        }
        let again = std::mem::take(&mut self.reconcile_again);
        let failed = result.is_err();
        match result {
            Ok(Some(meeting)) if self.phase == Phase::Idle => {
                tracing::info!(code = %meeting.code, "the room is in a meeting it did not start here: showing it");
                return self.adopt(session, meeting);
            }
            Ok(Some(meeting)) => {
                tracing::info!(code = %meeting.code, "a meeting found while the room had moved on: not followed");
                return vec![Effect::Abandon(session)];
            }
            Ok(None) => {}
            Err(refusal) => {
                tracing::warn!(%refusal, "cannot ask the meeting service whether the room is in a meeting");
            }
        }
        let mut effects = Vec::new();
        if failed {
            // Cut short, the adapter may have started following what it found.
            effects.push(Effect::Abandon(session));
        }
        if again {
            effects.extend(self.reconcile());
        }
        effects
    }

    /// Shows `meeting`, which the service says the room is in, followed as `session`: the
    /// devices become the meeting's and a cast or the share guide gives way, as when joining.
    fn adopt(&mut self, session: Session, meeting: MeetingDetails) -> Vec<Effect> {
        let media = self.devices.for_meeting(None, None);
        let mut effects = self.devices_enter_meeting(media);
        effects.extend(self.update_share(Share::meeting_found));
        effects.extend(self.enter_meeting_as(session, meeting));
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::domain::RoomRole;
    use crate::modules::meeting::MeetingAction;
    use crate::wire::ErrorCode;

    fn asked(effects: &[Effect]) -> Session {
        match &calls(effects)[..] {
            [("meeting_list", None), ("reconcile", Some(s))] if effects.len() == 2 => *s,
            other => panic!("expected the list and a reconcile, got {other:?}"),
        }
    }

    #[test]
    fn an_idle_room_shows_the_meeting_the_service_finds_and_can_leave_it() {
        let mut r = room();
        let s = asked(&r.started());
        let effects = r.reconcile_answered(s, Ok(Some(details(RoomRole::Attendee, 2))));
        let joined = events(&effects)
            .into_iter()
            .find(|e| e.name == "JoinMeetingCompleted")
            .expect("told the room is in a meeting");
        assert_eq!(joined.code, ErrorCode::OK);
        assert_eq!(joined.data["meeting_info"]["meeting_status"], 1);
        assert_eq!(r.phase.status(), 1);
        let left = act(&mut r, MeetingAction::Leave).unwrap();
        assert_eq!(calls(&left), [("leave", Some(s))]);
    }

    #[test]
    fn a_meeting_found_after_the_room_moved_on_is_abandoned() {
        let mut r = room();
        let s = asked(&r.started());
        r.apply(join()).unwrap();
        let effects = r.reconcile_answered(s, Ok(Some(details(RoomRole::Attendee, 2))));
        assert!(matches!(&effects[..], [Effect::Abandon(x)] if *x == s));
        assert_eq!(r.phase.status(), 2, "still joining");
    }

    #[test]
    fn one_question_at_a_time_and_asked_again_after_it() {
        let mut r = room();
        let first = asked(&r.started());
        reach(&mut r, false);
        let back = reach(&mut r, true);
        assert!(
            matches!(&calls(&back)[..], [("meeting_list", None)]) && back.len() == 1,
            "{back:?}"
        );
        let failed = r.reconcile_answered(
            first,
            Err(crate::wire::Refusal::new(ErrorCode::NETWORK, "gone")),
        );
        match (&failed[..], &calls(&failed)[..]) {
            ([Effect::Abandon(a), Effect::Run(_)], [("reconcile", Some(again))]) => {
                assert!(*a == first && *again != first)
            }
            other => panic!("expected the first abandoned and a second question, got {other:?}"),
        }
        assert_eq!(r.phase, Phase::Idle);
    }
}
