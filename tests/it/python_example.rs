//! `examples/python/room_control.py`, an integrator's script, against a real daemon: it must
//! keep working as the protocol's reference for scripts. Needs python3 with the `websockets`
//! package (`pip install -r examples/python/requirements.txt`; .ci/run does), so it is ignored
//! by a plain `cargo test`: `cargo test --test it python_example:: -- --ignored` runs it, and fails
//! saying what is missing.

use crate::common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::relay::Relay;
use common::{Client, start_default};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/python/room_control.py"
);

/// The interpreter: `$PYTHON` (CI's virtual environment), else `python3`.
fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn websockets_available() -> bool {
    Command::new(python())
        .args(["-c", "import websockets.asyncio.client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs the script with `args` against `addr`, off the runtime that serves the daemon.
async fn script(addr: SocketAddr, args: &[&str]) -> (i32, String) {
    let mut command = Command::new(python());
    command
        .arg(SCRIPT)
        .args(["--url", &format!("ws://{addr}/")])
        .args(args);
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::task::spawn_blocking(move || command.output().expect("python3 runs"))
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&stdout).into_owned() + &String::from_utf8_lossy(&stderr);
    (status.code().unwrap_or(-1), text)
}

#[tokio::test]
#[ignore = "needs python3 with websockets (.ci/run installs it): cargo test --test it python_example:: -- --ignored"]
async fn the_integrators_script_runs_a_meeting() {
    assert!(
        websockets_available(),
        "the Python example needs {} with the websockets package \
         (pip install -r examples/python/requirements.txt, or set PYTHON)",
        python()
    );
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    assert_eq!(script(addr, &["status"]).await, (0, "Idle\n".into()));
    assert_eq!(
        script(addr, &["join", "111 222 333"]).await,
        (0, "joined Weekly sync\n".into())
    );
    assert_eq!(
        script(addr, &["status"]).await,
        (0, "In meeting: Weekly sync (111 222 333)\n".into())
    );
    assert_eq!(
        script(addr, &["layout", "3"]).await,
        (0, "layout 3\n".into())
    );
    assert_eq!(
        script(addr, &["leave"]).await,
        (0, "left the meeting\n".into())
    );
    let (code, text) = script(addr, &["join", "222333444", "--password", "bad"]).await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("(10020)"), "{text}");
    daemon.stop().await;
}

/// The script's continuity: a join whose answer is lost is sent again with the same
/// `request_key` and runs once, and `watch` resumes across a cut connection without losing
/// or repeating an event.
#[tokio::test]
#[ignore = "needs python3 with websockets (.ci/run installs it): cargo test --test it python_example:: -- --ignored"]
async fn the_script_retries_calls_once_and_resumes_its_events() {
    assert!(websockets_available(), "python3 with websockets, as above");
    let daemon = start_default().await;
    let addr = daemon.local_addr();
    let mut panel = Client::connect(addr).await;
    panel.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    let (code, text) = script(addr, &["join", "111222333", "--drop-once"]).await;
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("sending JoinMeeting again with the same request_key"),
        "{text}"
    );
    assert!(text.starts_with("joined Weekly sync\n"), "{text}");
    assert_eq!(panel.event("JoinMeetingCompleted").await["error_code"], 0);
    assert!(
        panel.nothing_within(Duration::from_millis(300)).await,
        "the room joined once"
    );

    let relay = Relay::start(addr).await;
    let mut watch = std::process::Command::new(python())
        .arg(SCRIPT)
        .args(["--url", &format!("ws://{}/", relay.addr)])
        .args(["watch", "--count", "6"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdout = watch.stdout.take().unwrap();
    let mut stderr = BufReader::new(watch.stderr.take().unwrap()).lines();
    let watching = tokio::task::spawn_blocking(move || stderr.next().map(|l| (l, stderr)));
    let (line, mut stderr) = watching.await.unwrap().expect("the script says it watches");
    assert_eq!(line.unwrap(), "watching every event");
    let mut driver = Client::connect(addr).await;
    for volume in [10, 11, 12] {
        driver
            .call(
                "Call/Device",
                json!({"action": "SetSpeakerVolume", "action_params": {"volume": volume}}),
            )
            .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    relay.cut();
    for volume in [13, 14, 15] {
        driver
            .call(
                "Call/Device",
                json!({"action": "SetSpeakerVolume", "action_params": {"volume": volume}}),
            )
            .await;
    }
    let finished = tokio::task::spawn_blocking(move || {
        let status = watch.wait().unwrap();
        let said: Vec<String> = stderr.by_ref().map_while(Result::ok).collect();
        (status, said)
    });
    let (status, said) = tokio::time::timeout(Duration::from_secs(20), finished)
        .await
        .expect("watch --count 6 ends")
        .unwrap();
    assert!(status.success(), "{said:?}");
    assert!(
        said.iter().any(|l| l.contains("connecting again")),
        "{said:?}"
    );
    let mut events = String::new();
    BufReader::new(stdout).read_to_string(&mut events).unwrap();
    let volumes: Vec<Value> = events
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["data"]["speaker_info"]["volume"].clone()
        })
        .collect();
    assert_eq!(
        volumes,
        [10, 11, 12, 13, 14, 15],
        "once each, in order: {events}"
    );
}
