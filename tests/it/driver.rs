//! A control-system driver's day against roomsd (issue 4): it mutes and unmutes the camera and
//! the microphone, sets the volume, reads the participant list, mutes everyone, removes a
//! participant, shows the cast code and starts and stops sharing. Such drivers match the raw
//! byte stream with regular expressions, so every answer is checked byte for byte, and each
//! change must show in the next Query and as an event.

use crate::common;
use roomsd::backend::sim::SimConfig;

use common::{Client, config, meeting, start};
use roomsd::backend::sim::SimMeeting;
use roomsd::config::{CastCode, Config};
use serde_json::{Value, json};

const HOSTED: &str = "888999000";

/// The test configuration plus a meeting the room hosts, with three others and two people in
/// its waiting room, a fixed cast code and one capture input.
fn driver_config() -> Config {
    let mut c = config();
    c.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 3,
        waiting: 2,
        ..meeting(HOSTED, "Hosted")
    });
    c.share.cast_code = CastCode("246810".into());
    c.share.capture_devices = vec!["hdmi-in".into()];
    c
}

/// `{"jsonrpc": "2.0", "method": "Query", "id": "<id>", "result": {... "data": <data>}}`.
fn query_reply(id: &str, data: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Query", "id": "{id}", "result": {{"error_code": 0, "message": "", "data": {data}}}}}"#
    )
}

fn ack(module: &str, id: &str, action: &str, code: u32, message: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Call/{module}", "id": "{id}", "result": {{"error_code": {code}, "message": "{message}", "action": "{action}"}}}}"#
    )
}

fn query_request(id: &str, path: &[&str]) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "Query", "params": {"path": path}}).to_string()
}

fn call_request(module: &str, id: &str, action: &str, params: Value) -> String {
    let mut p = json!({ "action": action });
    if !params.is_null() {
        p["action_params"] = params;
    }
    json!({"jsonrpc": "2.0", "id": id, "method": format!("Call/{module}"), "params": p}).to_string()
}

/// What a driver's `"result": {.*?}}}}` finds: the match must end exactly at the frame's end.
fn assert_driver_match_ends_at_the_end(frame: &str, braces: &str) {
    let start = frame.find(r#""result": {"#).expect("a result");
    let end = frame[start..]
        .find(braces)
        .map(|i| start + i + braces.len());
    assert_eq!(end, Some(frame.len()), "the match is cut short: {frame}");
}

const CAMERA_ON: &str = r#"{"camera_info": {"camera_frame_mode": {"mode": 1, "name": "manual"}, "switch": true, "device_id": "default"}}"#;
const CAMERA_OFF: &str = r#"{"camera_info": {"camera_frame_mode": {"mode": 1, "name": "manual"}, "switch": false, "device_id": "default"}}"#;
const NOBODY: &str = r#"{"app_uid": "", "app_id": "", "user_id": "", "host": false, "co_host": false, "instance_id": 0, "user_type": 0, "is_creator": false, "role_type": 0, "video_on": false, "audio_on": false, "screen_sharing": false, "screen_share_type": 0, "web_sharing": false, "nickname": ""}"#;

fn member(id: &str, name: &str, host: bool, audio: bool) -> String {
    let role = if host { 1 } else { 3 };
    format!(
        r#"{{"user_id": "{id}", "nickname": "{name}", "host": {host}, "co_host": false, "role_type": {role}, "user_type": 1, "audio_on": {audio}, "video_on": true, "screen_sharing": false}}"#
    )
}

#[tokio::test]
async fn device_controls_answer_byte_exact_and_show_in_query_and_events() {
    let daemon = start(driver_config()).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Device"]).await;

    let reply = c
        .raw(&query_request("Camera Mute", &["Device", "CameraInfo"]))
        .await;
    assert_eq!(reply, query_reply("Camera Mute", CAMERA_ON));
    assert_driver_match_ends_at_the_end(&reply, "}}}}");

    let reply = c
        .raw(&call_request(
            "Device",
            "Camera Mute",
            "EnableCamera",
            json!({"enable": false}),
        ))
        .await;
    assert_eq!(reply, ack("Device", "Camera Mute", "EnableCamera", 0, ""));
    assert_eq!(
        c.event_raw("EnableCamera").await,
        format!(
            r#"{{"jsonrpc": "2.0", "method": "Event/Device", "params": {{"sub_event": "EnableCamera", "error_code": 0, "message": "", "data": {CAMERA_OFF}}}}}"#
        )
    );
    let reply = c
        .raw(&query_request("Camera Mute", &["Device", "CameraInfo"]))
        .await;
    assert_eq!(reply, query_reply("Camera Mute", CAMERA_OFF));

    let reply = c
        .raw(&call_request(
            "Device",
            "Camera Mute",
            "EnableCamera",
            json!({"enable": false}),
        ))
        .await;
    assert_eq!(
        reply,
        ack(
            "Device",
            "Camera Mute",
            "EnableCamera",
            20002,
            "the camera is already off"
        )
    );
    let reply = c
        .raw(&call_request(
            "Device",
            "Camera Unmute",
            "EnableCamera",
            json!({"enable": true}),
        ))
        .await;
    assert_eq!(reply, ack("Device", "Camera Unmute", "EnableCamera", 0, ""));
    c.event("EnableCamera").await;

    for (enable, code, message) in [
        (false, 0, ""),
        (false, 20006, "the microphone is already off"),
        (true, 0, ""),
        (true, 20005, "the microphone is already on"),
    ] {
        let reply = c
            .raw(&call_request(
                "Device",
                "Mic",
                "EnableMic",
                json!({ "enable": enable }),
            ))
            .await;
        assert_eq!(reply, ack("Device", "Mic", "EnableMic", code, message));
        if code == 0 {
            let event = c.event("EnableMic").await;
            assert_eq!(event["data"]["mic_info"]["switch"], enable);
            let reply = c.raw(&query_request("Mic", &["Device", "MicInfo"])).await;
            assert_eq!(
                reply,
                query_reply(
                    "Mic",
                    &format!(
                        r#"{{"mic_info": {{"switch": {enable}, "device_id": "default", "volume": 80}}}}"#
                    )
                )
            );
            assert_driver_match_ends_at_the_end(&reply, "}}}}");
        }
    }

    let reply = c
        .raw(&call_request(
            "Device",
            "Volume",
            "SetSpeakerVolume",
            json!({"volume": 30}),
        ))
        .await;
    assert_eq!(reply, ack("Device", "Volume", "SetSpeakerVolume", 0, ""));
    let event = c.event("SetSpeakerVolume").await;
    assert_eq!(event["data"]["speaker_info"]["volume"], 30);
    let reply = c
        .raw(&query_request("Volume", &["Device", "SpeakerInfo"]))
        .await;
    assert_eq!(
        reply,
        query_reply(
            "Volume",
            r#"{"speaker_info": {"switch": true, "device_id": "default", "volume": 30}}"#
        )
    );
    assert_driver_match_ends_at_the_end(&reply, "}}}}");

    let reply = c
        .raw(&call_request(
            "Device",
            "Volume",
            "SetSpeakerVolume",
            json!({"volume": 101}),
        ))
        .await;
    assert_eq!(
        reply,
        ack(
            "Device",
            "Volume",
            "SetSpeakerVolume",
            8,
            "SetSpeakerVolume: volume must be from 0 to 100, not 101"
        )
    );
}

/// Joins the hosted meeting and waits until the room is in it.
async fn in_hosted_meeting() -> (roomsd::daemon::Daemon, Client) {
    let daemon = start(driver_config()).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.join_meeting(HOSTED).await;
    c.subscribe(&[]).await;
    (daemon, c)
}

#[tokio::test]
async fn members_are_listed_muted_and_removed() {
    let (_daemon, mut c) = in_hosted_meeting().await;
    let everyone = |audio: bool| {
        [
            member("room-1", "Room 101", true, true),
            member("u1", "Alice", false, audio),
            member("u2", "Bob", false, audio),
            member("u3", "Carol", false, audio),
        ]
        .join(", ")
    };
    let reply = c.raw(&query_request("Members", &["Members"])).await;
    assert_eq!(
        reply,
        query_reply(
            "Members",
            &format!(
                r#"{{"user_list_info": [{}], "member_count": {{"in_meeting": 4, "in_waiting_room": 2}}}}"#,
                everyone(true)
            )
        )
    );
    assert_driver_match_ends_at_the_end(&reply, "}}}}");

    let reply = c
        .raw(&call_request(
            "MeetingControl",
            "Mute All",
            "MuteAll",
            json!({"audio_allow_unmute_by_self": false}),
        ))
        .await;
    assert_eq!(reply, ack("MeetingControl", "Mute All", "MuteAll", 0, ""));
    let [muted, members] = &c.events_any_order(&["MuteAll", "MembersChanged"]).await[..] else {
        unreachable!()
    };
    assert_eq!(muted["error_code"], 0);
    assert_eq!(members["data"]["user_list_info"][1]["audio_on"], false);
    let members = c.query(&["Members"]).await;
    let list = members["data"]["user_list_info"].as_array().unwrap();
    assert!(
        list[1..].iter().all(|m| m["audio_on"] == false),
        "{members}"
    );
    assert_eq!(
        list[0]["audio_on"], true,
        "the room keeps its own microphone"
    );

    let reply = c
        .raw(&call_request(
            "MeetingControl",
            "ids",
            "ListMemberIds",
            json!({"begin_count": 0, "end_count": 1, "type": 1}),
        ))
        .await;
    assert_eq!(
        reply,
        r#"{"jsonrpc": "2.0", "method": "Call/MeetingControl", "id": "ids", "result": {"error_code": 0, "message": "", "action": "ListMemberIds", "data": ["room-1", "u1"]}}"#
    );
    let waiting = c
        .call(
            "Call/MeetingControl",
            json!({"action": "ListMemberIds", "action_params": {"begin_count": 0, "end_count": 9, "type": 0}}),
        )
        .await;
    assert_eq!(waiting["data"], json!(["u4", "u5"]));

    let reply = c
        .raw(&call_request(
            "MeetingControl",
            "Kick",
            "RemoveMember",
            json!({"user_id": "u2", "allow_join": false}),
        ))
        .await;
    assert_eq!(reply, ack("MeetingControl", "Kick", "RemoveMember", 0, ""));
    let [removed, members] = &c
        .events_any_order(&["RemoveMember", "MembersChanged"])
        .await[..]
    else {
        unreachable!()
    };
    assert_eq!(removed["data"]["user_id"], "u2");
    assert_eq!(members["data"]["member_count"]["in_meeting"], 3);
    let members = c.query(&["Members"]).await;
    assert_eq!(members["data"]["member_count"]["in_meeting"], 3);
    assert!(
        !members["data"]["user_list_info"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user_id"] == "u2")
    );

    let reply = c
        .raw(&call_request(
            "MeetingControl",
            "Kick",
            "RemoveMember",
            json!({"user_id": "u2"}),
        ))
        .await;
    assert_eq!(
        reply,
        ack(
            "MeetingControl",
            "Kick",
            "RemoveMember",
            50000,
            r#"RemoveMember: no participant \"u2\" in the meeting"#
        )
    );
}

#[tokio::test]
async fn the_microphone_in_a_meeting_goes_through_the_service() {
    let (_daemon, mut c) = in_hosted_meeting().await;
    let reply = c
        .raw(&call_request(
            "Device",
            "Mic",
            "EnableMic",
            json!({"enable": false}),
        ))
        .await;
    assert_eq!(reply, ack("Device", "Mic", "EnableMic", 0, ""));
    let event = c.event("EnableMic").await;
    assert_eq!(event["data"]["mic_info"]["switch"], false);
    let event = c.event("MembersChanged").await;
    assert_eq!(event["data"]["user_list_info"][0]["audio_on"], false);
    assert_eq!(
        c.query(&["Device", "MicInfo", "Switch"]).await["data"]["switch"],
        false
    );
    assert_eq!(
        c.query(&["Meeting", "SelfInfo", "AudioOn"]).await["data"]["audio_on"],
        false
    );
    // Leaving brings the room's own setting back.
    assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 0);
    c.event("LeaveMeeting").await;
    assert_eq!(
        c.query(&["Device", "MicInfo", "Switch"]).await["data"]["switch"],
        true
    );
}

#[tokio::test]
async fn the_cast_code_shows_and_sharing_starts_and_stops() {
    let daemon = start(driver_config()).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&[]).await;
    let idle_share = format!(
        r#"{{"share": {{"share_info": {{"share_user_info": {NOBODY}, "is_sharing": false, "quick_casting_state": 0}}, "cast_code": "246810", "capture_device_list": [{{"device_id": "hdmi-in", "device_name": "hdmi-in"}}]}}}}"#
    );
    let reply = c.raw(&query_request("Share", &["Share"])).await;
    assert_eq!(reply, query_reply("Share", &idle_share));
    assert_driver_match_ends_at_the_end(&reply, "}}}}");

    // Casting to the room before any meeting.
    let reply = c
        .raw(&call_request(
            "Share",
            "Share",
            "StartShare",
            json!({"share_type": 1, "device_id": "hdmi-in"}),
        ))
        .await;
    assert_eq!(reply, ack("Share", "Share", "StartShare", 0, ""));
    let event = c.event("ShareInfoChanged").await;
    assert_eq!(event["data"]["share_info"]["quick_casting_state"], 2);
    let event = c.event("MeetingInfoChanged").await;
    assert_eq!(event["data"]["meeting_info"]["meeting_status"], 4);
    assert_eq!(c.status().await, 4);
    let share = c.query(&["Share", "ShareInfo"]).await;
    assert_eq!(share["data"]["share_info"]["is_sharing"], true);
    assert_eq!(
        c.meeting("JoinMeeting", json!({"meeting_code": HOSTED}))
            .await,
        10027
    );

    let reply = c
        .raw(r#"{"jsonrpc": "2.0", "id": "End", "method": "Call/Share", "params": {"action": "EndQuickShare", "meeting_type": "castMeeting"}}"#)
        .await;
    assert_eq!(reply, ack("Share", "End", "EndQuickShare", 0, ""));
    c.event("ShareInfoChanged").await;
    assert_eq!(c.status().await, 0);
    let reply = c.raw(&query_request("Share", &["Share"])).await;
    assert_eq!(reply, query_reply("Share", &idle_share));

    // Sharing into a meeting.
    c.join_meeting(HOSTED).await;
    let reply = c
        .raw(&call_request(
            "Share",
            "Share",
            "StartShare",
            json!({"share_type": 0, "share_voice": true, "fluency_first": true, "select_index": 0}),
        ))
        .await;
    assert_eq!(reply, ack("Share", "Share", "StartShare", 0, ""));
    let event = c.event("ShareInfoChanged").await;
    assert_eq!(
        event["data"]["share_info"]["share_user_info"]["nickname"],
        "Room 101"
    );
    let share = c.query(&["Share", "ShareInfo"]).await;
    assert_eq!(share["data"]["share_info"]["is_sharing"], true);
    assert_eq!(share["data"]["share_info"]["quick_casting_state"], 0);
    assert_eq!(
        c.query(&["Meeting", "SelfInfo", "ScreenSharing"]).await["data"]["screen_sharing"],
        true
    );
    let reply = c
        .raw(&call_request("Share", "Stop", "StopShare", json!(null)))
        .await;
    assert_eq!(reply, ack("Share", "Stop", "StopShare", 0, ""));
    let event = c.event("ShareInfoChanged").await;
    assert_eq!(event["data"]["share_info"]["is_sharing"], false);
}

#[tokio::test]
async fn device_settings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = driver_config();
    config.room.state_dir = dir.path().to_str().unwrap().into();

    let daemon = start(config.clone()).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    for (action, params) in [
        ("SetSpeakerVolume", json!({"volume": 23})),
        ("EnableCamera", json!({"enable": false})),
        ("SetCameraFrameMode", json!({"mode": 3})),
    ] {
        let ack = c
            .call(
                "Call/Device",
                json!({"action": action, "action_params": params}),
            )
            .await;
        assert_eq!(ack["error_code"], 0, "{action}: {ack}");
    }
    drop(c);
    daemon.stop().await;
    // A save that a crash interrupted left its temporary file: the next start removes it.
    let left = dir.path().join(".state.json.Xy12Zw.tmp");
    std::fs::write(&left, "{\"speaker_vol").unwrap();

    let daemon = start(config.clone()).await;
    assert!(!left.exists(), "the interrupted save's file is still there");
    let mut c = Client::connect(daemon.local_addr()).await;
    let device = c.query(&["Device"]).await;
    assert_eq!(device["data"]["device"]["speaker_info"]["volume"], 23);
    assert_eq!(device["data"]["device"]["camera_info"]["switch"], false);
    assert_eq!(
        device["data"]["device"]["camera_info"]["camera_frame_mode"],
        json!({"mode": 3, "name": "speaker_tracking"})
    );
    drop(c);
    daemon.stop().await;

    // A damaged file: the daemon starts with the defaults, and the next change replaces it.
    std::fs::write(dir.path().join("state.json"), "{\"speaker_volume\": ").unwrap();
    let daemon = start(config.clone()).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        c.query(&["Device", "SpeakerInfo", "Volume"]).await["data"]["volume"],
        50
    );
    let ack = c
        .call(
            "Call/Device",
            json!({"action": "SetSpeakerVolume", "action_params": {"volume": 61}}),
        )
        .await;
    assert_eq!(ack["error_code"], 0);
    drop(c);
    daemon.stop().await;
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).unwrap())
            .unwrap();
    assert_eq!(saved["speaker_volume"], 61);
}

/// The names of objects whose last key may be an object (PROTOCOL.md §2.2): module roots and
/// `layout_info`, whose vendor shapes have only object children.
const MAY_END_IN_AN_OBJECT: &[&str] = &["layout_info"];

/// Every object below a module root whose last value is an object, by path.
fn nodes_ending_in_an_object(name: &str, value: &Value, depth: usize, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if depth >= 1
                && !MAY_END_IN_AN_OBJECT.contains(&name)
                && map.values().next_back().is_some_and(Value::is_object)
            {
                found.push(name.to_owned());
            }
            for (key, child) in map {
                nodes_ending_in_an_object(key, child, depth + 1, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                nodes_ending_in_an_object(name, item, depth + 1, found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn no_node_ends_in_an_object_whatever_the_state() {
    let (_daemon, mut c) = in_hosted_meeting().await;
    assert_eq!(
        c.call("Call/Share", json!({"action": "StartShare"})).await["error_code"],
        0
    );
    let mut found = Vec::new();
    for (module, node) in c.query(&[]).await["data"].as_object().unwrap() {
        for (key, child) in node.as_object().unwrap() {
            nodes_ending_in_an_object(key, child, 1, &mut found);
        }
        assert!(!module.is_empty());
    }
    assert!(
        found.is_empty(),
        "nodes that would cut a driver's match: {found:?}"
    );
}

#[tokio::test]
async fn recording_is_requested_started_and_shown() {
    let (_daemon, mut c) = in_hosted_meeting().await;
    let idle = r#"{"meeting_control": {"is_caption_open": false, "is_caption_support": false, "current_font_size": 0, "is_recording": false, "record_status": 0}}"#;
    let reply = c.raw(&query_request("Control", &["MeetingControl"])).await;
    assert_eq!(reply, query_reply("Control", idle));

    let start = call_request(
        "MeetingControl",
        "Rec",
        "StartRecord",
        json!({"mobile_address": "ops@example.com"}),
    );
    assert_eq!(
        c.raw(&start).await,
        ack(
            "MeetingControl",
            "Rec",
            "StartRecord",
            50004,
            "StartRecord: send RequestRecord first"
        )
    );
    let reply = c
        .raw(&call_request(
            "MeetingControl",
            "Rec",
            "RequestRecord",
            json!(null),
        ))
        .await;
    assert_eq!(reply, ack("MeetingControl", "Rec", "RequestRecord", 0, ""));
    let [requested, state] = &c
        .events_any_order(&["RequestRecord", "RecordStateChanged"])
        .await[..]
    else {
        unreachable!()
    };
    assert_eq!(requested["error_code"], 0);
    assert_eq!(state["data"]["record_status"], 1);

    assert_eq!(
        c.raw(&start).await,
        ack("MeetingControl", "Rec", "StartRecord", 0, "")
    );
    let [started, state] = &c
        .events_any_order(&["StartRecord", "RecordStateChanged"])
        .await[..]
    else {
        unreachable!()
    };
    assert_eq!(started["error_code"], 0);
    assert_eq!(state["data"]["is_recording"], true);
    let control = c.query(&["MeetingControl"]).await;
    assert_eq!(control["data"]["meeting_control"]["record_status"], 2);
    assert_eq!(
        c.raw(&start).await,
        ack(
            "MeetingControl",
            "Rec",
            "StartRecord",
            50003,
            "the meeting is already being recorded"
        )
    );
}

/// How many objects `value` holds, itself included.
fn objects_in(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(objects_in).sum::<usize>(),
        Value::Array(items) => items.iter().map(objects_in).sum(),
        _ => 0,
    }
}

/// The frame is JSON whose only braces are its objects' own: none is left raw inside a string.
fn assert_braces_are_structural(frame: &str) -> Value {
    let value: Value = serde_json::from_str(frame).expect("the frame is JSON");
    let objects = objects_in(&value);
    assert_eq!(frame.matches('{').count(), objects, "a raw '{{' in {frame}");
    assert_eq!(frame.matches('}').count(), objects, "a raw '}}' in {frame}");
    value
}

#[tokio::test]
async fn braces_in_a_title_or_creator_name_do_not_cut_a_drivers_match() {
    const TITLE: &str = "Plan {Q3} }}}} review";
    const CREATOR: &str = "}}}}{";
    let mut config = driver_config();
    config
        .services
        .edit::<SimConfig>()
        .meetings
        .push(SimMeeting {
            creator: CREATOR.into(),
            ..meeting("121212121", TITLE)
        });
    let daemon = start(config).await;
    let mut c = Client::connect(daemon.local_addr()).await;

    // The booked meetings, as the list shows them.
    let mut listed = Value::Null;
    for _ in 0..50 {
        let frame = c
            .raw(&query_request("list", &["Meeting", "MeetingList"]))
            .await;
        listed = assert_braces_are_structural(&frame)["result"]["data"]["meeting_list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["meeting_code"] == "121212121")
            .cloned()
            .unwrap_or_default();
        if !listed.is_null() {
            assert!(
                frame.contains(
                    r#""meeting_title": "Plan \u007bQ3\u007d \u007d\u007d\u007d\u007d review""#
                ),
                "{frame}"
            );
            assert!(
                frame.contains(r#""meeting_creator_name": "\u007d\u007d\u007d\u007d\u007b""#),
                "{frame}"
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(listed["meeting_title"], TITLE);
    assert_eq!(listed["meeting_creator_name"], CREATOR);

    // In the meeting: the Query a driver polls, and the events that carry the meeting.
    c.subscribe(&["Meeting"]).await;
    c.join_meeting("121212121").await;
    let frame = c
        .raw(&query_request("info", &["Meeting", "MeetingInfo"]))
        .await;
    assert_driver_match_ends_at_the_end(&frame, "}}}}");
    let info = assert_braces_are_structural(&frame);
    assert_eq!(
        info["result"]["data"]["meeting_info"]["meeting_title"],
        TITLE
    );
    assert_eq!(
        info["result"]["data"]["meeting_info"]["meeting_creator_name"],
        CREATOR
    );
    assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 0);
    let frame = c.event_raw("LeaveMeeting").await;
    let event = assert_braces_are_structural(&frame);
    assert_eq!(
        event["params"]["data"]["meeting_info"]["meeting_title"],
        TITLE
    );
}
