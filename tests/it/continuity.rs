//! Continuity (docs/CONTINUITY.md): sequence numbers for clients that ask, resuming after
//! a lost connection with nothing missed and nothing twice, and calls that a retry does not run
//! again. Over real sockets against the in-process daemon.

use crate::common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{Client, config, start, start_default};
use serde_json::{Value, json};

const QUIET: Duration = Duration::from_millis(300);

fn volume(n: u64) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Call/Device", "params": {{"action": "SetSpeakerVolume", "action_params": {{"volume": {}}}}}}}"#,
        n % 100
    )
}

/// Sends `count` volume changes as notifications (no replies), then waits until the daemon has
/// carried them all out: a connection's requests are handled in order.
async fn publish(c: &mut Client, count: u64) {
    for n in 0..count {
        c.send(&volume(n)).await;
    }
    c.query(&["Device"]).await;
}

/// `Subscribe` with `since` (and `epoch`): the answer's `result`.
async fn subscribe_since(c: &mut Client, path: &[&str], since: u64, epoch: Option<u64>) -> Value {
    let mut params = json!({"path": path, "since": since});
    if let Some(epoch) = epoch {
        params["epoch"] = epoch.into();
    }
    c.call("Subscribe", params).await
}

/// The next event's `seq`.
async fn next_seq(c: &mut Client) -> u64 {
    let event = c.next_event().await;
    event["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no seq: {event}"))
}

/// Waits until the start-up `MeetingListChanged` (the simulator's demo meetings) is out, so
/// that the events a test counts from here are the ones it publishes.
async fn settled(addr: SocketAddr) {
    while head(addr).await.1 == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Where the sequence stands now, asked on a connection of its own.
async fn head(addr: SocketAddr) -> (u64, u64) {
    let mut c = Client::connect(addr).await;
    let r = subscribe_since(&mut c, &["Device", "SetSpeakerVolume"], 0, None).await;
    (
        r["data"]["epoch"].as_u64().unwrap(),
        r["data"]["seq"].as_u64().unwrap(),
    )
}

#[tokio::test]
async fn only_clients_that_ask_get_seq_and_their_bytes_differ_by_it_alone() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    settled(addr).await;
    let mut plain = Client::connect(addr).await;
    let mut numbered = Client::connect(addr).await;
    plain.subscribe(&["Device"]).await;
    let answer = subscribe_since(&mut numbered, &["Device"], 0, None).await;
    assert_eq!(answer["error_code"], 0, "{answer}");
    assert_eq!(answer["data"]["subscriptions"], json!([["Device"]]));
    let seq = answer["data"]["seq"].as_u64().unwrap();
    assert!(answer["data"]["epoch"].is_u64(), "{answer}");

    let mut driver = Client::connect(addr).await;
    publish(&mut driver, 1).await;
    let old = plain.event_raw("SetSpeakerVolume").await;
    let new = numbered.event_raw("SetSpeakerVolume").await;
    assert!(!old.contains("\"seq\""), "{old}");
    let spliced = format!(", \"seq\": {}}}}}", seq + 1);
    assert!(
        new.ends_with(&spliced),
        "seq is the last key of params: {new}"
    );
    assert_eq!(
        new.replace(&spliced, "}}"),
        old,
        "the same event, seq aside"
    );
}

#[tokio::test]
async fn subscribing_without_since_answers_as_before() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let reply = c
        .raw(r#"{"jsonrpc": "2.0", "id": 1, "method": "Subscribe", "params": {"path": ["Meeting"]}}"#)
        .await;
    assert_eq!(
        reply,
        r#"{"jsonrpc": "2.0", "method": "Subscribe", "id": 1, "result": {"error_code": 0, "message": "", "data": {"subscriptions": [["Meeting"]]}}}"#
    );
}

/// The issue's number: 1,000 events published while a panel is away for 5 s; on resuming it
/// gets exactly those, in order, then live ones published while it resumed, with no gap and
/// no duplicate.
#[tokio::test]
async fn resume_after_5_s_away_replays_the_1000_missed_events_then_live_ones() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    settled(addr).await;
    let mut panel = Client::connect(addr).await;
    let answer = subscribe_since(&mut panel, &[], 0, None).await;
    let epoch = answer["data"]["epoch"].as_u64().unwrap();
    let mut driver = Client::connect(addr).await;
    publish(&mut driver, 3).await;
    let mut last = 0;
    for _ in 0..3 {
        last = next_seq(&mut panel).await;
    }
    drop(panel);

    let away = Instant::now();
    publish(&mut driver, 1000).await;
    let (_, missed_through) = head(addr).await;
    assert_eq!(missed_through - last, 1000, "one event per change");
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(away.elapsed())).await;

    // Live events keep coming while the panel resumes.
    let live = tokio::spawn(async move {
        for n in 0..200 {
            driver
                .call(
                    "Call/Device",
                    json!({"action": "SetSpeakerVolume", "action_params": {"volume": n % 100}}),
                )
                .await;
        }
    });
    let resumed = Instant::now();
    let mut panel = Client::connect(addr).await;
    let answer = subscribe_since(&mut panel, &[], last, Some(epoch)).await;
    assert_eq!(answer["error_code"], 0, "{answer}");
    assert_eq!(answer["data"]["epoch"], epoch);
    let mut seqs = Vec::new();
    while seqs.len() < 1000 {
        seqs.push(next_seq(&mut panel).await);
    }
    let replayed_in = resumed.elapsed();
    live.await.unwrap();
    let (_, end) = head(addr).await;
    while seqs.last() != Some(&end) {
        seqs.push(next_seq(&mut panel).await);
    }
    let expected: Vec<u64> = (last + 1..=end).collect();
    assert_eq!(seqs.len(), expected.len(), "no gap and no duplicate");
    assert_eq!(seqs, expected, "in order");
    assert!(panel.nothing_within(QUIET).await, "nothing after the last");
    println!(
        "resume: 1000 missed events replayed in {replayed_in:?} over a socket (away {:?}); {} live events followed with no gap",
        resumed.duration_since(away),
        end - missed_through
    );
}

#[tokio::test]
async fn resuming_from_events_no_longer_kept_or_another_epoch_is_18_and_subscribes_nothing() {
    let mut cfg = config();
    cfg.events.history_size.0 = 5;
    let daemon = start(cfg).await;
    let addr = daemon.local_addr();
    let mut driver = Client::connect(addr).await;
    publish(&mut driver, 10).await;
    let (epoch, last) = head(addr).await;

    let mut c = Client::connect(addr).await;
    for (since, epoch, why) in [
        (last - 6, epoch, "event last-5 is no longer kept"),
        (last + 1000, epoch, "not published yet"),
        (last, epoch + 1, "another epoch"),
    ] {
        let r = subscribe_since(&mut c, &["Device"], since, Some(epoch)).await;
        assert_eq!(r["error_code"], 18, "{why}: {r}");
        let message = r["message"].as_str().unwrap();
        assert!(
            message.contains("query again, then subscribe from now"),
            "{message}"
        );
    }
    publish(&mut driver, 1).await;
    assert!(
        c.nothing_within(QUIET).await,
        "a refused resume subscribes nothing"
    );

    // What is still kept can be resumed from.
    let r = subscribe_since(&mut c, &["Device"], last - 4, Some(epoch)).await;
    assert_eq!(r["error_code"], 0, "{r}");
    let seqs = [next_seq(&mut c).await, next_seq(&mut c).await];
    assert_eq!(seqs, [last - 3, last - 2]);
}

#[tokio::test]
async fn since_without_epoch_and_bad_types_are_error_8() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    for params in [
        json!({"path": [], "since": 3}),
        json!({"path": [], "epoch": 3}),
        json!({"path": [], "since": "3", "epoch": 1}),
        json!({"path": [], "since": -1}),
    ] {
        let r = c.call("Subscribe", params.clone()).await;
        assert_eq!(r["error_code"], 8, "{params}: {r}");
    }
}

#[tokio::test]
async fn resume_replays_only_what_the_path_matches() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    let (epoch, start) = head(addr).await;
    let mut driver = Client::connect(addr).await;
    publish(&mut driver, 2).await;
    driver.join_meeting("111222333").await;
    publish(&mut driver, 2).await;
    let mut panel = Client::connect(addr).await;
    let r = subscribe_since(
        &mut panel,
        &["Meeting", "JoinMeetingCompleted"],
        start,
        Some(epoch),
    )
    .await;
    assert_eq!(r["error_code"], 0, "{r}");
    let event = panel.next_event().await;
    assert_eq!(event["sub_event"], "JoinMeetingCompleted", "{event}");
    assert!(event["seq"].as_u64().unwrap() > start + 2);
    assert!(panel.nothing_within(QUIET).await, "nothing else replayed");
}

fn join(id: &str, key: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "id": "{id}", "method": "Call/Meeting", "params": {{"action": "JoinMeeting", "action_params": {{"meeting_code": "111222333", "password": ""}}, "request_key": "{key}"}}}}"#
    )
}

/// The issue's case: a JoinMeeting whose answer was lost is retried on a new connection with
/// the same key; it gets the first answer, and the room joins once.
#[tokio::test]
async fn a_retried_join_with_the_same_request_key_gets_the_first_answer_and_joins_once() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    let mut panel = Client::connect(addr).await;
    panel.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;

    let mut first = Client::connect(addr).await;
    let answer = first.raw(&join("a", "join-42")).await;
    assert!(answer.contains(r#""error_code": 0"#), "{answer}");
    drop(first);
    let joined = panel.event("JoinMeetingCompleted").await;
    assert_eq!(joined["error_code"], 0, "{joined}");

    let mut retry = Client::connect(addr).await;
    let again = retry.raw(&join("b", "join-42")).await;
    assert_eq!(again, answer.replace(r#""id": "a""#, r#""id": "b""#));
    assert!(panel.nothing_within(QUIET).await, "no second join");
    assert_eq!(retry.status().await, 1, "in the meeting");

    // Without the key, a second join is a second join, and refused.
    let other = retry.raw(&join("c", "join-43")).await;
    assert!(other.contains(r#""error_code": 10001"#), "{other}");
}

#[tokio::test]
async fn a_refusal_is_answered_again_too_and_keys_are_checked() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let leave = |key: &str| json!({"action": "LeaveMeeting", "request_key": key});
    let first = c.call("Call/Meeting", leave("k")).await;
    assert_eq!(first["error_code"], 10000, "not in a meeting: {first}");
    assert_eq!(c.call("Call/Meeting", leave("k")).await, first);

    let other = c
        .call(
            "Call/Device",
            json!({"action": "EnableMic", "action_params": {"enable": true}, "request_key": "k"}),
        )
        .await;
    assert_eq!(other["error_code"], 8, "a key names one call: {other}");
    for key in [json!(7), json!(""), json!("x".repeat(129))] {
        let r = c
            .call(
                "Call/Meeting",
                json!({"action": "LeaveMeeting", "request_key": key}),
            )
            .await;
        assert_eq!(r["error_code"], 8, "{key}: {r}");
        assert_eq!(r["action"], "LeaveMeeting");
    }
}

/// The rule the consistent start rests on (docs/CONTINUITY.md): an event that reports a change
/// carries the whole new value, so applying it after a Query that already showed it changes
/// nothing. Checked on the changes a panel follows: what each event carries is what Query
/// then answers for the same node.
#[tokio::test]
async fn events_carry_the_whole_value_that_query_answers() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.subscribe(&[]).await;
    c.join_meeting("111222333").await;

    let set = json!({"action": "SetSpeakerVolume", "action_params": {"volume": 31}});
    assert_eq!(c.call("Call/Device", set).await["error_code"], 0);
    let speaker = c.event("SetSpeakerVolume").await;
    assert_eq!(
        speaker["data"]["speaker_info"],
        c.query(&["Device", "SpeakerInfo"]).await["data"]["speaker_info"]
    );

    let mic = json!({"action": "SetMicVolume", "action_params": {"volume": 44}});
    assert_eq!(c.call("Call/Device", mic).await["error_code"], 0);
    let mic = c.event("SetMicVolume").await;
    assert_eq!(
        mic["data"]["mic_info"],
        c.query(&["Device", "MicInfo"]).await["data"]["mic_info"]
    );

    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
        0
    );
    let layout = c.event("LayoutSwitchChanged").await;
    assert_eq!(
        layout["data"]["layout_switch_info"],
        c.query(&["Meeting", "LayoutInfo", "LayoutSwitchInfo"])
            .await["data"]["layout_switch_info"]
    );
}

/// Two retries racing on two connections (a panel that reconnected while its first attempt is
/// still being answered): one join runs, and both get its answer.
#[tokio::test]
async fn the_same_key_sent_at_once_on_two_connections_runs_once() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    let mut panel = Client::connect(addr).await;
    panel.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    let mut first = Client::connect(addr).await;
    let mut second = Client::connect(addr).await;
    let (request_a, request_b) = (join("a", "race"), join("b", "race"));
    let (a, b) = tokio::join!(first.raw(&request_a), second.raw(&request_b));
    assert_eq!(b, a.replace(r#""id": "a""#, r#""id": "b""#));
    assert!(a.contains(r#""error_code": 0"#), "{a}");
    assert_eq!(panel.event("JoinMeetingCompleted").await["error_code"], 0);
    assert!(panel.nothing_within(QUIET).await, "one join");
}
