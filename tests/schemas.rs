//! `schemas/` against the real daemon: every module's Query answer validates against its state
//! schema, idle and in a meeting, and `rpc.discover` serves the checked-in OpenRPC document.

mod common;

use common::{Client, start_default};
use serde_json::Value;

fn schema(file: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/").to_owned() + file;
    serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap()
}

/// (path segment, data key, schema file); `Members` answers its keys bare.
const MODULES: &[(&str, Option<&str>, &str)] = &[
    ("Meeting", Some("meeting"), "state/meeting.schema.json"),
    ("Device", Some("device"), "state/device.schema.json"),
    ("Members", None, "state/members.schema.json"),
    (
        "MeetingControl",
        Some("meeting_control"),
        "state/meeting_control.schema.json",
    ),
    ("Share", Some("share"), "state/share.schema.json"),
];

async fn every_node_validates(c: &mut Client, when: &str) {
    for (module, key, file) in MODULES {
        let answer = c.query(&[module]).await;
        let node = match key {
            Some(key) => &answer["data"][key],
            None => &answer["data"],
        };
        let validator = jsonschema::validator_for(&schema(file)).expect("a valid schema");
        let errors: Vec<String> = validator
            .iter_errors(node)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{when}: {module}: {errors:?}\n{node}");
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
    for expected in [
        "Query",
        "Subscribe",
        "Call/Meeting",
        "Call/Device",
        "Call/Share",
    ] {
        assert!(methods.contains(&expected), "{methods:?}");
    }
    daemon.stop().await;
}
