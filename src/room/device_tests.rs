//! Unit tests of the Device actions in and out of meetings (PROTOCOL.md §6).

use serde_json::json;

use super::*;
use crate::domain::{Happening, Media, RoomRole};
use crate::modules::device::Tested;
use crate::room::test_support::*;

// Device, outside a meeting

#[test]
fn enable_mic_outside_a_meeting_changes_the_node_and_the_settings_at_once() {
    let mut r = room();
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    let ev = only_event(&effects);
    assert_eq!(
        (ev.module, ev.name, ev.code),
        ("Device", "EnableMic", ErrorCode::OK)
    );
    assert_eq!(
        ev.data,
        json!({ "mic_info": { "switch": false, "device_id": "default", "volume": 80 } })
    );
    assert!(!mic_on(&r));
    assert!(!r.device_settings().mic_on, "kept across restarts");

    let effects = device(&mut r, DeviceAction::EnableMic(true)).unwrap();
    assert_eq!(only_event(&effects).data["mic_info"]["switch"], true);
    assert!(mic_on(&r) && r.device_settings().mic_on);
}

#[test]
fn enable_camera_outside_a_meeting_changes_the_node_and_the_settings_at_once() {
    let mut r = room();
    let effects = device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    let ev = only_event(&effects);
    assert_eq!(
        (ev.module, ev.name, ev.code),
        ("Device", "EnableCamera", ErrorCode::OK)
    );
    assert_eq!(
        ev.data,
        json!({ "camera_info": {
            "camera_frame_mode": { "mode": 1, "name": "manual" },
            "switch": false,
            "device_id": "default",
        } })
    );
    assert!(!camera_on(&r));
    assert!(!r.device_settings().camera_on);
    assert!(mic_on(&r), "the microphone is not touched");

    device(&mut r, DeviceAction::EnableCamera(true)).unwrap();
    assert!(camera_on(&r) && r.device_settings().camera_on);
}

#[test]
fn enabling_what_is_on_or_disabling_what_is_off_is_refused_and_changes_nothing() {
    let mut r = room();
    let settings = r.device_settings().clone();
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableMic(true))),
        ErrorCode::MIC_ALREADY_ON
    );
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableCamera(true))),
        ErrorCode::CAMERA_ALREADY_ON
    );
    assert!(mic_on(&r) && camera_on(&r));
    assert_eq!(*r.device_settings(), settings);

    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    let settings = r.device_settings().clone();
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableMic(false))),
        ErrorCode::MIC_ALREADY_OFF
    );
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableCamera(false))),
        ErrorCode::CAMERA_ALREADY_OFF
    );
    assert!(!mic_on(&r) && !camera_on(&r));
    assert_eq!(*r.device_settings(), settings);
}

#[test]
fn volumes_and_framing_change_the_node_and_the_settings() {
    let mut r = room();

    let effects = device(&mut r, DeviceAction::SetSpeakerVolume(30)).unwrap();
    let ev = only_event(&effects);
    assert_eq!((ev.module, ev.name), ("Device", "SetSpeakerVolume"));
    assert_eq!(ev.data["speaker_info"]["volume"], 30);
    assert_eq!(r.devices.node().speaker_info.volume, 30);
    assert_eq!(r.device_settings().speaker_volume, 30);

    let effects = device(&mut r, DeviceAction::SetMicVolume(0)).unwrap();
    let ev = only_event(&effects);
    assert_eq!((ev.module, ev.name), ("Device", "SetMicVolume"));
    assert_eq!(ev.data["mic_info"]["volume"], 0);
    assert_eq!(r.devices.node().mic_info.volume, 0);
    assert_eq!(r.device_settings().mic_volume, 0);

    let effects = device(&mut r, DeviceAction::SetCameraFrameMode(3)).unwrap();
    let ev = only_event(&effects);
    assert_eq!((ev.module, ev.name), ("Device", "SetCameraFrameMode"));
    assert_eq!(
        ev.data["camera_info"]["camera_frame_mode"],
        json!({ "mode": 3, "name": "speaker_tracking" })
    );
    let mode = &r.devices.node().camera_info.camera_frame_mode;
    assert_eq!((mode.mode, mode.name.as_str()), (3, "speaker_tracking"));
    assert_eq!(r.device_settings().camera_frame_mode, 3);

    // The other values stay as they were.
    assert_eq!(r.device_settings().speaker_volume, 30);
    assert!(r.device_settings().mic_on && r.device_settings().camera_on);
}

#[test]
fn volumes_set_in_a_meeting_are_the_rooms_own_and_outlast_it() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let effects = device(&mut r, DeviceAction::SetSpeakerVolume(75)).unwrap();
    assert_eq!(only_event(&effects).name, "SetSpeakerVolume");
    leave(&mut r);
    assert_eq!(r.devices.node().speaker_info.volume, 75);
    assert_eq!(r.device_settings().speaker_volume, 75);
}

#[test]
fn speaker_and_mic_tests_start_and_stop_and_refuse_repeats() {
    let mut r = room();
    for (which, name) in [
        (Tested::Speaker, "SpeakerTestStateChange"),
        (Tested::Mic, "MicTestStateChange"),
    ] {
        let effects = device(&mut r, DeviceAction::Test(which, true)).unwrap();
        let ev = only_event(&effects);
        assert_eq!((ev.module, ev.name), ("Device", name));
        assert_eq!(ev.data, json!({ "is_testing": true }));
        assert_eq!(
            code_of(device(&mut r, DeviceAction::Test(which, true))),
            ErrorCode::REPEAT_OPERATION,
            "{name}: started twice"
        );
    }
    // Both run at once; each stops on its own.
    for (which, name) in [
        (Tested::Speaker, "SpeakerTestStateChange"),
        (Tested::Mic, "MicTestStateChange"),
    ] {
        let effects = device(&mut r, DeviceAction::Test(which, false)).unwrap();
        let ev = only_event(&effects);
        assert_eq!(ev.name, name);
        assert_eq!(ev.data, json!({ "is_testing": false }));
        assert_eq!(
            code_of(device(&mut r, DeviceAction::Test(which, false))),
            ErrorCode::REPEAT_OPERATION,
            "{name}: stopped twice"
        );
    }
}

// Device, in a meeting

#[test]
fn enable_mic_in_a_meeting_waits_for_the_meeting_service() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    assert!(
        events(&effects).is_empty(),
        "no event before the service answers"
    );
    let (session, media, change) = media_op(&r, &effects);
    assert_eq!(session, s);
    assert_eq!(
        media,
        Media {
            mic_on: false,
            camera_on: true
        }
    );
    assert_eq!(change, MediaChange::Mic(false));
    assert!(mic_on(&r), "unchanged until the service confirms");
    assert!(r.self_info().audio_on);

    let effects = r.media_answered(s, change, Ok(()));
    assert_eq!(
        names(&effects),
        [("Device", "EnableMic"), ("Meeting", "MembersChanged")]
    );
    let ev = &events(&effects)[0];
    assert_eq!(ev.code, ErrorCode::OK);
    assert_eq!(ev.data["mic_info"]["switch"], false);
    assert_eq!(
        events(&effects)[1].data["user_list_info"][0]["audio_on"],
        false
    );
    assert!(!mic_on(&r));
    assert!(!r.self_info().audio_on);
    assert!(!r.members_node().user_list_info[0].audio_on);
}

#[test]
fn enable_camera_in_a_meeting_waits_for_the_meeting_service() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let effects = device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    let (_, media, change) = media_op(&r, &effects);
    assert_eq!(
        media,
        Media {
            mic_on: true,
            camera_on: false
        }
    );
    assert!(camera_on(&r));
    let effects = r.media_answered(s, change, Ok(()));
    assert_eq!(events(&effects)[0].name, "EnableCamera");
    assert!(!camera_on(&r));
    assert!(!r.members_node().user_list_info[0].video_on);
    assert!(r.device_settings().camera_on);
}

#[test]
fn a_second_change_while_one_is_with_the_service_is_a_repeat() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableMic(false))),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableCamera(false))),
        ErrorCode::REPEAT_OPERATION
    );
    assert!(mic_on(&r) && camera_on(&r));

    r.media_answered(s, MediaChange::Mic(false), Ok(()));
    let effects = device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    assert_eq!(media_op(&r, &effects).2, MediaChange::Camera(false));
}

#[test]
fn a_failed_change_reports_the_service_code_and_changes_nothing() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    let effects = r.media_answered(
        s,
        MediaChange::Mic(false),
        Err(Refusal::new(ErrorCode::NETWORK, "timed out")),
    );
    let ev = only_event(&effects);
    assert_eq!(
        (ev.module, ev.name, ev.code, ev.message.as_str()),
        ("Device", "EnableMic", ErrorCode::NETWORK, "timed out")
    );
    assert_eq!(ev.data["mic_info"]["switch"], true, "as it still is");
    assert!(mic_on(&r));
    // Nothing is pending any more: the change may be tried again.
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    assert_eq!(media_op(&r, &effects).2, MediaChange::Mic(false));
}

#[test]
fn mic_and_camera_changes_while_joining_are_repeats() {
    let mut r = room();
    r.apply(join()).unwrap();
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableMic(false))),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(
        code_of(device(&mut r, DeviceAction::EnableCamera(false))),
        ErrorCode::REPEAT_OPERATION
    );
    assert!(mic_on(&r) && camera_on(&r));
    assert!(r.device_settings().mic_on && r.device_settings().camera_on);
}

#[test]
fn a_mic_change_in_the_waiting_room_goes_to_the_service_too() {
    let mut r = in_waiting_room();
    let s = session_of(&r);
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    assert_eq!(media_op(&r, &effects).0, s);
    assert!(mic_on(&r));
    let effects = r.media_answered(s, MediaChange::Mic(false), Ok(()));
    assert_eq!(names(&effects), [("Device", "EnableMic")]);
    assert!(!mic_on(&r));
    assert!(r.device_settings().mic_on);
}

#[test]
fn leaving_with_a_change_pending_reports_it_abandoned_and_the_rooms_setting_returns() {
    let mut r = room();
    // The room's own microphone is off; this meeting is joined with it on.
    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    r.apply(Command::Meeting(MeetingAction::Join {
        code: "111222333".into(),
        password: String::new(),
        mic_enable: Some(true),
        camera_enable: None,
    }))
    .unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::InMeeting(details(RoomRole::Attendee, 1))));
    assert!(mic_on(&r));
    let effects = device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    media_op(&r, &effects);

    let effects = leave(&mut r);
    assert_eq!(
        names(&effects),
        [
            ("Meeting", "LeaveMeeting"),
            ("Device", "EnableCamera"),
            ("Device", "EnableMic")
        ]
    );
    let ev = &events(&effects)[1];
    assert_eq!(ev.code, ErrorCode::NOT_IN_MEETING);
    assert_eq!(ev.data["camera_info"]["switch"], true);
    let ev = &events(&effects)[2];
    assert_eq!(
        ev.code,
        ErrorCode::OK,
        "the restored microphone is announced"
    );
    assert_eq!(ev.data["mic_info"]["switch"], false);
    assert!(!mic_on(&r), "the room's own microphone setting is back");
    assert!(camera_on(&r));

    // The service's late answer changes nothing and reports nothing.
    assert!(
        r.media_answered(s, MediaChange::Camera(false), Ok(()))
            .is_empty()
    );
    assert!(camera_on(&r));
    assert!(r.device_settings().camera_on);
}

#[test]
fn leaving_with_a_mic_change_pending_publishes_enable_mic_with_10000() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    let effects = leave(&mut r);
    let ev = events(&effects)
        .into_iter()
        .find(|e| e.name == "EnableMic")
        .expect("the abandoned change ends in its event");
    assert_eq!((ev.module, ev.code), ("Device", ErrorCode::NOT_IN_MEETING));
    assert_eq!(ev.data["mic_info"]["switch"], true);
    assert!(mic_on(&r));
    // Outside the meeting, a change takes effect at once again.
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    assert_eq!(only_event(&effects).name, "EnableMic");
    assert!(!mic_on(&r));
}

#[test]
fn a_mic_change_in_a_meeting_leaves_the_rooms_settings_alone() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let before = r.device_settings().clone();
    device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    r.media_answered(s, MediaChange::Mic(false), Ok(()));
    assert!(!mic_on(&r));
    assert_eq!(*r.device_settings(), before);
    assert!(r.device_settings().mic_on);
    leave(&mut r);
    assert!(
        mic_on(&r),
        "the room's own setting returns after the meeting"
    );
}

#[test]
fn join_without_mic_through_the_waiting_room_keeps_it_off_for_the_meeting_only() {
    let mut r = room();
    let effects = r
        .apply(Command::Meeting(MeetingAction::Join {
            code: "111222333".into(),
            password: String::new(),
            mic_enable: Some(false),
            camera_enable: None,
        }))
        .unwrap();
    assert!(
        matches!((&effects[..], &asked(&effects)[..]), ([Effect::Publish(ev), Effect::Run(_)], [Asked::Join(req)])
            if ev.name == "EnableMic" && !req.media.mic_on && req.media.camera_on)
    );
    assert!(!mic_on(&r));
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::WaitingRoom(details(RoomRole::Attendee, 1))));
    assert!(!mic_on(&r));

    let effects = report(
        &mut r,
        Happening::Admitted(Box::new(details(RoomRole::Attendee, 1))),
    );
    let ev = only_event(&effects);
    assert_eq!(ev.name, "JoinMeetingCompleted");
    assert_eq!(ev.data["mic_info"]["switch"], false);
    assert_eq!(ev.data["self_user_info"]["audio_on"], false);
    assert!(!mic_on(&r));
    assert!(!r.members_node().user_list_info[0].audio_on);
    assert!(camera_on(&r));
    assert!(r.device_settings().mic_on, "the room's own setting is kept");

    leave(&mut r);
    assert!(mic_on(&r));
}
