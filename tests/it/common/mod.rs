//! Test harness: a real daemon on a loopback port and a raw WebSocket client that sees the exact
//! bytes on the wire.
#![allow(dead_code)]

pub mod easemob_fake;
pub mod fake_http;
pub mod hiar_fake;
pub mod kedacom_fake;
pub mod mosquitto;
pub mod relay;
pub mod rsc_fake;

use roomsd::backend::sim::SimConfig;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roomsd::backend::sim::{MeetingCode, SimMeeting};
use roomsd::config::Config;
use roomsd::daemon::Daemon;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(5);

/// Meetings with fixed times, so whole responses can be compared byte for byte.
pub fn meeting(code: &str, title: &str) -> SimMeeting {
    SimMeeting {
        code: MeetingCode(code.into()),
        title: title.into(),
        participants: 2,
        begin_time: 1_700_000_000,
        end_time: 1_700_003_600,
        ..SimMeeting::default()
    }
}

/// The test configuration: a free port, fast joins, and one meeting of each behaviour.
pub fn config() -> Config {
    let mut c = Config::default();
    c.server.listen = "127.0.0.1:0".parse().unwrap();
    c.services.edit::<SimConfig>().join_delay_ms = 50;
    c.backend.timeout_ms.0 = 2000;
    c.services.edit::<SimConfig>().meetings = vec![
        meeting("111222333", "Weekly sync"),
        SimMeeting {
            password: "1234".into(),
            ..meeting("222333444", "Board review")
        },
        SimMeeting {
            waiting_room: true,
            admit_after_ms: 300,
            ..meeting("333444555", "All hands")
        },
        SimMeeting {
            locked: true,
            ..meeting("444555666", "Locked review")
        },
        SimMeeting {
            room_is_host: true,
            participants: 0,
            ..meeting("555666777", "Alone")
        },
        SimMeeting {
            host_ends_after_ms: 300,
            ..meeting("666777888", "Short")
        },
        SimMeeting {
            waiting_room: true,
            admit_after_ms: 0,
            ..meeting("777888999", "Never admitted")
        },
    ];
    c
}

pub async fn start(config: Config) -> Daemon {
    Daemon::start(config).await.expect("daemon starts")
}

pub async fn start_default() -> Daemon {
    start(config()).await
}

/// A daemon on a meeting service, and a panel subscribed to `modules`, once the service is
/// reached.
pub async fn room_on_service(config: Config, modules: &[&str]) -> (Daemon, Client) {
    let daemon = start(config).await;
    let mut panel = Client::connect(daemon.local_addr()).await;
    for module in modules {
        panel.subscribe(&[module]).await;
    }
    panel.wait_backend(|b| b["connected"] == true).await;
    (daemon, panel)
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Events that arrived while waiting for a reply, kept for [`Client::event`].
    pending_events: std::collections::VecDeque<String>,
}

const EVENT_PREFIX: &str = r#"{"jsonrpc": "2.0", "method": "Event/"#;

pub fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, None).await.expect("connects")
    }

    /// Connects offering `protocol` as `Sec-WebSocket-Protocol`.
    pub async fn connect_with(
        addr: SocketAddr,
        protocol: Option<&str>,
    ) -> Result<Self, tungstenite::Error> {
        let mut request = url(addr).into_client_request().unwrap();
        if let Some(p) = protocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self {
            ws,
            pending_events: Default::default(),
        })
    }

    pub async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("sends");
    }

    pub async fn send_message(&mut self, message: Message) {
        self.ws.send(message).await.expect("sends");
    }

    /// The next message of any kind, within [`WAIT`].
    pub async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(WAIT, self.ws.next()).await {
            Ok(Some(Ok(message))) => Some(message),
            Ok(Some(Err(_)) | None) => None,
            Err(_) => panic!("nothing arrived within {WAIT:?}"),
        }
    }

    /// The next text frame, exactly as sent.
    pub async fn recv(&mut self) -> String {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => return text.to_string(),
                Some(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Whether a text frame arrives within `within`.
    pub async fn nothing_within(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.ws.next()).await.is_err()
    }

    /// Sends a request and returns the raw reply; events that come first are kept for later.
    pub async fn raw(&mut self, text: &str) -> String {
        self.send(text).await;
        loop {
            let frame = self.recv().await;
            if !frame.starts_with(EVENT_PREFIX) {
                return frame;
            }
            self.pending_events.push_back(frame);
        }
    }

    /// Sends `method` with `params` and id `"t"`, returns the parsed `result`.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let request =
            serde_json::json!({"jsonrpc": "2.0", "id": "t", "method": method, "params": params});
        let reply: Value = serde_json::from_str(&self.raw(&request.to_string()).await).unwrap();
        assert_eq!(reply["id"], "t", "reply to our request: {reply}");
        reply["result"].clone()
    }

    pub async fn query(&mut self, path: &[&str]) -> Value {
        self.call("Query", serde_json::json!({ "path": path }))
            .await
    }

    /// `Call/Meeting` with an action; the acknowledgement's `error_code`.
    pub async fn meeting(&mut self, action: &str, params: Value) -> u64 {
        let mut p = serde_json::json!({ "action": action });
        if !params.is_null() {
            p["action_params"] = params;
        }
        let ack = self.call("Call/Meeting", p).await;
        assert_eq!(ack["action"], action);
        ack["error_code"].as_u64().unwrap()
    }

    pub async fn subscribe(&mut self, path: &[&str]) -> Value {
        self.call("Subscribe", serde_json::json!({ "path": path }))
            .await
    }

    /// The next event frame's `params`, whatever its name; `Event/<Module>` as `"module"`.
    pub async fn next_event(&mut self) -> Value {
        loop {
            let frame = match self.pending_events.pop_front() {
                Some(frame) => frame,
                None => self.recv().await,
            };
            if frame.starts_with(EVENT_PREFIX) {
                let frame: Value = serde_json::from_str(&frame).unwrap();
                let mut params = frame["params"].clone();
                params["module"] = frame["method"].as_str().unwrap()["Event/".len()..].into();
                return params;
            }
        }
    }

    /// The next event's `params`, skipping other events until one named `name` arrives.
    pub async fn event(&mut self, name: &str) -> Value {
        let frame: Value = serde_json::from_str(&self.event_raw(name).await).unwrap();
        frame["params"].clone()
    }

    /// The next frame that is the event `name`, exactly as sent.
    pub async fn event_raw(&mut self, name: &str) -> String {
        let marker = format!(r#""sub_event": "{name}""#);
        loop {
            let frame = match self.pending_events.pop_front() {
                Some(frame) => frame,
                None => self.recv().await,
            };
            if frame.contains(&marker) {
                return frame;
            }
        }
    }

    /// The next event of each name, in whatever order they come (events from different
    /// sources, such as an action's outcome and the service's report of its effect, are not
    /// ordered with each other).
    pub async fn events_any_order(&mut self, names: &[&str]) -> Vec<Value> {
        let mut found: Vec<Option<Value>> = vec![None; names.len()];
        while found.iter().any(Option::is_none) {
            let frame = match self.pending_events.pop_front() {
                Some(frame) => frame,
                None => self.recv().await,
            };
            let Ok(frame) = serde_json::from_str::<Value>(&frame) else {
                continue;
            };
            let name = &frame["params"]["sub_event"];
            if let Some(i) = (0..names.len()).find(|&i| found[i].is_none() && name == names[i]) {
                found[i] = Some(frame["params"].clone());
            }
        }
        found.into_iter().flatten().collect()
    }

    pub async fn status(&mut self) -> u64 {
        self.query(&["Meeting", "MeetingInfo", "MeetingStatus"])
            .await["data"]["meeting_status"]
            .as_u64()
            .unwrap()
    }

    /// Joins a meeting and waits until the room is in it.
    pub async fn join_meeting(&mut self, code: &str) -> Value {
        self.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
        let event = self.join(code, "").await;
        assert_eq!(event["error_code"], 0, "{event}");
        event
    }

    /// Sends JoinMeeting, which must be acknowledged, and returns its outcome event, whatever
    /// its code (the client must be subscribed to it).
    pub async fn join(&mut self, code: &str, password: &str) -> Value {
        let ack = self
            .meeting(
                "JoinMeeting",
                serde_json::json!({"meeting_code": code, "password": password}),
            )
            .await;
        assert_eq!(ack, 0);
        self.event("JoinMeetingCompleted").await
    }

    /// Waits (up to twice [`WAIT`]) until `Query ["Backend"]` satisfies `ok`; the node then.
    pub async fn wait_backend(&mut self, ok: impl Fn(&Value) -> bool) -> Value {
        let poll = async {
            loop {
                let backend = self.query(&["Backend"]).await["data"]["backend"].clone();
                if ok(&backend) {
                    return backend;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(WAIT * 2, poll)
            .await
            .expect("the backend reached the state")
    }

    /// `Call/MeetingControl` with an action; the acknowledgement.
    pub async fn control(&mut self, action: &str, params: Value) -> Value {
        let mut p = serde_json::json!({ "action": action });
        if !params.is_null() {
            p["action_params"] = params;
        }
        self.call("Call/MeetingControl", p).await
    }

    /// The close frame the server ends with.
    pub async fn close_frame(&mut self) -> Option<CloseFrame> {
        loop {
            match self.next_message().await {
                Some(Message::Close(frame)) => return frame,
                Some(Message::Text(_) | Message::Ping(_) | Message::Pong(_)) => {}
                None => return None,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }
}

/// Without `--config`, roomsd reads `/etc/roomsd/roomsd.toml` when it exists: on a machine with
/// the package installed the tests would run against that file. An empty file is the built-in
/// defaults.
pub const NO_SYSTEM_CONFIG: [&str; 2] = ["--config", "/dev/null"];

/// Starts `roomsd` as a process on a loopback port the system picks, with `args` and `env`, and
/// returns it once its ready line says where it listens: no port is chosen before the daemon
/// binds it, so two tests can never race for one.
pub fn spawn_roomsd(args: &[&str], env: &[(&str, &str)]) -> (Running, SocketAddr) {
    let (running, addr, _log) = spawn_roomsd_logged(args, env);
    (running, addr)
}

/// [`spawn_roomsd`], with the daemon's log lines after the ready line, as they come.
pub fn spawn_roomsd_logged(
    args: &[&str],
    env: &[(&str, &str)],
) -> (Running, SocketAddr, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roomsd"));
    if !args.contains(&"--config") {
        command.args(NO_SYSTEM_CONFIG);
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("ROOMSD_PASSWORD")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("roomsd starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let running = Running(child);
    const READY: &str = "ready: serving the Rooms protocol on ws://";
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let at = line.find(READY)? + READY.len();
            line[at..].split('/').next()?.parse().ok()
        })
        .expect("a ready line naming the address");
    // Keep draining the log so the daemon never blocks on a full pipe, whether or not anyone
    // reads the lines.
    let (log, log_lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = log.send(line);
        }
    });
    (running, addr, log_lines)
}

/// A loopback port nobody is listening on, where a port must be chosen beforehand (socket
/// activation); prefer [`spawn_roomsd`].
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A daemon process, killed if a test fails before stopping it.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
