//! Whole flows with `[backend] kind = "hiar"`: a real daemon, a panel on the Rooms socket, and
//! a stateful fake of HiAR's session invite (`common::hiar_fake`). The room joins a session by
//! inviting its own user into it; everything else is refused with 9, leaving is local.

use crate::common;
use roomsd::backend::hiar::HiarConfig;

use common::hiar_fake::{self, APP_ID, APP_SECRET, COLLABORATION, Controls, FakeHiar};
use common::{Client, room_on_service};
use roomsd::config::Config;
use roomsd::daemon::Daemon;
use serde_json::{Value, json};

const ROOM_USER: &str = "hiar-room-101";
/// A session id as HiAR gives it out.
const SESSION: &str = "5a71e2ec-fc47-11ec";

fn config(fake: &FakeHiar) -> Config {
    let mut c = common::config();
    c.backend.kind = "hiar".into();
    c.backend.retry_ms.0 = 50;
    c.backend.check_ms.0 = 50;
    let h = c.services.edit::<HiarConfig>();
    h.base_url = fake.url();
    h.app_id = APP_ID.into();
    h.app_secret = APP_SECRET.into();
    h.collaboration_id = COLLABORATION.into();
    h.user_id = ROOM_USER.into();
    c
}

async fn room_with(config: Config) -> (Daemon, Client) {
    room_on_service(config, &["Meeting", "Backend"]).await
}

#[tokio::test]
async fn signed_checks_reach_the_service_at_start_and_a_wrong_secret_shows() {
    let fake = hiar_fake::start().await;
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    let backend = panel.query(&["Backend"]).await["data"]["backend"].clone();
    assert_eq!(backend["last_error"], "", "{backend}");
    assert_eq!(backend["capabilities"], json!(["join"]));

    let mut wrong = config(&fake);
    wrong.services.edit::<HiarConfig>().app_secret = "not-the-secret".into();
    let (_daemon, mut panel) = room_with(wrong).await;
    let backend = panel.wait_backend(|b| b["last_error"] != "").await;
    assert!(
        backend["last_error"].as_str().unwrap().contains("401"),
        "{backend}"
    );
}

#[tokio::test]
async fn joining_invites_the_rooms_own_user_into_the_typed_session() {
    let fake = hiar_fake::start().await;
    fake.add_session(SESSION);
    let (_daemon, mut panel) = room_with(config(&fake)).await;

    let refused = panel.join("no-such-session", "").await;
    assert_ne!(refused["error_code"], 0, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("2004"),
        "HiAR's own code is named: {refused}"
    );
    let joined = panel.join(SESSION, "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert_eq!(joined["data"]["meeting_info"]["meeting_code"], SESSION);
    assert_eq!(
        fake.invites(),
        [(SESSION.into(), ROOM_USER.into(), vec![ROOM_USER.to_owned()])]
    );
}

#[tokio::test]
async fn what_hiar_cannot_do_is_refused_with_9_and_leaving_is_local() {
    let fake = hiar_fake::start().await;
    fake.add_session(SESSION);
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "StartMeeting", "action_params": {"meeting_type": "pmi"}}),
        )
        .await;
    assert_eq!(ack["error_code"], 9, "{ack}");
    assert!(ack["message"].as_str().unwrap().contains("(hiar)"), "{ack}");
    assert_eq!(panel.join(SESSION, "").await["error_code"], 0);
    let ack = panel
        .call("Call/Meeting", json!({"action": "DissolveMeeting"}))
        .await;
    assert_eq!(ack["error_code"], 9, "{ack}");
    let ack = panel.control("MuteAll", json!({})).await;
    assert_eq!(ack["error_code"], 9, "{ack}");

    let invites = fake.requests_to("POST", hiar_fake::INVITE).len();
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    assert_eq!(panel.event("LeaveMeeting").await["error_code"], 0);
    assert_eq!(fake.requests_to("POST", hiar_fake::INVITE).len(), invites);
}

#[tokio::test]
async fn the_service_going_away_mid_meeting_is_noticed_by_the_checks() {
    let fake = hiar_fake::start().await;
    fake.add_session(SESSION);
    let (_daemon, mut panel) = room_with(config(&fake)).await;
    assert_eq!(panel.join(SESSION, "").await["error_code"], 0);
    fake.go_down();
    let lost = panel.event("LeaveMeeting").await;
    assert_eq!(lost["error_code"], 12, "{lost}");
    assert_eq!(lost["data"]["reason"], "backend_lost");
    let backend = panel.wait_backend(|b| b["connected"] == false).await;
    assert!(backend["last_error"].as_str().unwrap().contains("503"));
}
