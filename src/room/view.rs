//! How the room's state reads on the wire: the Meeting tree and event payloads.

use super::control::role_type;
use super::{Phase, Room};
use crate::domain::{MeetingDetails, RoomRole};
use crate::modules::meeting::{
    Joined, LayoutInfo, LayoutSwitched, ListedMeeting, MeetingInfo, MeetingInfoChanged,
    MeetingListChanged, MeetingNode, MeetingTime, Reason, SelfInfo, Stay, UserInfo,
    format_meeting_code,
};

impl Room {
    pub(super) fn meeting_node(&self) -> MeetingNode {
        let user = self.self_info();
        MeetingNode {
            multi_scree_info: self.screens.info(),
            layout_info: self.layout_info(),
            meeting_info: self.meeting_info(),
            self_info: SelfInfo {
                share_user_info: user.clone(),
                user,
            },
            meeting_list: self.listed_meetings(),
        }
    }

    pub(super) fn layout_info(&self) -> LayoutInfo {
        self.layout.info(
            self.screens.setup(),
            self.phase.in_meeting().is_some(),
            self.layout_switchable(),
        )
    }

    /// `meeting_list`: at most 10, as the vendor documents.
    fn listed_meetings(&self) -> Vec<ListedMeeting> {
        self.meeting_list.iter().take(10).map(listed).collect()
    }

    /// Layouts can be switched in a meeting with someone other than the room.
    pub(super) fn layout_switchable(&self) -> bool {
        self.phase
            .in_meeting()
            .is_some_and(|m| !m.participants.is_empty())
    }

    pub(super) fn meeting_info(&self) -> MeetingInfo {
        let status = self.phase.status();
        let Some(m) = self.phase.meeting() else {
            if self.phase == Phase::Idle && self.share.casting() {
                return MeetingInfo {
                    meeting_status: 4,
                    meeting_type: 4,
                    ..MeetingInfo::default()
                };
            }
            return MeetingInfo {
                meeting_status: status,
                ..MeetingInfo::default()
            };
        };
        MeetingInfo {
            meeting_status: status,
            meeting_type: m.meeting_type,
            meeting_title: m.title.clone(),
            meeting_code: m.code.clone(),
            meeting_password: m.password.clone(),
            meeting_time: MeetingTime {
                begin_time: m.begin_time,
                end_time: m.end_time,
            },
            begin_time: m.begin_time,
            end_time: m.end_time,
            formatted_meeting_code: format_meeting_code(&m.code),
            meeting_creator_name: m.creator_name.clone(),
            host_status: u8::from(m.host_present()),
            meeting_url: m.url.clone(),
        }
    }

    pub(super) fn self_info(&self) -> UserInfo {
        let Some(m) = self.phase.meeting() else {
            return UserInfo::default();
        };
        UserInfo {
            user_id: m.room_user_id.clone(),
            host: m.room_role == RoomRole::Host,
            co_host: m.room_role == RoomRole::CoHost,
            user_type: 1,
            is_creator: m.room_is_creator,
            role_type: role_type(m.room_role),
            video_on: self.devices.camera_on(),
            audio_on: self.devices.mic_on(),
            screen_sharing: self.share.sharing_in_meeting(),
            nickname: self.name.clone(),
            ..UserInfo::default()
        }
    }

    /// `JoinMeetingCompleted` data.
    pub(super) fn joined_data(&self) -> Joined {
        let d = self.devices.node();
        Joined {
            meeting_info: self.meeting_info(),
            self_user_info: self.self_info(),
            device_info: d.device_info.clone(),
            mic_info: d.mic_info.clone(),
            speaker_info: d.speaker_info.clone(),
            camera_info: d.camera_info.clone(),
        }
    }

    /// `LayoutSwitchChanged` data.
    pub(super) fn layout_data(&self) -> LayoutSwitched {
        let info = self.layout_info();
        LayoutSwitched {
            layout_switch_info: info.layout_switch_info,
            main_screen_layout_info: info.main_screen_layout_info,
            secondary_screen_layout_info: info.secondary_screen_layout_info,
        }
    }

    pub(super) fn meeting_list_data(&self) -> MeetingListChanged {
        MeetingListChanged {
            meeting_list: self.listed_meetings(),
        }
    }

    /// `MeetingInfoChanged` data.
    pub(super) fn meeting_info_data(&self) -> MeetingInfoChanged {
        MeetingInfoChanged {
            meeting_info: self.meeting_info(),
        }
    }

    /// Data of the events that end or change a stay (`LeaveMeeting`, `DissolveMeeting`,
    /// `JoinWaitingRoom`, `LeaveWaitingRoom`): the meeting as it is now, and why.
    pub(super) fn stay_data(&self, reason: Reason) -> Stay {
        Stay {
            meeting_info: self.meeting_info(),
            reason,
        }
    }
}

fn listed(m: &crate::domain::ScheduledMeeting) -> ListedMeeting {
    ListedMeeting {
        meeting_title: m.title.clone(),
        meeting_time: MeetingTime {
            begin_time: m.begin_time,
            end_time: m.end_time,
        },
        meeting_creator_name: m.creator_name.clone(),
        meeting_code: m.code.clone(),
        meeting_id: m.meeting_id.clone(),
        meeting_type: m.meeting_type,
        formatted_meeting_code: format_meeting_code(&m.code),
    }
}

impl Phase {
    /// `meeting_status` as far as the phase decides it; 4 (casting before a meeting) is the
    /// share's, so read `Room::meeting_info` for the value on the wire.
    pub fn status(&self) -> u8 {
        self.state().status()
    }

    /// The meeting the room is in or waiting for.
    pub fn meeting(&self) -> Option<&MeetingDetails> {
        match self {
            Phase::InMeeting { meeting, .. } | Phase::WaitingRoom { meeting, .. } => Some(meeting),
            Phase::Idle | Phase::Joining { .. } => None,
        }
    }

    pub(super) fn meeting_mut(&mut self) -> Option<&mut MeetingDetails> {
        match self {
            Phase::InMeeting { meeting, .. } | Phase::WaitingRoom { meeting, .. } => Some(meeting),
            Phase::Idle | Phase::Joining { .. } => None,
        }
    }

    pub fn in_meeting(&self) -> Option<&MeetingDetails> {
        match self {
            Phase::InMeeting { meeting, .. } => Some(meeting),
            _ => None,
        }
    }
}
