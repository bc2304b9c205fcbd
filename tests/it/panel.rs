//! The touch panel (`examples/panel/`) in headless Chromium against real daemons: a person's
//! meeting, from the page. Needs Node.js, Debian's chromium and `npm ci` in
//! `examples/panel/test/` (.ci/run installs them), so it is ignored by a plain `cargo test`:
//! `cargo test --test it panel:: -- --ignored` runs it, and fails saying what is missing. The
//! screenshots, at 1024×768 and at a phone's 390×844, are kept in `target/panel-screenshots/`.
//!
//! What the page needs from the daemon without a browser (`/panel/access.json`) is tested here
//! too, and runs with every `cargo test`.

use crate::common;
use roomsd::backend::sim::SimConfig;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{config, meeting, start};
use roomsd::backend::sim::SimMeeting;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TEST_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/panel/test");

fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node".into());
    }
    if !Path::new(TEST_DIR)
        .join("node_modules/playwright-core")
        .exists()
    {
        return Some(format!("playwright-core (npm ci in {TEST_DIR})"));
    }
    None
}

/// `target/panel-screenshots/`, emptied.
fn screenshot_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let dir = target.join("panel-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const ROOM_NAME: &str = "Fjord (4.12)";
/// Not Latin-1: the page must send the password's UTF-8 bytes.
const PASSWORD: &str = "room €101";
/// Joins slow enough to be watched.
const JOIN_DELAY_MS: u64 = 1500;

#[tokio::test]
#[ignore = "needs chromium, node and playwright-core (.ci/run installs them): cargo test --test it panel:: -- --ignored"]
async fn a_meeting_run_from_the_panel_in_chromium() {
    if let Some(what) = missing() {
        panic!("the panel test needs {what}");
    }
    let mut cfg = config();
    cfg.server.panel = true;
    cfg.server.password = PASSWORD.into();
    cfg.room.name = ROOM_NAME.into();
    cfg.services.edit::<SimConfig>().join_delay_ms = JOIN_DELAY_MS;
    cfg.services.edit::<SimConfig>().meetings.push(SimMeeting {
        room_is_host: true,
        participants: 1000,
        ..meeting("999000111", "Town hall")
    });
    cfg.services.edit::<SimConfig>().meetings.push(SimMeeting {
        participants: 1000,
        churn_ms: 20,
        ..meeting("999000222", "Webinar")
    });
    let room = start(cfg).await;

    // A second room whose meeting service goes away at once and stays away.
    let mut cfg = config();
    cfg.server.panel = true;
    cfg.services.edit::<SimConfig>().disconnect_after_ms = 1;
    let service_down = start(cfg).await;

    let screenshots = screenshot_dir();
    let envs = [
        ("PANEL_BASE", format!("http://{}", room.local_addr())),
        ("PANEL_PASSWORD", PASSWORD.to_owned()),
        ("PANEL_ROOM", ROOM_NAME.to_owned()),
        (
            "PANEL_SERVICE_DOWN_BASE",
            format!("http://{}", service_down.local_addr()),
        ),
        ("PANEL_SCREENSHOTS", screenshots.display().to_string()),
    ];
    // The browser runs while this runtime keeps serving the daemons.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(TEST_DIR)
            .arg("panel.test.mjs")
            .envs(envs)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    println!("{log}");
    assert!(output.status.success(), "{log}");
    assert!(log.contains("panel: ok"), "{log}");
    for shot in [
        "desktop-idle",
        "desktop-meeting",
        "phone-idle",
        "phone-meeting",
    ] {
        let path = screenshots.join(format!("{shot}.png"));
        assert!(
            std::fs::metadata(&path).is_ok_and(|m| m.len() > 10_000),
            "a screenshot at {}",
            path.display()
        );
    }
    room.stop().await;
    service_down.stop().await;
}

/// One plain HTTP GET, as a browser's `fetch` sends it; the whole answer.
async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

/// A browser cannot read why a WebSocket upgrade failed, so the panel asks whether a password
/// is wanted; the answer carries nothing else, and is the same with or without one offered.
#[tokio::test]
async fn the_panel_can_learn_whether_the_room_wants_a_password() {
    for (password, wanted) in [("", false), ("secret", true)] {
        let mut cfg = config();
        cfg.server.panel = true;
        cfg.server.password = password.into();
        let daemon = start(cfg).await;
        let answer = get(daemon.local_addr(), "/panel/access.json").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("application/json"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(parsed, serde_json::json!({ "password_required": wanted }));
        assert!(!answer.contains("secret"), "{answer}");
        daemon.stop().await;
    }
}
