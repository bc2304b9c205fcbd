//! The `roomsd` binary as operators and packaging use it (roomsd(8), docs/CONFIGURATION.md).

use crate::common;

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use common::{Client, spawn_roomsd};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const ROOMSD: &str = env!("CARGO_BIN_EXE_roomsd");

/// `roomsd check-config` on a file holding `text`; the file is returned so its name can be
/// checked in the output.
fn check_config(text: &[u8]) -> (tempfile::NamedTempFile, std::process::Output) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text).unwrap();
    let out = Command::new(ROOMSD)
        .arg("check-config")
        .arg(file.path())
        .output()
        .unwrap();
    (file, out)
}

#[test]
fn printed_default_config_passes_check_config() {
    let out = Command::new(ROOMSD)
        .arg("print-default-config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let (_file, check) = check_config(&out.stdout);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn check_config_names_the_line_and_exits_2() {
    let (file, out) =
        check_config(b"[server]\nlisten = \"127.0.0.1:6295\"\n\n[screens]\ncount = 3\n");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 5") && stderr.contains("count must be 1 or 2"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&file.path().display().to_string()),
        "names the file: {stderr}"
    );
}

#[test]
fn man_page_has_the_operator_sections_and_no_missing_pages() {
    let out = Command::new(ROOMSD).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH roomsd 8"), "{page}");
    for section in [
        "COMMANDS",
        "\"CONFIGURATION\"",
        "\"FILES\"",
        "\"SIGNALS\"",
        "\"EXIT STATUS\"",
        "\"EXAMPLES\"",
    ] {
        assert!(
            page.contains(&format!(".SH {section}")),
            "{section}: {page}"
        );
    }
    assert!(
        !page.contains("roomsd-"),
        "no pages of subcommands, which do not exist: {page}"
    );
}

#[test]
fn version_is_printed() {
    let out = Command::new(ROOMSD).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[tokio::test]
async fn sigterm_closes_clients_with_1001_and_exits_0() {
    let (mut daemon, addr) = spawn_roomsd(&[], &[]);
    let mut client = Client::connect(addr).await;
    assert_eq!(client.status().await, 0);
    let killed = Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(client.close_frame().await.unwrap().code, CloseCode::Away);
    for _ in 0..100 {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("roomsd did not exit after SIGTERM");
}

#[tokio::test]
async fn password_from_the_environment_is_required() {
    let (_daemon, addr) = spawn_roomsd(&[], &[("ROOMSD_PASSWORD", "secret")]);
    assert!(Client::connect_with(addr, None).await.is_err());
    let mut client = Client::connect_with(addr, Some("auth-c2VjcmV0"))
        .await
        .unwrap();
    assert_eq!(client.status().await, 0);
}

#[test]
fn check_config_refuses_an_open_lan_without_a_password() {
    let (_file, out) = check_config(b"[server]\nlisten = \"0.0.0.0:6295\"\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.password"));
}

#[test]
fn check_config_names_a_bad_secret_without_showing_it() {
    for (text, secret, key) in [
        // A password written as a number: the TOML error would quote the line.
        (
            "[server]\nlisten = \"127.0.0.1:6295\"\npassword = 80211905\n",
            "80211905",
            "server.password",
        ),
        // Unterminated: a syntax error, for which TOML names no key.
        (
            "[server]\npassword = \"hunter2\n",
            "hunter2",
            "server.password",
        ),
        (
            "[backend]\nkind = \"kedacom\"\n\n[kedacom]\noauth_consumer_secret = [\"c0nsumer-s3cret\"]\n",
            "c0nsumer-s3cret",
            "kedacom.oauth_consumer_secret",
        ),
        (
            "[easemob]\nclient_secret = 4242\n",
            "4242",
            "easemob.client_secret",
        ),
    ] {
        let (_file, out) = check_config(text.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{text}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "the secret shows: {stderr}"
        );
        let line = text[..text.find(secret).unwrap()].matches('\n').count() + 1;
        assert!(
            stderr.contains(&format!("line {line}")) && stderr.contains(key),
            "line {line} and {key} are named: {stderr}"
        );
    }
}

/// docs/CONFIGURATION.md has a row for every key `print-default-config` prints, in the table of
/// its own section, so that a new key cannot go undocumented.
#[test]
fn the_configuration_reference_documents_every_key() {
    let out = Command::new(ROOMSD)
        .arg("print-default-config")
        .output()
        .unwrap();
    let defaults: toml::Table = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let reference = include_str!("../../docs/CONFIGURATION.md");
    // The text under a "## [section]" or "### [section]" heading, up to the next heading.
    let section = |name: &str| -> &str {
        let start = reference
            .find(&format!("# [{name}]\n"))
            .unwrap_or_else(|| panic!("no heading for [{name}]"));
        let body = &reference[start..];
        let body = &body[body.find('\n').unwrap()..];
        &body[..body.find("\n#").unwrap_or(body.len())]
    };
    let mut missing = Vec::new();
    for (name, value) in &defaults {
        let toml::Value::Table(keys) = value else {
            continue;
        };
        let text = section(name);
        for key in keys.keys() {
            // A row names its keys in backticks: "| `key` |" or "| `org`, `app` |".
            if !text.contains(&format!("`{key}`")) {
                missing.push(format!("{name}.{key}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/CONFIGURATION.md: {missing:?}"
    );
}

#[test]
fn a_server_that_could_take_no_client_does_not_check() {
    let (_file, out) = check_config(b"[server]\nmax_connections = 0\n");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("line 2") && text.contains("must be at least 1"),
        "{text}"
    );
}

/// What `journalctl -u roomsd` shows is each line's text: it must say which call and which
/// event, not only "call" and "event" (the fields are for collectors).
#[tokio::test]
async fn log_lines_say_which_call_and_which_event() {
    let (_roomsd, addr, log) = common::spawn_roomsd_logged(&["--log-format", "json"], &[]);
    let mut c = Client::connect(addr).await;
    c.subscribe(&["Meeting"]).await;
    c.join_meeting("111222333").await;
    let again = serde_json::json!({"meeting_code": "111222333", "password": ""});
    assert_eq!(c.meeting("JoinMeeting", again).await, 10001);
    // Every line up to a second of silence after the last request.
    let messages: Vec<serde_json::Value> =
        std::iter::from_fn(|| log.recv_timeout(Duration::from_secs(1)).ok())
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect();
    let texts: Vec<&str> = messages
        .iter()
        .map(|line| line["fields"]["message"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"call Call/Meeting JoinMeeting accepted"),
        "{texts:#?}"
    );
    assert!(
        texts.contains(&"event Meeting/JoinMeetingCompleted"),
        "{texts:#?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("call Call/Meeting JoinMeeting refused with 10001: ")),
        "{texts:#?}"
    );
    let event = messages
        .iter()
        .find(|line| line["fields"]["event"] == "JoinMeetingCompleted")
        .unwrap();
    assert_eq!(event["fields"]["module"], "Meeting", "{event}");
    assert_eq!(event["fields"]["code"], 0, "{event}");
}
