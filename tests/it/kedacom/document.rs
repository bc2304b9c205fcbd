//! Flows that hold the adapter to seed 004 and the control API as documented, against a fake
//! that refuses what the platform refuses: complete create requests, a room that gets itself
//! called in, terminals named by their documented fields, names the platform takes, escaped
//! conference ids, whole lists, bookings started early, recording, local times, and the
//! authentication code for a refused login.

use roomsd::backend::kedacom::KedacomConfig;
use std::time::Duration;

use roomsd::config::Config;
use serde_json::{Value, json};

use super::{ROOM, config, room, room_with, until_status};
use crate::common::kedacom_fake::FakeKedacom;
use crate::common::{Client, WAIT, start};

async fn start_instant(panel: &mut Client) -> Value {
    let ack = panel
        .meeting("StartMeeting", json!({"meeting_type": "instant"}))
        .await;
    assert_eq!(ack, 0);
    panel.event("JoinMeetingCompleted").await
}

fn code_of(event: &Value) -> String {
    event["data"]["meeting_info"]["meeting_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The meeting list once it has at least `n` entries.
async fn meeting_list(panel: &mut Client, n: usize) -> Vec<Value> {
    let wait = async {
        loop {
            let list =
                panel.query(&["Meeting", "MeetingList"]).await["data"]["meeting_list"].clone();
            let list = list.as_array().cloned().unwrap_or_default();
            if list.len() >= n {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("{n} meetings not listed"))
}

#[tokio::test]
async fn an_instant_start_sends_every_required_field_and_calls_the_room_in() {
    let fake = FakeKedacom::start().await;
    // The platform's own call (call_mode 2) takes a while: the room calls in meanwhile.
    fake.set_dial_delay(Duration::from_millis(300));
    let mut c = config(&fake);
    c.services.edit::<KedacomConfig>().duration_minutes = 90;
    c.services.edit::<KedacomConfig>().max_join_mt = roomsd::backend::kedacom::MaxJoinMt(64);
    let (_daemon, mut panel) = room_with(c).await;
    let started = start_instant(&mut panel).await;
    assert_eq!(started["error_code"], 0, "{started}");
    let code = code_of(&started);
    assert!(fake.online(&code, ROOM));

    let created = fake.requests_to("POST", "/api/v1/mc/confs");
    let params = created[0].params();
    for (key, want) in [
        ("create_type", json!(1)),
        ("duration", json!(90)),
        ("max_join_mt", json!(64)),
        ("call_mode", json!(2)),
        ("auto_end", json!(1)),
        ("conf_type", json!(0)),
        ("encrypted_type", json!(0)),
    ] {
        assert_eq!(params[key], want, "{key}: {params}");
    }
    // Called in explicitly, whatever the platform's call mode does.
    let dialled = fake.requests_to("POST", &format!("/api/v1/vc/confs/{code}/online_mts"));
    assert_eq!(dialled.len(), 1, "the room's terminal dialled once");
}

#[tokio::test]
async fn a_virtual_meeting_room_that_calls_nobody_still_gets_the_room_in() {
    // The fake's virtual meeting rooms are manual-call conferences: nobody is called unless
    // someone posts online_mts.
    let fake = FakeKedacom::start().await;
    fake.add_virtual_room("vmr-1", "9990001", "Room 101 personal room", ROOM);
    let mut c = config(&fake);
    c.backend.timeout_ms.0 = 1500;
    let (_daemon, mut panel) = room_with(c).await;
    let ack = panel
        .meeting("StartMeeting", json!({"meeting_type": "pmi"}))
        .await;
    assert_eq!(ack, 0);
    let started = panel.event("JoinMeetingCompleted").await;
    assert_eq!(started["error_code"], 0, "{started}");
    assert!(fake.online("9990001", ROOM));
}

/// Joins a conference as a room whose terminal is `account` of `account_type`.
async fn join_as(account: &str, account_type: u8) {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let mut c = config(&fake);
    c.services.edit::<KedacomConfig>().account = account.into();
    c.services.edit::<KedacomConfig>().account_type =
        roomsd::backend::kedacom::AccountType(account_type);
    let (_daemon, mut panel) = room_with(c).await;
    let joined = panel.join("7000001", "").await;
    assert_eq!(joined["error_code"], 0, "type {account_type}: {joined}");
    assert!(fake.online("7000001", account), "type {account_type}");
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    assert_eq!(panel.event("LeaveMeeting").await["error_code"], 0);
    assert!(!fake.dialled("7000001", account), "type {account_type}");
}

#[tokio::test]
async fn a_room_known_by_phone_ip_or_alias_at_ip_finds_its_terminal() {
    join_as("13800001111", 6).await;
    join_as("10.1.2.3", 7).await;
    join_as("room101@10.1.2.3", 8).await;
}

#[tokio::test]
async fn a_restart_finds_the_call_of_an_alias_at_ip_terminal() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    fake.put_online_as("7000001", "room101@10.1.2.3", 8);
    let mut c = config(&fake);
    c.services.edit::<KedacomConfig>().account = "room101@10.1.2.3".into();
    c.services.edit::<KedacomConfig>().account_type = roomsd::backend::kedacom::AccountType(8);
    let daemon = start(c).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    let info = until_status(&mut panel, WAIT, 1).await;
    assert_eq!(info["meeting_code"], "7000001", "{info}");
}

#[tokio::test]
async fn a_meeting_everyone_left_ends_so_the_next_start_works() {
    let fake = FakeKedacom::start().await;
    let (_daemon, mut panel) = room(&fake).await;
    let first = start_instant(&mut panel).await;
    assert_eq!(first["error_code"], 0, "{first}");
    let code = code_of(&first);
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    assert_eq!(panel.event("LeaveMeeting").await["error_code"], 0);
    assert!(!fake.conference_exists(&code), "auto_end: nobody left");
    let second = start_instant(&mut panel).await;
    assert_eq!(second["error_code"], 0, "{second}");
    assert_eq!(
        second["data"]["meeting_info"]["meeting_title"],
        "Room 101的快速会议"
    );
}

#[tokio::test]
async fn a_name_in_use_or_against_the_rules_is_made_acceptable() {
    let fake = FakeKedacom::start().await;
    // Taken by a conference the room left running.
    fake.add_conference("7000002", "RDLab 1的快速会议", false);
    let mut c = config(&fake);
    c.room.name = "R&D/Lab 1".into();
    let (_daemon, mut panel) = room_with(c).await;
    let started = start_instant(&mut panel).await;
    assert_eq!(started["error_code"], 0, "{started}");
    let title = &started["data"]["meeting_info"]["meeting_title"];
    assert_eq!(title, "RDLab 1的快速会议_2", "{started}");
}

#[tokio::test]
async fn a_conference_id_with_a_hash_is_escaped_in_paths() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("123#456", "Cascade", false);
    let (_daemon, mut panel) = room(&fake).await;
    let joined = panel.join("123#456", "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert!(fake.online("123#456", ROOM));
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    assert_eq!(panel.event("LeaveMeeting").await["error_code"], 0);
    assert!(!fake.dialled("123#456", ROOM));
}

#[tokio::test]
async fn every_booking_and_every_ongoing_meeting_is_listed_once() {
    let fake = FakeKedacom::start().await;
    for i in 0..25 {
        fake.add_booked(
            &format!("71000{i:02}"),
            &format!("Booking {i}"),
            "2026-12-01T09:00:00+08:00",
            "2026-12-01T10:00:00+08:00",
        );
    }
    fake.add_conference("7000001", "Design review", false);
    // Listed both as booked and as started by some platforms: once in the list.
    fake.add_booked(
        "7000001",
        "Design review",
        "2026-12-01T09:00:00+08:00",
        "2026-12-01T10:00:00+08:00",
    );
    let (_daemon, mut panel) = room(&fake).await;
    // The room shows the first ten: the meeting going on comes first, once.
    let list = meeting_list(&mut panel, 10).await;
    assert_eq!(list[0]["meeting_code"], "7000001", "{list:?}");
    let ongoing = list.iter().filter(|m| m["meeting_code"] == "7000001");
    assert_eq!(ongoing.count(), 1, "{list:?}");
    assert_eq!(list[1]["meeting_code"], "7100000", "{list:?}");
    // Every page was read.
    let pages = fake.requests_to("GET", "/api/v1/mc/booked_confs");
    let starts: Vec<&str> = pages.iter().map(|r| r.form["start"].as_str()).collect();
    assert!(starts.contains(&"20"), "the second page: {starts:?}");
    let ongoing = fake.requests_to("GET", "/api/v1/mc/meetings");
    assert_eq!(ongoing[0].form["state"], "2");
}

#[tokio::test]
async fn a_time_without_an_offset_is_the_platform_local_time() {
    let fake = FakeKedacom::start().await;
    fake.add_booked(
        "7000002",
        "Weekly",
        "2026-12-01T09:00:00",
        "2026-12-01T10:00:00",
    );
    let (_daemon, mut panel) = room(&fake).await;
    let list = meeting_list(&mut panel, 1).await;
    // 2026-12-01T09:00:00+08:00 (kedacom.time_zone's default).
    assert_eq!(list[0]["meeting_time"]["begin_time"], 1_796_086_800);
}

#[tokio::test]
async fn joining_a_booking_that_has_not_begun_starts_it() {
    let fake = FakeKedacom::start().await;
    let (start_time, end_time) = ("2026-12-01T09:00:00+08:00", "2026-12-01T10:00:00+08:00");
    fake.add_booked("7000009", "Planning", start_time, end_time);
    fake.add_booked_with_password("7000010", "Budget", start_time, end_time, "1234");
    let (_daemon, mut panel) = room(&fake).await;
    let joined = panel.join("7000009", "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert_eq!(joined["data"]["meeting_info"]["meeting_title"], "Planning");
    assert!(fake.online("7000009", ROOM));
    assert!(!fake.is_booked("7000009"), "started");
    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    panel.event("LeaveMeeting").await;

    let locked = panel.join("7000010", "").await;
    assert_eq!(locked["error_code"], 10018, "{locked}");
    let wrong = panel.join("7000010", "4321").await;
    assert_eq!(wrong["error_code"], 10020, "{wrong}");
    assert!(
        fake.is_booked("7000010"),
        "not started for a wrong password"
    );
    let joined = panel.join("7000010", "1234").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
}

#[tokio::test]
async fn the_host_records_the_meeting() {
    let fake = FakeKedacom::start().await;
    let (_daemon, mut panel) = room(&fake).await;
    panel.subscribe(&["MeetingControl"]).await;
    let started = start_instant(&mut panel).await;
    let code = code_of(&started);
    for action in ["RequestRecord", "StartRecord"] {
        let ack = panel
            .call("Call/MeetingControl", json!({"action": action}))
            .await;
        assert_eq!(ack["error_code"], 0, "{action}: {ack}");
        let done = panel.event(action).await;
        assert_eq!(done["error_code"], 0, "{action}: {done}");
    }
    assert!(fake.recording(&code));
    let node = panel.query(&["MeetingControl"]).await;
    assert_eq!(
        node["data"]["meeting_control"]["is_recording"], true,
        "{node}"
    );
}

#[tokio::test]
async fn a_refused_login_is_an_authentication_failure() {
    let fake = FakeKedacom::start().await;
    let mut c: Config = config(&fake);
    c.services.edit::<KedacomConfig>().password = "wrong".into();
    let daemon = start(c).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    panel.subscribe(&["Meeting"]).await;
    // The platform answers (it refuses the login): it is there.
    let backend = panel
        .wait_backend(|b| !b["last_error"].as_str().unwrap_or("").is_empty())
        .await;
    assert!(
        backend["last_error"].as_str().unwrap().contains("10101"),
        "{backend}"
    );
    let ack = panel
        .meeting(
            "JoinMeeting",
            json!({"meeting_code": "7000001", "password": ""}),
        )
        .await;
    if ack == 0 {
        let failed = panel.event("JoinMeetingCompleted").await;
        assert_eq!(failed["error_code"], 5, "{failed}");
    } else {
        assert_eq!(ack, 5);
    }
}
