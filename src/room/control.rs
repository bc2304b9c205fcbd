//! MeetingControl (PROTOCOL.md §6) and the member list: what the room, as host, does to the
//! meeting and its participants. The room checks what it can know (in a meeting, host rights,
//! the participant exists, the recording rules) and refuses at once; the meeting service
//! carries out the rest and reports the effect (people muted, removed, recording).

use serde_json::{Value, json};

use super::{BackendCall, Effect, Event, Phase, Room};
use crate::domain::{BackendResult, Participant, RoomRole, Session};
use crate::modules::meeting_control::{
    self as mc, ControlAction, MeetingControlNode, MemberActed, MemberList, MemberRange, Nothing,
    RECORD_STATE_CHANGED, RecordAction, RecordStateChanged,
};
use crate::modules::members::{Member, MemberCount, MembersNode};
use crate::wire::{ErrorCode, Refusal};

impl Room {
    pub(super) fn control_action(&mut self, action: ControlAction) -> Result<Vec<Effect>, Refusal> {
        self.profile
            .require(crate::domain::Profile::capability_of(&action))?;
        let Phase::InMeeting {
            session, meeting, ..
        } = &self.phase
        else {
            return Err(Refusal::new(
                ErrorCode::USER_NOT_IN_MEETING,
                "the room is not in a meeting",
            ));
        };
        // A non-host's RequestRecord asks the host; everything else needs the rights.
        if !self.privileged() && action != ControlAction::RequestRecord {
            return Err(Refusal::new(
                ErrorCode::NOT_HOST,
                format!("{}: only the host or a co-host may do this", action.name()),
            ));
        }
        if let Some(target) = action.target() {
            if target == meeting.room_user_id {
                return Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    format!(
                        "{}: {target} is the room itself; use Call/Device or Call/Meeting LeaveMeeting",
                        action.name()
                    ),
                ));
            }
            if !meeting.participants.iter().any(|p| p.user_id == target) {
                return Err(Refusal::new(
                    ErrorCode::USER_NOT_IN_MEETING,
                    format!(
                        "{}: no participant {target:?} in the meeting",
                        action.name()
                    ),
                ));
            }
        }
        if matches!(
            action,
            ControlAction::RequestRecord | ControlAction::StartRecord { .. }
        ) {
            if !meeting.recording_allowed {
                return Err(Refusal::new(
                    ErrorCode::RECORDING_DISABLED,
                    "recording is disabled in this meeting",
                ));
            }
            if meeting.recording {
                return Err(Refusal::new(
                    ErrorCode::ALREADY_RECORDING,
                    "the meeting is already being recorded",
                ));
            }
            if matches!(action, ControlAction::StartRecord { .. }) && !self.record_requested {
                return Err(Refusal::new(
                    ErrorCode::REQUEST_RECORD_FIRST,
                    "StartRecord: send RequestRecord first",
                ));
            }
        }
        let session = *session;
        let asked = action.clone();
        Ok(vec![Effect::Run(BackendCall::new(
            "control",
            Some(session),
            move |b| b.control(session, asked.clone()),
            move |room, answer| room.control_answered(session, action.clone(), answer),
        ))])
    }

    /// The meeting service's answer to a MeetingControl action: its event, whenever it comes.
    pub(super) fn control_answered(
        &mut self,
        session: Session,
        action: ControlAction,
        result: BackendResult<()>,
    ) -> Vec<Effect> {
        let current = self.phase.session() == Some(session);
        let mut effects = Vec::new();
        if current && result.is_ok() {
            let before = self.record_status();
            match action {
                ControlAction::RequestRecord if self.privileged() => self.record_requested = true,
                ControlAction::StartRecord { .. } => self.set_recording_flag(true),
                _ => {}
            }
            if self.record_status() != before {
                effects.push(self.record_event());
            }
        }
        let failure = result.as_ref().err();
        effects.insert(0, Effect::Publish(self.acted_event(action, failure)));
        effects
    }

    /// The event of `action`'s name that tells its outcome.
    fn acted_event(&self, action: ControlAction, failure: Option<&Refusal>) -> Event {
        let record_status = self.record_status();
        match action {
            ControlAction::MuteAll { .. } => Event::told(mc::MUTE_ALL, failure, Nothing {}),
            ControlAction::MuteMember { user_id } => {
                Event::told(mc::MUTE_MEMBER, failure, MemberActed { user_id })
            }
            ControlAction::StopVideo { user_id } => {
                Event::told(mc::STOP_VIDEO, failure, MemberActed { user_id })
            }
            ControlAction::RemoveMember { user_id, .. } => {
                Event::told(mc::REMOVE_MEMBER, failure, MemberActed { user_id })
            }
            ControlAction::RequestRecord => {
                Event::told(mc::REQUEST_RECORD, failure, RecordAction { record_status })
            }
            ControlAction::StartRecord { .. } => {
                Event::told(mc::START_RECORD, failure, RecordAction { record_status })
            }
        }
    }

    /// The backend reports that recording started or stopped.
    pub(super) fn set_recording(&mut self, recording: bool) -> Vec<Effect> {
        let before = self.record_status();
        self.set_recording_flag(recording);
        if self.record_status() == before {
            return Vec::new();
        }
        vec![self.record_event()]
    }

    fn set_recording_flag(&mut self, recording: bool) {
        if let Phase::InMeeting { meeting, .. } = &mut self.phase {
            meeting.recording = recording;
            if !recording {
                self.record_requested = false;
            }
        }
    }

    fn privileged(&self) -> bool {
        self.phase
            .in_meeting()
            .is_some_and(|m| m.room_role != RoomRole::Attendee)
    }

    /// 0 none, 1 requested, 2 recording.
    pub(super) fn record_status(&self) -> u8 {
        match self.phase.in_meeting() {
            Some(m) if m.recording => 2,
            Some(_) if self.record_requested => 1,
            _ => 0,
        }
    }

    pub(super) fn record_event(&self) -> Effect {
        let node = self.meeting_control_node();
        Effect::Publish(Event::new(
            RECORD_STATE_CHANGED,
            RecordStateChanged {
                is_recording: node.is_recording,
                record_status: node.record_status,
            },
        ))
    }

    pub(super) fn meeting_control_node(&self) -> MeetingControlNode {
        MeetingControlNode {
            // No backend provides captions.
            is_caption_open: false,
            is_caption_support: false,
            current_font_size: 0,
            is_recording: self.phase.in_meeting().is_some_and(|m| m.recording),
            record_status: self.record_status(),
        }
    }

    /// `ListMemberIds`: the user ids at positions `begin..=end` of a list.
    pub(super) fn member_ids(&self, range: MemberRange) -> Result<Value, Refusal> {
        let Some(meeting) = self.phase.in_meeting() else {
            return Err(Refusal::new(
                ErrorCode::USER_NOT_IN_MEETING,
                "the room is not in a meeting",
            ));
        };
        let ids: Vec<&str> = match range.list {
            MemberList::InMeeting => std::iter::once(meeting.room_user_id.as_str())
                .chain(meeting.participants.iter().map(|p| p.user_id.as_str()))
                .collect(),
            MemberList::WaitingRoom => meeting.waiting.iter().map(|p| p.user_id.as_str()).collect(),
        };
        let end = range.end.saturating_add(1).min(ids.len());
        let page = ids.get(range.begin..end).unwrap_or_default();
        Ok(json!(page))
    }

    /// `Query ["Members"]`: the room first, then the other participants; empty outside a
    /// meeting.
    pub(super) fn members_node(&self) -> MembersNode {
        let Some(m) = self.phase.in_meeting() else {
            return MembersNode::default();
        };
        let room = Member::from(self.self_info());
        let user_list_info: Vec<Member> = std::iter::once(room)
            .chain(m.participants.iter().map(member))
            .collect();
        MembersNode {
            member_count: MemberCount {
                in_meeting: user_list_info.len(),
                in_waiting_room: m.waiting.len(),
            },
            user_list_info,
        }
    }
}

pub(super) fn role_type(role: RoomRole) -> u8 {
    match role {
        RoomRole::Host => 1,
        RoomRole::CoHost => 2,
        RoomRole::Attendee => 3,
    }
}

pub(super) fn member(p: &Participant) -> Member {
    Member {
        user_id: p.user_id.clone(),
        nickname: p.nickname.clone(),
        host: p.host,
        co_host: p.co_host,
        role_type: role_type(p.role()),
        user_type: 1,
        audio_on: p.audio_on,
        video_on: p.video_on,
        screen_sharing: false,
    }
}
