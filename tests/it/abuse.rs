//! What a hostile client can do, tried over real sockets: idle sockets, ping floods and batch
//! amplification from clients that never read, foreign pages, password guessing and broken
//! frames. The floods run against a roomsd process, so that its peak memory is its own: it
//! must stay under 64 MB, and a real client must get in on its first try throughout. The
//! latency a bystander sees is printed beside the same run's quiet baseline, not asserted
//! (these machines are shared). `ROOMSD_ABUSE_SECS` sets how long each flood lasts (5 s by
//! default; the README's numbers come from 30 s, in a release build).

use crate::common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Client, Running, config, spawn_roomsd, start};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The daemon's peak resident memory under any attack must stay below this.
const RSS_LIMIT_KIB: u64 = 64 * 1024;

fn attack_time() -> Duration {
    let secs = std::env::var("ROOMSD_ABUSE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(secs)
}

/// A roomsd process with its default limits.
struct Process {
    running: Running,
    addr: SocketAddr,
}

impl Process {
    fn start() -> Self {
        // Quiet but for the ready line, which says where it listens.
        let (running, addr) = spawn_roomsd(&[], &[("RUST_LOG", "warn,roomsd::daemon=info")]);
        Self { running, addr }
    }

    /// The process's peak resident memory so far (`VmHWM`), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.running.0.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    fn is_running(&mut self) -> bool {
        self.running.0.try_wait().unwrap().is_none()
    }
}

/// What a well-behaved client saw: every connection attempt and the time of every Query.
#[derive(Default)]
struct Bystander {
    connects: u32,
    refused: u32,
    latencies: Vec<Duration>,
}

impl Bystander {
    /// Connects afresh again and again until `until`, each time querying a few times, the way
    /// a panel that comes and goes would.
    async fn run(addr: SocketAddr, until: Instant) -> Self {
        let mut seen = Self::default();
        while Instant::now() < until {
            seen.connects += 1;
            let Ok(mut client) = Client::connect_with(addr, None).await else {
                seen.refused += 1;
                continue;
            };
            for _ in 0..10 {
                let asked = Instant::now();
                let answer = client.query(&["Meeting", "MeetingInfo"]).await;
                seen.latencies.push(asked.elapsed());
                assert_eq!(answer["error_code"], 0, "{answer}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seen
    }

    fn p99(&self) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
    }
}

/// Runs `attack` against a fresh roomsd for [`attack_time`] while a bystander comes and goes;
/// checks that the bystander always got in and the daemon's memory stayed bounded, and prints
/// what the bystander's queries cost against a quiet baseline.
async fn under_attack<F, Fut>(name: &str, attack: F)
where
    F: Fn(SocketAddr, Instant, Arc<AttackStats>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut daemon = Process::start();
    let baseline = Bystander::run(daemon.addr, Instant::now() + Duration::from_secs(1)).await;
    let stats = Arc::new(AttackStats::default());
    let until = Instant::now() + attack_time();
    let attacker = tokio::spawn(attack(daemon.addr, until, stats.clone()));
    // Let the attack get going before the bystander's first try.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let during = Bystander::run(daemon.addr, until).await;
    attacker.await.unwrap();
    let peak = daemon.peak_rss_kib();
    assert!(daemon.is_running(), "{name}: roomsd died");
    println!(
        "{name}: {} s, attacker sent {} KiB over {} connections; roomsd peak RSS {} KiB; \
         bystander {} connects ({} refused), Query p99 {:?} (quiet: {:?}, {:.1}x)",
        attack_time().as_secs(),
        stats.bytes.load(Ordering::Relaxed) / 1024,
        stats.connections.load(Ordering::Relaxed),
        peak,
        during.connects,
        during.refused,
        during.p99(),
        baseline.p99(),
        during.p99().as_secs_f64() / baseline.p99().as_secs_f64(),
    );
    assert!(
        stats.connections.load(Ordering::Relaxed) > 0,
        "{name}: no attack was made"
    );
    assert_eq!(during.refused, 0, "{name}: a real client was refused");
    assert!(during.connects > 0);
    assert!(
        peak < RSS_LIMIT_KIB,
        "{name}: roomsd's peak RSS {peak} KiB is over {RSS_LIMIT_KIB} KiB"
    );
}

#[derive(Default)]
struct AttackStats {
    connections: AtomicU64,
    bytes: AtomicU64,
}

/// A TCP connection with a tiny receive window, so that a client that never reads pushes back
/// on the server at once.
async fn non_reading_socket(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    socket.connect(addr).await
}

/// Does the upgrade by hand and reads the response head; nothing else is ever read.
async fn raw_upgrade(stream: &mut TcpStream, extra_headers: &str) -> String {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n",
        stream.peer_addr().unwrap()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A client frame (masked, with a zero key so the payload reads as sent).
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first_byte];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    out
}

const TEXT: u8 = 0x81;
const PING: u8 = 0x89;

/// Writes `bytes` over and over until the server drops the connection or `until`; whether it
/// was dropped.
async fn flood(stream: &mut TcpStream, bytes: &[u8], until: Instant, stats: &AttackStats) -> bool {
    while Instant::now() < until {
        let wrote = tokio::time::timeout(Duration::from_millis(200), stream.write_all(bytes)).await;
        match wrote {
            Ok(Ok(())) => {
                stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Ok(Err(_)) => return true,
            // The server stopped reading: keep the pressure on until the end.
            Err(_) => {}
        }
    }
    false
}

/// `count` sockets from `source` that never send a byte, each reopened `pause` after the server
/// closes it.
async fn idle_sockets(
    addr: SocketAddr,
    source: [u8; 4],
    count: usize,
    pause: Duration,
    until: Instant,
    stats: Arc<AttackStats>,
) {
    let sockets = (0..count).map(|_| {
        let stats = stats.clone();
        tokio::spawn(async move {
            while Instant::now() < until {
                let socket = TcpSocket::new_v4().unwrap();
                socket.bind(SocketAddr::from((source, 0))).unwrap();
                let Ok(mut stream) = socket.connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                stats.connections.fetch_add(1, Ordering::Relaxed);
                let left = until.saturating_duration_since(Instant::now());
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(left, stream.read(&mut buf)).await;
                tokio::time::sleep(pause).await;
            }
        })
    });
    for socket in sockets.collect::<Vec<_>>() {
        socket.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_never_lock_out_a_real_client() {
    // On the room computer itself: 64 sockets, reopened a second after each is closed.
    under_attack("idle sockets, same address", |addr, until, stats| {
        idle_sockets(
            addr,
            [127, 0, 0, 1],
            64,
            Duration::from_secs(1),
            until,
            stats,
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_reopened_at_once_from_another_host_never_lock_out_a_real_client() {
    // Another host (127.0.0.2 stands for one on the LAN): 128 sockets, reopened at once.
    under_attack("idle sockets, another host", |addr, until, stats| {
        idle_sockets(addr, [127, 0, 0, 2], 128, Duration::ZERO, until, stats)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_from_a_client_that_never_reads_stays_bounded() {
    under_attack("ping flood", |addr, until, stats| async move {
        let pings: Vec<u8> = (0..512).flat_map(|_| frame(PING, &[0x55; 125])).collect();
        while Instant::now() < until {
            let Ok(mut stream) = non_reading_socket(addr).await else {
                continue;
            };
            stats.connections.fetch_add(1, Ordering::Relaxed);
            raw_upgrade(&mut stream, "").await;
            flood(&mut stream, &pings, until, &stats).await;
        }
    })
    .await;
}

/// A batch of `rpc.discover` calls just under the default frame limit: about 1,100 calls whose
/// replies would be 60 MB.
fn discover_batch() -> String {
    let call = r#"{"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}"#;
    let count = 60_000 / (call.len() + 2);
    format!("[{}]", vec![call; count].join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_amplification_from_a_client_that_never_reads_stays_bounded() {
    under_attack("batch amplification", |addr, until, stats| async move {
        let batch = frame(TEXT, discover_batch().as_bytes());
        while Instant::now() < until {
            let Ok(mut stream) = non_reading_socket(addr).await else {
                continue;
            };
            stats.connections.fetch_add(1, Ordering::Relaxed);
            raw_upgrade(&mut stream, "").await;
            flood(&mut stream, &batch, until, &stats).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_large_batch_is_cut_and_says_which_requests_did_not_run() {
    let daemon = start(config()).await;
    let mut client = Client::connect(daemon.local_addr()).await;
    let calls: Vec<String> = (0..1000)
        .map(|n| format!(r#"{{"jsonrpc": "2.0", "id": {n}, "method": "rpc.discover"}}"#))
        .collect();
    let reply = client.raw(&format!("[{}]", calls.join(", "))).await;
    let limit = roomsd::config::Config::default()
        .server
        .max_batch_reply_bytes
        .get();
    let replies: Vec<Value> = serde_json::from_str(&reply).unwrap();
    assert_eq!(replies.len(), 1000, "every request is answered");
    let ran = replies
        .iter()
        .take_while(|r| r.get("result").is_some())
        .count();
    assert!(ran > 0 && ran < 1000, "{ran} of 1000 ran");
    let one = reply.len() / 1000; // far above an error's size, below a result's
    assert!(
        reply.len() < limit + 1000 * one.min(200) + 200_000,
        "{} bytes",
        reply.len()
    );
    for (n, cut) in replies.iter().enumerate().skip(ran) {
        assert_eq!(cut["id"], n, "the ids say which requests to send again");
        assert_eq!(cut["error"]["code"], -32000, "{cut}");
        assert!(
            cut["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Not run")
        );
    }
    // A batch within the limit is answered in full, and the connection goes on.
    let small = client
        .raw(r#"[{"jsonrpc": "2.0", "id": "a", "method": "Query", "params": {"path": ["Meeting", "MeetingInfo"]}}]"#)
        .await;
    assert!(small.contains(r#""error_code": 0"#), "{small}");
}

/// An upgrade with the given extra header lines; the status code of the answer.
async fn upgrade_status(addr: SocketAddr, extra_headers: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = raw_upgrade(&mut stream, extra_headers).await;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut body = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read_to_string(&mut body)).await;
    (status, body)
}

#[tokio::test]
async fn foreign_pages_cannot_drive_the_room() {
    let daemon = start(config()).await;
    let addr = daemon.local_addr();
    let (status, body) = upgrade_status(addr, "Origin: http://evil.example\r\n").await;
    assert_eq!(status, 403);
    assert!(body.contains("server.allowed_origins"), "{body}");

    // What the page would have sent, had it got in, never runs.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = raw_upgrade(&mut stream, "Origin: http://evil.example\r\n").await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let set = r#"{"jsonrpc": "2.0", "id": 1, "method": "Call/Device", "params": {"action": "SetSpeakerVolume", "action_params": {"volume": 3}}}"#;
    let _ = stream.write_all(&frame(TEXT, set.as_bytes())).await;
    let mut client = Client::connect(addr).await;
    let device = client.query(&["Device"]).await;
    assert_ne!(
        device["data"]["device"]["speaker_info"]["volume"], 3,
        "{device}"
    );

    // Without an Origin (drivers, scripts, roomsctl) nothing changes.
    assert_eq!(upgrade_status(addr, "").await.0, 101);
}

#[tokio::test]
async fn listed_origins_and_the_panels_own_may_connect() {
    let mut cfg = config();
    cfg.server.panel = true;
    cfg.server.allowed_origins = vec!["https://panel.example:8443".into()];
    let daemon = start(cfg).await;
    let addr = daemon.local_addr();
    let own = format!("Origin: http://{addr}\r\n");
    assert_eq!(
        upgrade_status(addr, &own).await.0,
        101,
        "the panel's own pages"
    );
    let listed = "Origin: https://panel.example:8443\r\n";
    assert_eq!(upgrade_status(addr, listed).await.0, 101);
    let other = "Origin: https://panel.example:9999\r\n";
    assert_eq!(upgrade_status(addr, other).await.0, 403);
}

fn password_config() -> roomsd::config::Config {
    let mut cfg = config();
    cfg.server.password = "secret".into();
    cfg
}

const WRONG: &str = "Sec-WebSocket-Protocol: auth-d3Jvbmc=\r\n";
/// "secret" in Base64.
const RIGHT: &str = "Sec-WebSocket-Protocol: auth-c2VjcmV0\r\n";

#[tokio::test]
async fn password_guessing_is_slowed_down_and_the_right_one_still_gets_in() {
    let daemon = start(password_config()).await;
    let addr = daemon.local_addr();
    let mut took = Vec::new();
    for _ in 0..6 {
        let asked = Instant::now();
        assert_eq!(upgrade_status(addr, WRONG).await.0, 401);
        took.push(asked.elapsed());
    }
    // The first three are answered at once; then 250 ms, 500 ms, 1 s after the one before.
    assert!(took[3] >= Duration::from_millis(200), "{took:?}");
    assert!(took[5] >= Duration::from_millis(900), "{took:?}");
    assert_eq!(upgrade_status(addr, RIGHT).await.0, 101);
    assert_eq!(
        upgrade_status(addr, WRONG).await.0,
        401,
        "the right one started the address afresh"
    );
}

#[tokio::test]
async fn many_connections_do_not_guess_faster() {
    let daemon = start(password_config()).await;
    let addr = daemon.local_addr();
    for _ in 0..3 {
        assert_eq!(upgrade_status(addr, WRONG).await.0, 401);
    }
    let side_by_side: Vec<_> = (0..12)
        .map(|_| tokio::spawn(upgrade_status(addr, WRONG)))
        .collect();
    let mut statuses = Vec::new();
    for attempt in side_by_side {
        statuses.push(attempt.await.unwrap());
    }
    let checked = statuses.iter().filter(|(s, _)| *s == 401).count();
    let turned_away: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert!(
        checked <= 4,
        "{checked} of 12 checked at once: {statuses:?}"
    );
    assert_eq!(checked + turned_away.len(), 12, "{statuses:?}");
    assert!(
        turned_away[0].1.contains("try again in"),
        "{:?}",
        turned_away[0]
    );
}

#[tokio::test]
async fn sockets_in_the_handshake_do_not_take_the_clients_places() {
    let mut cfg = config();
    cfg.server.max_connections.0 = 1;
    cfg.server.max_handshakes.0 = 4;
    let daemon = start(cfg).await;
    let addr = daemon.local_addr();
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // The one place for a client is still free, and the oldest idle sockets made room.
    let mut client = Client::connect(addr).await;
    assert_eq!(client.status().await, 0);
    let mut closed = 0;
    for mut socket in idle {
        let mut buf = [0u8; 16];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(500), socket.read(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert!(closed >= 6, "only {closed} of 10 idle sockets were closed");
    // With the place taken, the next client is told so.
    let second = Client::connect_with(addr, None).await;
    assert!(second.is_err(), "a second client over max_connections = 1");
}

/// Sends one raw frame after the upgrade; the close code the server answers with.
async fn close_code_after(bytes: &[u8]) -> Option<u16> {
    let daemon = start(config()).await;
    let mut stream = TcpStream::connect(daemon.local_addr()).await.unwrap();
    let head = raw_upgrade(&mut stream, "").await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    // The close frame: 0x88, length, then the code.
    let at = answer.iter().position(|&b| b == 0x88)?;
    let code = answer.get(at + 2..at + 4)?;
    Some(u16::from_be_bytes([code[0], code[1]]))
}

#[tokio::test]
async fn broken_frames_close_with_the_code_that_names_the_fault() {
    let invalid_utf8 = frame(TEXT, b"{\"jsonrpc\": \"2.0\", \"id\": \"\xff\xfe\"}");
    assert_eq!(
        close_code_after(&invalid_utf8).await,
        Some(u16::from(CloseCode::Invalid))
    );
    let mut unmasked = frame(TEXT, b"{}");
    unmasked[1] &= 0x7f;
    unmasked.drain(2..6);
    assert_eq!(
        close_code_after(&unmasked).await,
        Some(u16::from(CloseCode::Protocol))
    );
    let bad_opcode = frame(0x83, b"x");
    assert_eq!(
        close_code_after(&bad_opcode).await,
        Some(u16::from(CloseCode::Protocol))
    );
}

#[tokio::test]
async fn http_1_0_upgrades_are_refused() {
    let daemon = start(config()).await;
    let mut stream = TcpStream::connect(daemon.local_addr()).await.unwrap();
    let request = "GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("HTTP version must be 1.1 or higher"),
        "{answer}"
    );
}
