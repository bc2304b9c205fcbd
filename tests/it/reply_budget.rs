//! `[compat] max_reply_bytes` (CONFIGURATION.md): a driver that reads replies into a 2,048-byte
//! buffer and matches them with regular expressions, like the Extron one, lists a meeting of
//! 30 others page by page and mutes one of them.

use regex::Regex;
use roomsd::backend::sim::SimConfig;
use roomsd::backend::sim::SimMeeting;
use roomsd::config::Config;
use serde_json::{Value, json};

use crate::common::{Client, config, meeting, start};

const THIRTY: &str = "888999444";
const BUFFER: usize = 2048;

fn thirty_others(max_reply_bytes: u64) -> Config {
    let mut c = config();
    c.compat.max_reply_bytes = max_reply_bytes;
    c.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 30,
        ..meeting(THIRTY, "Thirty and the room")
    });
    // More booked meetings than a 2 KB reply holds.
    for i in 0..6 {
        c.services.edit::<SimConfig>().meetings.push(meeting(
            &format!("90000000{i}"),
            "A rather long booked meeting title",
        ));
    }
    c
}

/// The WebSocket frame a text reply travels in (server frames are unmasked).
fn frame_len(text: &str) -> usize {
    let header = match text.len() {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    };
    header + text.len()
}

/// What the driver's buffer holds of a frame: the whole of it if it fits; else the start is
/// lost, as the Extron driver loses it.
fn driver_reads(frame: &str) -> &str {
    let over = frame_len(frame).saturating_sub(BUFFER);
    let mut start = over;
    while !frame.is_char_boundary(start) {
        start += 1;
    }
    &frame[start..]
}

fn query(id: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "Query", "params": params}).to_string()
}

#[tokio::test]
async fn a_2k_buffer_driver_pages_through_thirty_members_and_mutes_one() {
    let daemon = start(thirty_others(BUFFER as u64)).await;
    let mut tool = Client::connect(daemon.local_addr()).await;
    tool.join_meeting(THIRTY).await;
    let mut driver = Client::connect(daemon.local_addr()).await;

    let member = Regex::new(r#"\{"user_id": "([^"]+)", "nickname": "([^"]*)""#).unwrap();
    let in_meeting = Regex::new(r#""member_count": \{"in_meeting": (\d+)"#).unwrap();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut total = None;
    let mut frames = Vec::new();
    while total.is_none_or(|total| names.len() < total) {
        let params = match names.len() {
            0 => json!({"path": ["Members"]}),
            begin => json!({"path": ["Members"], "begin": begin}),
        };
        let frame = driver.raw(&query("members", params)).await;
        frames.push(frame_len(&frame));
        let seen = driver_reads(&frame);
        assert!(
            seen.starts_with(r#"{"jsonrpc": "2.0", "method": "Query", "id": "members""#),
            "the driver kept the frame's start: {seen}"
        );
        total = Some(
            in_meeting.captures(seen).expect("member_count")[1]
                .parse()
                .unwrap(),
        );
        let page: Vec<_> = member
            .captures_iter(seen)
            .map(|c| (c[1].to_owned(), c[2].to_owned()))
            .collect();
        assert!(!page.is_empty(), "every page holds someone: {seen}");
        names.extend(page);
    }
    println!("Members in {} frames of {frames:?} bytes", frames.len());
    assert!(frames.iter().all(|&len| len <= BUFFER), "{frames:?}");
    assert!(frames.len() > 1, "30 others do not fit one 2 KB frame");

    let everyone: Vec<String> = tool.query(&[]).await["data"]["members"]["user_list_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(everyone.len(), 31, "Query [] is not cut");
    let ids: Vec<&str> = names.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, everyone, "every member once, in order");

    // The driver mutes the fifth by the id it read.
    let (target, name) = &names[5];
    let ack = driver
        .raw(
            &json!({"jsonrpc": "2.0", "id": "mute", "method": "Call/MeetingControl",
            "params": {"action": "MuteMember", "action_params": {"user_id": target}}})
            .to_string(),
        )
        .await;
    assert!(frame_len(&ack) <= BUFFER);
    assert!(
        Regex::new(r#""id": "mute", "result": \{"error_code": 0, "#)
            .unwrap()
            .is_match(driver_reads(&ack)),
        "muting {name} accepted: {ack}"
    );

    // The other list-bearing answers fit too, with whole entries.
    for path in [
        json!(["Meeting"]),
        json!(["Meeting", "MeetingList"]),
        json!(["Members", "UserListInfo"]),
    ] {
        let frame = driver.raw(&query("q", json!({ "path": path }))).await;
        println!("{path}: {} bytes", frame_len(&frame));
        assert!(
            frame_len(&frame) <= BUFFER,
            "{path}: {} bytes",
            frame_len(&frame)
        );
        let parsed: Value = serde_json::from_str(&frame).expect("cut to whole entries: still JSON");
        assert_eq!(parsed["result"]["error_code"], 0);
    }
}

#[tokio::test]
async fn without_a_budget_the_thirty_member_answer_overflows_the_drivers_buffer() {
    let daemon = start(thirty_others(0)).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.join_meeting(THIRTY).await;
    let frame = c.raw(&query("members", json!({"path": ["Members"]}))).await;
    println!("Members without a budget: {} bytes", frame_len(&frame));
    assert!(frame_len(&frame) > BUFFER);
    assert!(
        !driver_reads(&frame).starts_with(r#"{"jsonrpc""#),
        "the driver loses the frame's start"
    );
}

/// A driver that asked for the list in every event (`members_changed_list = true`) still gets
/// events it can read under the budget: the list rides only where the frame stays within it,
/// and the deltas always come.
#[tokio::test]
async fn under_the_budget_the_compat_list_never_overflows_an_event() {
    let mut cfg = thirty_others(BUFFER as u64);
    cfg.members.coalesce_ms = 0;
    cfg.compat.members_changed_list = roomsd::config::ListInEvents::Always;
    cfg.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 3,
        ..meeting("888999555", "Three and the room")
    });
    for (code, carries_list) in [("888999555", true), (THIRTY, false)] {
        let daemon = start(cfg.clone()).await;
        let mut c = Client::connect(daemon.local_addr()).await;
        c.join_meeting(code).await;
        c.subscribe(&["Meeting", "MembersChanged"]).await;
        let members = c.query(&["Members", "UserListInfo"]).await;
        let target = members["data"]["user_list_info"][1]["user_id"].clone();
        c.control("MuteMember", json!({ "user_id": target })).await;
        let event = c.event_raw("MembersChanged").await;
        assert!(frame_len(&event) <= BUFFER, "{} bytes", frame_len(&event));
        let parsed: Value = serde_json::from_str(&event).unwrap();
        let data = &parsed["params"]["data"];
        assert_eq!(data["updated"][0]["user_id"], target, "{code}: {event}");
        assert_eq!(
            data.get("user_list_info").is_some(),
            carries_list,
            "{code}: {event}"
        );
        daemon.stop().await;
    }
}
