//! The connection to roomsd. JSON-RPC (ids, answer matching, timeouts, notifications) is
//! jsonrpsee's `WsClient`. The WebSocket handshake is tokio-tungstenite's, plugged in through
//! jsonrpsee's transport traits: roomsd echoes the offered `Sec-WebSocket-Protocol: auth-…`
//! (browsers require that), and jsonrpsee's own soketto transport fails such a handshake with
//! `UnsolicitedProtocol` because it offers no way to declare the protocol as requested.

use std::fmt::Display;
use std::time::Duration;

use base64::Engine as _;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt as _, StreamExt as _};
use jsonrpsee::core::client::{
    ClientT, Error as RpcError, ReceivedMessage, TransportReceiverT, TransportSenderT,
};
use jsonrpsee::core::params::ObjectParams;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::{
    Error as WsError, Message, client::IntoClientRequest, http::HeaderValue,
    http::header::SEC_WEBSOCKET_PROTOCOL,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Base64 characters that the browser form (`encodeURIComponent(btoa(pw))`) escapes.
const CREDENTIALS: &AsciiSet = &CONTROLS.add(b'+').add(b'/').add(b'=');

/// What `roomsd` is started with, for the message when nothing listens.
const START_HINT: &str = "is roomsd running? (start it with `cargo run --release --bin roomsd`, \
    or `systemctl status roomsd`)";

/// Why roomsctl stops early: its exit status and the message for stderr.
pub struct Failure(pub u8, pub String);

impl Failure {
    pub fn usage(why: impl Display) -> Self {
        Self(2, why.to_string())
    }
}

/// Where and how to connect, and how long to wait for answers.
pub struct Link {
    /// The URL as the handshake uses it (`ws://127.0.0.1:6295/`).
    pub url: String,
    pub password: Option<String>,
    pub timeout: u64,
}

impl Link {
    /// `127.0.0.1:6295` is taken as `ws://127.0.0.1:6295`; other schemes than ws and wss are
    /// refused with the form to use.
    pub fn new(url: &str, password: Option<String>, timeout: u64) -> Result<Self, Failure> {
        let url = match url.split_once("://") {
            None => format!("ws://{url}"),
            Some(("ws" | "wss", _)) => url.to_owned(),
            Some((scheme, rest)) => {
                let hint = if scheme == "https" { "wss" } else { "ws" };
                return Err(Failure::usage(format!(
                    "--url {url}: roomsd speaks WebSocket: write {hint}://{rest}"
                )));
            }
        };
        let request = url.as_str().into_client_request();
        let request = request.map_err(|e| Failure::usage(format!("--url {url}: {e}")))?;
        Ok(Self {
            url: request.uri().to_string(),
            password,
            timeout,
        })
    }

    /// A connection failure (exit 3), named by the URL.
    pub fn lost(&self, why: impl Display) -> Failure {
        Failure(3, format!("{}: {why}", self.url))
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

/// Opens the connection; the receiver completes once the connection is closed.
pub async fn connect(link: &Link) -> Result<(WsClient, oneshot::Receiver<()>), Failure> {
    let mut request = link
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| link.lost(e))?;
    if let Some(password) = link.password.as_deref().filter(|p| !p.is_empty()) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(password);
        let protocol = format!("auth-{}", utf8_percent_encode(&encoded, CREDENTIALS));
        let value = HeaderValue::from_str(&protocol).expect("Base64 and %XX are header-safe");
        request.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    let timeout = Duration::from_secs(link.timeout);
    let handshake = tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request));
    let (ws, _response) = match handshake.await {
        Err(_) => return Err(link.lost(format!("no handshake within {}s", link.timeout))),
        Ok(Err(error)) => return Err(refused(link, error)),
        Ok(Ok(connected)) => connected,
    };
    let ((sink, rx), (done, closed)) = (ws.split(), oneshot::channel());
    let sender = Sender {
        sink,
        _closed: done,
    };
    let builder = WsClientBuilder::new().request_timeout(timeout);
    Ok((builder.build_with_transport(sender, Receiver(rx)), closed))
}

/// The handshake's failure, said with what to do about it.
fn refused(link: &Link, error: WsError) -> Failure {
    let has_password = link.password.as_deref().is_some_and(|p| !p.is_empty());
    let why = match &error {
        WsError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Failure(
                3,
                format!(
                    "cannot connect to {}: connection refused — {START_HINT}",
                    link.url
                ),
            );
        }
        WsError::Http(response) => match response.status().as_u16() {
            401 if has_password => "wrong password (HTTP 401)".to_owned(),
            401 => "the daemon needs a password (HTTP 401): give it with --password or \
                    ROOMSD_PASSWORD"
                .to_owned(),
            403 => "refused (HTTP 403): the daemon does not accept this client's Origin".into(),
            429 => "too many wrong passwords from this address (HTTP 429): wait, then try the \
                    right one"
                .into(),
            503 => "the daemon is full (HTTP 503): too many connections; try again".into(),
            404 => "no WebSocket at this path (HTTP 404): roomsd serves ws://HOST:PORT/".into(),
            status => format!("handshake refused with HTTP {status}"),
        },
        other => format!("cannot connect: {other}"),
    };
    link.lost(why)
}

/// The transport's own words, without jsonrpsee's "background task closed" wrapper.
pub fn cause(error: RpcError) -> String {
    match error {
        RpcError::RestartNeeded(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// Sends one request whose params are a JSON object and returns its `result`.
pub async fn request(
    link: &Link,
    rpc: &WsClient,
    method: &str,
    params: Value,
) -> Result<Value, Failure> {
    let mut object = ObjectParams::new();
    for (key, value) in params.as_object().into_iter().flatten() {
        object.insert(key, value).expect("a JSON value serialises");
    }
    rpc.request(method, object).await.map_err(|e| match e {
        RpcError::Call(error) => Failure(1, format!("JSON-RPC error: {error}")),
        RpcError::RequestTimeout => link.lost(format!("no answer within {}s", link.timeout)),
        e => link.lost(cause(e)),
    })
}
