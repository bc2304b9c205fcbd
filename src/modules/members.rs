//! The Members module (PROTOCOL.md §6): who is in the meeting, as `Query ["Members"]` serves it.
//! It has no actions (MeetingControl acts on members) and its changes are the Meeting module's
//! `MembersChanged` events.

use serde::Serialize;

/// `Query ["Members"]` answers these keys directly, not under `"members"` (PROTOCOL.md §3):
/// `member_count` last, so that a driver's `}}}}` match ends at the end of the frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MembersNode {
    pub user_list_info: Vec<Member>,
    pub member_count: MemberCount,
}

/// One participant, the room itself included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub user_id: String,
    pub nickname: String,
    pub host: bool,
    pub co_host: bool,
    /// 1 host, 2 co-host, 3 attendee.
    pub role_type: u8,
    /// 1 normal, 2 phone.
    pub user_type: u8,
    pub audio_on: bool,
    pub video_on: bool,
    pub screen_sharing: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MemberCount {
    /// The length of `user_list_info`.
    pub in_meeting: usize,
    pub in_waiting_room: usize,
}
