//! Every request/response example of the vendor's Meeting document (seed 002), byte for byte, as
//! a driver that matches the raw stream with regular expressions sees it.

use crate::common;

use common::{Client, start_default};

const IDLE_MEETING: &str = concat!(
    r#"{"jsonrpc": "2.0", "method": "Query", "id": "xxx", "result": {"error_code": 0, "message": "", "data": {"meeting": {"#,
    r#""multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""}, "#,
    r#""layout_info": {"main_screen_layout_info": {"layout_model": 0, "show_small_view": false, "layout_type": 0}, "#,
    r#""secondary_screen_layout_info": {"layout_model": 0, "show_small_view": false, "layout_type": 0}, "#,
    r#""layout_switch_info": {"current_switch_type": 1, "layout_switch_enable": false, "layout_switch_list": ["#,
    r#"{"switch_type": 1, "enable": false}, {"switch_type": 2, "enable": false, "show_voice_active": true}, "#,
    r#"{"switch_type": 3, "enable": false, "show_voice_active": true}, {"switch_type": 4, "enable": false}, "#,
    r#"{"switch_type": 5, "enable": false}, {"switch_type": 6, "enable": false}, {"switch_type": 7, "enable": false}]}}, "#,
    r#""meeting_info": {"meeting_status": 0, "meeting_type": 0, "meeting_title": "", "meeting_code": "", "meeting_password": "", "#,
    r#""meeting_time": {"begin_time": 0, "end_time": 0}, "begin_time": 0, "end_time": 0, "formatted_meeting_code": "", "#,
    r#""meeting_creator_name": "", "host_status": 0, "meeting_url": ""}, "#,
    r#""self_info": {"share_user_info": {"app_uid": "", "app_id": "", "user_id": "", "host": false, "co_host": false, "#,
    r#""instance_id": 0, "user_type": 0, "is_creator": false, "role_type": 0, "video_on": false, "audio_on": false, "#,
    r#""screen_sharing": false, "screen_share_type": 0, "web_sharing": false, "nickname": ""}, "#,
    r#""app_uid": "", "app_id": "", "user_id": "", "host": false, "co_host": false, "instance_id": 0, "user_type": 0, "#,
    r#""is_creator": false, "role_type": 0, "video_on": false, "audio_on": false, "screen_sharing": false, "#,
    r#""screen_share_type": 0, "web_sharing": false, "nickname": ""}, "#,
    r#""meeting_list": ["#,
);

fn listed(code: &str, formatted: &str, title: &str) -> String {
    format!(
        r#"{{"meeting_title": "{title}", "meeting_time": {{"begin_time": 1700000000, "end_time": 1700003600}}, "meeting_creator_name": "Alice", "meeting_code": "{code}", "meeting_id": "sim-{code}", "meeting_type": 0, "formatted_meeting_code": "{formatted}"}}"#
    )
}

/// Waits for the meeting list that the owner fetches from the backend at start.
async fn client_with_list() -> (roomsd::daemon::Daemon, Client) {
    let daemon = start_default().await;
    let mut client = Client::connect(daemon.local_addr()).await;
    for _ in 0..50 {
        if client.query(&["Meeting", "MeetingList"]).await["data"]["meeting_list"]
            .as_array()
            .unwrap()
            .len()
            == 7
        {
            return (daemon, client);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("meeting list never arrived");
}

#[tokio::test]
async fn whole_meeting_query_is_byte_exact() {
    let (_daemon, mut client) = client_with_list().await;
    let reply = client.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Query", "params": {"path": ["Meeting"]}}"#).await;
    let list = [
        listed("111222333", "111 222 333", "Weekly sync"),
        listed("222333444", "222 333 444", "Board review"),
        listed("333444555", "333 444 555", "All hands"),
        listed("444555666", "444 555 666", "Locked review"),
        listed("555666777", "555 666 777", "Alone"),
        listed("666777888", "666 777 888", "Short"),
        listed("777888999", "777 888 999", "Never admitted"),
    ]
    .join(", ");
    assert_eq!(reply, format!("{IDLE_MEETING}{list}]}}}}}}}}"));
}

#[tokio::test]
async fn partial_query_is_byte_exact() {
    let daemon = start_default().await;
    let mut client = Client::connect(daemon.local_addr()).await;
    let reply = client
        .raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Query", "params": {"path": ["Meeting","MeetingInfo","MeetingCode"]}}"#)
        .await;
    assert_eq!(
        reply,
        r#"{"jsonrpc": "2.0", "method": "Query", "id": "xxx", "result": {"error_code": 0, "message": "", "data": {"meeting_code": ""}}}"#
    );
}

#[tokio::test]
async fn meeting_list_ends_where_drivers_match_three_braces() {
    let (_daemon, mut client) = client_with_list().await;
    let reply = client.raw(r#"{"jsonrpc": "2.0", "id": "L", "method": "Query", "params": {"path": ["Meeting", "MeetingList"]}}"#).await;
    assert_eq!(reply.find("}}}"), Some(reply.len() - 3), "{reply}");
    assert!(reply.ends_with("]}}}"));
}

#[tokio::test]
async fn meeting_info_ends_where_drivers_match_four_braces() {
    let daemon = start_default().await;
    let mut client = Client::connect(daemon.local_addr()).await;
    client.join_meeting("111222333").await;
    let reply = client.raw(r#"{"jsonrpc": "2.0", "id": "Meeting Status", "method": "Query", "params": {"path": ["Meeting", "MeetingInfo"]}}"#).await;
    assert_eq!(reply.find("}}}}"), Some(reply.len() - 4), "{reply}");
    assert!(reply.starts_with(r#"{"jsonrpc": "2.0", "method": "Query", "id": "Meeting Status", "result": {"error_code": 0, "message": "", "data": {"meeting_info": {"meeting_status": 1, "meeting_type": 0, "meeting_title": "Weekly sync", "meeting_code": "111222333", "#));
}

fn ack(id: &str, action: &str, code: u32, message: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Call/Meeting", "id": "{id}", "result": {{"error_code": {code}, "message": "{message}", "action": "{action}"}}}}"#
    )
}

#[tokio::test]
async fn every_meeting_action_acknowledgement_is_byte_exact() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    for event in [
        "JoinMeetingCompleted",
        "JoinWaitingRoom",
        "LeaveMeeting",
        "DissolveMeeting",
    ] {
        c.subscribe(&["Meeting", event]).await;
    }

    // StartMeeting, then the actions that need a meeting.
    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Call/Meeting", "params": {"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}}"#).await;
    assert_eq!(reply, ack("xxx", "StartMeeting", 0, ""));
    c.event("JoinMeetingCompleted").await;
    let reply = c.raw(r#"{"jsonrpc":"2.0","id":"xxx","method":"Call/Meeting","params":{"action":"SwitchLayout","action_params":{"switch_type":1,"show_voice_active":true}}}"#).await;
    assert_eq!(
        reply,
        ack(
            "xxx",
            "SwitchLayout",
            10032,
            "layouts can be switched once someone else is in the meeting"
        )
    );
    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Call/Meeting", "params": {"action": "DissolveMeeting"}}"#).await;
    assert_eq!(reply, ack("xxx", "DissolveMeeting", 0, ""));
    c.event("DissolveMeeting").await;

    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Call/Meeting", "params": {"action": "JoinMeeting", "action_params": {"meeting_code": "111222333", "password": "", "mic_enable": true, "camera_enable": true}}}"#).await;
    assert_eq!(reply, ack("xxx", "JoinMeeting", 0, ""));
    c.event("JoinMeetingCompleted").await;
    let reply = c.raw(r#"{"jsonrpc":"2.0","id":"xxx","method":"Call/Meeting","params":{"action":"SwitchLayout","action_params":{"switch_type":1,"show_voice_active":true}}}"#).await;
    assert_eq!(reply, ack("xxx", "SwitchLayout", 0, ""));
    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Call/Meeting", "params": {"action": "LeaveMeeting"}}"#).await;
    assert_eq!(reply, ack("xxx", "LeaveMeeting", 0, ""));
    c.event("LeaveMeeting").await;

    c.meeting(
        "JoinMeeting",
        serde_json::json!({"meeting_code": "333444555", "password": ""}),
    )
    .await;
    c.event("JoinWaitingRoom").await;
    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "xxx", "method": "Call/Meeting", "params": {"action": "LeaveWaitingRoom"}}"#).await;
    assert_eq!(reply, ack("xxx", "LeaveWaitingRoom", 0, ""));
}

#[tokio::test]
async fn events_are_single_line_notifications() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&[]).await;
    c.meeting(
        "JoinMeeting",
        serde_json::json!({"meeting_code": "111222333", "password": "", "mic_enable": false}),
    )
    .await;
    let frame = c.event_raw("JoinMeetingCompleted").await;
    assert!(frame.starts_with(r#"{"jsonrpc": "2.0", "method": "Event/Meeting", "params": {"sub_event": "JoinMeetingCompleted", "error_code": 0, "message": "", "data": {"meeting_info": {"meeting_status": 1, "#), "{frame}");
    assert!(
        frame.contains(r#""mic_info": {"switch": false, "device_id": "default", "volume": 80}"#),
        "{frame}"
    );
    assert!(!frame.contains('\n'));
}

#[tokio::test]
async fn ids_echo_exactly_and_utf8_stays_utf8() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let reply = c.raw(r#"{"id": 1.50, "method": "Query", "jsonrpc": "2.0", "params": {"path": ["Meeting", "MeetingInfo", "MeetingTitle"]}}"#).await;
    assert_eq!(
        reply,
        r#"{"jsonrpc": "2.0", "method": "Query", "id": 1.50, "result": {"error_code": 0, "message": "", "data": {"meeting_title": ""}}}"#
    );
    c.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    c.meeting(
        "StartMeeting",
        serde_json::json!({"meeting_type": "instant"}),
    )
    .await;
    c.event("JoinMeetingCompleted").await;
    let reply = c.raw(r#"{"jsonrpc": "2.0", "id": "标题", "method": "Query", "params": {"path": ["Meeting", "MeetingInfo", "MeetingTitle"]}}"#).await;
    assert_eq!(
        reply,
        r#"{"jsonrpc": "2.0", "method": "Query", "id": "标题", "result": {"error_code": 0, "message": "", "data": {"meeting_title": "Room 101的快速会议"}}}"#
    );
}
