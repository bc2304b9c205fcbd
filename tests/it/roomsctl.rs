//! End-to-end tests of `roomsctl` against a real `roomsd` (embedded simulator) on a port the
//! system picks. The README's tour is one of them: every line of its block runs in a shell,
//! in order, so the README and the tool cannot drift apart.

use crate::common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Running, spawn_roomsd};
use serde_json::{Value, json};

const ROOMSCTL: &str = env!("CARGO_BIN_EXE_roomsctl");

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
        roomsctl(&[&["--url", &self.url], args].concat())
    }

    /// Runs `roomsctl … --json`, checks the exit status and parses each output line.
    fn ctl_json(&self, args: &[&str], status: i32) -> Vec<Value> {
        let output = self.ctl(&[args, &["--json"]].concat());
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(status),
            "{args:?}: {stdout}{stderr}"
        );
        let lines = stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("JSON line"));
        lines.collect()
    }

    /// The one JSON line of a `--json` query.
    fn query(&self, path: &[&str]) -> Value {
        let lines = self.ctl_json(&[&["query"], path].concat(), 0);
        assert_eq!(
            lines.len(),
            1,
            "--json prints one line per result: {lines:?}"
        );
        lines[0].clone()
    }
}

fn roomsctl(args: &[&str]) -> Output {
    Command::new(ROOMSCTL)
        .args(args)
        .env_remove("ROOMSD_PASSWORD")
        .env_remove("ROOMSD_URL")
        .output()
        .expect("roomsctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const STATUS: &[&str] = &["Meeting", "MeetingInfo", "MeetingStatus"];
const JOIN: &[&str] = &[
    "call",
    "Meeting",
    "JoinMeeting",
    "meeting_code=111222333",
    "password=",
];

/// The lines of the indented block that follows the README's marker comment.
fn readme_tour() -> Vec<String> {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(readme).unwrap();
    let marker = "<!-- tests/it/roomsctl.rs runs every line of the next block";
    let (_, after) = readme
        .split_once(marker)
        .expect("the README marks its tour");
    let block = after
        .lines()
        .skip(1)
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| line.starts_with("    ") || line.trim().is_empty());
    let lines: Vec<String> = block
        .filter(|line| !line.trim().is_empty())
        .map(|line| line[4..].to_owned())
        .collect();
    assert!(lines.len() > 10, "the tour has its steps: {lines:?}");
    lines
}

#[test]
fn the_readme_tour_runs_pasted_as_one_block() {
    let daemon = Daemon::start(None);
    let bin_dir = Path::new(ROOMSCTL).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let shell = |line: &str| {
        let mut command = Command::new("sh");
        command
            .args(["-c", line])
            .env("PATH", &path)
            .env("ROOMSD_URL", &daemon.url)
            .env_remove("ROOMSD_PASSWORD");
        command
    };
    // The second terminal: `roomsctl watch`, listening before the tour starts.
    let mut watch = shell("exec roomsctl watch")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(watch.stderr.take().unwrap()).lines();
    let watching = stderr.next().unwrap().unwrap();
    assert!(
        watching.contains("watching all modules: Meeting, Device, MeetingControl, Share, Backend"),
        "{watching}"
    );
    std::thread::spawn(move || stderr.for_each(drop));

    for line in readme_tour() {
        assert!(line.starts_with("roomsctl "), "a tour step: {line}");
        let output = shell(&line).output().unwrap();
        assert!(
            output.status.success(),
            "README tour step `{line}` failed ({}):\n{}{}",
            output.status,
            text(&output.stdout),
            text(&output.stderr)
        );
    }

    watch.kill().unwrap();
    let mut events = String::new();
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut events)
        .unwrap();
    watch.wait().unwrap();
    let joined = events
        .lines()
        .find(|line| line.contains(" Meeting JoinMeetingCompleted "))
        .unwrap_or_else(|| panic!("watch showed the join: {events}"));
    let (clock, rest) = joined.split_once(' ').unwrap();
    assert!(
        clock.len() == 8 && clock.as_bytes()[2] == b':',
        "local time first: {joined}"
    );
    assert!(
        rest.starts_with("Meeting JoinMeetingCompleted  status=in_meeting code=111222333"),
        "{joined}"
    );
}

#[test]
fn query_prints_the_result() {
    let daemon = Daemon::start(None);
    let expected = json!({"error_code": 0, "message": "", "data": {"meeting_status": 0}});
    assert_eq!(daemon.query(STATUS), expected);
    // The same node, named as people write it.
    assert_eq!(
        daemon.query(&["meeting", "meeting_info", "meetingstatus"]),
        expected
    );
}

#[test]
fn in_band_error_exits_1() {
    let daemon = Daemon::start(None);
    let lines = daemon.ctl_json(&["call", "Meeting", "LeaveMeeting"], 1);
    assert_eq!(lines.len(), 1, "a refusal has no outcome event to wait for");
    assert_eq!(lines[0]["error_code"], 10000);
    assert_eq!(lines[0]["action"], "LeaveMeeting");
}

#[test]
fn call_waits_for_the_outcome_event() {
    let daemon = Daemon::start(None);
    let lines = daemon.ctl_json(JOIN, 0);
    assert_eq!(lines[0]["error_code"], 0, "the acknowledgement");
    assert_eq!(lines[1]["sub_event"], "JoinMeetingCompleted");
    assert_eq!(lines[1]["error_code"], 0);
    // Done when it returns: the room is in the meeting, with no polling.
    assert_eq!(daemon.query(STATUS)["data"]["meeting_status"], 1);
    let layout = ["call", "Meeting", "SwitchLayout", "switch_type:=2"];
    assert_eq!(
        daemon.ctl_json(&layout, 0)[1]["sub_event"],
        "LayoutSwitchChanged"
    );
}

#[test]
fn a_failed_outcome_exits_1_with_its_code() {
    let daemon = Daemon::start(None);
    let args = [
        "call",
        "Meeting",
        "JoinMeeting",
        "meeting_code=222333444",
        "password=1",
    ];
    let output = daemon.ctl(&args);
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Meeting JoinMeetingCompleted  error=10020"),
        "{stdout}"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("JoinMeeting failed (JoinMeetingCompleted): error 10020"),
        "{stderr}"
    );
}

#[test]
fn no_wait_returns_at_the_acknowledgement() {
    let daemon = Daemon::start(None);
    let lines = daemon.ctl_json(&[&["call", "--no-wait"], &JOIN[1..]].concat(), 0);
    assert_eq!(
        lines,
        [json!({"error_code": 0, "message": "", "action": "JoinMeeting"})]
    );
}

#[test]
fn names_are_matched_in_any_case_with_or_without_underscores() {
    let daemon = Daemon::start(None);
    let lines = daemon.ctl_json(
        &["call", "meeting", "join_meeting", "meeting_code=111222333"],
        0,
    );
    assert_eq!(
        lines[0]["action"], "JoinMeeting",
        "the canonical name is sent"
    );
    assert_eq!(lines[1]["sub_event"], "JoinMeetingCompleted");
    let lines = daemon.ctl_json(&["call", "DEVICE", "enablemic", "enable:=false"], 0);
    assert_eq!(lines[1]["data"]["mic_info"]["switch"], false);
}

#[test]
fn parameters_are_checked_before_sending() {
    let daemon = Daemon::start(None);
    let speaker = || daemon.query(&["Device", "SpeakerInfo", "Volume"])["data"].clone();
    let before = speaker();

    let misspelt = daemon.ctl(&["call", "Device", "SetSpeakerVolume", "volumme:=20"]);
    assert_eq!(misspelt.status.code(), Some(2));
    assert!(
        text(&misspelt.stderr).contains("did you mean `volume`?"),
        "{misspelt:?}"
    );
    assert_eq!(speaker(), before, "nothing was sent");

    let as_text = daemon.ctl(&["call", "Device", "SetSpeakerVolume", "volume=20"]);
    assert_eq!(as_text.status.code(), Some(2));
    let stderr = text(&as_text.stderr);
    assert!(
        stderr.contains("`volume` is a number: write `volume:=20`"),
        "{stderr}"
    );

    let missing = daemon.ctl(&["call", "Meeting", "JoinMeeting", "password="]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("needs `meeting_code=`"),
        "{missing:?}"
    );

    // --raw sends what the schema lacks, as drivers send vendor extras.
    let raw = [
        "call",
        "--raw",
        "Share",
        "StartShare",
        "share_type:=0",
        "share_voice:=true",
    ];
    assert_eq!(daemon.ctl_json(&raw, 0)[0]["error_code"], 0);
}

#[test]
fn unknown_actions_are_refused_unless_raw() {
    let daemon = Daemon::start(None);
    let typo = daemon.ctl(&["call", "Meeting", "Jion", "meeting_code=111222333"]);
    assert_eq!(typo.status.code(), Some(2));
    let stderr = text(&typo.stderr);
    assert!(
        stderr.contains("no action `Jion`: did you mean `JoinMeeting`?"),
        "{stderr}"
    );
    assert_eq!(
        daemon.query(STATUS)["data"]["meeting_status"],
        0,
        "nothing was sent"
    );

    // The daemon's alias of SwitchLayout, which the registry does not list.
    daemon.ctl_json(JOIN, 0);
    let alias = [
        "call",
        "--raw",
        "Meeting",
        "LayoutSwitchChanged",
        "switch_type:=3",
    ];
    let lines = daemon.ctl_json(&alias, 0);
    assert_eq!(lines[0]["action"], "LayoutSwitchChanged");
    let layout = daemon.query(&[
        "Meeting",
        "LayoutInfo",
        "LayoutSwitchInfo",
        "CurrentSwitchType",
    ]);
    assert_eq!(layout["data"]["current_switch_type"], 3);
}

#[test]
fn status_says_how_the_room_is() {
    let daemon = Daemon::start(None);
    let idle = daemon.ctl(&["status"]);
    assert!(idle.status.success());
    let idle = text(&idle.stdout);
    assert!(idle.starts_with("Idle: not in a meeting."), "{idle}");
    assert!(idle.contains("meeting service sim: reached"), "{idle}");
    daemon.ctl_json(JOIN, 0);
    let joined = text(&daemon.ctl(&["status"]).stdout);
    assert!(
        joined.starts_with("In meeting \"Weekly sync\" (111 222 333)"),
        "{joined}"
    );
}

#[test]
fn connection_errors_say_what_to_do() {
    let nobody = format!("127.0.0.1:{}", common::free_port());
    let refused = roomsctl(&["--url", &nobody, "status"]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains(&format!(
            "cannot connect to ws://{nobody}/: connection refused"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("is roomsd running?"), "{stderr}");

    let daemon = Daemon::start(None);
    let bare = daemon.url.trim_start_matches("ws://");
    let status = roomsctl(&["--url", bare, "--json", "query", "Meeting", "MeetingInfo"]);
    assert!(
        status.status.success(),
        "an address without ws:// is taken as ws://"
    );
}

#[test]
fn wrong_or_missing_password_exits_3() {
    let daemon = Daemon::start(Some("s3cr+t/="));
    let wrong = daemon.ctl(&["--password", "wrong", "query", "Meeting"]);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(
        text(&wrong.stderr).contains("wrong password (HTTP 401)"),
        "{wrong:?}"
    );
    let missing = daemon.ctl(&["query", "Meeting"]);
    assert_eq!(missing.status.code(), Some(3));
    let stderr = text(&missing.stderr);
    assert!(stderr.contains("needs a password (HTTP 401)"), "{stderr}");
    assert!(stderr.contains("--password or ROOMSD_PASSWORD"), "{stderr}");
    let right = daemon.ctl_json(&[&["--password", "s3cr+t/=", "query"], STATUS].concat(), 0);
    assert_eq!(right[0]["data"]["meeting_status"], 0);
}

#[test]
fn actions_and_help_come_from_the_registry() {
    let actions = roomsctl(&["actions", "meeting"]);
    assert!(actions.status.success());
    let listing = text(&actions.stdout);
    assert!(
        listing.contains("JoinMeeting          async: ends with JoinMeetingCompleted"),
        "{listing}"
    );
    assert!(
        listing.contains("switch_type:=                  number, 1 to 7, required"),
        "{listing}"
    );

    let help = roomsctl(&["call", "Meeting", "--help"]);
    assert!(help.status.success());
    assert!(text(&help.stdout).contains("SwitchLayout"), "{help:?}");
    let help = roomsctl(&["call", "device", "set_speaker_volume", "--help"]);
    assert!(text(&help.stdout).contains("volume:="), "{help:?}");
}

#[test]
fn completions_and_man_page_need_no_daemon() {
    let bash = roomsctl(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = text(&bash.stdout);
    assert!(script.contains("complete -F _roomsctl"), "{script}");
    for word in [
        "query",
        "call",
        "watch",
        "status",
        "MeetingControl",
        "JoinMeeting",
        "meeting_code=",
    ] {
        assert!(script.contains(word), "{word} completes");
    }
    // Every module and action of the registry completes, whatever was added since.
    let named = roomsd::modules::MODULES
        .iter()
        .filter(|m| !m.events.is_empty() || !m.actions.is_empty());
    for module in named {
        assert!(script.contains(module.name), "{} completes", module.name);
        for action in module.actions {
            assert!(script.contains(action.name), "{} completes", action.name);
        }
    }

    let man = roomsctl(&["man"]);
    assert!(man.status.success());
    let page = text(&man.stdout);
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
