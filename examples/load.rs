//! The large-meeting load scenario: a roomsd process in a simulated meeting of many people
//! who come and go, panels subscribed to `MembersChanged`, and one client paging through
//! `Query ["Members"]`. Prints the bytes each panel receives, the event sizes, the query
//! latency, and the daemon's CPU and RSS, and checks that no panel lost an event (each
//! keeps the list by the deltas and must hold as many members as every event counts).
//!
//! ```text
//! cargo build --release && cargo run --release --example load -- --participants 1000 \
//!     --churn-ms 20 --panels 10 --secs 10
//! ```
//!
//! `--full-list` turns `[compat] members_changed_list` on (the whole list in every event, as
//! before the deltas), to compare.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct Args {
    participants: u32,
    churn_ms: u64,
    panels: usize,
    secs: u64,
    coalesce_ms: u64,
    full_list: bool,
}

fn args() -> Args {
    let mut a = Args {
        participants: 1000,
        churn_ms: 20,
        panels: 10,
        secs: 10,
        coalesce_ms: 50,
        full_list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().expect("a value after the flag");
        match flag.as_str() {
            "--participants" => a.participants = value().parse().expect("a number"),
            "--churn-ms" => a.churn_ms = value().parse().expect("a number"),
            "--panels" => a.panels = value().parse().expect("a number"),
            "--secs" => a.secs = value().parse().expect("a number"),
            "--coalesce-ms" => a.coalesce_ms = value().parse().expect("a number"),
            "--full-list" => a.full_list = true,
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// The roomsd binary built beside this example (`target/<profile>/roomsd`).
fn roomsd_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join("roomsd");
    assert!(
        path.exists(),
        "build roomsd first: cargo build --release ({path:?})"
    );
    path
}

/// (CPU seconds, RSS in KiB) of a process, from /proc.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    (ticks / 100.0, rss)
}

/// The daemon goes with the tool, even when the tool panics.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Ws {
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connects")
        .0
}

async fn request(ws: &mut Ws, method: &str, params: Value) -> Value {
    let text = json!({"jsonrpc": "2.0", "id": "l", "method": method, "params": params}).to_string();
    ws.send(Message::Text(text.into())).await.unwrap();
    loop {
        let Some(Ok(Message::Text(frame))) = ws.next().await else {
            panic!("connection closed")
        };
        let frame: Value = serde_json::from_str(&frame).unwrap();
        if frame["id"] == "l" {
            return frame["result"].clone();
        }
    }
}

#[derive(Default, Debug)]
struct PanelReport {
    bytes: usize,
    sizes: Vec<usize>,
    inconsistent: usize,
}

/// A panel: the list from the Query, then every MembersChanged applied until `until`.
async fn panel(url: String, until: Instant) -> PanelReport {
    let mut ws = connect(&url).await;
    request(
        &mut ws,
        "Subscribe",
        json!({"path": ["Meeting", "MembersChanged"]}),
    )
    .await;
    let members = request(&mut ws, "Query", json!({"path": ["Members"]})).await;
    let mut kept: HashMap<String, ()> = HashMap::new();
    for m in members["data"]["user_list_info"].as_array().unwrap() {
        kept.insert(m["user_id"].as_str().unwrap().into(), ());
    }
    let mut report = PanelReport::default();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until.into(), ws.next()).await {
        let Message::Text(frame) = message else {
            continue;
        };
        report.bytes += frame.len();
        report.sizes.push(frame.len());
        let frame: Value = serde_json::from_str(&frame).unwrap();
        let data = &frame["params"]["data"];
        for m in data["joined"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(data["updated"].as_array().into_iter().flatten())
        {
            kept.insert(m["user_id"].as_str().unwrap().into(), ());
        }
        for id in data["left"].as_array().into_iter().flatten() {
            kept.remove(id.as_str().unwrap());
        }
        if data["member_count"]["in_meeting"].as_u64() != Some(kept.len() as u64) {
            report.inconsistent += 1;
        }
    }
    report
}

#[tokio::main]
async fn main() {
    let a = args();
    let mut config = tempfile::NamedTempFile::new().unwrap();
    write!(
        config,
        "[server]\nlisten = \"127.0.0.1:0\"\nmax_unsent_bytes = 67108864\n\
         [members]\ncoalesce_ms = {}\n[compat]\nmembers_changed_list = {}\n\
         [sim]\njoin_delay_ms = 10\n[[sim.meetings]]\ncode = \"900100200\"\ntitle = \"Load\"\n\
         participants = {}\nchurn_ms = {}\nroom_is_host = true\n",
        a.coalesce_ms, a.full_list, a.participants, a.churn_ms
    )
    .unwrap();
    let mut child = std::process::Command::new(roomsd_path())
        .args([
            "--config",
            config.path().to_str().unwrap(),
            "--log-format",
            "text",
        ])
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roomsd starts");
    let pid = child.id();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let child = KillOnDrop(child);
    const READY: &str = "ready: serving the Rooms protocol on ";
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            let rest = &l[l.find(READY)? + READY.len()..];
            Some(rest.split_whitespace().next()?.to_owned())
        })
        .expect("a ready line");
    std::thread::spawn(move || lines.for_each(drop));

    let mut control = connect(&url).await;
    request(
        &mut control,
        "Subscribe",
        json!({"path": ["Meeting", "JoinMeetingCompleted"]}),
    )
    .await;
    request(
        &mut control,
        "Call/Meeting",
        json!({"action": "JoinMeeting", "action_params": {"meeting_code": "900100200"}}),
    )
    .await;
    while let Some(Ok(Message::Text(frame))) = control.next().await {
        if frame.contains("JoinMeetingCompleted") {
            break;
        }
    }

    let started = Instant::now();
    let until = started + Duration::from_secs(a.secs);
    let (cpu_before, _) = usage(pid);
    let panels: Vec<_> = (0..a.panels)
        .map(|_| tokio::spawn(panel(url.clone(), until)))
        .collect();
    // A driver paging through the list meanwhile.
    let mut times = Vec::new();
    let mut page = 0u64;
    while Instant::now() < until {
        let begin = (page * 20) % u64::from(a.participants);
        let asked = Instant::now();
        request(
            &mut control,
            "Query",
            json!({"path": ["Members"], "begin": begin, "count": 20}),
        )
        .await;
        times.push(asked.elapsed());
        page += 1;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (cpu_after, rss) = usage(pid);
    let elapsed = started.elapsed().as_secs_f64();
    let mut sizes = Vec::new();
    let mut bytes = Vec::new();
    let mut inconsistent = 0;
    for p in panels {
        let report = p.await.unwrap();
        bytes.push(report.bytes as f64 / elapsed);
        sizes.extend(report.sizes);
        inconsistent += report.inconsistent;
    }
    drop(child);
    sizes.sort_unstable();
    times.sort();
    let median = |v: &[usize]| v.get(v.len() / 2).copied().unwrap_or(0);
    println!(
        "{} participants, churn every ~{} ms, {} panels, {:.1} s, coalesce {} ms, whole list in events: {}",
        a.participants, a.churn_ms, a.panels, elapsed, a.coalesce_ms, a.full_list
    );
    println!(
        "events per panel: {}; event size median {} B, max {} B",
        sizes.len() / a.panels.max(1),
        median(&sizes),
        sizes.last().copied().unwrap_or(0)
    );
    println!(
        "bytes/s per panel: min {:.0}, max {:.0}",
        bytes.iter().copied().fold(f64::MAX, f64::min),
        bytes.iter().copied().fold(0.0, f64::max)
    );
    println!(
        "Query [\"Members\"] page of 20: median {:?}, p99 {:?} ({} queries)",
        times.get(times.len() / 2).copied().unwrap_or_default(),
        times
            .get(times.len() * 99 / 100)
            .copied()
            .unwrap_or_default(),
        times.len()
    );
    println!(
        "daemon: CPU {:.1} % of a core, RSS {:.1} MB",
        (cpu_after - cpu_before) / elapsed * 100.0,
        rss as f64 / 1024.0
    );
    println!("events that disagreed with a panel's kept list (lost or wrong): {inconsistent}");
}
