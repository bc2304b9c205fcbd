//! Whole flows with `[backend] kind = "rsc"`: a real daemon, a panel on the Rooms socket, and
//! a stateful fake of RSC's session join (`common::rsc_fake`). RSC documents joining only: the
//! room joins, and everything else is refused with 9 or, for leaving, done without telling it.

use crate::common;
use roomsd::backend::rsc::RscConfig;

use common::rsc_fake::{self, Controls, ENDPOINT, FakeRsc, JOIN, TOKEN};
use common::{Client, room_on_service};
use roomsd::config::Config;
use roomsd::daemon::Daemon;
use serde_json::{Value, json};

fn config(fake: &FakeRsc) -> Config {
    let mut c = common::config();
    c.room.name = "Room 101".into();
    c.backend.kind = "rsc".into();
    c.backend.retry_ms.0 = 50;
    c.backend.check_ms.0 = 50;
    c.services.edit::<RscConfig>().base_url = fake.url();
    c.services.edit::<RscConfig>().token = TOKEN.into();
    c.services.edit::<RscConfig>().endpoint_id = ENDPOINT.into();
    c
}

async fn room_with(config: Config) -> (Daemon, Client) {
    room_on_service(config, &["Meeting", "Backend"]).await
}

#[tokio::test]
async fn the_service_and_its_token_are_checked_at_start() {
    let fake = rsc_fake::start().await;
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    let backend = panel.query(&["Backend"]).await["data"]["backend"].clone();
    assert_eq!(backend["last_error"], "", "{backend}");
    assert_eq!(backend["capabilities"], json!(["join"]));
    assert!(fake.joins().is_empty(), "checking joins nothing");

    let mut wrong = config(&fake);
    wrong.services.edit::<RscConfig>().token = "expired".into();
    let (_daemon, mut panel) = room_with(wrong).await;
    let backend = panel.wait_backend(|b| b["last_error"] != "").await;
    assert_eq!(backend["connected"], true, "it answers: {backend}");
    assert!(
        backend["last_error"]
            .as_str()
            .unwrap()
            .contains("credentials are refused (HTTP 401"),
        "{backend}"
    );
}

#[tokio::test]
async fn joining_sends_what_the_document_requires_and_reads_the_host_flag() {
    let fake = rsc_fake::start().await;
    fake.add_session("88001234", "2468", ENDPOINT);
    let (_daemon, mut panel) = room_with(config(&fake)).await;

    let refused = panel.join("88001234", "1111").await;
    // The seed documents no failure: a 403 is read as "no permission to join".
    assert_eq!(refused["error_code"], 10007, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("wrong session password"),
        "RSC's own text is kept: {refused}"
    );
    let joined = panel.join("8800 1234", "2468").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert_eq!(joined["data"]["meeting_info"]["meeting_code"], "88001234");
    assert_eq!(joined["data"]["self_user_info"]["host"], true, "isMaster");
    let sent = fake.joins().pop().unwrap();
    let device_id = sent["endpointInfo"]["deviceId"].as_str().unwrap();
    assert!(device_id.starts_with("roomsd-"), "{sent}");
    assert_eq!(sent["endpointInfo"]["nickname"], "Room 101");
    // Only the join path's documented method was used for meetings.
    assert_eq!(fake.requests_to("POST", JOIN).len(), 2);
}

#[tokio::test]
async fn what_rsc_cannot_do_is_refused_with_9_and_leaving_is_local() {
    let fake = rsc_fake::start().await;
    fake.add_session("88001234", "", "someone-else");
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}),
        )
        .await;
    assert_eq!(ack["error_code"], 9);
    assert_eq!(
        ack["message"],
        "the meeting service (rsc) cannot start an instant meeting"
    );
    assert_eq!(panel.join("88001234", "").await["error_code"], 0);
    let ack = panel
        .call("Call/Meeting", json!({"action": "DissolveMeeting"}))
        .await;
    assert_eq!(ack["error_code"], 9, "{ack}");
    for action in ["MuteMember", "RemoveMember", "StopVideo"] {
        let ack = panel.control(action, json!({"user_id": "u-2"})).await;
        assert_eq!(ack["error_code"], 9, "{action}: {ack}");
    }
    let ack = panel.control("RequestRecord", Value::Null).await;
    assert_eq!(ack["error_code"], 9, "{ack}");
    let ack = panel
        .call(
            "Call/Device",
            json!({"action": "EnableCamera", "action_params": {"enable": false}}),
        )
        .await;
    assert_eq!(ack["error_code"], 9, "{ack}");
    let members = panel.query(&["Members"]).await["data"].clone();
    assert_eq!(members["member_count"]["in_meeting"], 1, "RSC lists nobody");

    let posts = fake.requests_to("POST", JOIN).len();
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    assert_eq!(panel.event("LeaveMeeting").await["error_code"], 0);
    assert_eq!(fake.requests_to("POST", JOIN).len(), posts);
    assert_eq!(panel.status().await, 0);
}

#[tokio::test]
async fn the_service_going_away_mid_meeting_is_noticed_by_the_checks() {
    let fake = rsc_fake::start().await;
    fake.add_session("88001234", "", "someone-else");
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    assert_eq!(panel.join("88001234", "").await["error_code"], 0);

    fake.go_down();
    let lost = panel.event("LeaveMeeting").await;
    assert_eq!(lost["error_code"], 12, "{lost}");
    assert_eq!(lost["data"]["reason"], "backend_lost");
    fake.come_back();
    panel.wait_backend(|b| b["connected"] == true).await;
    assert_eq!(
        panel.status().await,
        0,
        "RSC cannot say the room is still in it"
    );
}
