//! The room's screens over a real socket: display hot-plug followed through a directory laid
//! out like `/sys/class/drm`, and every SwitchLayout outcome on one screen, two extended and two
//! mirrored (PROTOCOL.md §4.1).

use crate::common;

use std::path::Path;

use common::{Client, config, start};
use roomsd::config::{Config, ScreenCount, ScreenMode};
use serde_json::{Value, json};

/// Sets a connector's `status` the way the kernel shows it.
fn plug(root: &Path, connector: &str, status: &str) {
    let dir = root.join(format!("card0-{connector}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("status"), format!("{status}\n")).unwrap();
}

/// A fake `/sys/class/drm` with the card's other entries, which are not connectors.
fn drm_root(connectors: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("card0")).unwrap();
    std::fs::write(root.path().join("version"), "drm 1.1.0\n").unwrap();
    for (connector, status) in connectors {
        plug(root.path(), connector, status);
    }
    root
}

fn screens(count: ScreenCount, mode: ScreenMode) -> Config {
    let mut c = config();
    c.screens.count = count;
    c.screens.mode = mode;
    c
}

async fn multi_screen(c: &mut Client) -> String {
    c.raw(r#"{"jsonrpc":"2.0","id":1,"method":"Query","params":{"path":["Meeting","MultiScreeInfo"]}}"#)
        .await
}

fn multi_screen_answer(status: u8, main: &str) -> String {
    format!(
        r#"{{"jsonrpc": "2.0", "method": "Query", "id": 1, "result": {{"error_code": 0, "message": "", "data": {{"multi_scree_info": {{"multi_screen_status": {status}, "main_monitor_id": "{main}"}}}}}}}}"#
    )
}

#[tokio::test]
async fn plugging_and_unplugging_the_second_display() {
    let drm = drm_root(&[("HDMI-A-1", "connected"), ("HDMI-A-2", "disconnected")]);
    // Configured for two mirrored screens: hot-plug counts, the configuration names the mode.
    let mut cfg = screens(ScreenCount::Two, ScreenMode::Mirror);
    cfg.screens.main_monitor_id = "HDMI-A-2".into();
    cfg.screens.drm_root = drm.path().display().to_string();
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        multi_screen(&mut c).await,
        multi_screen_answer(0, ""),
        "one display connected at start-up"
    );
    c.subscribe(&["Meeting"]).await;
    c.join_meeting("111222333").await;
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 5})).await,
        0
    );
    c.event("LayoutSwitchChanged").await;

    plug(drm.path(), "HDMI-A-2", "connected");
    let event = c.event("MultiScreenChanged").await;
    assert_eq!(event["error_code"], 0);
    let data = &event["data"];
    assert_eq!(
        data["multi_scree_info"],
        json!({"multi_screen_status": 2, "main_monitor_id": "HDMI-A-2"})
    );
    let custom = json!({"layout_model": 0, "show_small_view": false, "layout_type": 3});
    assert_eq!(data["layout_info"]["main_screen_layout_info"], custom);
    assert_eq!(
        data["layout_info"]["secondary_screen_layout_info"], custom,
        "mirrored"
    );
    assert_eq!(
        multi_screen(&mut c).await,
        multi_screen_answer(2, "HDMI-A-2")
    );

    // Unplugged during the meeting: the main layout stays.
    plug(drm.path(), "HDMI-A-2", "disconnected");
    let event = c.event("MultiScreenChanged").await;
    let data = &event["data"];
    assert_eq!(
        data["multi_scree_info"],
        json!({"multi_screen_status": 0, "main_monitor_id": ""})
    );
    assert_eq!(data["layout_info"]["main_screen_layout_info"], custom);
    assert_eq!(
        data["layout_info"]["secondary_screen_layout_info"],
        json!({"layout_model": 0, "show_small_view": false, "layout_type": 0})
    );
    assert_eq!(
        data["layout_info"]["layout_switch_info"]["current_switch_type"],
        5
    );
    assert_eq!(c.status().await, 1, "still in the meeting");
    assert_eq!(multi_screen(&mut c).await, multi_screen_answer(0, ""));
    daemon.stop().await;
}

#[tokio::test]
async fn an_unreadable_drm_root_keeps_the_configured_screens_until_it_appears() {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("drm");
    let mut cfg = screens(ScreenCount::Two, ScreenMode::Extend);
    cfg.screens.drm_root = root.display().to_string();
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        multi_screen(&mut c).await,
        multi_screen_answer(1, "HDMI-A-1")
    );
    c.subscribe(&["Meeting", "MultiScreenChanged"]).await;

    std::fs::create_dir(&root).unwrap();
    plug(&root, "DP-1", "connected");
    let event = c.event("MultiScreenChanged").await;
    assert_eq!(
        event["data"]["multi_scree_info"],
        json!({"multi_screen_status": 0, "main_monitor_id": ""})
    );
    // Outside a meeting the layouts are all zero.
    assert_eq!(
        event["data"]["layout_info"]["main_screen_layout_info"]["layout_type"],
        0
    );
    plug(&root, "DP-2", "connected");
    let event = c.event("MultiScreenChanged").await;
    assert_eq!(
        event["data"]["multi_scree_info"],
        json!({"multi_screen_status": 1, "main_monitor_id": "DP-1"}),
        "the configured main output is absent: the first one is main"
    );
    daemon.stop().await;
}

/// A screen's layout as PROTOCOL.md §4.1 describes it.
fn screen(layout_type: u8, show_small_view: bool) -> Value {
    json!({"layout_model": 0, "show_small_view": show_small_view, "layout_type": layout_type})
}

/// The `LayoutSwitchChanged` data PROTOCOL.md §4.1 gives for `switch_type` on `setup`, with the
/// voice-activity window as it stands.
fn expected_layout(setup: (ScreenCount, ScreenMode), switch_type: u8, voice: bool) -> Value {
    let main = match switch_type {
        1 => screen(2, false),
        2 | 3 => screen(1, voice),
        _ => screen(3, false),
    };
    let secondary = match setup {
        (ScreenCount::One, _) => screen(0, false),
        (ScreenCount::Two, ScreenMode::Mirror) => main.clone(),
        (ScreenCount::Two, ScreenMode::Extend) if switch_type == 1 => screen(1, false),
        (ScreenCount::Two, ScreenMode::Extend) => screen(2, false),
    };
    let list: Vec<Value> = (1..=7)
        .map(|t| match t {
            2 | 3 => json!({"switch_type": t, "enable": true, "show_voice_active": voice}),
            _ => json!({"switch_type": t, "enable": true}),
        })
        .collect();
    json!({
        "layout_switch_info": {
            "current_switch_type": switch_type,
            "layout_switch_enable": true,
            "layout_switch_list": list,
        },
        "main_screen_layout_info": main,
        "secondary_screen_layout_info": secondary,
    })
}

#[tokio::test]
async fn every_switch_on_every_screen_setup() {
    // (switch_type, show_voice_active sent, the window after the switch)
    let switches = [
        (2, Some(false), true), // the first speaker switch forces the window on
        (3, Some(false), false),
        (1, Some(true), false), // not a speaker layout: the parameter does not apply
        (4, None, false),
        (5, None, false),
        (6, Some(true), false),
        (7, None, false),
        (2, None, false), // absent: kept
        (3, Some(true), true),
    ];
    for setup in [
        (ScreenCount::One, ScreenMode::Extend),
        (ScreenCount::Two, ScreenMode::Extend),
        (ScreenCount::Two, ScreenMode::Mirror),
    ] {
        let daemon = start(screens(setup.0, setup.1)).await;
        let mut c = Client::connect(daemon.local_addr()).await;
        assert_eq!(
            c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
            10000,
            "not in a meeting"
        );
        c.subscribe(&["Meeting", "LayoutSwitchChanged"]).await;
        c.join_meeting("111222333").await;
        for (switch_type, sent, voice) in switches {
            let mut params = json!({ "switch_type": switch_type });
            if let Some(show) = sent {
                params["show_voice_active"] = json!(show);
            }
            assert_eq!(c.meeting("SwitchLayout", params).await, 0);
            let event = c.event("LayoutSwitchChanged").await;
            let expected = expected_layout(setup, switch_type, voice);
            assert_eq!(
                event["data"], expected,
                "{setup:?}, switch_type {switch_type}, show_voice_active {sent:?}"
            );
            let layout = c.query(&["Meeting", "LayoutInfo"]).await;
            assert_eq!(layout["data"]["layout_info"], expected, "Query agrees");
        }
        assert_eq!(
            c.meeting("SwitchLayout", json!({"switch_type": 8})).await,
            10031
        );
        daemon.stop().await;
    }
}

#[tokio::test]
async fn switching_waits_for_someone_else_and_resets_after_the_meeting() {
    let daemon = start(screens(ScreenCount::Two, ScreenMode::Extend)).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.join_meeting("555666777").await; // the room is alone there
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
        10032
    );
    c.subscribe(&["Meeting", "LeaveMeeting"]).await;
    assert_eq!(c.meeting("LeaveMeeting", Value::Null).await, 0);
    c.event("LeaveMeeting").await;

    c.join_meeting("111222333").await;
    assert_eq!(
        c.meeting("SwitchLayout", json!({"switch_type": 2})).await,
        0
    );
    assert_eq!(
        c.meeting(
            "SwitchLayout",
            json!({"switch_type": 2, "show_voice_active": false})
        )
        .await,
        0
    );
    assert_eq!(c.meeting("LeaveMeeting", Value::Null).await, 0);
    c.event("LeaveMeeting").await;
    let info = c.query(&["Meeting", "LayoutInfo"]).await;
    let info = &info["data"]["layout_info"];
    assert_eq!(info["layout_switch_info"]["current_switch_type"], 1);
    assert_eq!(info["layout_switch_info"]["layout_switch_enable"], false);
    assert_eq!(info["main_screen_layout_info"], screen(0, false));
    assert_eq!(info["secondary_screen_layout_info"], screen(0, false));

    // The next meeting's first speaker switch forces the window on again.
    c.join_meeting("111222333").await;
    c.subscribe(&["Meeting", "LayoutSwitchChanged"]).await;
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
        event["data"],
        expected_layout((ScreenCount::Two, ScreenMode::Extend), 3, true)
    );
    daemon.stop().await;
}
