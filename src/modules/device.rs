//! The Device module: the room's microphone, speaker, camera and PTZ (PROTOCOL.md §6).
//! The node types are used by the Meeting module's `JoinMeetingCompleted` too.

use serde::Serialize;

pub const EVENTS: &[&str] = &[
    "EnableCamera",
    "EnableMic",
    "SetSpeakerVolume",
    "SpeakerTestStateChange",
    "MicTestStateChange",
    "SpeakerTestVolumeChange",
    "MicTestVolumeChange",
];

#[derive(Debug, Clone, Serialize)]
pub struct DeviceNode {
    pub device_info: DeviceInfo,
    pub mic_info: AudioInfo,
    pub speaker_info: AudioInfo,
    pub camera_info: CameraInfo,
    pub ptz_info: PtzInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    pub device_name: String,
    pub device_model: String,
    pub serial_number: String,
    pub software_version: String,
    pub ip_address: String,
}

/// `mic_info` and `speaker_info`. `switch` true means on (not muted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioInfo {
    pub switch: bool,
    pub device_id: String,
    pub volume: u8,
}

/// `camera_frame_mode` first: drivers end their match at the first `}}}}`, which a nested object
/// in last place would produce too early.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraInfo {
    pub camera_frame_mode: CameraFrameMode,
    pub switch: bool,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraFrameMode {
    /// 1 manual, 2 auto framing, 3 speaker tracking, 4 participant mosaic, 5 presenter tracking.
    pub mode: u8,
    pub name: String,
}

/// `device_id` last, for the same reason as in [`CameraInfo`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PtzInfo {
    pub support: bool,
    pub pan: PtzAxis,
    pub tilt: PtzAxis,
    pub zoom: PtzAxis,
    pub device_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PtzAxis {
    pub min: i32,
    pub max: i32,
    pub value: i32,
}
