//! The WebSocket handshake: path, origin, authentication and the connection limit. Refusals
//! happen here, as plain HTTP answers, before any upgrade.
//!
//! The HTTP request is read here rather than by tungstenite because real clients pipeline: their
//! first frame may arrive in the same TCP segment as the upgrade request, and tungstenite's
//! server handshake refuses any byte after the request. We parse the request, let tungstenite
//! validate it and derive the accept key, and hand it the bytes that followed.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::create_response;
use tokio_tungstenite::tungstenite::protocol::Role;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, Version, header};

use super::Context;
use super::admission::{Peer, Turn};
use super::panel;

const AUTH_PREFIX: &str = "auth-";

/// Real drivers send padded and unpadded Base64 alike.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a handshake is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    /// A browser page from an origin that may not drive the room.
    ForeignOrigin(String),
    Unauthorized,
    /// Too many wrong passwords from this address: come back after this long.
    Guessing(Duration),
    Busy,
}

impl Refused {
    fn response(&self) -> ErrorResponse {
        let (status, body) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not found: the Rooms protocol is served at / and /ws\n".to_owned(),
            ),
            Self::ForeignOrigin(origin) => (
                StatusCode::FORBIDDEN,
                format!(
                    "forbidden: pages from {origin} may not connect; \
                     list the origin in server.allowed_origins to allow it\n"
                ),
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized: wrong or missing password\n".to_owned(),
            ),
            Self::Guessing(retry) => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many wrong passwords from this address: try again in {} s\n",
                    retry.as_secs() + 1
                ),
            ),
            Self::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many connections\n".to_owned(),
            ),
        };
        let mut response = ErrorResponse::new(Some(body));
        if let Self::Guessing(retry) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry.as_secs() + 1));
        }
        *response.status_mut() = status;
        response
    }
}

/// The largest upgrade request read; browsers send well under 2 KiB.
const MAX_REQUEST: usize = 16 * 1024;

/// Why a connection never became a WebSocket.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a WebSocket upgrade request: {0}")]
    BadRequest(String),
    #[error("refused with HTTP {0}")]
    Refused(StatusCode),
    /// A plain HTTP request for the panel, answered with this status.
    #[error("panel request answered with HTTP {0}")]
    Panel(u16),
}

/// A connection that became a WebSocket, with its place among the connected clients.
pub(super) struct Accepted {
    pub(super) ws: WebSocketStream<TcpStream>,
    pub(super) slot: OwnedSemaphorePermit,
}

/// Reads the upgrade request, answers it, and on success returns the WebSocket with any bytes
/// the client sent after the request already in it.
pub(super) async fn accept(
    mut stream: TcpStream,
    peer: Peer,
    ctx: &Context,
) -> Result<Accepted, HandshakeError> {
    let (request, tail) = match read_request(&mut stream).await {
        Ok(parsed) => parsed,
        Err(HandshakeError::BadRequest(why)) => return refuse_bad_request(&mut stream, why).await,
        Err(other) => return Err(other),
    };
    if ctx.serve_panel && !is_upgrade(&request) {
        let answer = panel::route(
            request.method().as_str(),
            request.uri().path(),
            !ctx.password.is_empty(),
        );
        let response = panel::response(&answer);
        write_response(&mut stream, &response).await?;
        return Err(HandshakeError::Panel(response.status().as_u16()));
    }
    let mut response = match create_response(&request) {
        Ok(response) => response.map(|()| None),
        Err(error) => return refuse_bad_request(&mut stream, error.to_string()).await,
    };
    if !ctx.password.is_empty() {
        // After a few wrong passwords an address's attempts wait their turn, the right one
        // too: answering it sooner would tell a guesser which one it was.
        match ctx.guesses.turn(peer, Instant::now()) {
            Turn::Now => {}
            Turn::After(wait) => tokio::time::sleep(wait).await,
            Turn::Busy(retry) => return refuse(&mut stream, &Refused::Guessing(retry)).await,
        }
    }
    let offered = match decide(&request, &ctx.policy()) {
        Ok(offered) => offered,
        Err(refused) => {
            if refused == Refused::Unauthorized {
                let failures = ctx.guesses.failed(peer, Instant::now());
                if failures > 3 {
                    tracing::warn!(
                        failures,
                        "wrong passwords in a row: slowing this address down"
                    );
                } else {
                    tracing::info!(failures, "wrong or missing password");
                }
            }
            return refuse(&mut stream, &refused).await;
        }
    };
    // The right password, even if there is no place left for the client now.
    if !ctx.password.is_empty() {
        ctx.guesses.succeeded(peer);
    }
    let Ok(slot) = ctx.slots.clone().try_acquire_owned() else {
        return refuse(&mut stream, &Refused::Busy).await;
    };
    // Echo the `auth-` sub-protocol as offered: browsers fail the connection otherwise.
    if let Some(offered) = offered {
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, offered);
    }
    write_response(&mut stream, &response).await?;
    let ws =
        WebSocketStream::from_partially_read(stream, tail, Role::Server, Some(ctx.ws_config)).await;
    Ok(Accepted { ws, slot })
}

/// Answers a refusal, and fails the handshake with it.
async fn refuse<T>(stream: &mut TcpStream, refused: &Refused) -> Result<T, HandshakeError> {
    let response = refused.response();
    write_response(stream, &response).await?;
    Err(HandshakeError::Refused(response.status()))
}

/// Whether the request asks for a WebSocket; anything else may be a browser wanting the panel.
fn is_upgrade(request: &Request) -> bool {
    request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Answers 400 with the reason, and fails the handshake with it.
async fn refuse_bad_request<T>(stream: &mut TcpStream, why: String) -> Result<T, HandshakeError> {
    let mut response = ErrorResponse::new(Some(format!("bad request: {why}\n")));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    write_response(stream, &response).await?;
    Err(HandshakeError::BadRequest(why))
}

/// Reads until the end of the request head; the request and whatever followed it.
async fn read_request(stream: &mut TcpStream) -> Result<(Request, Vec<u8>), HandshakeError> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(HandshakeError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((request, head_len)) = parse_head(&buf)? {
            return Ok((request, buf[head_len..].to_vec()));
        }
    }
}

/// Parses an upgrade request head from the bytes read so far: the request and the length of
/// its head once complete, `None` while more bytes are needed. Pure, so it can be fuzzed.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(buf) {
        Ok(httparse::Status::Complete(head_len)) => Ok(Some((to_http_request(&parsed)?, head_len))),
        Ok(httparse::Status::Partial) if buf.len() < MAX_REQUEST => Ok(None),
        Ok(httparse::Status::Partial) => {
            Err(HandshakeError::BadRequest("request head too large".into()))
        }
        Err(error) => Err(HandshakeError::BadRequest(error.to_string())),
    }
}

fn to_http_request(parsed: &httparse::Request) -> Result<Request, HandshakeError> {
    let bad = |what: &str| HandshakeError::BadRequest(what.to_owned());
    let mut builder = Request::builder()
        .method(parsed.method.ok_or_else(|| bad("no method"))?)
        .uri(parsed.path.ok_or_else(|| bad("no path"))?)
        // tungstenite refuses a WebSocket upgrade over HTTP/1.0, as RFC 6455 asks.
        .version(match parsed.version {
            Some(0) => Version::HTTP_10,
            _ => Version::HTTP_11,
        });
    for header in parsed.headers.iter() {
        builder = builder.header(header.name, header.value);
    }
    builder
        .body(())
        .map_err(|e| HandshakeError::BadRequest(e.to_string()))
}

async fn write_response(stream: &mut TcpStream, response: &ErrorResponse) -> std::io::Result<()> {
    let status = response.status();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(value.to_str().unwrap_or(""));
        head.push_str("\r\n");
    }
    // A response with a body is the last on its connection: refusals and panel files.
    if let Some(body) = response.body() {
        if !body.is_empty() && !response.headers().contains_key(header::CONTENT_TYPE) {
            head.push_str("Content-Type: text/plain; charset=utf-8\r\n");
        }
        head.push_str("Connection: close\r\n");
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    } else {
        head.push_str("\r\n");
    }
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await
}

/// What an upgrade request must satisfy.
pub struct Policy<'a> {
    pub password: &'a str,
    pub allowed_origins: &'a [String],
    /// The panel is served: its pages, at this server's own origin, may connect.
    pub serve_panel: bool,
}

/// Checks one upgrade request: the `auth-` sub-protocol to echo, if offered, or why it is
/// refused. Pure, so it can be fuzzed.
pub fn decide(request: &Request, policy: &Policy) -> Result<Option<HeaderValue>, Refused> {
    if !matches!(request.uri().path(), "/" | "/ws") {
        return Err(Refused::NotFound);
    }
    check_origin(request, policy)?;
    let offered = offered_auth(request);
    if !policy.password.is_empty() {
        let by_protocol = offered
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(|v| &v[AUTH_PREFIX.len()..])
            .is_some_and(|c| password_matches(c, policy.password));
        if !by_protocol && !authorization_matches(request, policy.password) {
            return Err(Refused::Unauthorized);
        }
    }
    Ok(offered)
}

/// `Authorization: Bearer <password>` or `Basic <base64(any-user:password)>`, for clients whose
/// library cannot offer a sub-protocol (jsonrpsee's, for one); nothing is echoed then.
fn authorization_matches(request: &Request, password: &str) -> bool {
    let Some(value) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        constant_time_equal(credentials.as_bytes(), password.as_bytes())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let Ok(decoded) = LENIENT_BASE64.decode(credentials) else {
            return false;
        };
        let offered = decoded.splitn(2, |&b| b == b':').nth(1).unwrap_or_default();
        constant_time_equal(offered, password.as_bytes())
    } else {
        false
    }
}

/// Browsers say which page opened the connection; without a check, any page open on the room
/// computer could drive the room through loopback. Clients that are not browsers send no
/// `Origin` and are not concerned.
fn check_origin(request: &Request, policy: &Policy) -> Result<(), Refused> {
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let allowed = policy
        .allowed_origins
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&origin));
    if allowed || (policy.serve_panel && is_own_origin(request, &origin, policy.password)) {
        Ok(())
    } else {
        Err(Refused::ForeignOrigin(origin))
    }
}

/// Whether `origin` is this server's own, where the panel's pages come from: the scheme and
/// the `Host` the browser asked for. Without a password the host must be a loopback name too,
/// or a page of any site could point its own name at 127.0.0.1 (DNS rebinding) and pass.
fn is_own_origin(request: &Request, origin: &str, password: &str) -> bool {
    let Some(host) = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let same = ["http://", "https://"].iter().any(|scheme| {
        origin
            .strip_prefix(scheme)
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
    });
    same && (!password.is_empty() || is_loopback_host(host))
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The first `auth-…` entry of `Sec-WebSocket-Protocol` (the header may repeat and hold lists).
fn offered_auth(request: &Request) -> Option<HeaderValue> {
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.starts_with(AUTH_PREFIX))
        .and_then(|p| HeaderValue::from_str(p).ok())
}

/// `credentials` is the password in Base64, URL-encoded or raw (`+`, `/`, `=` unescaped).
/// Percent-decoding leaves raw Base64 as it is, so one path serves both.
fn password_matches(credentials: &str, password: &str) -> bool {
    let unescaped = percent_encoding::percent_decode_str(credentials).collect::<Vec<u8>>();
    let Ok(offered) = LENIENT_BASE64.decode(&unescaped) else {
        return false;
    };
    constant_time_equal(&offered, password.as_bytes())
}

/// Compares in time that depends on the lengths only, never on where the bytes differ.
fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    let padded = |s: &[u8]| {
        let mut v = s.to_vec();
        v.resize(len, 0);
        v
    };
    let same_len = (a.len() as u64).ct_eq(&(b.len() as u64));
    bool::from(padded(a).ct_eq(&padded(b)) & same_len)
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
