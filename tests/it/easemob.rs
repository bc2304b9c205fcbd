//! Whole flows with `[backend] kind = "easemob"`: a real daemon, a panel on the Rooms socket,
//! and a stateful fake of Easemob's conference API (`common::easemob_fake`).

use crate::common;
use roomsd::backend::easemob::EasemobConfig;

use common::easemob_fake::{self, APP, CLIENT_ID, CLIENT_SECRET, Controls, FakeEasemob, ORG};
use common::{Client, room_on_service, start};
use roomsd::config::Config;
use roomsd::daemon::Daemon;
use serde_json::{Value, json};

/// A conference id as Easemob gives it out, and as a user types it.
const CONF: &str = "TURN25AIYAVxASW7PL1Q00C51";
const ROOM_USER: &str = "room101";

fn config(fake: &FakeEasemob) -> Config {
    let mut c = common::config();
    c.room.name = "Room 101".into();
    c.backend.kind = "easemob".into();
    c.backend.retry_ms.0 = 50;
    c.backend.check_ms.0 = 200;
    let e = c.services.edit::<EasemobConfig>();
    e.base_url = fake.url();
    e.org = ORG.into();
    e.app = APP.into();
    e.client_id = CLIENT_ID.into();
    e.client_secret = CLIENT_SECRET.into();
    e.username = ROOM_USER.into();
    e.poll_ms.0 = 50;
    c
}

/// A daemon on the fake and a panel subscribed to everything, once Easemob is reached.
async fn room(fake: &FakeEasemob) -> (Daemon, Client) {
    room_on_service(config(fake), &["Meeting", "MeetingControl", "Backend"]).await
}

fn nicknames(members: &Value) -> Vec<String> {
    members["user_list_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["nickname"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_service_is_reached_at_start_and_the_panel_sees_what_it_can_do() {
    let fake = easemob_fake::start().await;
    let (_daemon, mut panel) = room(&fake).await;
    let backend = panel.wait_backend(|b| b["connected"] == true).await;
    assert_eq!(backend["kind"], "easemob");
    assert_eq!(backend["last_error"], "");
    assert!(backend["last_ok_at"].as_i64().unwrap() > 0);
    assert_eq!(
        backend["capabilities"],
        json!([
            "start_instant",
            "join",
            "dissolve",
            "member_list",
            "remove_member",
            "end_detection"
        ])
    );
    assert_eq!(
        backend["meeting_code_pattern"],
        "^[A-Za-z0-9 ]*[A-Za-z0-9][A-Za-z0-9 ]*$"
    );
    assert_eq!(
        fake.tokens_given(),
        1,
        "one token, no meeting action needed"
    );
}

#[tokio::test]
async fn joining_by_conference_id_checks_the_password_and_follows_the_members() {
    let fake = easemob_fake::start().await;
    fake.add_conference(CONF, "0.378", &[("alice", 7), ("bob", 3)]);
    let (_daemon, mut panel) = room(&fake).await;

    let refused = panel.join(CONF, "").await;
    assert_eq!(refused["error_code"], 10018, "{refused}");
    let refused = panel.join(CONF, "0.1").await;
    assert_eq!(refused["error_code"], 10020, "{refused}");

    let joined = panel.join(CONF, "0.378").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert_eq!(joined["data"]["meeting_info"]["meeting_code"], CONF);
    let members = panel.query(&["Members"]).await["data"].clone();
    assert_eq!(nicknames(&members), ["Room 101", "alice", "bob"]);
    assert_eq!(
        members["user_list_info"][1]["host"], true,
        "the administrator"
    );

    fake.join_member(CONF, "carol");
    let changed = panel.event("MembersChanged").await;
    assert_eq!(
        nicknames(&changed["data"]),
        ["Room 101", "alice", "bob", "carol"]
    );
}

#[tokio::test]
async fn removing_a_member_reaches_easemob() {
    let fake = easemob_fake::start().await;
    let (_daemon, mut panel) = room(&fake).await;
    let ack = panel
        .meeting("StartMeeting", json!({"meeting_type": "instant"}))
        .await;
    assert_eq!(ack, 0);
    let started = panel.event("JoinMeetingCompleted").await;
    assert_eq!(started["error_code"], 0, "{started}");
    let code = started["data"]["meeting_info"]["meeting_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fake.conference(&code).unwrap().creator, ROOM_USER);
    fake.join_member(&code, "dave");
    panel.event("MembersChanged").await;

    let ack = panel
        .control(
            "RemoveMember",
            json!({"user_id": "dave", "allow_join": false}),
        )
        .await;
    assert_eq!(ack["error_code"], 0, "{ack}");
    let [removed, members] = &panel
        .events_any_order(&["RemoveMember", "MembersChanged"])
        .await[..]
    else {
        unreachable!()
    };
    assert_eq!(removed["error_code"], 0, "{removed}");
    assert_eq!(nicknames(&members["data"]), ["Room 101"]);
    assert!(fake.conference(&code).unwrap().members.is_empty());
    let deletes = fake.requests_to("DELETE", &format!("/{ORG}/{APP}/conferences/{code}/dave"));
    assert_eq!(deletes.len(), 1);

    assert_eq!(panel.meeting("DissolveMeeting", Value::Null).await, 0);
    let dissolved = panel.event("DissolveMeeting").await;
    assert_eq!(dissolved["error_code"], 0, "{dissolved}");
    assert!(fake.conference(&code).is_none(), "dissolved on the service");
}

#[tokio::test]
async fn a_conference_ended_on_the_service_takes_the_room_out() {
    let fake = easemob_fake::start().await;
    fake.add_conference(CONF, "", &[("alice", 7)]);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(panel.join(CONF, "").await["error_code"], 0);

    fake.end_conference(CONF);
    let ended = panel.event("DissolveMeeting").await;
    assert_eq!(ended["error_code"], 0, "{ended}");
    assert_eq!(ended["data"]["reason"], "host_ended");
    assert_eq!(panel.status().await, 0);
}

#[tokio::test]
async fn what_easemob_cannot_do_is_refused_with_9_naming_it() {
    let fake = easemob_fake::start().await;
    fake.add_conference(CONF, "", &[("alice", 3)]);
    let (_daemon, mut panel) = room(&fake).await;
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "StartMeeting", "action_params": {"meeting_type": "pmi"}}),
        )
        .await;
    assert_eq!(ack["error_code"], 9);
    assert_eq!(
        ack["message"],
        "the meeting service (easemob) cannot start a personal meeting room"
    );
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "JoinMeeting", "action_params": {"meeting_code": "12#"}}),
        )
        .await;
    assert_eq!(ack["error_code"], 10010, "not a conference id: {ack}");

    assert_eq!(panel.join(CONF, "").await["error_code"], 0);
    for (action, params) in [
        ("MuteMember", json!({"user_id": "alice"})),
        ("StopVideo", json!({"user_id": "alice"})),
        ("MuteAll", json!({})),
    ] {
        let ack = panel.control(action, params).await;
        assert_eq!(ack["error_code"], 9, "{action}: {ack}");
        assert!(
            ack["message"].as_str().unwrap().contains("(easemob)"),
            "{ack}"
        );
    }
    let ack = panel
        .call(
            "Call/Device",
            json!({"action": "EnableMic", "action_params": {"enable": false}}),
        )
        .await;
    assert_eq!(ack["error_code"], 9, "{ack}");

    // Leaving is never refused: the SDK hangs up, the REST API is not told.
    let before = fake.requests().len();
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    let left = panel.event("LeaveMeeting").await;
    assert_eq!(left["error_code"], 0, "{left}");
    let after: Vec<_> = fake.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| r.path.clone())
        .collect();
    assert!(after.is_empty(), "nothing but polls: {after:?}");
}

#[tokio::test]
async fn the_service_going_away_mid_meeting_ends_it_and_its_return_shows_it_again() {
    let fake = easemob_fake::start().await;
    fake.add_conference(CONF, "", &[("alice", 7)]);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(panel.join(CONF, "").await["error_code"], 0);

    fake.go_down();
    let lost = panel.event("LeaveMeeting").await;
    assert_eq!(lost["error_code"], 12, "{lost}");
    assert_eq!(lost["data"]["reason"], "backend_lost");
    let backend = panel.wait_backend(|b| b["connected"] == false).await;
    assert!(
        backend["last_error"].as_str().unwrap().contains("503"),
        "{backend}"
    );
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "JoinMeeting", "action_params": {"meeting_code": CONF}}),
        )
        .await;
    assert_eq!(ack["error_code"], 12, "known to be away: {ack}");

    fake.come_back();
    let back = panel.event("JoinMeetingCompleted").await;
    assert_eq!(back["error_code"], 0, "{back}");
    assert_eq!(back["data"]["meeting_info"]["meeting_code"], CONF);
    assert_eq!(panel.status().await, 1);
}

#[tokio::test]
async fn a_service_away_at_start_is_shown_away_then_reached() {
    let fake = easemob_fake::start().await;
    fake.go_down();
    let daemon = start(config(&fake)).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    let backend = panel.wait_backend(|b| b["last_error"] != "").await;
    assert_eq!(backend["connected"], false, "{backend}");
    let ack = panel
        .meeting("StartMeeting", json!({"meeting_type": "instant"}))
        .await;
    assert_eq!(ack, 12);

    fake.come_back();
    panel.wait_backend(|b| b["connected"] == true).await;
    assert_eq!(fake.tokens_given(), 1);
}

#[tokio::test]
async fn the_rooms_own_user_removed_from_the_conference_takes_it_out() {
    let fake = easemob_fake::start().await;
    // The room's media client is in the conference as the room's Easemob user.
    fake.add_conference(CONF, "", &[("alice", 7), (ROOM_USER, 3)]);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(panel.join(CONF, "").await["error_code"], 0);
    let members = panel.query(&["Members"]).await["data"].clone();
    assert_eq!(
        nicknames(&members),
        ["Room 101", "alice"],
        "the room once, as itself"
    );

    fake.state()
        .conferences
        .iter_mut()
        .for_each(|c| c.members.retain(|(name, _)| name != ROOM_USER));
    let removed = panel.event("LeaveMeeting").await;
    assert_eq!(removed["error_code"], 0, "{removed}");
    assert_eq!(removed["data"]["reason"], "removed");
}
