//! Member changes as deltas (PROTOCOL.md §6.2): `MembersChanged` carries who joined, left or
//! changed, gathered over `members.coalesce_ms`, and a client that applies the rule (put
//! `joined` and `updated` by `user_id`, remove `left`) holds the Query's list.

use roomsd::backend::sim::SimConfig;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::common;

use common::{Client, config, meeting, start};
use roomsd::backend::sim::SimMeeting;
use roomsd::config::{Config, ListInEvents};
use serde_json::{Value, json};

const HOSTED: &str = "888999111";
const BUSY: &str = "888999222";

/// Deltas only (no `user_list_info`), a window of `coalesce_ms`, a hosted meeting of six
/// others, and a busy one where someone comes or goes every few milliseconds.
fn delta_config(coalesce_ms: u64) -> Config {
    let mut c = config();
    c.members.coalesce_ms = coalesce_ms;
    c.compat.members_changed_list = ListInEvents::Never;
    c.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 6,
        ..meeting(HOSTED, "Hosted")
    });
    c.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 12,
        churn_ms: 4,
        ..meeting(BUSY, "Busy")
    });
    c
}

/// The member list a client keeps, by user id.
#[derive(Default)]
struct Kept(BTreeMap<String, Value>);

impl Kept {
    fn from_query(members: &Value) -> Self {
        let mut kept = Self::default();
        for m in members["data"]["user_list_info"].as_array().unwrap() {
            kept.0
                .insert(m["user_id"].as_str().unwrap().into(), m.clone());
        }
        kept
    }

    /// The rule of PROTOCOL.md §6.2.
    fn apply(&mut self, data: &Value) {
        for m in data["joined"]
            .as_array()
            .unwrap()
            .iter()
            .chain(data["updated"].as_array().unwrap())
        {
            self.0
                .insert(m["user_id"].as_str().unwrap().into(), m.clone());
        }
        for id in data["left"].as_array().unwrap() {
            self.0.remove(id.as_str().unwrap());
        }
    }
}

async fn in_meeting(config: Config, code: &str) -> (roomsd::daemon::Daemon, Client) {
    let daemon = start(config).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.join_meeting(code).await;
    c.subscribe(&["Meeting", "MembersChanged"]).await;
    (daemon, c)
}

#[tokio::test]
async fn changes_close_together_arrive_as_one_delta_that_rebuilds_the_list() {
    let (_daemon, mut c) = in_meeting(delta_config(400), HOSTED).await;
    let before = c.query(&["Members"]).await;
    let mut kept = Kept::from_query(&before);
    let others: Vec<String> = kept
        .0
        .keys()
        .filter(|id| !id.starts_with("room"))
        .cloned()
        .collect();
    let (a, b, gone) = (&others[0], &others[1], &others[2]);

    // Three people changed within the window, one twice.
    for (action, user) in [("MuteMember", a), ("StopVideo", a), ("MuteMember", b)] {
        let ack = c.control(action, json!({ "user_id": user })).await;
        assert_eq!(ack["error_code"], 0, "{ack}");
    }
    let ack = c
        .control(
            "RemoveMember",
            json!({"user_id": gone, "allow_join": false}),
        )
        .await;
    assert_eq!(ack["error_code"], 0, "{ack}");

    let raw = c.event_raw("MembersChanged").await;
    let event: Value = serde_json::from_str(&raw).unwrap();
    let data = &event["params"]["data"];
    println!("one delta for four changes: {} bytes", raw.len());
    assert_eq!(data["joined"], json!([]));
    assert_eq!(data["left"], json!([gone]));
    let updated: Vec<&str> = data["updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        updated,
        [a.as_str(), b.as_str()],
        "each changed member once"
    );
    assert_eq!(data["updated"][0]["audio_on"], false);
    assert_eq!(data["updated"][0]["video_on"], false);
    assert!(data.get("user_list_info").is_none(), "deltas only: {data}");
    assert!(
        raw.ends_with(r#""member_count": {"in_meeting": 6, "in_waiting_room": 0}}}}"#),
        "member_count last, as it is after the change: {raw}"
    );

    kept.apply(data);
    assert_eq!(kept.0, Kept::from_query(&c.query(&["Members"]).await).0);
    assert!(
        c.nothing_within(Duration::from_millis(600)).await,
        "the window's changes were all in that one event"
    );
}

#[tokio::test]
async fn a_client_applying_the_deltas_of_a_busy_meeting_keeps_the_querys_list() {
    let (_daemon, mut c) = in_meeting(delta_config(10), BUSY).await;
    let mut kept = Kept::from_query(&c.query(&["Members"]).await);
    let (mut joins, mut leaves, mut bytes) = (0, 0, 0);
    for _ in 0..40 {
        let raw = c.event_raw("MembersChanged").await;
        bytes += raw.len();
        let event: Value = serde_json::from_str(&raw).unwrap();
        let data = &event["params"]["data"];
        joins += data["joined"].as_array().unwrap().len();
        leaves += data["left"].as_array().unwrap().len();
        kept.apply(data);
        assert_eq!(
            kept.0.len() as u64,
            data["member_count"]["in_meeting"].as_u64().unwrap(),
            "the kept list has as many members as the event counts: {data}"
        );
    }
    println!(
        "40 events, {joins} joins, {leaves} leaves, {} bytes per event",
        bytes / 40
    );
    assert!(joins > 0 && leaves > 0, "people came and went");

    // Out of the meeting the churn stops; the exit empties the list without a delta.
    c.subscribe(&["Meeting", "LeaveMeeting"]).await;
    assert_eq!(c.meeting("LeaveMeeting", Value::Null).await, 0);
    c.event("LeaveMeeting").await;
    let members = c.query(&["Members"]).await;
    assert_eq!(members["data"]["user_list_info"], json!([]));
}

#[tokio::test]
async fn members_are_read_in_pages_that_count_everyone() {
    let mut config = delta_config(50);
    config
        .services
        .edit::<SimConfig>()
        .meetings
        .push(SimMeeting {
            participants: 30,
            ..meeting("888999333", "Thirty")
        });
    let (_daemon, mut c) = in_meeting(config, "888999333").await;
    let whole = c.query(&["Members"]).await["data"].clone();
    assert_eq!(whole["member_count"]["in_meeting"], 31);

    let mut paged = Vec::new();
    for begin in (0..40).step_by(7) {
        let page = c
            .call(
                "Query",
                json!({"path": ["Members"], "begin": begin, "count": 7}),
            )
            .await;
        assert_eq!(page["error_code"], 0, "{page}");
        assert_eq!(page["data"]["member_count"], whole["member_count"]);
        paged.extend(page["data"]["user_list_info"].as_array().unwrap().clone());
    }
    assert_eq!(&paged, whole["user_list_info"].as_array().unwrap());

    // The page reads as the whole answer does, byte for byte: drivers match it.
    let reply = c
        .raw(r#"{"jsonrpc": "2.0", "id": "p", "method": "Query", "params": {"path": ["Members"], "begin": 0, "count": 1}}"#)
        .await;
    let room = serde_json::to_string(&whole["user_list_info"][0]).unwrap();
    assert!(reply.starts_with(r#"{"jsonrpc": "2.0", "method": "Query", "id": "p", "result": {"error_code": 0, "message": "", "data": {"user_list_info": [{"user_id": ""#), "{reply}");
    assert!(
        reply.ends_with(r#"}], "member_count": {"in_meeting": 31, "in_waiting_room": 0}}}}"#),
        "{reply}"
    );
    let parsed: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        serde_json::to_string(&parsed["result"]["data"]["user_list_info"][0]).unwrap(),
        room
    );

    let past = c
        .call("Query", json!({"path": ["Members"], "begin": 100}))
        .await;
    assert_eq!(past["data"]["user_list_info"], json!([]));
    assert_eq!(past["data"]["member_count"]["in_meeting"], 31);

    let elsewhere = c
        .call(
            "Query",
            json!({"path": ["Meeting"], "begin": 0, "count": 2}),
        )
        .await;
    assert_eq!(elsewhere["error_code"], 8, "{elsewhere}");
}

#[tokio::test]
async fn a_meeting_of_ten_thousand_churns_and_pages_quickly() {
    let mut config = delta_config(50);
    config
        .services
        .edit::<SimConfig>()
        .meetings
        .push(SimMeeting {
            room_is_host: true,
            participants: 10_000,
            churn_ms: 20,
            waiting: 3,
            waiting_churn_ms: 30,
            ..meeting("888999555", "Ten thousand")
        });
    let (_daemon, mut c) = in_meeting(config, "888999555").await;
    let mut times = Vec::new();
    let mut waiting_seen = std::collections::BTreeSet::new();
    for i in 0..200 {
        let begin = (i * 37) % 10_000;
        let started = std::time::Instant::now();
        let page = c
            .call(
                "Query",
                json!({"path": ["Members"], "begin": begin, "count": 20}),
            )
            .await;
        times.push(started.elapsed());
        assert_eq!(page["data"]["user_list_info"].as_array().unwrap().len(), 20);
        let count = &page["data"]["member_count"];
        let in_meeting = count["in_meeting"].as_u64().unwrap();
        assert!(
            (9_000..=11_000).contains(&in_meeting),
            "the meeting keeps its size: {count}"
        );
        waiting_seen.insert(count["in_waiting_room"].as_u64().unwrap());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    times.sort();
    println!(
        "Query Members page of 20 in a meeting of 10,000 under churn: median {:?}, p99 {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
    assert!(
        waiting_seen.len() > 1,
        "the waiting room saw traffic: {waiting_seen:?}"
    );
}

/// `[compat] members_changed_list` as shipped (100): a driver that reads the list from the
/// event gets it in a small meeting; in a meeting past the limit the events carry the deltas
/// only, and a configuration written when the setting was `true` still gets the whole list.
#[tokio::test]
async fn the_compat_list_rides_in_small_meetings_only_unless_asked_for_always() {
    const CROWD: &str = "888999444";
    let shipped = |list| {
        let mut c = config();
        c.members.coalesce_ms = 0;
        if let Some(list) = list {
            c.compat.members_changed_list = list;
        }
        for (code, participants) in [(HOSTED, 6), (CROWD, 150)] {
            c.services.edit::<SimConfig>().meetings.push(SimMeeting {
                room_is_host: true,
                participants,
                ..meeting(code, "Compat")
            });
        }
        c
    };
    let list_len = |event: &Value| event["data"]["user_list_info"].as_array().map(Vec::len);

    let (_daemon, mut c) = in_meeting(shipped(None), HOSTED).await;
    let someone = c.query(&["Members"]).await["data"]["user_list_info"][1]["user_id"].clone();
    c.control("MuteMember", json!({ "user_id": someone })).await;
    assert_eq!(list_len(&c.event("MembersChanged").await), Some(7));

    for (list, expected) in [
        (None, None),
        (Some(ListInEvents::Always), Some(151)),
        (Some(ListInEvents::Never), None),
    ] {
        let (_daemon, mut c) = in_meeting(shipped(list), CROWD).await;
        let someone = c.query(&["Members"]).await["data"]["user_list_info"][1]["user_id"].clone();
        c.control("MuteMember", json!({ "user_id": someone })).await;
        let event = c.event("MembersChanged").await;
        assert_eq!(list_len(&event), expected, "{list:?}");
        assert_eq!(event["data"]["updated"][0]["user_id"], someone);
        assert_eq!(event["data"]["member_count"]["in_meeting"], 151);
    }
}
