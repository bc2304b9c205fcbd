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
//! before the deltas), to compare; `--compat-list V` sets it to `V` (`false`, `100`, ...). `--waiting N --waiting-churn-ms MS` adds waiting-room
//! traffic.
//!
//! The tool must measure the daemon, not itself: the paging driver runs on a thread and
//! runtime of its own, so that the panels' parsing never delays its clock, and the panels
//! read only the fields they apply.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

mod common;

use clap::Parser;
use common::{KillOnDrop, cpu_secs, roomsd_path, rss_kib};

#[derive(Parser)]
#[command(about = "The large-meeting load scenario against a roomsd process")]
struct Args {
    /// People in the simulated meeting.
    #[arg(long, default_value_t = 1000)]
    participants: u32,
    /// About how often someone joins or leaves.
    #[arg(long, default_value_t = 20)]
    churn_ms: u64,
    /// Panels subscribed to the Members events.
    #[arg(long, default_value_t = 10)]
    panels: usize,
    /// How long the measurement runs.
    #[arg(long, default_value_t = 10)]
    secs: u64,
    /// `[members] coalesce_ms`.
    #[arg(long, default_value_t = 50)]
    coalesce_ms: u64,
    /// `[compat] members_changed_list = true`: the whole list in every event, as before the
    /// deltas.
    #[arg(long, conflicts_with = "compat_list")]
    full_list: bool,
    /// `[compat] members_changed_list` as written (`false`, `100`, ...).
    #[arg(long)]
    compat_list: Option<String>,
    /// People in the meeting's waiting room.
    #[arg(long, default_value_t = 0)]
    waiting: u32,
    /// About how often someone arrives in or leaves the waiting room.
    #[arg(long, default_value_t = 0)]
    waiting_churn_ms: u64,
}

/// (CPU seconds, RSS in KiB) of a process.
fn usage(pid: u32) -> (f64, u64) {
    (cpu_secs(pid), rss_kib(pid))
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

/// What a panel reads of an event: the rule of PROTOCOL.md §6.2 and the count.
#[derive(serde::Deserialize)]
struct EventFrame {
    params: EventParams,
}

#[derive(serde::Deserialize)]
struct EventParams {
    data: Delta,
}

#[derive(serde::Deserialize)]
struct Delta {
    #[serde(default)]
    joined: Vec<Id>,
    #[serde(default)]
    updated: Vec<Id>,
    #[serde(default)]
    left: Vec<String>,
    member_count: Count,
}

#[derive(serde::Deserialize)]
struct Id {
    user_id: String,
}

#[derive(serde::Deserialize)]
struct Count {
    in_meeting: usize,
}

/// When the measured window ends, set once every panel holds its list.
type Window = Arc<(tokio::sync::Barrier, OnceLock<Instant>)>;

/// A panel: the list from the Query, then every MembersChanged applied until the window ends.
async fn panel(url: String, window: Window) -> PanelReport {
    let mut ws = connect(&url).await;
    request(
        &mut ws,
        "Subscribe",
        json!({"path": ["Meeting", "MembersChanged"]}),
    )
    .await;
    let members = request(&mut ws, "Query", json!({"path": ["Members"]})).await;
    let mut kept: HashSet<String> = HashSet::new();
    for m in members["data"]["user_list_info"].as_array().unwrap() {
        kept.insert(m["user_id"].as_str().unwrap().into());
    }
    // Loading the whole list (1.7 MB in a meeting of 10,000) is not the steady state measured.
    window.0.wait().await;
    window.0.wait().await;
    let until = *window.1.get().expect("set between the two waits");
    let mut report = PanelReport::default();
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until.into(), ws.next()).await {
        let Message::Text(frame) = message else {
            continue;
        };
        report.bytes += frame.len();
        report.sizes.push(frame.len());
        let frame: EventFrame = serde_json::from_str(&frame).unwrap();
        let data = frame.params.data;
        for m in data.joined.into_iter().chain(data.updated) {
            kept.insert(m.user_id);
        }
        for id in &data.left {
            kept.remove(id);
        }
        if data.member_count.in_meeting != kept.len() {
            report.inconsistent += 1;
        }
    }
    report
}

/// The driver: pages through `Query ["Members"]` 20 at a time until `until`, on a thread and
/// runtime of its own; the time of each answer.
fn driver(url: String, participants: u32, until: Instant) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut ws = connect(&url).await;
        let mut times = Vec::new();
        let mut page = 0u64;
        while Instant::now() < until {
            let begin = (page * 20) % u64::from(participants.max(1));
            let asked = Instant::now();
            request(
                &mut ws,
                "Query",
                json!({"path": ["Members"], "begin": begin, "count": 20}),
            )
            .await;
            times.push(asked.elapsed());
            page += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        times
    })
}

#[tokio::main]
async fn main() {
    let mut a = Args::parse();
    if a.full_list {
        a.compat_list = Some("true".into());
    }
    let mut config = tempfile::NamedTempFile::new().unwrap();
    write!(
        config,
        "[server]\nlisten = \"127.0.0.1:0\"\nmax_unsent_bytes = 67108864\n\
         [members]\ncoalesce_ms = {}\n[compat]\n{}\n\
         [sim]\njoin_delay_ms = 10\n[[sim.meetings]]\ncode = \"900100200\"\ntitle = \"Load\"\n\
         participants = {}\nchurn_ms = {}\nwaiting = {}\nwaiting_churn_ms = {}\n\
         room_is_host = true\n",
        a.coalesce_ms,
        // Without --full-list or --compat-list, the daemon's default.
        a.compat_list
            .as_ref()
            .map(|v| format!("members_changed_list = {v}"))
            .unwrap_or_default(),
        a.participants,
        a.churn_ms,
        a.waiting,
        a.waiting_churn_ms
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
    let joining = Instant::now();
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
    let joined_in = joining.elapsed();

    let window: Window = Arc::new((tokio::sync::Barrier::new(a.panels + 1), OnceLock::new()));
    let panels: Vec<_> = (0..a.panels)
        .map(|_| tokio::spawn(panel(url.clone(), window.clone())))
        .collect();
    window.0.wait().await;
    let started = Instant::now();
    let until = started + Duration::from_secs(a.secs);
    window.1.set(until).unwrap();
    window.0.wait().await;
    let (cpu_before, _) = usage(pid);
    let participants = a.participants;
    let times = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || driver(url, participants, until))
            .await
            .unwrap()
    };
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
    let mut times = times;
    times.sort();
    let median = |v: &[usize]| v.get(v.len() / 2).copied().unwrap_or(0);
    println!(
        "{} participants, churn every ~{} ms, {} panels, {:.1} s, coalesce {} ms, members_changed_list: {}",
        a.participants,
        a.churn_ms,
        a.panels,
        elapsed,
        a.coalesce_ms,
        a.compat_list.as_deref().unwrap_or("the default")
    );
    println!("join: JoinMeetingCompleted after {joined_in:?}");
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
