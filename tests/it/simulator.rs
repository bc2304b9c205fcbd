//! The embedded simulator as a backend like the others: it declares every capability and the
//! dial-pad code rule, and it feeds the health the panel reads.

use crate::common;
use roomsd::backend::sim::SimConfig;

use common::{Client, start};
use serde_json::{Value, json};

#[tokio::test]
async fn the_simulator_declares_everything_and_takes_dial_pad_codes() {
    let daemon = common::start_default().await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    let backend = panel.query(&["Backend"]).await["data"]["backend"].clone();
    assert_eq!(backend["kind"], "sim");
    assert_eq!(backend["capabilities"].as_array().unwrap().len(), 13);
    assert_eq!(
        backend["meeting_code_pattern"],
        "^[0-9#* -]*[0-9#*][0-9#* -]*$"
    );
    let ack = panel
        .call(
            "Call/Meeting",
            json!({"action": "JoinMeeting", "action_params": {"meeting_code": "TURN25AIYA"}}),
        )
        .await;
    assert_eq!(ack["error_code"], 10010, "{ack}");

    // A whole flow: join by typed code, members, the host ends it.
    panel.subscribe(&["Meeting"]).await;
    let joined = panel.join_meeting("666 777-888").await;
    assert_eq!(joined["data"]["meeting_info"]["meeting_code"], "666777888");
    let members = panel.query(&["Members"]).await["data"].clone();
    assert_eq!(members["member_count"]["in_meeting"], 3, "{members}");
    let ended = panel.event("DissolveMeeting").await;
    assert_eq!(ended["data"]["reason"], "host_ended");
}

#[tokio::test]
async fn the_simulator_feeds_the_health_the_panel_reads() {
    let mut config = common::config();
    config.services.edit::<SimConfig>().latency_ms = 40;
    let daemon = start(config).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    panel.join_meeting("111222333").await;
    let backend = panel.wait_backend(|b| b["latency_ms"] != 0).await;
    assert!(
        backend["latency_ms"].as_u64().unwrap() >= 40,
        "the round trip, added latency included: {backend}"
    );
    assert!(backend["last_ok_at"].as_i64().unwrap() > 0);
    assert_eq!(backend["connected"], true);
}

#[tokio::test]
async fn injected_failures_show_as_the_last_error_without_a_disconnection() {
    let mut config = common::config();
    config.services.edit::<SimConfig>().failure_rate.0 = 1.0;
    let daemon = start(config).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    panel.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    for _ in 0..4 {
        let ack = panel
            .meeting("JoinMeeting", json!({"meeting_code": "111222333"}))
            .await;
        assert_eq!(ack, 0, "still tried: the service is there");
        let failed = panel.event("JoinMeetingCompleted").await;
        assert_eq!(failed["error_code"], 12, "{failed}");
    }
    let backend: Value = panel.query(&["Backend"]).await["data"]["backend"].clone();
    assert_eq!(backend["connected"], true, "{backend}");
    assert_eq!(backend["last_error"], "simulator: injected network failure");
}
