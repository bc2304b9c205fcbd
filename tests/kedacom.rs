//! Whole flows with `[backend] kind = "kedacom"`: a real daemon, a panel on the Rooms socket,
//! and a stateful fake of the platform (`common::kedacom_fake`) that enforces its conventions
//! and can expire sessions, end conferences remotely, go away and come back.

mod common;

use std::time::Duration;

use common::kedacom_fake::FakeKedacom;
use common::{Client, WAIT, start};
use roomsd::config::{BackendKind, Config};
use roomsd::daemon::Daemon;
use serde_json::{Value, json};

/// The room's terminal on the platform.
const ROOM: &str = "0512101";

fn config(fake: &FakeKedacom) -> Config {
    let mut c = common::config();
    c.room.name = "Room 101".into();
    c.backend.kind = BackendKind::Kedacom;
    c.backend.timeout_ms.0 = 3000;
    let k = &mut c.kedacom;
    k.base_url = fake.url();
    k.oauth_consumer_key = "key".into();
    k.oauth_consumer_secret = "secret".into();
    k.username = "room101".into();
    k.password = "pw".into();
    k.account = ROOM.into();
    k.heartbeat_secs.0 = 1;
    k.poll_ms.0 = 100;
    c
}

/// A daemon on the fake, and a panel subscribed to Meeting and Backend once the platform is
/// reached.
async fn room(fake: &FakeKedacom) -> (Daemon, Client) {
    let daemon = start(config(fake)).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    panel.subscribe(&["Meeting"]).await;
    panel.subscribe(&["Backend"]).await;
    wait_for(&mut panel, |backend| backend["connected"] == true).await;
    (daemon, panel)
}

/// Waits until `Query ["Backend"]` satisfies `ok`.
async fn wait_for(panel: &mut Client, ok: impl Fn(&Value) -> bool) -> Value {
    let poll = async {
        loop {
            let backend = panel.query(&["Backend"]).await["data"]["backend"].clone();
            if ok(&backend) {
                return backend;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    // Three failed exchanges make a platform count as gone: heartbeats come every second.
    tokio::time::timeout(WAIT * 2, poll)
        .await
        .expect("backend state reached")
}

async fn join(panel: &mut Client, code: &str, password: &str) -> Value {
    let ack = panel
        .meeting(
            "JoinMeeting",
            json!({"meeting_code": code, "password": password}),
        )
        .await;
    assert_eq!(ack, 0);
    panel.event("JoinMeetingCompleted").await
}

#[tokio::test]
async fn join_then_leave_dials_and_hangs_up_the_room_terminal() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let (_daemon, mut panel) = room(&fake).await;

    let joined = join(&mut panel, "700 0001", "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    let info = &joined["data"]["meeting_info"];
    assert_eq!(info["meeting_code"], "7000001");
    assert_eq!(info["meeting_title"], "Design review");
    assert_eq!(info["meeting_status"], 1);
    assert!(fake.online("7000001", ROOM));
    let members = panel.query(&["Members"]).await;
    assert_eq!(
        members["data"]["member_count"]["in_meeting"], 3,
        "{members}"
    );

    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    let left = panel.event("LeaveMeeting").await;
    assert_eq!(
        (left["error_code"].clone(), left["data"]["reason"].clone()),
        (json!(0), json!("requested"))
    );
    assert!(!fake.online("7000001", ROOM), "hung up");
    assert!(fake.conference_exists("7000001"), "the others carry on");
}

#[tokio::test]
async fn start_creates_a_conference_the_room_chairs_and_dissolve_ends_it() {
    let fake = FakeKedacom::start().await;
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
    assert_eq!(
        started["data"]["meeting_info"]["meeting_title"],
        "Room 101的快速会议"
    );
    assert_eq!(started["data"]["meeting_info"]["host_status"], 1);
    assert!(fake.online(&code, ROOM));

    assert_eq!(panel.meeting("DissolveMeeting", Value::Null).await, 0);
    let dissolved = panel.event("DissolveMeeting").await;
    assert_eq!(dissolved["error_code"], 0, "{dissolved}");
    assert_eq!(dissolved["data"]["reason"], "requested");
    assert!(!fake.conference_exists(&code));
}

#[tokio::test]
async fn pmi_starts_the_room_virtual_meeting_room() {
    let fake = FakeKedacom::start().await;
    fake.add_virtual_room("vmr-1", "9990001", "Room 101 personal room", ROOM);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(
        panel
            .meeting("StartMeeting", json!({"meeting_type": "pmi"}))
            .await,
        0
    );
    let started = panel.event("JoinMeetingCompleted").await;
    assert_eq!(started["error_code"], 0, "{started}");
    assert_eq!(started["data"]["meeting_info"]["meeting_code"], "9990001");
}

#[tokio::test]
async fn a_conference_ended_elsewhere_ends_the_meeting_as_host_ended() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(join(&mut panel, "7000001", "").await["error_code"], 0);

    fake.end_conference("7000001");
    let ended = panel.event("DissolveMeeting").await;
    assert_eq!(ended["data"]["reason"], "host_ended", "{ended}");
    assert_eq!(panel.status().await, 0);
}

#[tokio::test]
async fn booked_meetings_are_the_meeting_list() {
    let fake = FakeKedacom::start().await;
    fake.add_booked(
        "7000002",
        "Weekly",
        "2026-12-01T09:00:00+08:00",
        "2026-12-01T10:00:00+08:00",
    );
    let (_daemon, mut panel) = room(&fake).await;
    let list = async {
        loop {
            let list =
                panel.query(&["Meeting", "MeetingList"]).await["data"]["meeting_list"].clone();
            if list.as_array().is_some_and(|l| !l.is_empty()) {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let list = tokio::time::timeout(WAIT, list)
        .await
        .expect("the booked meeting listed");
    assert_eq!(list[0]["meeting_code"], "7000002");
    assert_eq!(list[0]["meeting_title"], "Weekly");
    assert_eq!(list[0]["meeting_time"]["begin_time"], 1_796_086_800);
}

#[tokio::test]
async fn a_wrong_conference_or_missing_password_fails_with_the_rooms_code() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000003", "Board", true);
    let (_daemon, mut panel) = room(&fake).await;
    let missing = join(&mut panel, "7000404", "").await;
    assert_eq!(missing["error_code"], 10019, "{missing}");
    assert!(
        missing["message"].as_str().unwrap().contains("12103"),
        "{missing}"
    );
    let locked = join(&mut panel, "7000003", "").await;
    assert_eq!(locked["error_code"], 10018, "{locked}");
    assert!(!fake.member("7000003", ROOM), "nothing was dialled");
}

#[tokio::test]
async fn an_expired_session_is_renewed_without_the_panel_noticing() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let (_daemon, mut panel) = room(&fake).await;
    let logins = fake.logins();
    fake.expire_sessions();
    let joined = join(&mut panel, "7000001", "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
    assert!(fake.logins() > logins, "logged in again");
}

#[tokio::test]
async fn the_platform_going_away_mid_join_fails_it_with_12_and_the_daemon_recovers() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    fake.set_answers(ROOM, false);
    let (_daemon, mut panel) = room(&fake).await;

    // The terminal does not come online; the platform goes away while the room waits.
    let ack = panel
        .meeting(
            "JoinMeeting",
            json!({"meeting_code": "7000001", "password": ""}),
        )
        .await;
    assert_eq!(ack, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.go_down().await;
    let failed = panel.event("JoinMeetingCompleted").await;
    assert_eq!(failed["error_code"], 12, "{failed}");
    assert!(
        failed["message"].as_str().unwrap().starts_with("kedacom"),
        "{failed}"
    );
    assert_eq!(panel.status().await, 0, "back to idle, nobody hangs");

    let down = wait_for(&mut panel, |b| b["connected"] == false).await;
    assert!(
        down["last_error"].as_str().unwrap().contains("kedacom"),
        "{down}"
    );
    // Known to be away: refused at once rather than left waiting.
    let ack = panel
        .meeting(
            "JoinMeeting",
            json!({"meeting_code": "7000001", "password": ""}),
        )
        .await;
    assert_eq!(ack, 12);

    fake.set_answers(ROOM, true);
    fake.come_back().await;
    wait_for(&mut panel, |b| b["connected"] == true).await;
    let joined = join(&mut panel, "7000001", "").await;
    assert_eq!(joined["error_code"], 0, "{joined}");
}

#[tokio::test]
async fn the_backend_node_and_its_event_follow_the_platform() {
    let fake = FakeKedacom::start().await;
    let (_daemon, mut panel) = room(&fake).await;
    let backend = panel.query(&["Backend"]).await["data"]["backend"].clone();
    assert_eq!(backend["kind"], "kedacom");
    assert!(backend["last_ok_at"].as_i64().unwrap() > 0);
    fake.go_down().await;
    let gone = async {
        loop {
            let event = panel.event("BackendStatusChanged").await;
            if event["data"]["backend"]["connected"] == false {
                return event;
            }
        }
    };
    let event = tokio::time::timeout(WAIT * 2, gone)
        .await
        .expect("told it is gone");
    assert_eq!(event["data"]["backend"]["kind"], "kedacom", "{event}");
    assert_eq!(event["error_code"], 0, "a status report, not a failure");
    fake.come_back().await;
    let back = async {
        loop {
            let event = panel.event("BackendStatusChanged").await;
            if event["data"]["backend"]["connected"] == true {
                return event;
            }
        }
    };
    tokio::time::timeout(WAIT * 2, back)
        .await
        .expect("told it is back");
}
