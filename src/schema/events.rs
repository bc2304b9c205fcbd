//! The `data` of every event, as JSON Schema. The room builds event payloads from its node
//! types with `json!`, so these structs exist only to be described; `tests/it/schemas.rs` validates
//! the events a real daemon sends against them, which keeps the two from drifting apart.
#![allow(dead_code)]

use schemars::{JsonSchema, Schema, schema_for};

use crate::modules::device::{AudioInfo, CameraInfo, DeviceInfo};
use crate::modules::meeting::{
    LayoutInfo, LayoutSwitchInfo, ListedMeeting, MeetingInfo, MultiScreenInfo, ScreenLayout,
    UserInfo,
};
use crate::modules::members::{Member, MemberCount};
use crate::modules::share::ShareInfo;

/// `JoinMeetingCompleted`: the meeting, the room in it, and its devices as they now are.
#[derive(JsonSchema)]
struct Joined {
    meeting_info: MeetingInfo,
    self_user_info: UserInfo,
    device_info: DeviceInfo,
    mic_info: AudioInfo,
    speaker_info: AudioInfo,
    camera_info: CameraInfo,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Reason {
    Requested,
    HostEnded,
    Removed,
    BackendLost,
}

/// `JoinWaitingRoom`, `LeaveWaitingRoom`, `LeaveMeeting`, `DissolveMeeting`: the meeting as it
/// was, and why.
#[derive(JsonSchema)]
struct Stay {
    meeting_info: MeetingInfo,
    reason: Reason,
}

#[derive(JsonSchema)]
struct LayoutSwitched {
    layout_switch_info: LayoutSwitchInfo,
    main_screen_layout_info: ScreenLayout,
    secondary_screen_layout_info: ScreenLayout,
}

#[derive(JsonSchema)]
struct MeetingInfoChanged {
    meeting_info: MeetingInfo,
}

/// What changed since the previous `MembersChanged`: put `joined` and `updated` by `user_id`,
/// remove `left`. `user_list_info` (the whole list) only while the meeting has at most
/// `[compat] members_changed_list` members (100 by default).
#[derive(JsonSchema)]
struct MembersChanged {
    joined: Vec<Member>,
    left: Vec<String>,
    updated: Vec<Member>,
    user_list_info: Option<Vec<Member>>,
    member_count: MemberCount,
}

#[derive(JsonSchema)]
struct MultiScreenChanged {
    multi_scree_info: MultiScreenInfo,
    layout_info: LayoutInfo,
}

#[derive(JsonSchema)]
struct MeetingListChanged {
    meeting_list: Vec<ListedMeeting>,
}

#[derive(JsonSchema)]
struct MicChanged {
    mic_info: AudioInfo,
}

#[derive(JsonSchema)]
struct SpeakerChanged {
    speaker_info: AudioInfo,
}

#[derive(JsonSchema)]
struct CameraChanged {
    camera_info: CameraInfo,
}

#[derive(JsonSchema)]
struct TestState {
    is_testing: bool,
}

/// Mute, stop video and remove: the participant acted on.
#[derive(JsonSchema)]
struct MemberActed {
    user_id: String,
}

/// `RequestRecord` and `StartRecord`: 0 not recording, 1 may start, 2 recording.
#[derive(JsonSchema)]
struct RecordAction {
    record_status: u8,
}

#[derive(JsonSchema)]
struct RecordStateChanged {
    is_recording: bool,
    record_status: u8,
}

#[derive(JsonSchema)]
struct ShareInfoChanged {
    share_info: ShareInfo,
}

#[derive(JsonSchema)]
struct BackendStatusChanged {
    backend: crate::modules::backend::BackendNode,
}

/// `MuteAll`: nothing to add.
#[derive(JsonSchema)]
struct Nothing {}

/// The schema of the `data` of `module`'s event `name`, or `None` for an event roomsd never
/// sends (the vendor's test volume levels: roomsd has no audio path to measure).
pub fn data_schema(module: &str, name: &str) -> Option<Schema> {
    Some(match (module, name) {
        ("Meeting", "JoinMeetingCompleted") => schema_for!(Joined),
        (
            "Meeting",
            "JoinWaitingRoom" | "LeaveWaitingRoom" | "LeaveMeeting" | "DissolveMeeting",
        ) => schema_for!(Stay),
        ("Meeting", "LayoutSwitchChanged") => schema_for!(LayoutSwitched),
        ("Meeting", "MeetingInfoChanged") => schema_for!(MeetingInfoChanged),
        ("Meeting", "MembersChanged") => schema_for!(MembersChanged),
        ("Meeting", "MultiScreenChanged") => schema_for!(MultiScreenChanged),
        ("Meeting", "MeetingListChanged") => schema_for!(MeetingListChanged),
        ("Device", "EnableMic" | "SetMicVolume") => schema_for!(MicChanged),
        ("Device", "SetSpeakerVolume") => schema_for!(SpeakerChanged),
        ("Device", "EnableCamera" | "SetCameraFrameMode") => schema_for!(CameraChanged),
        ("Device", "SpeakerTestStateChange" | "MicTestStateChange") => schema_for!(TestState),
        ("MeetingControl", "MuteMember" | "StopVideo" | "RemoveMember") => {
            schema_for!(MemberActed)
        }
        ("MeetingControl", "RequestRecord" | "StartRecord") => schema_for!(RecordAction),
        ("MeetingControl", "MuteAll") => schema_for!(Nothing),
        ("MeetingControl", "RecordStateChanged") => schema_for!(RecordStateChanged),
        ("Share", "ShareInfoChanged") => schema_for!(ShareInfoChanged),
        ("Backend", "BackendStatusChanged") => schema_for!(BackendStatusChanged),
        _ => return None,
    })
}
