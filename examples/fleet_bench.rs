//! The fleet benchmark (issue 17): N roomsd processes (simulator backend, each with its own
//! port, state directory and configuration file) on one local Mosquitto, and one fleet
//! subscriber. Prints how long until all N are visible, a call's round trip through the broker
//! and how soon a state change is visible (p50/p99), how long after a broker restart all N are
//! back with fresh retained state, the RSS the MQTT link adds per room, and the idle traffic.
//!
//! ```text
//! apt-get install mosquitto
//! cargo build --release && cargo run --release --example fleet_bench -- --rooms 200
//! ```
//!
//! Flags: `--rooms N` (200), `--calls N` (500), `--idle-secs N` (10), `--baseline N` rooms
//! started without MQTT to compare RSS (20).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, Publish, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

mod common;

use clap::Parser;
use common::{KillOnDrop, roomsd_path, rss_kib};

#[derive(Parser)]
#[command(about = "The fleet benchmark: N roomsd processes on one local Mosquitto")]
struct Args {
    /// Rooms (roomsd processes) on the broker.
    #[arg(long, default_value_t = 200)]
    rooms: usize,
    /// Calls made through the broker, spread over the rooms.
    #[arg(long, default_value_t = 500)]
    calls: usize,
    /// How long the idle traffic is counted.
    #[arg(long, default_value_t = 10)]
    idle_secs: u64,
    /// Rooms started without MQTT, to compare RSS with.
    #[arg(long, default_value_t = 20)]
    baseline: usize,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_broker(conf: &Path, port: u16) -> KillOnDrop {
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto starts (apt-get install mosquitto)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    KillOnDrop(child)
}

fn start_room(roomsd: &Path, dir: &Path, i: usize, broker: Option<u16>) -> KillOnDrop {
    let state = dir.join(format!("state-{i}"));
    std::fs::create_dir_all(&state).unwrap();
    let mut conf = format!(
        "[room]\nname = \"Room {i}\"\nstate_dir = \"{}\"\n",
        state.display()
    );
    if let Some(port) = broker {
        conf.push_str(&format!(
            "[mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\nroom_id = \"room-{i:04}\"\n\
             calls = [\"Device/SetSpeakerVolume\"]\n"
        ));
    }
    let file = dir.join(format!("room-{i}.toml"));
    std::fs::write(&file, conf).unwrap();
    let child = Command::new(roomsd)
        .arg("--config")
        .arg(&file)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("roomsd starts");
    KillOnDrop(child)
}

/// A fleet subscriber: every message through a channel, with when it arrived.
struct Subscriber {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<(Instant, Publish)>,
}

/// Sends `frame` to `room`'s request topic, answered on `bench/replies` with `correlation`.
async fn request(client: &AsyncClient, room: &str, frame: &Value, correlation: u64) {
    let properties = PublishProperties {
        response_topic: Some("bench/replies".into()),
        correlation_data: Some(correlation.to_be_bytes().to_vec().into()),
        ..PublishProperties::default()
    };
    client
        .publish_with_properties(
            format!("rooms/{room}/request"),
            QoS::AtLeastOnce,
            false,
            frame.to_string(),
            properties,
        )
        .await
        .unwrap();
}

async fn subscriber(port: u16, filters: &[&str]) -> Subscriber {
    let mut options = MqttOptions::new(
        format!("bench-{}", rand::random::<u32>()),
        "127.0.0.1",
        port,
    );
    roomsd::fleet::tune_options(&mut options);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(Some(16 * 1024 * 1024));
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let (tx, incoming) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send((Instant::now(), p)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    for filter in filters {
        client.subscribe(*filter, QoS::AtLeastOnce).await.unwrap();
    }
    Subscriber { client, incoming }
}

fn topic(p: &Publish) -> String {
    String::from_utf8_lossy(&p.topic).into_owned()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Waits until every room id has been seen in a message `wanted` accepts; the time it took.
async fn until_all(
    sub: &mut Subscriber,
    rooms: usize,
    since: Instant,
    wanted: impl Fn(&str, &[u8]) -> bool,
) -> Duration {
    let mut seen = HashSet::new();
    while seen.len() < rooms {
        let (at, p) = tokio::time::timeout(Duration::from_secs(60), sub.incoming.recv())
            .await
            .expect("all rooms within a minute")
            .unwrap();
        let t = topic(&p);
        if wanted(&t, &p.payload) {
            seen.insert(t.split('/').nth(1).unwrap_or_default().to_owned());
            if seen.len() == rooms {
                return at - since;
            }
        }
    }
    Duration::ZERO
}

#[tokio::main]
async fn main() {
    let a = Args::parse();
    let roomsd = roomsd_path();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_queued_messages 10000\nset_tcp_nodelay true\n"),
    )
    .unwrap();
    let mut broker = start_broker(&conf, port);
    println!(
        "fleet benchmark: {} rooms, Mosquitto on 127.0.0.1:{port}, {}",
        a.rooms,
        roomsd.display()
    );

    // 1. All rooms visible.
    let mut sub = subscriber(port, &["rooms/+/status"]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let mut rooms: Vec<KillOnDrop> = (0..a.rooms)
        .map(|i| start_room(&roomsd, dir.path(), i, Some(port)))
        .collect();
    let visible = until_all(&mut sub, a.rooms, start, |t, p| {
        t.ends_with("/status") && p == b"online"
    })
    .await;
    println!(
        "all {} rooms online, as a fleet subscriber sees them: {} after starting them",
        a.rooms,
        ms(visible)
    );
    drop(sub);
    let roomsctl = roomsd.with_file_name("roomsctl");
    if roomsctl.exists() {
        let started = Instant::now();
        let output = Command::new(&roomsctl)
            .args([
                "fleet",
                "--broker",
                &format!("mqtt://127.0.0.1:{port}"),
                "status",
                "--once",
            ])
            .output()
            .expect("roomsctl runs");
        let took = started.elapsed();
        let table = String::from_utf8_lossy(&output.stdout);
        let online = table
            .lines()
            .filter(|l| l.starts_with("room-") && l.contains(" online "))
            .count();
        println!(
            "roomsctl fleet status --once: {online} rooms online in its table, {} (300 ms of it waiting for quiet)",
            ms(took)
        );
    }

    // 2. Calls through the broker, and 3. state changes seen by a subscriber.
    let mut sub = subscriber(port, &["bench/replies", "rooms/+/state/Device"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while sub.incoming.try_recv().is_ok() {}
    let mut calls = Vec::with_capacity(a.calls);
    let mut changes = Vec::with_capacity(a.calls);
    for n in 0..a.calls {
        let room = format!("room-{:04}", n % a.rooms);
        // Never the volume the room has (50 at start): every call changes the state.
        let volume = 61 + (n / a.rooms) % 2;
        let frame = json!({"jsonrpc": "2.0", "id": n, "method": "Call/Device",
            "params": {"action": "SetSpeakerVolume", "action_params": {"volume": volume}}});
        let sent = Instant::now();
        request(&sub.client, &room, &frame, n as u64).await;
        let (mut answered, mut visible) = (None, None);
        while answered.is_none() || visible.is_none() {
            let (at, p) = tokio::time::timeout(Duration::from_secs(10), sub.incoming.recv())
                .await
                .expect("an answer within 10 s")
                .unwrap();
            let t = topic(&p);
            if t == "bench/replies" {
                let ours = p
                    .properties
                    .as_ref()
                    .and_then(|p| p.correlation_data.as_deref())
                    == Some(&(n as u64).to_be_bytes()[..]);
                if ours {
                    let reply: Value = serde_json::from_slice(&p.payload).unwrap();
                    assert_eq!(reply["result"]["error_code"], 0, "{reply}");
                    answered = Some(at - sent);
                }
            } else if t == format!("rooms/{room}/state/Device") {
                let state: Value = serde_json::from_slice(&p.payload).unwrap();
                if state["device"]["speaker_info"]["volume"] == volume {
                    visible = Some(at - sent);
                }
            }
        }
        calls.push(answered.unwrap());
        changes.push(visible.unwrap());
    }
    calls.sort();
    changes.sort();
    println!(
        "call round trip through the broker ({} calls): p50 {}, p99 {}, max {}",
        a.calls,
        ms(percentile(&calls, 0.5)),
        ms(percentile(&calls, 0.99)),
        ms(*calls.last().unwrap())
    );
    println!(
        "state change visible to a subscriber, from the call sent: p50 {}, p99 {}, max {}",
        ms(percentile(&changes, 0.5)),
        ms(percentile(&changes, 0.99)),
        ms(*changes.last().unwrap())
    );
    drop(sub);

    // 4. Idle traffic: every message on rooms/# while nothing happens.
    let mut sub = subscriber(port, &["rooms/#"]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    while sub.incoming.try_recv().is_ok() {}
    let idle_start = Instant::now();
    let mut idle: HashMap<String, usize> = HashMap::new();
    while idle_start.elapsed() < Duration::from_secs(a.idle_secs) {
        if let Ok(Some((_, p))) =
            tokio::time::timeout(Duration::from_millis(200), sub.incoming.recv()).await
        {
            let t = topic(&p);
            let kind = t.splitn(3, '/').nth(2).unwrap_or_default().to_owned();
            *idle.entry(kind).or_default() += 1;
        }
    }
    let total: usize = idle.values().sum();
    println!(
        "idle traffic over {} s from {} rooms: {total} messages {idle:?} (plus MQTT keepalives)",
        a.idle_secs, a.rooms
    );
    drop(sub);

    // What one room keeps on the broker: its retained messages and their bytes.
    let mut sub = subscriber(port, &["rooms/room-0000/#"]).await;
    let (mut count, mut bytes) = (0, 0);
    while let Ok(Some((_, p))) =
        tokio::time::timeout(Duration::from_millis(500), sub.incoming.recv()).await
    {
        if p.retain {
            count += 1;
            bytes += p.topic.len() + p.payload.len();
        }
    }
    println!("retained per idle room: {count} messages, {bytes} bytes (topics and payloads)");
    drop(sub);

    // 5. RSS: rooms with the link against rooms without it.
    let with: u64 = rooms.iter().map(|r| rss_kib(r.0.id())).sum::<u64>() / a.rooms as u64;
    let baseline: Vec<KillOnDrop> = (0..a.baseline)
        .map(|i| start_room(&roomsd, dir.path(), 100_000 + i, None))
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let without: u64 =
        baseline.iter().map(|r| rss_kib(r.0.id())).sum::<u64>() / a.baseline.max(1) as u64;
    drop(baseline);
    println!(
        "RSS per roomsd: {with} KiB with the MQTT link, {without} KiB without ({} rooms): {} KiB added",
        a.baseline,
        with as i64 - without as i64
    );

    // 6. Broker restart: killed (it keeps nothing), started again; all rooms back with fresh state.
    drop(broker);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restart = Instant::now();
    broker = start_broker(&conf, port);
    let mut sub = subscriber(port, &["rooms/+/state/Meeting"]).await;
    let back = until_all(&mut sub, a.rooms, restart, |t, _| {
        t.ends_with("/state/Meeting")
    })
    .await;
    println!(
        "broker restarted: all {} rooms' state retained again {} after it came back",
        a.rooms,
        ms(back)
    );

    // Calls sent after the recovery, one to every room: each is answered, none lost.
    let mut sub = subscriber(port, &["bench/replies"]).await;
    let sent = Instant::now();
    for i in 0..a.rooms {
        let frame =
            json!({"jsonrpc": "2.0", "id": i, "method": "Query", "params": {"path": ["Device"]}});
        request(&sub.client, &format!("room-{i:04}"), &frame, i as u64).await;
    }
    let mut answered = HashSet::new();
    while answered.len() < a.rooms {
        let Ok(Some((_, p))) =
            tokio::time::timeout(Duration::from_secs(10), sub.incoming.recv()).await
        else {
            break;
        };
        let reply: Value = serde_json::from_slice(&p.payload).unwrap();
        if reply["result"]["error_code"] == 0 {
            answered.insert(reply["id"].as_u64().unwrap_or(u64::MAX));
        }
    }
    println!(
        "after the restart, a call to every room: {}/{} answered ({} lost) in {}",
        answered.len(),
        a.rooms,
        a.rooms - answered.len(),
        ms(sent.elapsed())
    );
    rooms.clear();
    drop(broker);
}
