//! `examples/python/room_control.py`, an integrator's script, against a real daemon: it must
//! keep working as the protocol's reference for scripts. Needs python3 with the `websockets`
//! package (`pip install -r examples/python/requirements.txt`; .ci/run does), so it is ignored
//! by a plain `cargo test`: `cargo test --test it python_example:: -- --ignored` runs it, and fails
//! saying what is missing.

use crate::common;

use std::net::SocketAddr;
use std::process::{Command, Output};

use common::start_default;

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
