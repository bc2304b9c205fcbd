//! The MeetingControl module (PROTOCOL.md §6): what the room does to the meeting and to other
//! participants, and the in-meeting caption settings served by `Query ["MeetingControl"]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{action_params, string_or_integer};
use crate::wire::{ErrorCode, Refusal};

pub const MUTE_ALL: &str = "MuteAll";
pub const MUTE_MEMBER: &str = "MuteMember";
pub const STOP_VIDEO: &str = "StopVideo";
pub const REMOVE_MEMBER: &str = "RemoveMember";
pub const REQUEST_RECORD: &str = "RequestRecord";
pub const START_RECORD: &str = "StartRecord";
/// **[decided]** Recording started or stopped, whoever did it.
pub const RECORD_STATE_CHANGED: &str = "RecordStateChanged";

/// Each asynchronous action ends in the event of its name.
/// The actions `Call/MeetingControl` takes.
pub const ACTIONS: &[&str] = &[
    MUTE_ALL,
    MUTE_MEMBER,
    STOP_VIDEO,
    REMOVE_MEMBER,
    REQUEST_RECORD,
    START_RECORD,
    "ListMemberIds",
];

pub const EVENTS: &[&str] = &[
    MUTE_ALL,
    MUTE_MEMBER,
    STOP_VIDEO,
    REMOVE_MEMBER,
    REQUEST_RECORD,
    START_RECORD,
    RECORD_STATE_CHANGED,
];

/// `meeting_control`: caption settings, then the room's recording state. The last key is a
/// scalar (PROTOCOL.md §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MeetingControlNode {
    pub is_caption_open: bool,
    pub is_caption_support: bool,
    pub current_font_size: u8,
    /// **[decided]** Whether the meeting is being recorded.
    pub is_recording: bool,
    /// **[decided]** 0 none, 1 requested (StartRecord may follow), 2 recording.
    pub record_status: u8,
}

pub use crate::domain::ControlAction;

/// The protocol's name for an action lives with the protocol; the action itself is the room's
/// and the services' shared vocabulary (`domain`).
impl ControlAction {
    /// The action's name, which is also its event's.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MuteAll { .. } => MUTE_ALL,
            Self::MuteMember { .. } => MUTE_MEMBER,
            Self::StopVideo { .. } => STOP_VIDEO,
            Self::RemoveMember { .. } => REMOVE_MEMBER,
            Self::RequestRecord => REQUEST_RECORD,
            Self::StartRecord { .. } => START_RECORD,
        }
    }
}

/// Which list `ListMemberIds` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberList {
    InMeeting,
    WaitingRoom,
}

/// `ListMemberIds`: positions `begin..=end` of a list (synchronous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRange {
    pub list: MemberList,
    pub begin: usize,
    pub end: usize,
}

/// A parsed `Call/MeetingControl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlCall {
    Act(ControlAction),
    ListMemberIds(MemberRange),
}

#[derive(Deserialize, JsonSchema)]
struct MuteAllParams {
    #[serde(default = "yes")]
    audio_allow_unmute_by_self: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, JsonSchema)]
// serde's `default` (needed by `deserialize_with`) hides that the user is required.
#[schemars(extend("required" = ["user_id"]))]
struct MemberParams {
    #[serde(default, deserialize_with = "string_or_integer")]
    #[schemars(schema_with = "super::string_or_integer_schema")]
    user_id: Option<String>,
    /// `RemoveMember`: whether the person may join again.
    #[serde(default = "yes")]
    allow_join: bool,
}

#[derive(Deserialize, JsonSchema)]
struct StartRecordParams {
    #[serde(default)]
    mobile_address: String,
}

#[derive(Deserialize, JsonSchema)]
struct ListParams {
    begin_count: Option<i64>,
    end_count: Option<i64>,
    /// 1 participants, 0 the waiting room.
    #[serde(rename = "type", default = "participants")]
    list: i64,
}

/// The JSON Schema of an action's `action_params`.
pub fn params_schema(action: &str) -> schemars::Schema {
    match action {
        MUTE_ALL => schemars::schema_for!(MuteAllParams),
        MUTE_MEMBER | STOP_VIDEO | REMOVE_MEMBER => schemars::schema_for!(MemberParams),
        START_RECORD => schemars::schema_for!(StartRecordParams),
        "ListMemberIds" => schemars::schema_for!(ListParams),
        _ => super::no_params_schema(),
    }
}

fn participants() -> i64 {
    1
}

/// Reads a `Call/MeetingControl` action: 9 for unknown actions, 8 for bad parameters.
pub fn parse_action(action: &str, params: Option<&RawValue>) -> Result<ControlCall, Refusal> {
    let user = |action: &str| -> Result<(String, bool), Refusal> {
        let p: MemberParams = action_params(action, params)?;
        match p.user_id {
            Some(id) if !id.is_empty() => Ok((id, p.allow_join)),
            _ => Err(Refusal::new(
                ErrorCode::PARAMETER,
                format!("{action}: user_id is required"),
            )),
        }
    };
    let act = match action {
        MUTE_ALL => {
            let p: MuteAllParams = action_params(action, params)?;
            ControlAction::MuteAll {
                allow_unmute_by_self: p.audio_allow_unmute_by_self,
            }
        }
        MUTE_MEMBER => ControlAction::MuteMember {
            user_id: user(action)?.0,
        },
        STOP_VIDEO => ControlAction::StopVideo {
            user_id: user(action)?.0,
        },
        REMOVE_MEMBER => {
            let (user_id, allow_join) = user(action)?;
            ControlAction::RemoveMember {
                user_id,
                allow_join,
            }
        }
        REQUEST_RECORD => ControlAction::RequestRecord,
        START_RECORD => {
            let p: StartRecordParams = action_params(action, params)?;
            ControlAction::StartRecord {
                mobile_address: p.mobile_address,
            }
        }
        "ListMemberIds" => return list_member_ids(params).map(ControlCall::ListMemberIds),
        _ => {
            return Err(Refusal::new(
                ErrorCode::UNSUPPORTED,
                format!("Call/MeetingControl has no action {action:?}"),
            ));
        }
    };
    Ok(ControlCall::Act(act))
}

fn list_member_ids(params: Option<&RawValue>) -> Result<MemberRange, Refusal> {
    let bad = |message: String| Refusal::new(ErrorCode::PARAMETER, message);
    let p: ListParams = action_params("ListMemberIds", params)?;
    let list = match p.list {
        1 => MemberList::InMeeting,
        0 => MemberList::WaitingRoom,
        other => {
            return Err(bad(format!(
                "ListMemberIds: type must be 1 (participants) or 0 (waiting room), not {other}"
            )));
        }
    };
    let (Some(begin), Some(end)) = (p.begin_count, p.end_count) else {
        return Err(bad(
            "ListMemberIds: begin_count and end_count are required".into()
        ));
    };
    let (Ok(begin), Ok(end)) = (usize::try_from(begin), usize::try_from(end)) else {
        return Err(bad(format!(
            "ListMemberIds: begin_count and end_count must not be negative ({begin}, {end})"
        )));
    };
    if begin > end {
        return Err(bad(format!(
            "ListMemberIds: begin_count {begin} is after end_count {end}"
        )));
    }
    Ok(MemberRange { list, begin, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(action: &str, params: &str) -> Result<ControlCall, Refusal> {
        let raw: &RawValue = serde_json::from_str(params).unwrap();
        parse_action(action, Some(raw))
    }

    #[test]
    fn member_actions_need_a_user_id_and_accept_numbers() {
        assert_eq!(
            parse("MuteMember", r#"{"user_id": 42}"#).unwrap(),
            ControlCall::Act(ControlAction::MuteMember {
                user_id: "42".into()
            })
        );
        for action in ["MuteMember", "StopVideo", "RemoveMember"] {
            assert_eq!(parse(action, "{}").unwrap_err().code, ErrorCode::PARAMETER);
            assert_eq!(
                parse(action, r#"{"user_id": ""}"#).unwrap_err().code,
                ErrorCode::PARAMETER
            );
        }
        assert_eq!(
            parse("RemoveMember", r#"{"user_id": "u1", "allow_join": false}"#).unwrap(),
            ControlCall::Act(ControlAction::RemoveMember {
                user_id: "u1".into(),
                allow_join: false
            })
        );
    }

    #[test]
    fn list_member_ids_checks_its_range_and_type() {
        assert_eq!(
            parse(
                "ListMemberIds",
                r#"{"begin_count": 0, "end_count": 4, "type": 0}"#
            )
            .unwrap(),
            ControlCall::ListMemberIds(MemberRange {
                list: MemberList::WaitingRoom,
                begin: 0,
                end: 4
            })
        );
        for bad in [
            r#"{"begin_count": 3, "end_count": 1}"#,
            r#"{"begin_count": -1, "end_count": 1}"#,
            r#"{"begin_count": 0}"#,
            r#"{"begin_count": 0, "end_count": 1, "type": 2}"#,
            r#"{"begin_count": "0", "end_count": 1}"#,
        ] {
            assert_eq!(
                parse("ListMemberIds", bad).unwrap_err().code,
                ErrorCode::PARAMETER,
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_actions_are_unsupported() {
        assert_eq!(
            parse_action("Explode", None).unwrap_err().code,
            ErrorCode::UNSUPPORTED
        );
    }
}
