//! The Share module (PROTOCOL.md §6): sharing a screen into the meeting, and casting to the
//! room's display before a meeting with the room's cast code. Every action is synchronous.

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::meeting::UserInfo;
use super::{
    ActionSpec, Command, Ends, EventDef, Module, action_params, no_params_schema, schema_of,
};
use crate::wire::{ErrorCode, Refusal};

pub const NAME: &str = "Share";

/// A synchronous action (the acknowledgement is the outcome).
const fn sync(name: &'static str, params: fn() -> Schema) -> ActionSpec {
    ActionSpec {
        name,
        aliases: &[],
        params,
        ends: Ends::Acknowledged,
    }
}

/// The Share module as dispatch, subscriptions, the schemas and roomsctl see it.
/// `EndQuickShare` and `CancelQuickShare` take `meeting_type` in `params` itself.
pub const MODULE: Module = Module {
    name: NAME,
    key: "share",
    bare: false,
    state: schema_of::<ShareNode>,
    actions: &[
        sync("StartShare", schema_of::<StartParams>),
        sync("StopShare", no_params_schema),
        sync("OpenShareGuide", no_params_schema),
        sync("CloseShareGuide", no_params_schema),
        sync("StartWindowShare", schema_of::<WindowParams>),
        sync("StopWindowShare", no_params_schema),
        sync("EndQuickShare", no_params_schema),
        sync("CancelQuickShare", no_params_schema),
    ],
    events: &[SHARE_INFO_CHANGED.spec()],
    parse: |call| parse_action(call.action, call.params, call.meeting_type).map(Command::Share),
};

/// **[decided]** The vendor documents no Share event; roomsd sends this one whenever
/// `share_info` changes.
pub const SHARE_INFO_CHANGED: EventDef<ShareInfoChanged> = EventDef::new(NAME, "ShareInfoChanged");

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ShareInfoChanged {
    pub share_info: ShareInfo,
}

/// What `EndQuickShare` and `CancelQuickShare` carry in `params.meeting_type`.
pub const CAST_MEETING: &str = "castMeeting";

/// `share`: the last key is an array (PROTOCOL.md §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ShareNode {
    pub share_info: ShareInfo,
    pub cast_code: String,
    pub capture_device_list: Vec<CaptureDevice>,
}

/// `share_user_info` first: an object in last place would end a driver's match early.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ShareInfo {
    /// Who is sharing; every field empty when nobody is.
    pub share_user_info: UserInfo,
    pub is_sharing: bool,
    /// 0 none, 1 preparing (the cast guide is showing the cast code), 2 casting.
    pub quick_casting_state: u8,
}

/// **[decided]** The vendor does not document the element; roomsd lists id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaptureDevice {
    pub device_id: String,
    pub device_name: String,
}

/// What is shared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareSource {
    /// The room computer's screen (`share_type` 0), `select_index` choosing the display.
    Screen { select_index: u32 },
    /// A capture device such as an HDMI input (`share_type` 1).
    Capture { device_id: String },
    /// One window of the room computer (`StartWindowShare`).
    Window { select_index: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareAction {
    Start(ShareSource),
    Stop,
    OpenGuide,
    CloseGuide,
    StartWindow(ShareSource),
    StopWindow,
    EndQuickShare,
    CancelQuickShare,
}

#[derive(Deserialize, JsonSchema)]
struct StartParams {
    /// 0 the screen, 1 a capture input (`device_id`).
    #[serde(default)]
    share_type: i64,
    #[serde(default)]
    select_index: u32,
    #[serde(default)]
    device_id: String,
    /// Accepted as the vendor defines it, without effect: roomsd does not carry the media.
    #[serde(default, rename = "share_voice")]
    _share_voice: Option<serde_json::Value>,
    /// Accepted as the vendor defines it, without effect: roomsd does not carry the media.
    #[serde(default, rename = "fluency_first")]
    _fluency_first: Option<serde_json::Value>,
}

#[derive(Deserialize, JsonSchema)]
struct WindowParams {
    #[serde(default)]
    select_index: u32,
}

/// Reads a `Call/Share` action. `meeting_type` is the one in `params` itself, which
/// `EndQuickShare` and `CancelQuickShare` carry there rather than in `action_params`.
pub fn parse_action(
    action: &str,
    params: Option<&RawValue>,
    meeting_type: Option<&str>,
) -> Result<ShareAction, Refusal> {
    let cast_only = |a: ShareAction| match meeting_type {
        None | Some(CAST_MEETING) => Ok(a),
        Some(other) => Err(Refusal::new(
            ErrorCode::PARAMETER,
            format!("{action}: meeting_type must be \"{CAST_MEETING}\", not {other:?}"),
        )),
    };
    match action {
        "StartShare" => {
            let p: StartParams = action_params(action, params)?;
            match p.share_type {
                0 => Ok(ShareAction::Start(ShareSource::Screen {
                    select_index: p.select_index,
                })),
                1 if p.device_id.is_empty() => Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    "StartShare: share_type 1 (capture device) needs a device_id",
                )),
                1 => Ok(ShareAction::Start(ShareSource::Capture {
                    device_id: p.device_id,
                })),
                other => Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    format!(
                        "StartShare: share_type must be 0 (this computer) or 1 (capture device), not {other}"
                    ),
                )),
            }
        }
        "StopShare" => Ok(ShareAction::Stop),
        "OpenShareGuide" => Ok(ShareAction::OpenGuide),
        "CloseShareGuide" => Ok(ShareAction::CloseGuide),
        "StartWindowShare" => {
            let p: WindowParams = action_params(action, params)?;
            Ok(ShareAction::StartWindow(ShareSource::Window {
                select_index: p.select_index,
            }))
        }
        "StopWindowShare" => Ok(ShareAction::StopWindow),
        "EndQuickShare" => cast_only(ShareAction::EndQuickShare),
        "CancelQuickShare" => cast_only(ShareAction::CancelQuickShare),
        _ => Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!("Call/Share has no action {action:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(
        action: &str,
        params: &str,
        meeting_type: Option<&str>,
    ) -> Result<ShareAction, Refusal> {
        let raw: &RawValue = serde_json::from_str(params).unwrap();
        parse_action(action, Some(raw), meeting_type)
    }

    #[test]
    fn start_share_reads_its_source() {
        assert_eq!(
            parse("StartShare", r#"{"share_type": 0, "share_voice": true, "fluency_first": false, "select_index": 1}"#, None).unwrap(),
            ShareAction::Start(ShareSource::Screen { select_index: 1 })
        );
        assert_eq!(
            parse(
                "StartShare",
                r#"{"share_type": 1, "device_id": "hdmi-in"}"#,
                None
            )
            .unwrap(),
            ShareAction::Start(ShareSource::Capture {
                device_id: "hdmi-in".into()
            })
        );
        for bad in [
            r#"{"share_type": 1}"#,
            r#"{"share_type": 2}"#,
            r#"{"select_index": -1}"#,
        ] {
            assert_eq!(
                parse("StartShare", bad, None).unwrap_err().code,
                ErrorCode::PARAMETER,
                "{bad}"
            );
        }
    }

    #[test]
    fn quick_share_actions_check_the_meeting_type_in_params() {
        assert_eq!(
            parse("EndQuickShare", "{}", Some("castMeeting")).unwrap(),
            ShareAction::EndQuickShare
        );
        assert_eq!(
            parse("CancelQuickShare", "{}", None).unwrap(),
            ShareAction::CancelQuickShare
        );
        assert_eq!(
            parse("EndQuickShare", "{}", Some("instant"))
                .unwrap_err()
                .code,
            ErrorCode::PARAMETER
        );
    }

    #[test]
    fn unknown_actions_are_unsupported() {
        assert_eq!(
            parse("Beam", "{}", None).unwrap_err().code,
            ErrorCode::UNSUPPORTED
        );
    }
}
