//! The MeetingControl module (PROTOCOL.md §6): what the room does to the meeting and to other
//! participants, and the in-meeting caption settings served by `Query ["MeetingControl"]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use schemars::Schema;

use super::{
    ActionSpec, Command, Ends, EventDef, Module, action_params, no_params_schema, schema_of,
    string_or_integer,
};
use crate::wire::{ErrorCode, Refusal};

pub const NAME: &str = "MeetingControl";

/// An asynchronous action: it ends in the event of its own name.
const fn acting(name: &'static str, params: fn() -> Schema) -> ActionSpec {
    ActionSpec {
        name,
        aliases: &[],
        params,
        ends: Ends::OwnEvent,
    }
}

/// The MeetingControl module as dispatch, subscriptions, the schemas and roomsctl see it.
pub const MODULE: Module = Module {
    name: NAME,
    key: "meeting_control",
    bare: false,
    state: schema_of::<MeetingControlNode>,
    actions: &[
        acting(MUTE_ALL.name, schema_of::<MuteAllParams>),
        acting(MUTE_MEMBER.name, schema_of::<MemberParams>),
        acting(STOP_VIDEO.name, schema_of::<MemberParams>),
        acting(REMOVE_MEMBER.name, schema_of::<MemberParams>),
        acting(REQUEST_RECORD.name, no_params_schema),
        acting(START_RECORD.name, schema_of::<StartRecordParams>),
        // Answered from the room's list in the acknowledgement.
        ActionSpec {
            name: "ListMemberIds",
            aliases: &[],
            params: schema_of::<ListParams>,
            ends: Ends::Acknowledged,
        },
    ],
    events: &[
        MUTE_ALL.spec(),
        MUTE_MEMBER.spec(),
        STOP_VIDEO.spec(),
        REMOVE_MEMBER.spec(),
        REQUEST_RECORD.spec(),
        START_RECORD.spec(),
        RECORD_STATE_CHANGED.spec(),
    ],
    parse: |call| {
        parse_action(call.action, call.params).map(|call| match call {
            ControlCall::Act(action) => Command::Control(action),
            ControlCall::ListMemberIds(range) => Command::ListMemberIds(range),
        })
    },
};

// ---- Events, each with the type of its `data`.

pub const MUTE_ALL: EventDef<Nothing> = EventDef::new(NAME, "MuteAll");
pub const MUTE_MEMBER: EventDef<MemberActed> = EventDef::new(NAME, "MuteMember");
pub const STOP_VIDEO: EventDef<MemberActed> = EventDef::new(NAME, "StopVideo");
pub const REMOVE_MEMBER: EventDef<MemberActed> = EventDef::new(NAME, "RemoveMember");
pub const REQUEST_RECORD: EventDef<RecordAction> = EventDef::new(NAME, "RequestRecord");
pub const START_RECORD: EventDef<RecordAction> = EventDef::new(NAME, "StartRecord");
/// **[decided]** Recording started or stopped, whoever did it.
pub const RECORD_STATE_CHANGED: EventDef<RecordStateChanged> =
    EventDef::new(NAME, "RecordStateChanged");

/// Mute, stop video and remove: the participant acted on.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MemberActed {
    pub user_id: String,
}

/// `RequestRecord` and `StartRecord`: 0 not recording, 1 may start, 2 recording.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecordAction {
    pub record_status: u8,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecordStateChanged {
    pub is_recording: bool,
    pub record_status: u8,
}

/// `MuteAll`: nothing to add.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Nothing {}

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
            Self::MuteAll { .. } => MUTE_ALL.name,
            Self::MuteMember { .. } => MUTE_MEMBER.name,
            Self::StopVideo { .. } => STOP_VIDEO.name,
            Self::RemoveMember { .. } => REMOVE_MEMBER.name,
            Self::RequestRecord => REQUEST_RECORD.name,
            Self::StartRecord { .. } => START_RECORD.name,
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
        "MuteAll" => {
            let p: MuteAllParams = action_params(action, params)?;
            ControlAction::MuteAll {
                allow_unmute_by_self: p.audio_allow_unmute_by_self,
            }
        }
        "MuteMember" => ControlAction::MuteMember {
            user_id: user(action)?.0,
        },
        "StopVideo" => ControlAction::StopVideo {
            user_id: user(action)?.0,
        },
        "RemoveMember" => {
            let (user_id, allow_join) = user(action)?;
            ControlAction::RemoveMember {
                user_id,
                allow_join,
            }
        }
        "RequestRecord" => ControlAction::RequestRecord,
        "StartRecord" => {
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
