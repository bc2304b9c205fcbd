//! `schemas/` against the real daemon: every module's Query answer validates against its state
//! schema, idle and in a meeting, and `rpc.discover` serves the checked-in OpenRPC document.

use crate::common;
use roomsd::backend::sim::SimConfig;

use common::{Client, start_default};
use roomsd::modules::MODULES;
use serde_json::Value;

fn schema(file: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/").to_owned() + file;
    serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap()
}

async fn every_node_validates(c: &mut Client, when: &str) {
    for module in MODULES {
        let answer = c.query(&[module.name]).await;
        let node = match module.bare {
            false => &answer["data"][module.key],
            true => &answer["data"],
        };
        let file = format!("state/{}.schema.json", module.key);
        let validator = jsonschema::validator_for(&schema(&file)).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(node)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{when}: {}: {errors:?}\n{node}",
            module.name
        );
    }
}

#[tokio::test]
async fn query_answers_match_the_schemas() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    every_node_validates(&mut c, "idle").await;
    c.join_meeting("111222333").await;
    every_node_validates(&mut c, "in a meeting").await;
    daemon.stop().await;
}

#[tokio::test]
async fn rpc_discover_serves_the_openrpc_document() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let reply: Value = serde_json::from_str(
        &c.raw(r#"{"jsonrpc": "2.0", "id": 7, "method": "rpc.discover"}"#)
            .await,
    )
    .unwrap();
    assert_eq!(reply["id"], 7);
    let document = &reply["result"];
    assert_eq!(document, &schema("openrpc.json"));
    let methods: Vec<&str> = document["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for expected in ["Query", "Subscribe", "Unsubscribe"] {
        assert!(methods.contains(&expected), "{methods:?}");
    }
    for module in MODULES.iter().filter(|m| !m.actions.is_empty()) {
        let call = format!("Call/{}", module.name);
        assert!(methods.contains(&call.as_str()), "{call} in {methods:?}");
    }
    daemon.stop().await;
}

/// Reads events until `name` arrives, checking each one's `data` against its schema; returns
/// the names seen.
async fn events_until(c: &mut Client, name: &str, seen: &mut Vec<String>) {
    loop {
        let event = c.next_event().await;
        let module = event["module"].as_str().unwrap().to_owned();
        let sub_event = event["sub_event"].as_str().unwrap().to_owned();
        let file = format!("events/{module}.{sub_event}.schema.json");
        let validator = jsonschema::validator_for(&schema(&file)).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(&event["data"])
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}\n{event}");
        seen.push(format!("{module}.{sub_event}"));
        if sub_event == name {
            return;
        }
    }
}

async fn call(c: &mut Client, module: &str, action: &str, params: Value) {
    let ack = c
        .call(
            &format!("Call/{module}"),
            serde_json::json!({"action": action, "action_params": params}),
        )
        .await;
    assert_eq!(ack["error_code"], 0, "{module}.{action}: {ack}");
}

#[tokio::test]
async fn events_match_the_schemas() {
    let mut cfg = common::config();
    cfg.services
        .edit::<SimConfig>()
        .meetings
        .push(roomsd::backend::sim::SimMeeting {
            room_is_host: true,
            ..common::meeting("999000111", "Hosted")
        });
    let daemon = common::start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    for module in MODULES.iter().filter(|m| !m.events.is_empty()) {
        c.subscribe(&[module.name]).await;
    }
    let mut seen = Vec::new();
    let json = |text: &str| -> Value { serde_json::from_str(text).unwrap() };

    call(&mut c, "Device", "EnableMic", json(r#"{"enable": false}"#)).await;
    events_until(&mut c, "EnableMic", &mut seen).await;
    call(
        &mut c,
        "Device",
        "SetSpeakerVolume",
        json(r#"{"volume": 30}"#),
    )
    .await;
    events_until(&mut c, "SetSpeakerVolume", &mut seen).await;
    call(
        &mut c,
        "Device",
        "SetCameraFrameMode",
        json(r#"{"mode": 2}"#),
    )
    .await;
    events_until(&mut c, "SetCameraFrameMode", &mut seen).await;
    call(&mut c, "Device", "TestMic", json(r#"{"test": true}"#)).await;
    events_until(&mut c, "MicTestStateChange", &mut seen).await;
    call(&mut c, "Share", "OpenShareGuide", json("{}")).await;
    events_until(&mut c, "ShareInfoChanged", &mut seen).await;
    call(&mut c, "Share", "CloseShareGuide", json("{}")).await;
    events_until(&mut c, "ShareInfoChanged", &mut seen).await;

    call(
        &mut c,
        "Meeting",
        "JoinMeeting",
        json(r#"{"meeting_code": "999000111"}"#),
    )
    .await;
    events_until(&mut c, "JoinMeetingCompleted", &mut seen).await;
    call(
        &mut c,
        "Meeting",
        "SwitchLayout",
        json(r#"{"switch_type": 2}"#),
    )
    .await;
    events_until(&mut c, "LayoutSwitchChanged", &mut seen).await;
    let room = c.query(&["Meeting", "SelfInfo", "UserId"]).await["data"]["user_id"].clone();
    let members = c.query(&["Members"]).await;
    let someone = members["data"]["user_list_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] != room)
        .and_then(|m| m["user_id"].as_str())
        .expect("someone besides the room")
        .to_owned();
    call(
        &mut c,
        "MeetingControl",
        "MuteMember",
        serde_json::json!({ "user_id": someone }),
    )
    .await;
    events_until(&mut c, "MuteMember", &mut seen).await;
    call(&mut c, "MeetingControl", "RequestRecord", json("{}")).await;
    events_until(&mut c, "RequestRecord", &mut seen).await;
    call(&mut c, "MeetingControl", "StartRecord", json("{}")).await;
    events_until(&mut c, "StartRecord", &mut seen).await;
    call(&mut c, "Meeting", "LeaveMeeting", json("{}")).await;
    events_until(&mut c, "LeaveMeeting", &mut seen).await;

    for expected in [
        "Device.EnableMic",
        "Device.MicTestStateChange",
        "Share.ShareInfoChanged",
        "Meeting.JoinMeetingCompleted",
        "Meeting.LayoutSwitchChanged",
        "MeetingControl.MuteMember",
        "MeetingControl.StartRecord",
        "Meeting.LeaveMeeting",
    ] {
        assert!(seen.iter().any(|s| s == expected), "{expected} in {seen:?}");
    }
    daemon.stop().await;
}

/// The Backend module's event: the simulated service goes away at once and comes back a while
/// later, which the subscriber hears as `BackendStatusChanged`.
#[tokio::test]
async fn backend_events_match_their_schema() {
    let mut cfg = common::config();
    cfg.services.edit::<SimConfig>().disconnect_after_ms = 1;
    cfg.services.edit::<SimConfig>().reconnect_after_ms = 1500;
    let daemon = common::start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Backend"]).await;
    let mut seen = Vec::new();
    events_until(&mut c, "BackendStatusChanged", &mut seen).await;
    assert_eq!(seen, ["Backend.BackendStatusChanged"]);
    daemon.stop().await;
}
