//! Every Call/Meeting action over a real socket: success, failure and their exact codes
//! (PROTOCOL.md §4).

use crate::common;
use roomsd::backend::sim::SimConfig;

use common::{Client, config, start, start_default};
use serde_json::json;

async fn client() -> (roomsd::daemon::Daemon, Client) {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Meeting"]).await;
    (daemon, c)
}

async fn join(c: &mut Client, code: &str, password: &str) -> u64 {
    c.meeting(
        "JoinMeeting",
        json!({"meeting_code": code, "password": password}),
    )
    .await
}

#[tokio::test]
async fn join_shows_joining_then_in_meeting() {
    let (_d, mut c) = client().await;
    assert_eq!(join(&mut c, "111 222-333", "").await, 0);
    assert_eq!(c.status().await, 2, "joining while the backend works");
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(
        event["data"]["meeting_info"]["meeting_title"],
        "Weekly sync"
    );
    assert_eq!(c.status().await, 1);
    let info = c.query(&["Meeting", "MeetingInfo"]).await;
    assert_eq!(
        info["data"]["meeting_info"]["formatted_meeting_code"],
        "111 222 333"
    );
    assert_eq!(info["data"]["meeting_info"]["host_status"], 1);
}

#[tokio::test]
async fn join_failures_come_in_the_event_with_their_codes() {
    let (_d, mut c) = client().await;
    for (code, password, expected) in [
        ("999999999", "", 10019),
        ("222333444", "", 10018),
        ("222333444", "4321", 10020),
        ("444555666", "", 10015),
    ] {
        assert_eq!(
            join(&mut c, code, password).await,
            0,
            "the ack accepts {code}"
        );
        let event = c.event("JoinMeetingCompleted").await;
        assert_eq!(event["error_code"], expected, "{code}: {event}");
        assert!(!event["message"].as_str().unwrap().is_empty());
        assert_eq!(c.status().await, 0);
    }
    assert_eq!(join(&mut c, "222333444", "1234").await, 0);
    assert_eq!(c.event("JoinMeetingCompleted").await["error_code"], 0);
}

#[tokio::test]
async fn refused_preconditions_are_in_the_ack() {
    let (_d, mut c) = client().await;
    assert_eq!(join(&mut c, "12a", "").await, 10010);
    assert_eq!(c.meeting("JoinMeeting", json!({"password": ""})).await, 8);
    assert_eq!(
        c.meeting("StartMeeting", json!({"meeting_type": "webinar"}))
            .await,
        8
    );
    assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 10000);
    assert_eq!(c.meeting("DissolveMeeting", json!(null)).await, 10000);
    assert_eq!(c.meeting("LeaveWaitingRoom", json!(null)).await, 10000);
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
        10000
    );
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 9})).await,
        10031
    );
    assert_eq!(c.meeting("Teleport", json!(null)).await, 9);

    assert_eq!(join(&mut c, "111222333", "").await, 0);
    assert_eq!(
        join(&mut c, "111222333", "").await,
        17,
        "repeat while joining"
    );
    assert_eq!(
        c.meeting("StartMeeting", json!({"meeting_type": "instant"}))
            .await,
        17
    );
    c.event("JoinMeetingCompleted").await;
    assert_eq!(join(&mut c, "111222333", "").await, 10001);
    assert_eq!(
        c.meeting("DissolveMeeting", json!(null)).await,
        10022,
        "an attendee may not dissolve"
    );
    assert!(
        c.nothing_within(std::time::Duration::from_millis(200))
            .await,
        "refusals send no event"
    );
}

#[tokio::test]
async fn instant_meeting_start_and_dissolve() {
    let (_d, mut c) = client().await;
    assert_eq!(
        c.meeting("StartMeeting", json!({"meeting_type": "instant"}))
            .await,
        0
    );
    let event = c.event("JoinMeetingCompleted").await;
    let info = &event["data"]["meeting_info"];
    assert_eq!(info["meeting_title"], "Room 101的快速会议");
    assert_eq!(info["meeting_code"].as_str().unwrap().len(), 9);
    assert_eq!(event["data"]["self_user_info"]["host"], true);
    assert_eq!(event["data"]["self_user_info"]["is_creator"], true);
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
        10032,
        "alone in the meeting"
    );
    assert_eq!(c.meeting("DissolveMeeting", json!(null)).await, 0);
    let event = c.event("DissolveMeeting").await;
    assert_eq!(event["data"]["reason"], "requested");
    assert_eq!(
        event["data"]["meeting_info"]["meeting_title"],
        "Room 101的快速会议"
    );
    assert_eq!(c.status().await, 0);
}

#[tokio::test]
async fn pmi_meeting_uses_the_room_code() {
    let (_d, mut c) = client().await;
    assert_eq!(
        c.meeting("StartMeeting", json!({"meeting_type": "pmi"}))
            .await,
        0
    );
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["data"]["meeting_info"]["meeting_code"], "800100200");
}

#[tokio::test]
async fn leave_returns_to_idle_and_resets() {
    // Every service operation takes a while, so that the second leave finds the first under way.
    let mut slow = config();
    slow.services.edit::<SimConfig>().latency_ms = 200;
    let daemon = start(slow).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Meeting"]).await;
    c.meeting(
        "JoinMeeting",
        json!({"meeting_code": "111222333", "password": "", "mic_enable": false}),
    )
    .await;
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["data"]["mic_info"]["switch"], false);
    assert_eq!(
        c.meeting(
            "SwitchLayout",
            json!({"switch_type": 3, "show_voice_active": false})
        )
        .await,
        0
    );
    let event = c.event("LayoutSwitchChanged").await;
    assert_eq!(
        event["data"]["main_screen_layout_info"]["show_small_view"], true,
        "first speaker switch"
    );
    assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 0);
    assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 17);
    let event = c.event("LeaveMeeting").await;
    assert_eq!(event["data"]["reason"], "requested");
    assert_eq!(c.status().await, 0);
    let layout = c
        .query(&["Meeting", "LayoutInfo", "LayoutSwitchInfo"])
        .await;
    assert_eq!(
        layout["data"]["layout_switch_info"]["current_switch_type"],
        1
    );
    assert_eq!(
        c.query(&["Device", "MicInfo", "Switch"]).await["data"]["switch"],
        true,
        "room default back"
    );
}

#[tokio::test]
async fn switch_layout_in_a_meeting_with_others() {
    let (_d, mut c) = client().await;
    join(&mut c, "111222333", "").await;
    c.event("JoinMeetingCompleted").await;
    let info = c
        .query(&["Meeting", "LayoutInfo", "LayoutSwitchInfo"])
        .await;
    assert_eq!(
        info["data"]["layout_switch_info"]["layout_switch_enable"],
        true
    );
    // The vendor's alias for the action name, echoed as sent.
    assert_eq!(
        c.meeting("LayoutSwitchChanged", json!({"switch_type": 5}))
            .await,
        0
    );
    let event = c.event("LayoutSwitchChanged").await;
    assert_eq!(
        event["data"]["layout_switch_info"]["current_switch_type"],
        5
    );
    assert_eq!(event["data"]["main_screen_layout_info"]["layout_type"], 3);
}

#[tokio::test]
async fn waiting_room_admission_and_leaving_it() {
    let (_d, mut c) = client().await;
    join(&mut c, "333444555", "").await;
    let event = c.event("JoinWaitingRoom").await;
    assert_eq!(event["data"]["meeting_info"]["meeting_status"], 3);
    assert_eq!(c.status().await, 3);
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["error_code"], 0, "admitted by the host");
    assert_eq!(c.status().await, 1);

    let (_d, mut c) = client().await;
    join(&mut c, "777888999", "").await;
    c.event("JoinWaitingRoom").await;
    assert_eq!(c.meeting("LeaveWaitingRoom", json!(null)).await, 0);
    let event = c.event("LeaveWaitingRoom").await;
    assert_eq!(event["data"]["reason"], "requested");
    assert_eq!(c.status().await, 0);
}

#[tokio::test]
async fn host_ends_the_meeting() {
    let (_d, mut c) = client().await;
    join(&mut c, "666777888", "").await;
    c.event("JoinMeetingCompleted").await;
    let event = c.event("DissolveMeeting").await;
    assert_eq!(event["data"]["reason"], "host_ended");
    assert_eq!(event["data"]["meeting_info"]["meeting_code"], "666777888");
    assert_eq!(c.status().await, 0);
}

#[tokio::test]
async fn host_dissolves_a_scheduled_meeting() {
    let (_d, mut c) = client().await;
    join(&mut c, "555666777", "").await;
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["data"]["self_user_info"]["role_type"], 1);
    assert_eq!(c.meeting("DissolveMeeting", json!(null)).await, 0);
    c.event("DissolveMeeting").await;
}

#[tokio::test]
async fn a_hanging_backend_ends_in_the_event_within_the_timeout() {
    let mut cfg = config();
    cfg.services.edit::<SimConfig>().hang = true;
    cfg.backend.timeout_ms.0 = 300;
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Meeting"]).await;
    let started = std::time::Instant::now();
    join(&mut c, "111222333", "").await;
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["error_code"], 12);
    assert!(
        event["message"].as_str().unwrap().contains("300 ms"),
        "{event}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(c.status().await, 0);
}

#[tokio::test]
async fn a_lost_backend_ends_the_meeting_and_refuses_joins_until_it_is_back() {
    let mut cfg = config();
    cfg.services.edit::<SimConfig>().disconnect_after_ms = 400;
    cfg.services.edit::<SimConfig>().reconnect_after_ms = 400;
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Meeting"]).await;
    join(&mut c, "111222333", "").await;
    c.event("JoinMeetingCompleted").await;
    let event = c.event("LeaveMeeting").await;
    assert_eq!(
        (
            event["error_code"].as_u64(),
            event["data"]["reason"].as_str()
        ),
        (Some(12), Some("backend_lost"))
    );
    assert_eq!(
        join(&mut c, "111222333", "").await,
        12,
        "refused at once while unreachable"
    );
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if join(&mut c, "111222333", "").await == 0 {
            assert_eq!(c.event("JoinMeetingCompleted").await["error_code"], 0);
            return;
        }
    }
    panic!("the backend never came back");
}

#[tokio::test]
async fn participants_churn_updates_members_and_layout() {
    let mut cfg = config();
    cfg.services.edit::<SimConfig>().meetings[0].churn_ms = 50;
    cfg.services.edit::<SimConfig>().meetings[0].participants = 1;
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&["Meeting"]).await;
    join(&mut c, "111222333", "").await;
    c.event("JoinMeetingCompleted").await;
    let event = c.event("MembersChanged").await;
    let people = event["data"]["user_list_info"].as_array().unwrap();
    assert_eq!(people[0]["nickname"], "Room 101", "the room comes first");
    assert!(people.len() >= 2);
}
