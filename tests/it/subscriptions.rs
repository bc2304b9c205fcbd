//! Subscribe / Unsubscribe (PROTOCOL.md §2.4): events reach subscribers only.

use crate::common;

use std::time::Duration;

use common::{Client, start_default};
use serde_json::json;

const QUIET: Duration = Duration::from_millis(300);

#[tokio::test]
async fn subscribe_answers_with_the_connection_subscriptions() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let r = c.subscribe(&["Meeting", "LeaveMeeting"]).await;
    assert_eq!(
        r,
        json!({"error_code": 0, "message": "", "data": {"subscriptions": [["Meeting", "LeaveMeeting"]]}})
    );
    let r = c.subscribe(&["Meeting"]).await;
    assert_eq!(r["data"]["subscriptions"], json!([["Meeting"]]));
    let r = c.call("Unsubscribe", json!({"path": ["Meeting"]})).await;
    assert_eq!(r["data"]["subscriptions"], json!([]));
    let r = c.call("Subscribe", json!(null)).await;
    assert_eq!(
        r["data"]["subscriptions"],
        json!([[]]),
        "no params: everything"
    );
}

#[tokio::test]
async fn unknown_subscription_paths_are_error_7() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    assert_eq!(c.subscribe(&["Weather"]).await["error_code"], 7);
    assert_eq!(c.subscribe(&["Meeting", "Rain"]).await["error_code"], 7);
    assert_eq!(
        c.call("Subscribe", json!({"path": "Meeting"})).await["error_code"],
        8
    );
}

#[tokio::test]
async fn only_subscribers_receive_events() {
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    let mut all = Client::connect(addr).await;
    let mut module = Client::connect(addr).await;
    let mut one = Client::connect(addr).await;
    let mut other_event = Client::connect(addr).await;
    let mut none = Client::connect(addr).await;
    all.subscribe(&[]).await;
    module.subscribe(&["Meeting"]).await;
    one.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    other_event.subscribe(&["Meeting", "DissolveMeeting"]).await;
    let mut unsubscribed = Client::connect(addr).await;
    unsubscribed.subscribe(&["Meeting"]).await;
    unsubscribed
        .call(
            "Unsubscribe",
            json!({"path": ["Meeting", "JoinMeetingCompleted"]}),
        )
        .await;

    assert_eq!(
        none.meeting(
            "JoinMeeting",
            json!({"meeting_code": "111222333", "password": ""})
        )
        .await,
        0
    );
    let a = all.event_raw("JoinMeetingCompleted").await;
    let b = module.event_raw("JoinMeetingCompleted").await;
    let c = one.event_raw("JoinMeetingCompleted").await;
    assert_eq!(a, b, "every panel receives the same bytes");
    assert_eq!(a, c);
    assert!(other_event.nothing_within(QUIET).await);
    assert!(none.nothing_within(QUIET).await);
    assert!(unsubscribed.nothing_within(QUIET).await);
}

#[tokio::test]
async fn subscriptions_end_with_the_connection() {
    let daemon = start_default().await;
    let mut first = Client::connect(daemon.local_addr()).await;
    first.subscribe(&[]).await;
    drop(first);
    let mut second = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        second.call("Unsubscribe", json!({"path": []})).await["data"]["subscriptions"],
        json!([])
    );
    second
        .meeting("StartMeeting", json!({"meeting_type": "instant"}))
        .await;
    assert!(second.nothing_within(QUIET).await);
}
