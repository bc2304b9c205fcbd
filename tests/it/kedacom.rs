//! Whole flows with `[backend] kind = "kedacom"`: a real daemon, a panel on the Rooms socket,
//! and a stateful fake of the platform (`common::kedacom_fake`) that enforces its conventions
//! and can expire sessions, end conferences remotely, go away and come back.

use crate::common;
use roomsd::backend::kedacom::KedacomConfig;
mod document;

use std::time::Duration;

use common::kedacom_fake::{FakeKedacom, Fault};
use common::{Client, WAIT, room_on_service, start};
use roomsd::config::Config;
use roomsd::daemon::Daemon;
use serde_json::{Value, json};

/// The room's terminal on the platform.
const ROOM: &str = "0512101";

fn config(fake: &FakeKedacom) -> Config {
    let mut c = common::config();
    c.room.name = "Room 101".into();
    c.backend.kind = "kedacom".into();
    c.backend.timeout_ms.0 = 3000;
    let k = c.services.edit::<KedacomConfig>();
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
    room_with(config(fake)).await
}

async fn room_with(config: Config) -> (Daemon, Client) {
    room_on_service(config, &["Meeting", "Backend"]).await
}

#[tokio::test]
async fn join_then_leave_dials_and_hangs_up_the_room_terminal() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let (_daemon, mut panel) = room(&fake).await;

    let joined = panel.join("700 0001", "").await;
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
    assert_eq!(panel.join("7000001", "").await["error_code"], 0);

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
    let missing = panel.join("7000404", "").await;
    assert_eq!(missing["error_code"], 10019, "{missing}");
    assert!(
        missing["message"].as_str().unwrap().contains("12103"),
        "{missing}"
    );
    let locked = panel.join("7000003", "").await;
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
    let joined = panel.join("7000001", "").await;
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

    let down = panel.wait_backend(|b| b["connected"] == false).await;
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
    panel.wait_backend(|b| b["connected"] == true).await;
    let joined = panel.join("7000001", "").await;
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

/// Waits until `ok` holds, for at most `within`.
async fn until(within: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let wait = async {
        while !ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(within, wait)
        .await
        .unwrap_or_else(|_| panic!("not within {within:?}: {what}"));
}

/// Waits until `Query ["Meeting", "MeetingInfo"]` shows `status`; the meeting info.
async fn until_status(panel: &mut Client, within: Duration, status: u64) -> Value {
    let wait = async {
        loop {
            let info =
                panel.query(&["Meeting", "MeetingInfo"]).await["data"]["meeting_info"].clone();
            if info["meeting_status"] == status {
                return info;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(within, wait)
        .await
        .unwrap_or_else(|_| panic!("meeting_status {status} not within {within:?}"))
}

#[tokio::test]
async fn a_join_that_times_out_waiting_for_the_terminal_hangs_it_up() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    fake.set_dial_delay(Duration::from_secs(3));
    let mut c = config(&fake);
    c.backend.timeout_ms.0 = 1000;
    let (timeout, poll) = (Duration::from_millis(1000), Duration::from_millis(100));
    let (_daemon, mut panel) = room_with(c).await;

    let asked = std::time::Instant::now();
    let failed = panel.join("7000001", "").await;
    assert_eq!(failed["error_code"], 12, "{failed}");
    assert_eq!(panel.status().await, 0);
    // Hung up within timeout_ms and one poll (with a margin for a busy machine).
    let deadline = (timeout + poll + Duration::from_millis(1500)).saturating_sub(asked.elapsed());
    until(deadline, "the call hung up", || {
        !fake.dialled("7000001", ROOM)
    })
    .await;
    // The terminal would have answered by now: the call it answers is gone.
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(asked.elapsed()) + poll * 3).await;
    assert!(!fake.dialled("7000001", ROOM), "still hung up");
    assert_eq!(panel.status().await, 0, "the room says what is true");
}

/// The platform fails right after dialling the room's terminal: the join fails, and the call
/// is hung up once the platform answers again.
async fn fails_mid_join(fault: Fault) {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    fake.set_answers(ROOM, false);
    fake.fault_after_dial(fault);
    let mut c = config(&fake);
    c.backend.timeout_ms.0 = 1000;
    let (_daemon, mut panel) = room_with(c).await;

    let failed = panel.join("7000001", "").await;
    assert_eq!(failed["error_code"], 12, "{fault:?}: {failed}");
    assert_eq!(panel.status().await, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fake.dialled("7000001", ROOM),
        "{fault:?}: nobody can hang up while the platform fails"
    );
    fake.set_fault(None);
    until(
        WAIT * 2,
        "the call hung up once the platform answers",
        || !fake.dialled("7000001", ROOM),
    )
    .await;
    assert_eq!(panel.status().await, 0, "the room says what is true");
    fake.set_answers(ROOM, true);
    panel.wait_backend(|b| b["connected"] == true).await;
    assert_eq!(panel.join("7000001", "").await["error_code"], 0);
}

#[tokio::test]
async fn a_platform_answering_500_mid_join_gets_the_call_hung_up_when_it_recovers() {
    fails_mid_join(Fault::Http500).await;
}

#[tokio::test]
async fn a_platform_answering_garbage_mid_join_gets_the_call_hung_up_when_it_recovers() {
    fails_mid_join(Fault::Garbage).await;
}

#[tokio::test]
async fn a_platform_hanging_mid_join_gets_the_call_hung_up_when_it_recovers() {
    fails_mid_join(Fault::Hang).await;
}

#[tokio::test]
async fn a_restart_in_a_meeting_shows_the_meeting_and_leave_hangs_up() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    fake.put_online("7000001", ROOM);
    let started = std::time::Instant::now();
    let daemon = start(config(&fake)).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    panel.subscribe(&["Meeting"]).await;
    let within = Duration::from_secs(5).saturating_sub(started.elapsed());
    let info = until_status(&mut panel, within, 1).await;
    assert_eq!(info["meeting_code"], "7000001", "{info}");
    assert_eq!(info["meeting_title"], "Design review", "{info}");
    let members = panel.query(&["Members"]).await;
    assert_eq!(
        members["data"]["member_count"]["in_meeting"], 3,
        "{members}"
    );

    assert_eq!(panel.meeting("LeaveMeeting", Value::Null).await, 0);
    let left = panel.event("LeaveMeeting").await;
    assert_eq!(left["error_code"], 0, "{left}");
    assert!(!fake.dialled("7000001", ROOM), "hung up");
    assert_eq!(panel.status().await, 0);
}

#[tokio::test]
async fn the_platform_coming_back_with_the_call_still_up_shows_the_meeting_again() {
    let fake = FakeKedacom::start().await;
    fake.add_conference("7000001", "Design review", false);
    let (_daemon, mut panel) = room(&fake).await;
    assert_eq!(panel.join("7000001", "").await["error_code"], 0);

    fake.go_down().await;
    let lost = panel.event("LeaveMeeting").await;
    assert_eq!(lost["data"]["reason"], "backend_lost", "{lost}");
    assert_eq!(panel.status().await, 0);
    fake.come_back().await;
    let info = until_status(&mut panel, WAIT * 2, 1).await;
    assert_eq!(info["meeting_code"], "7000001", "{info}");
    assert!(fake.online("7000001", ROOM), "the call carried on");

    // The adopted meeting is followed like a joined one.
    fake.end_conference("7000001");
    let ended = panel.event("DissolveMeeting").await;
    assert_eq!(ended["data"]["reason"], "host_ended", "{ended}");
    assert_eq!(panel.status().await, 0);
}
