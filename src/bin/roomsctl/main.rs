//! `roomsctl`: command-line client for the Rooms control protocol that roomsd serves (roomsctl(1)).
//!
//! JSON-RPC (ids, answer matching, timeouts, notifications) is jsonrpsee's `WsClient`. The
//! WebSocket handshake is tokio-tungstenite's, plugged in through jsonrpsee's transport traits:
//! roomsd echoes the offered `Sec-WebSocket-Protocol: auth-…` (browsers require that), and
//! jsonrpsee's own soketto transport fails such a handshake with `UnsolicitedProtocol` because it
//! offers no way to declare the protocol as requested.

use std::fmt::Display;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use clap::{Parser, Subcommand};
use futures_util::stream::{self, SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use jsonrpsee::core::client::{
    ClientT, Error as RpcError, ReceivedMessage, SubscriptionClientT, TransportReceiverT,
    TransportSenderT,
};
use jsonrpsee::core::params::ObjectParams;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::{
    Error as WsError, Message, client::IntoClientRequest, http::HeaderValue,
    http::header::SEC_WEBSOCKET_PROTOCOL,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use roomsd::manpage::{self, Section};

const LONG_ABOUT: &str = "\
Command-line client for roomsd (the Rooms control protocol: JSON-RPC 2.0 over WebSocket).

Prints the JSON `result` of the request (or, for `watch`, each event's `params`), indented, or
one compact line each with --json.";

const EXIT_STATUS: &str = "\
Exit status:
  0  the server answered with error_code 0 (watch: stopped with Ctrl-C)
  1  the server answered with a non-zero error_code (the result is still printed)
  2  usage error
  3  connection failure: cannot connect, handshake refused (e.g. HTTP 401 for a wrong or
     missing password), no answer within --timeout, or connection lost";

/// The man page's sections beyond what clap describes.
const MAN_SECTIONS: &[Section] = &[
    Section {
        title: "ENVIRONMENT",
        roff: r#".TP
\fBROOMSD_PASSWORD\fR
The password, as \fB\-\-password\fR.
"#,
    },
    Section {
        title: "EXIT STATUS",
        roff: r#".TP
\fB0\fR
The server answered with error_code 0 (\fBwatch\fR: stopped with Ctrl\-C).
.TP
\fB1\fR
The server answered with a non\-zero error_code; the result is still printed.
.TP
\fB2\fR
A usage error.
.TP
\fB3\fR
A connection failure: cannot connect, the handshake was refused (HTTP 401 for a wrong or
missing password, 403 for a refused Origin, 429 after too many wrong passwords, 503 when the
server is full), no answer within \fB\-\-timeout\fR, or the connection was lost.
"#,
    },
    Section {
        title: "SIGNALS",
        roff: r#".TP
\fBSIGINT\fR
Ends \fBwatch\fR with exit status 0.
"#,
    },
    Section {
        title: "EXAMPLES",
        roff: r#".nf
roomsctl query Meeting MeetingInfo
roomsctl call Meeting JoinMeeting meeting_code=111222333 password=
roomsctl call Meeting SwitchLayout switch_type:=2
roomsctl call Device EnableMic enable:=false
roomsctl watch Meeting
roomsctl \-\-url ws://room\-101.example:6295 \-\-password secret query Backend
roomsctl \-\-json query Members
.fi
.PP
\fBkey=value\fR sends the JSON string "value"; \fBkey:=json\fR sends raw JSON.
"#,
    },
    Section {
        title: "FILES",
        roff: r#"Completion scripts, installed by the Debian package:
\fI/usr/share/bash\-completion/completions/roomsctl\fR,
\fI/usr/share/zsh/vendor\-completions/_roomsctl\fR,
\fI/usr/share/fish/vendor_completions.d/roomsctl.fish\fR.
The protocol and its error codes: \fI/usr/share/doc/roomsd/PROTOCOL.md\fR.
"#,
    },
    Section {
        title: "SEE ALSO",
        roff: "\\fBroomsd\\fR(8)\n",
    },
];

/// Modules whose events `watch` listens for; the server only sends what was subscribed to.
const EVENT_MODULES: [&str; 5] = ["Meeting", "Device", "MeetingControl", "Share", "Backend"];

/// Base64 characters that the browser form (`encodeURIComponent(btoa(pw))`) escapes.
const CREDENTIALS: &AsciiSet = &CONTROLS.add(b'+').add(b'/').add(b'=');

#[derive(Parser)]
#[command(
    name = "roomsctl",
    version,
    about = "Command-line client for roomsd",
    long_about = LONG_ABOUT,
    after_long_help = EXIT_STATUS
)]
struct Cli {
    /// WebSocket address of the daemon
    #[arg(long, global = true, default_value = "ws://127.0.0.1:6295")]
    url: String,
    /// Password, sent as `Sec-WebSocket-Protocol: auth-<base64>`; empty means none
    #[arg(long, global = true, env = "ROOMSD_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Print one compact JSON line per result or event
    #[arg(long, global = true)]
    json: bool,
    /// Seconds to wait for the handshake and for each answer
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a node of the state tree, e.g. `query Meeting MeetingInfo`; no path: every module
    Query { path: Vec<String> },
    /// Run an action, e.g. `call Meeting JoinMeeting meeting_code=111222333 password=`
    Call {
        /// Module, as in `Call/<MODULE>`
        module: String,
        /// Action name
        action: String,
        /// Action parameters, httpie-style: `key=value` sends the JSON string "value",
        /// `key:=json` sends raw JSON (`switch_type:=2`, `mic_enable:=false`)
        #[arg(value_name = "KEY=VALUE|KEY:=JSON", value_parser = parse_param)]
        params: Vec<(String, Value)>,
    },
    /// Subscribe to all events, a module (`watch Meeting`) or one event
    /// (`watch Meeting LeaveMeeting`) and print them until Ctrl-C
    Watch { path: Vec<String> },
    /// Print a shell completion script, e.g. `roomsctl completions bash > /etc/bash_completion.d/roomsctl`
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), as the Debian package installs it
    #[command(hide = true)]
    Man,
}

/// `key=value` → a JSON string; `key:=json` → that JSON value (httpie's convention).
fn parse_param(arg: &str) -> Result<(String, Value), String> {
    let (key, text) = arg.split_once('=').ok_or("use KEY=VALUE or KEY:=JSON")?;
    let value = match key.strip_suffix(':') {
        Some(k) => {
            serde_json::from_str(text).map_err(|e| format!("bad JSON after '{k}:=': {e}"))?
        }
        None => Value::from(text),
    };
    match key.strip_suffix(':').unwrap_or(key) {
        "" => Err("empty parameter name".into()),
        key => Ok((key.to_owned(), value)),
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Outgoing half of the tungstenite connection, as jsonrpsee's transport. jsonrpsee's background
/// task drops it after sending the close frame; the dropped `oneshot` tells `run` it may exit.
struct Sender {
    sink: SplitSink<Ws, Message>,
    _closed: oneshot::Sender<()>,
}
/// Incoming half of the tungstenite connection, as jsonrpsee's transport.
struct Receiver(SplitStream<Ws>);

impl TransportSenderT for Sender {
    type Error = WsError;

    async fn send(&mut self, msg: String) -> Result<(), Self::Error> {
        self.sink.send(Message::text(msg)).await
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.sink.close().await
    }
}

impl TransportReceiverT for Receiver {
    type Error = WsError;

    async fn receive(&mut self) -> Result<ReceivedMessage, Self::Error> {
        loop {
            // tungstenite answers pings itself; a close frame ends the connection.
            match self.0.next().await.transpose()? {
                Some(Message::Text(text)) => return Ok(ReceivedMessage::Text(text.to_string())),
                Some(Message::Binary(bytes)) => return Ok(ReceivedMessage::Bytes(bytes.into())),
                Some(Message::Pong(_)) => return Ok(ReceivedMessage::Pong),
                Some(Message::Close(Some(frame))) => {
                    let closed = format!("closed by the server ({} {})", frame.code, frame.reason);
                    return Err(WsError::Io(std::io::Error::other(closed)));
                }
                Some(Message::Close(None)) | None => return Err(WsError::ConnectionClosed),
                Some(Message::Ping(_) | Message::Frame(_)) => {}
            }
        }
    }
}

/// Why roomsctl stops early: its exit status and the message for stderr.
struct Failure(u8, String);

/// A connection failure (exit 3), named by the URL.
fn lost(cli: &Cli, why: impl Display) -> Failure {
    Failure(3, format!("{}: {why}", cli.url))
}

/// Opens the connection; the receiver completes once the connection is closed.
async fn connect(cli: &Cli) -> Result<(WsClient, oneshot::Receiver<()>), Failure> {
    let request = cli.url.as_str().into_client_request();
    let mut request = request.map_err(|e| lost(cli, e))?;
    if let Some(password) = cli.password.as_deref().filter(|p| !p.is_empty()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(password);
        let protocol = format!("auth-{}", utf8_percent_encode(&encoded, CREDENTIALS));
        let value = HeaderValue::from_str(&protocol).expect("Base64 and %XX are header-safe");
        request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    let timeout = Duration::from_secs(cli.timeout);
    let handshake = tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request));
    let (ws, _response) = match handshake.await {
        Err(_) => return Err(lost(cli, format!("no handshake within {}s", cli.timeout))),
        Ok(Err(WsError::Http(response))) if response.status() == 401 => {
            let why = "authentication failed (HTTP 401): wrong or missing password";
            return Err(lost(cli, why));
        }
        Ok(result) => result.map_err(|e| lost(cli, e))?,
    };
    let ((sink, rx), (done, closed)) = (ws.split(), oneshot::channel());
    let sender = Sender {
        sink,
        _closed: done,
    };
    let builder = WsClientBuilder::new().request_timeout(timeout);
    Ok((builder.build_with_transport(sender, Receiver(rx)), closed))
}

/// The transport's own words, without jsonrpsee's "background task closed" wrapper.
fn cause(error: RpcError) -> String {
    match error {
        RpcError::RestartNeeded(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// Sends one request whose params are a JSON object and returns its `result`.
async fn request(cli: &Cli, rpc: &WsClient, method: &str, params: Value) -> Result<Value, Failure> {
    let mut object = ObjectParams::new();
    for (key, value) in params.as_object().into_iter().flatten() {
        object.insert(key, value).expect("a JSON value serialises");
    }
    rpc.request(method, object).await.map_err(|e| match e {
        RpcError::Call(error) => Failure(1, format!("JSON-RPC error: {error}")),
        RpcError::RequestTimeout => lost(cli, format!("no answer within {}s", cli.timeout)),
        e => lost(cli, cause(e)),
    })
}

/// Writes a line to stdout; exits quietly when the reader has gone (`roomsctl watch | head`).
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// Prints a value, indented or as one compact line.
fn print(value: &Value, compact: bool) {
    if compact {
        emit(&value.to_string());
    } else {
        emit(&format!("{value:#}"));
    }
}

/// Prints an answer and turns its in-band `error_code` into the exit status.
fn report(result: &Value, compact: bool) -> Result<ExitCode, Failure> {
    print(result, compact);
    let code = &result["error_code"];
    if *code == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let message = result["message"].as_str().unwrap_or("");
    Err(Failure(1, format!("error {code}: {message}")))
}

/// Subscribes and prints events until Ctrl-C (exit 0) or until the connection ends (exit 3).
async fn watch(cli: &Cli, rpc: &WsClient, path: &[String]) -> Result<ExitCode, Failure> {
    // Listen before subscribing, so that no event slips between the two.
    let mut streams = Vec::new();
    for module in EVENT_MODULES {
        let method = format!("Event/{module}");
        let subscription = rpc.subscribe_to_method::<Value>(&method).await;
        let subscription = subscription.map_err(|e| lost(cli, cause(e)))?;
        streams.push(subscription.map(move |params| (method.clone(), params)));
    }
    let answer = request(cli, rpc, "Subscribe", json!({"path": path})).await?;
    if answer["error_code"] != 0 {
        return report(&answer, cli.json);
    }
    let subscriptions = &answer["data"]["subscriptions"];
    eprintln!("roomsctl: watching {subscriptions}; Ctrl-C to stop");
    let mut events = stream::select_all(streams);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(ExitCode::SUCCESS),
            event = events.next() => match event {
                Some((_, Ok(params))) if cli.json => print(&params, true),
                Some((method, Ok(params))) => {
                    let sub_event = params["sub_event"].as_str().unwrap_or("?");
                    emit(&format!("{} {method} {sub_event}", timestamp()));
                    print(&params, false);
                }
                Some((method, Err(e))) => eprintln!("roomsctl: undecodable {method}: {e}"),
                // The streams end with the connection (or if roomsctl fell too far behind).
                None => {
                    let gone = tokio::time::timeout(Duration::from_secs(1), rpc.on_disconnect());
                    let why = gone.await.map_or_else(|_| "events dropped".into(), cause);
                    return Err(lost(cli, format!("connection lost: {why}")));
                }
            },
        }
    }
}

/// The current time as RFC 3339 UTC with milliseconds (std has no time-zone database).
fn timestamp() -> String {
    let now = UNIX_EPOCH.elapsed().unwrap_or_default();
    let (days, secs) = ((now.as_secs() / 86_400) as i64, now.as_secs() % 86_400);
    // Days to civil date: Howard Hinnant's `civil_from_days`.
    let era = (days + 719_468).div_euclid(146_097);
    let doe = days + 719_468 - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) = (secs / 3600, secs / 60 % 60, secs % 60, now.subsec_millis());
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// Connects, runs the command, and closes the connection cleanly.
async fn run(cli: &Cli) -> Result<ExitCode, Failure> {
    let (rpc, closed) = connect(cli).await?;
    let outcome = command(cli, &rpc).await;
    drop(rpc); // jsonrpsee's background task then sends a close frame: give it a moment
    let _ = tokio::time::timeout(Duration::from_secs(1), closed).await;
    outcome
}

async fn command(cli: &Cli, rpc: &WsClient) -> Result<ExitCode, Failure> {
    let result = match &cli.command {
        Command::Query { path } => request(cli, rpc, "Query", json!({"path": path})).await?,
        Command::Call {
            module,
            action,
            params,
        } => {
            let mut call = json!({"action": action});
            if !params.is_empty() {
                call["action_params"] =
                    Value::Object(params.iter().cloned().collect::<Map<_, _>>());
            }
            request(cli, rpc, &format!("Call/{module}"), call).await?
        }
        Command::Watch { path } => return watch(cli, rpc, path).await,
        Command::Completions { .. } | Command::Man => unreachable!("answered without connecting"),
    };
    report(&result, cli.json)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "roomsctl", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            let page = manpage::render(
                command,
                "1",
                "User Commands",
                MAN_SECTIONS,
                &mut std::io::stdout(),
            );
            return match page {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("roomsctl: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    run(&cli).await.unwrap_or_else(|Failure(code, message)| {
        eprintln!("roomsctl: {message}");
        ExitCode::from(code)
    })
}
