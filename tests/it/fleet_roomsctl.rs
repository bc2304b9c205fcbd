//! `roomsctl fleet` against a real Mosquitto and two rooms: the status table, a query and a
//! call through the broker.

use std::process::{Command, Output};

use crate::common::mosquitto::{Client, Mosquitto, OPERATOR};
use crate::common::{self};
use crate::fleet::fleet_config;
use roomsd::config::CallPolicy;

const ROOMSCTL: &str = env!("CARGO_BIN_EXE_roomsctl");

async fn roomsctl(broker: &Mosquitto, args: &[&str]) -> Output {
    let mut command = Command::new(ROOMSCTL);
    command
        .args(["fleet", "--broker", &broker.url(), "--username", OPERATOR.0])
        .args(args)
        .env("ROOMSCTL_BROKER_PASSWORD", OPERATOR.1)
        .env_remove("ROOMSD_PASSWORD")
        .env_remove("ROOMSCTL_BROKER");
    tokio::task::spawn_blocking(move || command.output().expect("roomsctl runs"))
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
#[ignore = "needs mosquitto (.ci/run installs it): cargo test --test it fleet -- --ignored"]
async fn status_query_and_call_through_the_broker() {
    let broker = Mosquitto::start(&["room-1", "room-2"]);
    let calls = CallPolicy::Allow(vec![
        "Meeting/JoinMeeting".into(),
        "Meeting/LeaveMeeting".into(),
    ]);
    let one = common::start(fleet_config(&broker, "room-1", calls.clone())).await;
    let two = common::start(fleet_config(&broker, "room-2", calls)).await;
    let mut watcher = Client::connect(&broker, OPERATOR).await;
    watcher.subscribe("rooms/+/status").await;
    watcher
        .text_where("rooms/room-1/status", |t| t == "online")
        .await;
    watcher
        .text_where("rooms/room-2/status", |t| t == "online")
        .await;

    // Piped, --once: the table once, every room in it, then exit.
    let output = roomsctl(&broker, &["status", "--once"]).await;
    assert!(output.status.success(), "{output:?}");
    let table = stdout(&output);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ROOM") && lines[0].contains("MEETING"),
        "{table}"
    );
    for room in ["room-1", "room-2"] {
        let row = lines.iter().find(|l| l.starts_with(room)).expect(room);
        assert!(
            row.contains("online") && row.contains("idle") && row.contains("sim up"),
            "{table}"
        );
    }
    assert!(table.contains("2 rooms, 2 online"), "{table}");

    // A call through the broker: room-2 joins a meeting.
    let output = roomsctl(
        &broker,
        &[
            "call",
            "room-2",
            "Meeting",
            "JoinMeeting",
            "meeting_code=111222333",
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    // Like `roomsctl call`, it returns with the outcome event, not at the acknowledgement.
    let said = stdout(&output);
    assert!(
        said.starts_with("room-2 ") && said.contains("JoinMeetingCompleted"),
        "{said}"
    );
    watcher.subscribe("rooms/room-2/state/Meeting").await;
    watcher
        .text_where("rooms/room-2/state/Meeting", |t| {
            t.contains(r#""meeting_status": 1"#)
        })
        .await;

    // A query of one room's node.
    let output = roomsctl(
        &broker,
        &["--json", "query", "room-2", "Meeting", "MeetingInfo"],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let answer: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(
        answer["data"]["meeting_info"]["meeting_title"],
        "Weekly sync"
    );

    let output = roomsctl(&broker, &["status", "--once"]).await;
    let table = stdout(&output);
    let row = table.lines().find(|l| l.starts_with("room-2")).unwrap();
    assert!(
        row.contains("in_meeting") && row.contains("Weekly sync"),
        "{table}"
    );
    // The members column comes from state/Members: 0 while idle, republished when the list
    // changed (the room and the others).
    let words: Vec<&str> = row.split_whitespace().collect();
    let members = words[words.iter().position(|w| *w == "sync").unwrap() + 1];
    assert!(members.parse::<u32>().unwrap() >= 2, "{table}");

    // Ending it from the fleet; a call the policy does not list is refused with exit 1.
    let output = roomsctl(&broker, &["call", "room-2", "Meeting", "LeaveMeeting"]).await;
    assert!(output.status.success(), "{output:?}");
    assert!(stdout(&output).contains("LeaveMeeting"), "{output:?}");
    // A join that fails tells its failure, exit 1, as the room's own event says.
    let output = roomsctl(
        &broker,
        &[
            "call",
            "room-2",
            "Meeting",
            "JoinMeeting",
            "meeting_code=999999999",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stdout(&output).contains("JoinMeetingCompleted"),
        "{output:?}"
    );
    let output = roomsctl(
        &broker,
        &["call", "room-1", "Device", "EnableMic", "enable:=false"],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("mqtt.calls"),
        "{output:?}"
    );
    // Parameters are checked before anything is sent, as by `roomsctl call`.
    let output = roomsctl(
        &broker,
        &["call", "room-1", "Meeting", "JoinMeeting", "meeting_cod=1"],
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    one.stop().await;
    two.stop().await;
}
