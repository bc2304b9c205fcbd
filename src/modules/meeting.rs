//! The Meeting module: its state tree (PROTOCOL.md §3.1), its actions (§4) and events.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::device::{AudioInfo, CameraInfo, DeviceInfo};
use super::members::MembersDelta;
use super::{
    ActionSpec, Command, Ends, EventDef, Module, action_params, no_params_schema, schema_of,
    string_or_integer,
};
use crate::wire::{ErrorCode, Refusal};

pub const NAME: &str = "Meeting";

/// The Meeting module as dispatch, subscriptions, the schemas and roomsctl see it.
pub const MODULE: Module = Module {
    name: NAME,
    key: "meeting",
    bare: false,
    state: schema_of::<MeetingNode>,
    actions: &[
        ActionSpec {
            name: "StartMeeting",
            aliases: &[],
            params: schema_of::<StartParams>,
            ends: Ends::MeetingMachine,
        },
        ActionSpec {
            name: "JoinMeeting",
            aliases: &[],
            params: schema_of::<JoinParams>,
            ends: Ends::MeetingMachine,
        },
        ActionSpec {
            name: "LeaveWaitingRoom",
            aliases: &[],
            params: no_params_schema,
            ends: Ends::MeetingMachine,
        },
        ActionSpec {
            name: "LeaveMeeting",
            aliases: &[],
            params: no_params_schema,
            ends: Ends::MeetingMachine,
        },
        ActionSpec {
            name: "DissolveMeeting",
            aliases: &[],
            params: no_params_schema,
            ends: Ends::MeetingMachine,
        },
        ActionSpec {
            name: "SwitchLayout",
            // The vendor's text names this action `LayoutSwitchChanged` in one place.
            aliases: &["LayoutSwitchChanged"],
            params: schema_of::<SwitchLayoutParams>,
            ends: Ends::MeetingMachine,
        },
    ],
    events: &[
        JOIN_MEETING_COMPLETED.spec(),
        JOIN_WAITING_ROOM.spec(),
        LEAVE_WAITING_ROOM.spec(),
        LEAVE_MEETING.spec(),
        DISSOLVE_MEETING.spec(),
        LAYOUT_SWITCH_CHANGED.spec(),
        MEETING_INFO_CHANGED.spec(),
        MEMBERS_CHANGED.spec(),
        MULTI_SCREEN_CHANGED.spec(),
        MEETING_LIST_CHANGED.spec(),
    ],
    parse: |call| parse_action(call.action, call.params).map(Command::Meeting),
};

// ---- Events, each with the type of its `data`.

pub const JOIN_MEETING_COMPLETED: EventDef<Joined> = EventDef::new(NAME, "JoinMeetingCompleted");
pub const JOIN_WAITING_ROOM: EventDef<Stay> = EventDef::new(NAME, "JoinWaitingRoom");
pub const LEAVE_WAITING_ROOM: EventDef<Stay> = EventDef::new(NAME, "LeaveWaitingRoom");
pub const LEAVE_MEETING: EventDef<Stay> = EventDef::new(NAME, "LeaveMeeting");
pub const DISSOLVE_MEETING: EventDef<Stay> = EventDef::new(NAME, "DissolveMeeting");
pub const LAYOUT_SWITCH_CHANGED: EventDef<LayoutSwitched> =
    EventDef::new(NAME, "LayoutSwitchChanged");
pub const MEETING_INFO_CHANGED: EventDef<MeetingInfoChanged> =
    EventDef::new(NAME, "MeetingInfoChanged");
pub const MEMBERS_CHANGED: EventDef<MembersChanged> = EventDef::new(NAME, "MembersChanged");
pub const MULTI_SCREEN_CHANGED: EventDef<MultiScreenChanged> =
    EventDef::new(NAME, "MultiScreenChanged");
pub const MEETING_LIST_CHANGED: EventDef<MeetingListChanged> =
    EventDef::new(NAME, "MeetingListChanged");

/// `JoinMeetingCompleted`: the meeting, the room in it, and its devices as they now are.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Joined {
    pub meeting_info: MeetingInfo,
    pub self_user_info: UserInfo,
    pub device_info: DeviceInfo,
    pub mic_info: AudioInfo,
    pub speaker_info: AudioInfo,
    pub camera_info: CameraInfo,
}

/// Why a stay in a meeting or its waiting room ended or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Requested,
    HostEnded,
    Removed,
    BackendLost,
}

/// `JoinWaitingRoom`, `LeaveWaitingRoom`, `LeaveMeeting`, `DissolveMeeting`: the meeting as it
/// was, and why.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Stay {
    pub meeting_info: MeetingInfo,
    pub reason: Reason,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LayoutSwitched {
    pub layout_switch_info: LayoutSwitchInfo,
    pub main_screen_layout_info: ScreenLayout,
    pub secondary_screen_layout_info: ScreenLayout,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeetingInfoChanged {
    pub meeting_info: MeetingInfo,
}

/// `MembersChanged`: see [`MembersDelta`].
pub type MembersChanged = MembersDelta;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MultiScreenChanged {
    pub multi_scree_info: MultiScreenInfo,
    pub layout_info: LayoutInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeetingListChanged {
    pub meeting_list: Vec<ListedMeeting>,
}

// ---- The state tree. Field order is wire order; see PROTOCOL.md §2.2 for why the last key of
// ---- every object is a scalar or an array.

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeetingNode {
    pub multi_scree_info: MultiScreenInfo,
    pub layout_info: LayoutInfo,
    pub meeting_info: MeetingInfo,
    pub self_info: SelfInfo,
    pub meeting_list: Vec<ListedMeeting>,
}

/// `multi_scree_info` (sic: the vendor's spelling is the wire's).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct MultiScreenInfo {
    pub multi_screen_status: u8,
    pub main_monitor_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LayoutInfo {
    pub main_screen_layout_info: ScreenLayout,
    pub secondary_screen_layout_info: ScreenLayout,
    pub layout_switch_info: LayoutSwitchInfo,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ScreenLayout {
    pub layout_model: u8,
    pub show_small_view: bool,
    pub layout_type: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LayoutSwitchInfo {
    pub current_switch_type: u8,
    pub layout_switch_enable: bool,
    pub layout_switch_list: Vec<LayoutSwitchEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct LayoutSwitchEntry {
    pub switch_type: u8,
    pub enable: bool,
    /// Only on the speaker layouts (2 and 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_voice_active: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct MeetingInfo {
    pub meeting_status: u8,
    pub meeting_type: i32,
    pub meeting_title: String,
    pub meeting_code: String,
    pub meeting_password: String,
    /// The vendor's example nests the times, its table lists them flat: both are sent.
    pub meeting_time: MeetingTime,
    pub begin_time: i64,
    pub end_time: i64,
    pub formatted_meeting_code: String,
    pub meeting_creator_name: String,
    pub host_status: u8,
    pub meeting_url: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MeetingTime {
    pub begin_time: i64,
    pub end_time: i64,
}

/// The room's own user record; the vendor's table lists the fields directly in `self_info`, its
/// example under `share_user_info`: both are sent, the copy first so that the last key is a
/// scalar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SelfInfo {
    pub share_user_info: UserInfo,
    #[serde(flatten)]
    pub user: UserInfo,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
pub struct UserInfo {
    pub app_uid: String,
    pub app_id: String,
    pub user_id: String,
    pub host: bool,
    pub co_host: bool,
    pub instance_id: u32,
    pub user_type: u8,
    pub is_creator: bool,
    pub role_type: u8,
    pub video_on: bool,
    pub audio_on: bool,
    pub screen_sharing: bool,
    pub screen_share_type: u8,
    pub web_sharing: bool,
    pub nickname: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ListedMeeting {
    pub meeting_title: String,
    pub meeting_time: MeetingTime,
    pub meeting_creator_name: String,
    pub meeting_code: String,
    pub meeting_id: String,
    pub meeting_type: i32,
    pub formatted_meeting_code: String,
}

/// `"123 456 789"`: the code in groups of three from the left.
pub fn format_meeting_code(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 3);
    for (i, c) in code.chars().enumerate() {
        if i > 0 && i % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A meeting code as typed on a dial pad: spaces and dashes are dropped; what is left must be
/// non-empty digits, `#` and `*` (10010 otherwise). The rule of the simulator and Kedacom, and
/// of the simulator's configured codes; a join's code is checked by the room against the
/// configured service's rule (`backend::CodeRule`).
pub fn normalize_meeting_code(raw: &str) -> Result<String, Refusal> {
    crate::domain::CodeRule::Digits.normalize(raw)
}

// ---- Actions.

pub use crate::domain::StartKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingAction {
    Start(StartKind),
    Join {
        code: String,
        password: String,
        mic_enable: Option<bool>,
        camera_enable: Option<bool>,
    },
    LeaveWaitingRoom,
    Leave,
    Dissolve,
    SwitchLayout {
        switch_type: u8,
        show_voice_active: Option<bool>,
    },
}

impl MeetingAction {
    /// The action's name, as in `MODULE.actions` (and the room's `CALLS` table).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start(_) => "StartMeeting",
            Self::Join { .. } => "JoinMeeting",
            Self::LeaveWaitingRoom => "LeaveWaitingRoom",
            Self::Leave => "LeaveMeeting",
            Self::Dissolve => "DissolveMeeting",
            Self::SwitchLayout { .. } => "SwitchLayout",
        }
    }
}

#[derive(Deserialize, JsonSchema)]
struct StartParams {
    /// `"instant"`, or `"pmi"` for the room's personal meeting room.
    #[schemars(required)]
    meeting_type: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
// serde's `default` (needed by `deserialize_with`) hides that the code is required.
#[schemars(extend("required" = ["meeting_code"]))]
struct JoinParams {
    /// The code as typed. Its form depends on the configured meeting service: `Query
    /// ["Backend"]` answers its `meeting_code_pattern` (`x-meeting-code-patterns` lists each
    /// service's); a code that does not match is refused with 10010.
    #[serde(default, deserialize_with = "string_or_integer")]
    #[schemars(schema_with = "meeting_code_schema")]
    meeting_code: Option<String>,
    /// `""` when the meeting has none.
    #[serde(default, deserialize_with = "string_or_integer")]
    #[schemars(schema_with = "super::string_or_integer_schema")]
    password: Option<String>,
    /// Default: the room's microphone setting.
    mic_enable: Option<bool>,
    /// Default: the room's camera setting.
    camera_enable: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
struct SwitchLayoutParams {
    /// 1 grid, 2 and 3 speaker, 4 member list on the right, 5 top-L, 6 bottom-L, 7 surround.
    #[schemars(required, range(min = 1, max = 7))]
    switch_type: Option<i64>,
    /// The voice-activity window on speaker layouts.
    show_voice_active: Option<bool>,
}

/// `meeting_code`: an integer, or a string. Which strings depends on the meeting services, which
/// sit above the protocol: `schema` puts each service's rule in (`backend::meeting_code_schema`).
fn meeting_code_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
    })
}

/// Reads a `Call/Meeting` action. Unknown actions are 9; bad parameters 8, or the specific
/// code the protocol gives (10010 malformed code, 10031 unknown layout).
pub fn parse_action(action: &str, params: Option<&RawValue>) -> Result<MeetingAction, Refusal> {
    match action {
        "StartMeeting" => {
            let p: StartParams = action_params(action, params)?;
            match p.meeting_type.as_deref() {
                Some("instant") => Ok(MeetingAction::Start(StartKind::Instant)),
                Some("pmi") => Ok(MeetingAction::Start(StartKind::Pmi)),
                other => Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    format!(
                        "StartMeeting: meeting_type must be \"instant\" or \"pmi\", got {other:?}"
                    ),
                )),
            }
        }
        "JoinMeeting" => {
            let p: JoinParams = action_params(action, params)?;
            let Some(raw_code) = p.meeting_code else {
                return Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    "JoinMeeting: meeting_code is required",
                ));
            };
            // The room checks the code against the service's rule.
            Ok(MeetingAction::Join {
                code: raw_code,
                password: p.password.unwrap_or_default(),
                mic_enable: p.mic_enable,
                camera_enable: p.camera_enable,
            })
        }
        "LeaveWaitingRoom" => Ok(MeetingAction::LeaveWaitingRoom),
        "LeaveMeeting" => Ok(MeetingAction::Leave),
        "DissolveMeeting" => Ok(MeetingAction::Dissolve),
        // The vendor's text names this action `LayoutSwitchChanged` in one place.
        "SwitchLayout" | "LayoutSwitchChanged" => {
            let p: SwitchLayoutParams = action_params(action, params)?;
            let Some(switch_type) = p.switch_type else {
                return Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    format!("{action}: switch_type is required"),
                ));
            };
            match u8::try_from(switch_type) {
                Ok(t @ 1..=7) => Ok(MeetingAction::SwitchLayout {
                    switch_type: t,
                    show_voice_active: p.show_voice_active,
                }),
                _ => Err(Refusal::new(
                    ErrorCode::UNKNOWN_LAYOUT,
                    format!("{action}: unknown switch_type {switch_type}: use 1 to 7"),
                )),
            }
        }
        _ => Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!("Call/Meeting has no action {action:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(action: &str, params: &str) -> Result<MeetingAction, Refusal> {
        let raw: &RawValue = serde_json::from_str(params).unwrap();
        parse_action(action, Some(raw))
    }

    #[test]
    fn formats_codes_in_threes_from_the_left() {
        assert_eq!(format_meeting_code("123456789"), "123 456 789");
        assert_eq!(format_meeting_code("5550001"), "555 000 1");
        assert_eq!(format_meeting_code(""), "");
    }

    #[test]
    fn normalizes_typed_codes() {
        assert_eq!(normalize_meeting_code("123 456-789").unwrap(), "123456789");
        assert_eq!(normalize_meeting_code("12#*").unwrap(), "12#*");
        for bad in ["", " - ", "12a", "１２３"] {
            assert_eq!(
                normalize_meeting_code(bad).unwrap_err().code,
                ErrorCode::MEETING_CODE_INVALID,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn join_accepts_numeric_code_and_password() {
        let a = parse(
            "JoinMeeting",
            r#"{"meeting_code": 111222333, "password": 1234, "mic_enable": false}"#,
        )
        .unwrap();
        assert_eq!(
            a,
            MeetingAction::Join {
                code: "111222333".into(),
                password: "1234".into(),
                mic_enable: Some(false),
                camera_enable: None
            }
        );
    }

    #[test]
    fn join_errors_are_specific() {
        assert_eq!(
            parse("JoinMeeting", "{}").unwrap_err().code,
            ErrorCode::PARAMETER
        );
        assert_eq!(
            parse(
                "JoinMeeting",
                r#"{"meeting_code": "1", "mic_enable": "yes"}"#
            )
            .unwrap_err()
            .code,
            ErrorCode::PARAMETER
        );
    }

    #[test]
    fn start_needs_a_known_type() {
        assert_eq!(
            parse("StartMeeting", r#"{"meeting_type": "pmi"}"#).unwrap(),
            MeetingAction::Start(StartKind::Pmi)
        );
        assert_eq!(
            parse("StartMeeting", r#"{"meeting_type": "webinar"}"#)
                .unwrap_err()
                .code,
            ErrorCode::PARAMETER
        );
        assert_eq!(
            parse_action("StartMeeting", None).unwrap_err().code,
            ErrorCode::PARAMETER
        );
    }

    #[test]
    fn switch_layout_checks_the_type_and_has_an_alias() {
        assert_eq!(
            parse("LayoutSwitchChanged", r#"{"switch_type": 2}"#).unwrap(),
            MeetingAction::SwitchLayout {
                switch_type: 2,
                show_voice_active: None
            }
        );
        for t in ["0", "8", "-1", "300"] {
            let p = format!(r#"{{"switch_type": {t}}}"#);
            assert_eq!(
                parse("SwitchLayout", &p).unwrap_err().code,
                ErrorCode::UNKNOWN_LAYOUT,
                "{t}"
            );
        }
        assert_eq!(
            parse("SwitchLayout", "{}").unwrap_err().code,
            ErrorCode::PARAMETER
        );
    }

    #[test]
    fn unknown_action_is_unsupported() {
        assert_eq!(
            parse_action("Teleport", None).unwrap_err().code,
            ErrorCode::UNSUPPORTED
        );
    }
}
