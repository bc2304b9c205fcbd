//! The touch panel (`examples/panel/`) in headless Chromium against a real daemon: a person's
//! meeting, from the page. Needs Node.js, Debian's chromium and `npm ci` in
//! `examples/panel/test/` (.ci/run installs them), so it is ignored by a plain `cargo test`:
//! `cargo test --test panel -- --ignored` runs it, and fails saying what is missing. The
//! screenshot is kept as `target/tmp/panel.png`.
//!
//! What the page needs from the daemon without a browser (`/panel/access.json`) is tested here
//! too, and runs with every `cargo test`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{config, start};
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

#[tokio::test]
#[ignore = "needs chromium, node and playwright-core (.ci/run installs them): cargo test --test panel -- --ignored"]
async fn a_meeting_run_from_the_panel_in_chromium() {
    if let Some(what) = missing() {
        panic!("the panel test needs {what}");
    }
    let mut cfg = config();
    cfg.server.panel = true;
    // Not Latin-1: the page must send the password's UTF-8 bytes.
    let password = "room €101";
    cfg.server.password = password.into();
    let daemon = start(cfg).await;
    let base = format!("http://{}", daemon.local_addr());
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("panel.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = screenshot.clone();
    // The browser runs while this runtime keeps serving the daemon.
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(TEST_DIR)
            .arg("panel.test.mjs")
            .arg(&base)
            .arg(&shot)
            .arg(password)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("panel: ok"), "{log}");
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        screenshot.display()
    );
    daemon.stop().await;
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
