//! The fleet link against a real Mosquitto (docs/FLEET.md): retained state, requests and their
//! answers, the policy and the broker's ACL, reconnecting, the last will, TLS.

use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use serde_json::Value;

use crate::common::mosquitto::{self, Client, Mosquitto, OPERATOR, VIEWER};
use crate::common::{self, WAIT};
use roomsd::config::{BrokerUrl, CallPolicy, Config, RoomId};

pub fn fleet_config(broker: &Mosquitto, room: &str, calls: CallPolicy) -> Config {
    let mut c = common::config();
    c.mqtt.url = BrokerUrl::try_from(broker.url()).unwrap();
    c.mqtt.room_id = RoomId(room.into());
    c.mqtt.username = room.into();
    c.mqtt.password = mosquitto::ROOM_PASSWORD.into();
    c.mqtt.keepalive_secs.0 = 5;
    c.mqtt.calls = calls;
    c
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn meeting_status(state: &str) -> u64 {
    json(state)["meeting"]["meeting_info"]["meeting_status"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn state_is_retained_and_calls_are_answered_both_ways() {
    let broker = Mosquitto::start(&["room-a"]);
    let calls = CallPolicy::Allow(vec!["Meeting/JoinMeeting".into()]);
    let daemon = common::start(fleet_config(&broker, "room-a", calls)).await;
    let mut operator = Client::connect(&broker, OPERATOR).await;
    // Subscribed after the room published: what arrives is what the broker retained.
    operator.subscribe("rooms/room-a/status").await;
    let status = operator
        .text_where("rooms/room-a/status", |t| t == "online")
        .await;
    assert_eq!(status, "online");
    operator.subscribe("rooms/room-a/#").await;
    let info = json(&operator.text_where("rooms/room-a/info", |_| true).await);
    assert_eq!(info["room_id"], "room-a");
    assert_eq!(info["backend"], "sim");
    let device = operator.message("rooms/room-a/state/Device").await;
    assert!(device.retain, "state is retained");
    assert!(json(&String::from_utf8_lossy(&device.payload))["device"].is_object());

    // MQTT 5: the answer on the asker's topic, with its correlation data.
    operator.subscribe("replies/operator/#").await;
    let join = r#"{"jsonrpc": "2.0", "id": 7, "method": "Call/Meeting", "params": {"action": "JoinMeeting", "action_params": {"meeting_code": "222333444", "password": "1234"}}}"#;
    operator
        .request_v5(
            "rooms/room-a/request",
            join,
            "replies/operator/1",
            b"corr-1",
        )
        .await;
    let answer = operator.message("replies/operator/1").await;
    let properties = answer.properties.expect("properties");
    assert_eq!(properties.correlation_data.as_deref(), Some(&b"corr-1"[..]));
    let answer = json(&String::from_utf8_lossy(&answer.payload));
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["result"]["error_code"], 0, "{answer}");

    // The change shows in the retained state, the meeting's password blanked.
    let state = operator
        .text_where("rooms/room-a/state/Meeting", |t| meeting_status(t) == 1)
        .await;
    // The room's own panels see the password; the broker does not.
    let mut panel = common::Client::connect(daemon.local_addr()).await;
    let local = panel.query(&["Meeting", "MeetingInfo"]).await;
    assert_eq!(local["data"]["meeting_info"]["meeting_password"], "1234");
    assert!(state.contains(r#""meeting_password": """#), "{state}");
    assert!(!state.contains("1234"), "{state}");
    let event = operator
        .text_where("rooms/room-a/event/Meeting", |t| {
            t.contains("JoinMeetingCompleted")
        })
        .await;
    let event = json(&event);
    assert_eq!(event["sub_event"], "JoinMeetingCompleted", "{event}");
    assert_eq!(
        event["data"]["meeting_info"]["meeting_password"], "",
        "{event}"
    );

    // MQTT 3.1.1: no response topic, the answer on the room's `response`, matched by id.
    let query = r#"{"jsonrpc": "2.0", "id": "q-1", "method": "Query", "params": {"path": ["Meeting", "MeetingInfo"]}}"#;
    operator
        .client
        .publish(
            "rooms/room-a/request",
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            false,
            query,
        )
        .await
        .unwrap();
    let answer = operator
        .text_where("rooms/room-a/response", |t| json(t)["id"] == "q-1")
        .await;
    let info = &json(&answer)["result"]["data"]["meeting_info"];
    assert_eq!(info["meeting_code"], "222333444", "{answer}");
    assert_eq!(info["meeting_password"], "", "{answer}");
    daemon.stop().await;
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn calls_are_refused_by_the_policy_and_by_the_broker() {
    let broker = Mosquitto::start(&["room-p"]);
    let daemon = common::start(fleet_config(&broker, "room-p", CallPolicy::Read)).await;
    let mut operator = Client::connect(&broker, OPERATOR).await;
    operator.subscribe("rooms/room-p/status").await;
    operator
        .text_where("rooms/room-p/status", |t| t == "online")
        .await;
    operator.subscribe("replies/operator/#").await;

    // "read": Query runs, calls are refused in-band, saying why.
    let leave = r#"{"jsonrpc": "2.0", "id": 1, "method": "Call/Meeting", "params": {"action": "LeaveMeeting"}}"#;
    operator
        .request_v5("rooms/room-p/request", leave, "replies/operator/p", b"1")
        .await;
    let answer = json(&String::from_utf8_lossy(
        &operator.message("replies/operator/p").await.payload,
    ));
    assert_eq!(answer["result"]["error_code"], 9, "{answer}");
    let message = answer["result"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("mqtt.calls"), "{answer}");
    let query = r#"{"jsonrpc": "2.0", "id": 2, "method": "Query", "params": {"path": ["Device"]}}"#;
    operator
        .request_v5("rooms/room-p/request", query, "replies/operator/p", b"2")
        .await;
    let answer = json(&String::from_utf8_lossy(
        &operator.message("replies/operator/p").await.payload,
    ));
    assert!(answer["result"]["data"]["device"].is_object(), "{answer}");

    // The viewer may read but not command: the broker refuses its request.
    let mut viewer = Client::connect(&broker, VIEWER).await;
    viewer
        .client
        .publish(
            "rooms/room-p/request",
            rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
            false,
            query,
        )
        .await
        .unwrap();
    let ack = viewer.next(|p| matches!(p, Packet::PubAck(_))).await;
    let Packet::PubAck(ack) = ack else {
        unreachable!()
    };
    assert_eq!(ack.reason, PubAckReason::NotAuthorized);
    daemon.stop().await;
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn after_a_broker_restart_the_retained_state_is_back() {
    let mut broker = Mosquitto::start(&["room-r"]);
    let daemon = common::start(fleet_config(&broker, "room-r", CallPolicy::None)).await;
    let mut operator = Client::connect(&broker, OPERATOR).await;
    operator.subscribe("rooms/room-r/status").await;
    operator
        .text_where("rooms/room-r/status", |t| t == "online")
        .await;
    drop(operator);

    // Without persistence the broker forgets everything: roomsd must publish it all again.
    broker.kill();
    broker.restart();
    let mut operator = Client::connect(&broker, OPERATOR).await;
    operator.subscribe("rooms/room-r/#").await;
    let state = operator.message("rooms/room-r/state/Meeting").await;
    assert!(json(&String::from_utf8_lossy(&state.payload))["meeting"].is_object());
    operator
        .text_where("rooms/room-r/status", |t| t == "online")
        .await;
    daemon.stop().await;
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn a_stopped_or_killed_roomsd_reads_offline() {
    let broker = Mosquitto::start(&["room-k", "room-s"]);
    let mut operator = Client::connect(&broker, OPERATOR).await;
    operator.subscribe("rooms/+/status").await;

    // Stopped cleanly: it says offline itself (a clean disconnect does not fire the will).
    let daemon = common::start(fleet_config(&broker, "room-s", CallPolicy::None)).await;
    operator
        .text_where("rooms/room-s/status", |t| t == "online")
        .await;
    daemon.stop().await;
    operator
        .text_where("rooms/room-s/status", |t| t == "offline")
        .await;

    // Killed: the broker publishes the last will.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roomsd.toml");
    std::fs::write(
        &file,
        format!(
            "[mqtt]\nurl = \"{}\"\nroom_id = \"room-k\"\nusername = \"room-k\"\npassword = \"{}\"\nkeepalive_secs = 5\n",
            broker.url(),
            mosquitto::ROOM_PASSWORD
        ),
    )
    .unwrap();
    let (mut roomsd, _addr) = common::spawn_roomsd(&["--config", file.to_str().unwrap()], &[]);
    operator
        .text_where("rooms/room-k/status", |t| t == "online")
        .await;
    roomsd.0.kill().unwrap();
    roomsd.0.wait().unwrap();
    operator
        .text_where("rooms/room-k/status", |t| t == "offline")
        .await;
    // Retained: a newcomer reads it too.
    let mut late = Client::connect(&broker, VIEWER).await;
    late.subscribe("rooms/room-k/status").await;
    let status = late.message("rooms/room-k/status").await;
    assert!(status.retain);
    assert_eq!(&status.payload[..], b"offline");
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn tls_with_a_configured_ca() {
    let broker = Mosquitto::start_tls(&["room-t"]);
    let mut config = fleet_config(&broker, "room-t", CallPolicy::None);
    config.mqtt.ca_file = broker.ca_file.clone().unwrap();
    let daemon = common::start(config).await;
    // A TLS client of its own: mosquitto_sub with the same CA reads the retained status.
    let port = broker.port.to_string();
    let ca = broker.ca_file.clone().unwrap();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port, "--cafile"])
            .arg(ca)
            .args(["-u", OPERATOR.0, "-P", OPERATOR.1, "-V", "mqttv5"])
            .args(["-t", "rooms/room-t/status", "-C", "1", "-W"])
            .arg(WAIT.as_secs().to_string())
            .output()
            .expect("mosquitto_sub runs")
    });
    let output = output.await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "online",
        "{output:?}"
    );
    daemon.stop().await;
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet:: -- --ignored"]
async fn home_assistant_discovery_documents_are_retained() {
    let broker = Mosquitto::start(&["room-h"]);
    let mut config = fleet_config(&broker, "room-h", CallPolicy::None);
    config.mqtt.homeassistant = true;
    let daemon = common::start(config).await;
    let mut viewer = Client::connect(&broker, VIEWER).await;
    viewer.subscribe("rooms/room-h/status").await;
    viewer
        .text_where("rooms/room-h/status", |t| t == "online")
        .await;
    viewer.subscribe("homeassistant/#").await;
    let mut components = std::collections::BTreeSet::new();
    while components.len() < 4 {
        let message = viewer
            .next(|p| matches!(p, Packet::Publish(m) if m.topic.starts_with(b"homeassistant/")))
            .await;
        let Packet::Publish(message) = message else {
            unreachable!()
        };
        assert!(message.retain, "discovery documents are retained");
        let topic = String::from_utf8_lossy(&message.topic).into_owned();
        let doc = json(&String::from_utf8_lossy(&message.payload));
        assert_eq!(doc["availability_topic"], "rooms/room-h/status", "{topic}");
        assert_eq!(doc["device"]["identifiers"][0], "roomsd_room-h", "{topic}");
        // A command is a request frame the room's dispatcher reads.
        if let Some(command) = doc["payload_press"].as_str().or(doc["payload_on"].as_str()) {
            let frame = json(command);
            assert!(
                frame["method"].as_str().unwrap().starts_with("Call/"),
                "{topic}"
            );
            assert_eq!(doc["command_topic"], "rooms/room-h/request", "{topic}");
        }
        components.insert(topic.split('/').nth(1).unwrap().to_owned());
    }
    assert_eq!(
        components.into_iter().collect::<Vec<_>>(),
        ["button", "number", "sensor", "switch"]
    );
    daemon.stop().await;
}

/// Nothing listens where the broker should be: the room serves its panels as usual, and stops
/// at once when asked.
#[tokio::test]
async fn an_absent_broker_costs_local_clients_nothing() {
    let mut config = common::config();
    let nowhere = format!("mqtt://127.0.0.1:{}", common::free_port());
    config.mqtt.url = BrokerUrl::try_from(nowhere).unwrap();
    config.mqtt.room_id = RoomId("room-x".into());
    let daemon = common::start(config).await;
    let mut panel = common::Client::connect(daemon.local_addr()).await;
    panel.subscribe(&["Meeting"]).await;
    let code = panel
        .meeting(
            "JoinMeeting",
            serde_json::json!({"meeting_code": "111222333"}),
        )
        .await;
    assert_eq!(code, 0);
    panel.event("JoinMeetingCompleted").await;
    assert_eq!(panel.status().await, 1);
    daemon.stop().await;
}
