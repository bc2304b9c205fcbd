//! `roomsctl watch` across a lost connection: it connects again by itself and resumes, so the
//! events published while it was away are printed once each, in order, before the live ones.

use crate::common;

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::relay::Relay;
use common::{Client, Running, start_default};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const WAIT: Duration = Duration::from_secs(10);

/// A child's output, line by line, read on a thread of its own.
fn lines(output: impl Read + Send + 'static) -> UnboundedReceiver<String> {
    let (send, lines) = unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

async fn line_containing(lines: &mut UnboundedReceiver<String>, text: &str) -> String {
    let find = async {
        loop {
            let line = lines.recv().await.expect("roomsctl still runs");
            if line.contains(text) {
                return line;
            }
        }
    };
    tokio::time::timeout(WAIT, find)
        .await
        .unwrap_or_else(|_| panic!("roomsctl said {text:?}"))
}

async fn next_seq(lines: &mut UnboundedReceiver<String>) -> u64 {
    let line = tokio::time::timeout(WAIT, lines.recv())
        .await
        .expect("an event line")
        .expect("roomsctl still runs");
    let event: Value = serde_json::from_str(&line).unwrap();
    event["seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no seq: {line}"))
}

async fn set_volumes(driver: &mut Client, count: u64) {
    for n in 0..count {
        let params = json!({"action": "SetSpeakerVolume", "action_params": {"volume": n % 100}});
        assert_eq!(driver.call("Call/Device", params).await["error_code"], 0);
    }
}

#[tokio::test]
async fn watch_connects_again_and_prints_the_missed_events_once_in_order() {
    let daemon = start_default().await;
    let relay = Relay::start(daemon.local_addr()).await;
    let mut watch = Command::new(env!("CARGO_BIN_EXE_roomsctl"))
        .args([
            "--url",
            &format!("ws://{}", relay.addr),
            "--json",
            "watch",
            "Device",
        ])
        .env_remove("ROOMSD_PASSWORD")
        .env_remove("ROOMSD_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = lines(watch.stdout.take().unwrap());
    let mut stderr = lines(watch.stderr.take().unwrap());
    let _watch = Running(watch);
    line_containing(&mut stderr, "watching Device").await;

    let mut driver = Client::connect(daemon.local_addr()).await;
    set_volumes(&mut driver, 5).await;
    let mut seqs = Vec::new();
    for _ in 0..5 {
        seqs.push(next_seq(&mut stdout).await);
    }

    relay.cut();
    let said = line_containing(&mut stderr, "connecting again").await;
    set_volumes(&mut driver, 20).await;
    line_containing(&mut stderr, "connected again").await;
    set_volumes(&mut driver, 5).await;
    for _ in 0..25 {
        seqs.push(next_seq(&mut stdout).await);
    }
    let expected: Vec<u64> = (seqs[0]..seqs[0] + 30).collect();
    assert_eq!(seqs, expected, "every event once, in order, across the cut");
    println!("roomsctl watch: {said}; then 20 missed and 5 live events, none lost or twice");
}
