//! The Device module: the room's microphone, speaker, camera and PTZ (PROTOCOL.md §6).
//! The node types are used by the Meeting module's `JoinMeetingCompleted` too.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{ActionSpec, Command, Ends, EventDef, EventSpec, Module, action_params, schema_of};
use crate::wire::{ErrorCode, Refusal};

pub const NAME: &str = "Device";

/// The Device module as dispatch, subscriptions, the schemas and roomsctl see it. Every action
/// ends in an event: the change's own name, or the test's state.
pub const MODULE: Module = Module {
    name: NAME,
    key: "device",
    bare: false,
    state: schema_of::<DeviceNode>,
    actions: &[
        ActionSpec {
            name: ENABLE_CAMERA.name,
            aliases: &[],
            params: schema_of::<EnableParams>,
            ends: Ends::OwnEvent,
        },
        ActionSpec {
            name: ENABLE_MIC.name,
            aliases: &[],
            params: schema_of::<EnableParams>,
            ends: Ends::OwnEvent,
        },
        ActionSpec {
            name: SET_SPEAKER_VOLUME.name,
            aliases: &[],
            params: schema_of::<VolumeParams>,
            ends: Ends::OwnEvent,
        },
        ActionSpec {
            name: SET_MIC_VOLUME.name,
            aliases: &[],
            params: schema_of::<VolumeParams>,
            ends: Ends::OwnEvent,
        },
        ActionSpec {
            name: SET_CAMERA_FRAME_MODE.name,
            aliases: &[],
            params: schema_of::<FrameModeParams>,
            ends: Ends::OwnEvent,
        },
        ActionSpec {
            name: "TestSpeaker",
            aliases: &[],
            params: schema_of::<TestParams>,
            ends: Ends::In(&["SpeakerTestStateChange"]),
        },
        ActionSpec {
            name: "TestMic",
            aliases: &[],
            params: schema_of::<TestParams>,
            ends: Ends::In(&["MicTestStateChange"]),
        },
    ],
    // The vendor's `SpeakerTestVolumeChange` and `MicTestVolumeChange` (levels measured during
    // a test) are accepted in subscriptions; roomsd has no audio path to measure, so it never
    // sends them.
    events: &[
        ENABLE_CAMERA.spec(),
        ENABLE_MIC.spec(),
        SET_SPEAKER_VOLUME.spec(),
        SET_MIC_VOLUME.spec(),
        SET_CAMERA_FRAME_MODE.spec(),
        SPEAKER_TEST_STATE_CHANGE.spec(),
        MIC_TEST_STATE_CHANGE.spec(),
        EventSpec::never_sent("SpeakerTestVolumeChange"),
        EventSpec::never_sent("MicTestVolumeChange"),
    ],
    parse: |call| parse_action(call.action, call.params).map(Command::Device),
};

// ---- Events, each with the type of its `data`: the node the change concerns.

pub const ENABLE_CAMERA: EventDef<CameraChanged> = EventDef::new(NAME, "EnableCamera");
pub const ENABLE_MIC: EventDef<MicChanged> = EventDef::new(NAME, "EnableMic");
pub const SET_SPEAKER_VOLUME: EventDef<SpeakerChanged> = EventDef::new(NAME, "SetSpeakerVolume");
/// **[decided]** roomsd's own: the vendor documents no action for these two settings.
pub const SET_MIC_VOLUME: EventDef<MicChanged> = EventDef::new(NAME, "SetMicVolume");
pub const SET_CAMERA_FRAME_MODE: EventDef<CameraChanged> =
    EventDef::new(NAME, "SetCameraFrameMode");
pub const SPEAKER_TEST_STATE_CHANGE: EventDef<TestState> =
    EventDef::new(NAME, "SpeakerTestStateChange");
pub const MIC_TEST_STATE_CHANGE: EventDef<TestState> = EventDef::new(NAME, "MicTestStateChange");

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MicChanged {
    pub mic_info: AudioInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SpeakerChanged {
    pub speaker_info: AudioInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CameraChanged {
    pub camera_info: CameraInfo,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TestState {
    pub is_testing: bool,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DeviceNode {
    pub device_info: DeviceInfo,
    pub mic_info: AudioInfo,
    pub speaker_info: AudioInfo,
    pub camera_info: CameraInfo,
    pub ptz_info: PtzInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DeviceInfo {
    pub device_name: String,
    pub device_model: String,
    pub serial_number: String,
    pub software_version: String,
    pub ip_address: String,
}

/// `mic_info` and `speaker_info`. `switch` true means on (not muted).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AudioInfo {
    pub switch: bool,
    pub device_id: String,
    pub volume: u8,
}

/// `camera_frame_mode` first: drivers end their match at the first `}}}}`, which a nested object
/// in last place would produce too early.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CameraInfo {
    pub camera_frame_mode: CameraFrameMode,
    pub switch: bool,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CameraFrameMode {
    /// 1 manual, 2 auto framing, 3 speaker tracking, 4 participant mosaic, 5 presenter tracking.
    pub mode: u8,
    pub name: String,
}

/// `device_id` last, for the same reason as in [`CameraInfo`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PtzInfo {
    pub support: bool,
    pub pan: PtzAxis,
    pub tilt: PtzAxis,
    pub zoom: PtzAxis,
    pub device_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PtzAxis {
    pub min: i32,
    pub max: i32,
    pub value: i32,
}

/// The camera framing modes, by `mode` number (1 to 5).
pub const FRAME_MODES: [&str; 5] = [
    "manual",
    "auto_framing",
    "speaker_tracking",
    "participant_mosaic",
    "presenter_tracking",
];

/// The name of framing mode `mode`, which must be from 1 to 5.
pub fn frame_mode_name(mode: u8) -> &'static str {
    FRAME_MODES[usize::from(mode - 1)]
}

/// Which test a `TestSpeaker` / `TestMic` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tested {
    Speaker,
    Mic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceAction {
    EnableMic(bool),
    EnableCamera(bool),
    SetSpeakerVolume(u8),
    SetMicVolume(u8),
    SetCameraFrameMode(u8),
    Test(Tested, bool),
}

#[derive(Deserialize, JsonSchema)]
struct EnableParams {
    #[schemars(required)]
    enable: Option<bool>,
}

/// Any JSON number is read, so that `50.0` from a script is 50 and `1e3` is out of range rather
/// than a type error.
#[derive(Deserialize, JsonSchema)]
struct VolumeParams {
    /// 0 to 100.
    #[schemars(required, range(min = 0, max = 100))]
    volume: Option<f64>,
}

#[derive(Deserialize, JsonSchema)]
struct FrameModeParams {
    /// 1 manual, 2 auto framing, 3 speaker tracking, 4 participant mosaic, 5 presenter tracking.
    #[schemars(required, range(min = 1, max = 5))]
    mode: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
struct TestParams {
    /// Start (true) or stop (false) the test.
    #[schemars(required)]
    test: Option<bool>,
}

/// Reads a `Call/Device` action: 9 for unknown actions, 8 for bad or out-of-range parameters.
pub fn parse_action(action: &str, params: Option<&RawValue>) -> Result<DeviceAction, Refusal> {
    let missing =
        |key: &str| Refusal::new(ErrorCode::PARAMETER, format!("{action}: {key} is required"));
    let volume = || -> Result<u8, Refusal> {
        let p: VolumeParams = action_params(action, params)?;
        let volume = p.volume.ok_or_else(|| missing("volume"))?;
        (volume.fract() == 0.0 && (0.0..=100.0).contains(&volume))
            .then_some(volume as u8)
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::PARAMETER,
                    format!("{action}: volume must be from 0 to 100, not {volume}"),
                )
            })
    };
    let enable = || -> Result<bool, Refusal> {
        let p: EnableParams = action_params(action, params)?;
        p.enable.ok_or_else(|| missing("enable"))
    };
    let test = || -> Result<bool, Refusal> {
        let p: TestParams = action_params(action, params)?;
        p.test.ok_or_else(|| missing("test"))
    };
    match action {
        "EnableMic" => enable().map(DeviceAction::EnableMic),
        "EnableCamera" => enable().map(DeviceAction::EnableCamera),
        "SetSpeakerVolume" => volume().map(DeviceAction::SetSpeakerVolume),
        "SetMicVolume" => volume().map(DeviceAction::SetMicVolume),
        "SetCameraFrameMode" => {
            let p: FrameModeParams = action_params(action, params)?;
            let mode = p.mode.ok_or_else(|| missing("mode"))?;
            match u8::try_from(mode) {
                Ok(m @ 1..=5) => Ok(DeviceAction::SetCameraFrameMode(m)),
                _ => Err(Refusal::new(
                    ErrorCode::PARAMETER,
                    format!(
                        "{action}: mode must be 1 manual, 2 auto framing, 3 speaker tracking, \
                         4 participant mosaic or 5 presenter tracking, not {mode}"
                    ),
                )),
            }
        }
        "TestSpeaker" => test().map(|t| DeviceAction::Test(Tested::Speaker, t)),
        "TestMic" => test().map(|t| DeviceAction::Test(Tested::Mic, t)),
        _ => Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!("Call/Device has no action {action:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(action: &str, params: &str) -> Result<DeviceAction, Refusal> {
        let raw: &RawValue = serde_json::from_str(params).unwrap();
        parse_action(action, Some(raw))
    }

    #[test]
    fn volumes_outside_0_to_100_are_parameter_errors() {
        assert_eq!(
            parse("SetSpeakerVolume", r#"{"volume": 100}"#).unwrap(),
            DeviceAction::SetSpeakerVolume(100)
        );
        for bad in [
            r#"{"volume": 101}"#,
            r#"{"volume": -1}"#,
            r#"{"volume": 1e3}"#,
            r#"{"volume": 50.5}"#,
            "{}",
        ] {
            let refusal = parse("SetSpeakerVolume", bad).unwrap_err();
            assert_eq!(refusal.code, ErrorCode::PARAMETER, "{bad}");
            assert!(refusal.message.contains("volume"), "{}", refusal.message);
        }
    }

    #[test]
    fn integral_floats_are_volumes() {
        assert_eq!(
            parse("SetMicVolume", r#"{"volume": 50.0}"#).unwrap(),
            DeviceAction::SetMicVolume(50)
        );
    }

    #[test]
    fn switches_and_tests_need_their_boolean() {
        assert_eq!(
            parse("EnableMic", r#"{"enable": false}"#).unwrap(),
            DeviceAction::EnableMic(false)
        );
        assert_eq!(
            parse("TestMic", r#"{"test": true}"#).unwrap(),
            DeviceAction::Test(Tested::Mic, true)
        );
        for (action, bad) in [
            ("EnableCamera", "{}"),
            ("EnableCamera", r#"{"enable": 1}"#),
            ("TestSpeaker", r#"{"test": "yes"}"#),
        ] {
            assert_eq!(
                parse(action, bad).unwrap_err().code,
                ErrorCode::PARAMETER,
                "{action} {bad}"
            );
        }
    }

    #[test]
    fn frame_modes_are_1_to_5() {
        assert_eq!(
            parse("SetCameraFrameMode", r#"{"mode": 3}"#).unwrap(),
            DeviceAction::SetCameraFrameMode(3)
        );
        assert_eq!(frame_mode_name(3), "speaker_tracking");
        for bad in ["0", "6"] {
            let p = format!(r#"{{"mode": {bad}}}"#);
            assert_eq!(
                parse("SetCameraFrameMode", &p).unwrap_err().code,
                ErrorCode::PARAMETER
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
