//! The Members module (PROTOCOL.md §6): who is in the meeting, as `Query ["Members"]` serves it.
//! It has no actions (MeetingControl acts on members) and its changes are the Meeting module's
//! `MembersChanged` events.

use schemars::JsonSchema;
use serde::Serialize;

use super::meeting::UserInfo;
use super::{Module, schema_of};
use crate::wire::{ErrorCode, Refusal};

/// The Members module as dispatch, the schemas and roomsctl see it: a node, no actions, no
/// events of its own.
pub const MODULE: Module = Module {
    name: "Members",
    key: "members",
    bare: true,
    state: schema_of::<MembersNode>,
    actions: &[],
    events: &[],
    parse: |call| {
        Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!(
                "Call/Members has no actions (got {:?}): use Call/MeetingControl",
                call.action
            ),
        ))
    },
};

/// `Query ["Members"]` answers these keys directly, not under `"members"` (PROTOCOL.md §3):
/// `member_count` last, so that a driver's `}}}}` match ends at the end of the frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct MembersNode {
    pub user_list_info: Vec<Member>,
    pub member_count: MemberCount,
}

/// One participant, the room itself included.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
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

/// The compact record of a full user record (`self_info`).
impl From<UserInfo> for Member {
    fn from(user: UserInfo) -> Self {
        Self {
            user_id: user.user_id,
            nickname: user.nickname,
            host: user.host,
            co_host: user.co_host,
            role_type: user.role_type,
            user_type: user.user_type,
            audio_on: user.audio_on,
            video_on: user.video_on,
            screen_sharing: user.screen_sharing,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MemberCount {
    /// The length of `user_list_info`.
    pub in_meeting: usize,
    pub in_waiting_room: usize,
}

/// `MembersChanged` data: what changed since the last one, so that an event costs what changed
/// rather than the whole meeting. A client keeps a map by `user_id`: it puts `joined` and
/// `updated`, removes `left`. `user_list_info`, the whole list as before, only while the
/// meeting is no larger than `[compat] members_changed_list` (100 by default); `member_count` last, as in the
/// Query answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[schemars(rename = "MembersChanged")]
pub struct MembersDelta {
    /// Newcomers, in list order.
    pub joined: Vec<Member>,
    /// The `user_id` of those who left.
    pub left: Vec<String>,
    /// Members whose record changed (muted, video, role, sharing), in list order.
    pub updated: Vec<Member>,
    /// The whole list, for drivers written against the full-list payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_list_info: Option<Vec<Member>>,
    /// The counts after the change.
    pub member_count: MemberCount,
}
