//! End-to-end tests of `roomsctl` against a real `roomsd` (embedded simulator) on a free port.

mod common;

use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{Running, spawn_roomsd};
use serde_json::{Value, json};

/// A running `roomsd` on a port the system picked, killed when dropped so that a failing test
/// leaves no daemon behind.
struct Daemon {
    _process: Running,
    url: String,
}

impl Daemon {
    fn start(password: Option<&str>) -> Daemon {
        let args: &[&str] = match password {
            Some(password) => &["--password", password],
            None => &[],
        };
        let (process, addr) = spawn_roomsd(args, &[]);
        Daemon {
            _process: process,
            url: format!("ws://{addr}"),
        }
    }

    /// Runs `roomsctl --url <this daemon> ARGS…`.
    fn ctl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_roomsctl"))
            .arg("--url")
            .arg(&self.url)
            .args(args)
            .env_remove("ROOMSD_PASSWORD")
            .output()
            .expect("roomsctl runs")
    }

    /// Runs `roomsctl … --json`, checks the exit status and parses the single output line.
    fn ctl_json(&self, args: &[&str], status: i32) -> Value {
        let output = self.ctl(&[args, &["--json"]].concat());
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(status),
            "{args:?}: {stdout}{stderr}"
        );
        assert_eq!(
            stdout.lines().count(),
            1,
            "--json prints one line: {stdout:?}"
        );
        serde_json::from_str(&stdout).expect("JSON output")
    }
}

const STATUS: &[&str] = &["query", "Meeting", "MeetingInfo", "MeetingStatus"];

#[test]
fn query_prints_the_result() {
    let daemon = Daemon::start(None);
    let result = daemon.ctl_json(STATUS, 0);
    let expected = json!({"error_code": 0, "message": "", "data": {"meeting_status": 0}});
    assert_eq!(result, expected);
}

#[test]
fn in_band_error_exits_1() {
    let daemon = Daemon::start(None);
    let result = daemon.ctl_json(&["call", "Meeting", "LeaveMeeting"], 1);
    assert_eq!(result["error_code"], 10000);
    assert_eq!(result["action"], "LeaveMeeting");
}

#[test]
fn join_then_in_meeting() {
    let daemon = Daemon::start(None);
    let join = [
        "call",
        "Meeting",
        "JoinMeeting",
        "meeting_code=111222333",
        "password=",
    ];
    let ack = daemon.ctl_json(&join, 0);
    assert_eq!(ack["error_code"], 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = daemon.ctl_json(STATUS, 0)["data"]["meeting_status"].clone();
        if status == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "still meeting_status {status}");
        sleep(Duration::from_millis(100));
    }
}

#[test]
fn wrong_password_exits_3() {
    let daemon = Daemon::start(Some("s3cr+t/="));
    let wrong = daemon.ctl(&["--password", "wrong", "query", "Meeting"]);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("HTTP 401"));
    let missing = daemon.ctl(&["query", "Meeting"]);
    assert_eq!(missing.status.code(), Some(3));
    let right = daemon.ctl_json(&[&["--password", "s3cr+t/="], STATUS].concat(), 0);
    assert_eq!(right["data"]["meeting_status"], 0);
}

#[test]
fn completions_and_man_page_need_no_daemon() {
    let roomsctl = env!("CARGO_BIN_EXE_roomsctl");
    let bash = std::process::Command::new(roomsctl)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let script = String::from_utf8(bash.stdout).unwrap();
    assert!(script.contains("complete -F _roomsctl"), "{script}");
    for subcommand in ["query", "call", "watch"] {
        assert!(script.contains(subcommand), "{subcommand} completes");
    }

    let man = std::process::Command::new(roomsctl)
        .arg("man")
        .output()
        .unwrap();
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH roomsctl 1"), "{page}");
    assert!(
        page.contains(".SH \"EXIT STATUS\""),
        "the exit codes are documented"
    );
    assert!(
        !page.contains("roomsctl-"),
        "no pages of subcommands, which do not exist: {page}"
    );
}
