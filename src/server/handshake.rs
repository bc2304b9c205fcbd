//! The WebSocket handshake: path, connection limit and authentication (PROTOCOL.md §1).
//! Refusals happen here, as plain HTTP answers, before any upgrade.
//!
//! The HTTP request is read here rather than by tungstenite because real clients pipeline: their
//! first frame may arrive in the same TCP segment as the upgrade request, and tungstenite's
//! server handshake refuses any byte after the request. We parse the request, let tungstenite
//! validate it and derive the accept key, and hand it the bytes that followed.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::create_response;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};

use super::panel;

const AUTH_PREFIX: &str = "auth-";

/// Real drivers send padded and unpadded Base64 alike.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a handshake is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    Unauthorized,
    Busy,
}

impl Refused {
    fn response(self) -> ErrorResponse {
        let (status, body) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not found: the Rooms protocol is served at / and /ws\n",
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized: wrong or missing password\n",
            ),
            Self::Busy => (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n"),
        };
        let mut response = ErrorResponse::new(Some(body.to_owned()));
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

/// Reads the upgrade request, answers it, and on success returns the WebSocket with any bytes
/// the client sent after the request already in it.
pub async fn accept(
    mut stream: TcpStream,
    password: &str,
    at_capacity: bool,
    serve_panel: bool,
    config: WebSocketConfig,
) -> Result<WebSocketStream<TcpStream>, HandshakeError> {
    let (request, tail) = match read_request(&mut stream).await {
        Ok(parsed) => parsed,
        Err(HandshakeError::BadRequest(why)) => return refuse_bad_request(&mut stream, why).await,
        Err(other) => return Err(other),
    };
    if serve_panel && !is_upgrade(&request) {
        let answer = panel::route(request.method().as_str(), request.uri().path());
        let response = panel::response(&answer);
        write_response(&mut stream, &response).await?;
        return Err(HandshakeError::Panel(response.status().as_u16()));
    }
    let mut response = match create_response(&request) {
        Ok(response) => response.map(|()| None),
        Err(error) => return refuse_bad_request(&mut stream, error.to_string()).await,
    };
    match decide(&request, password, at_capacity) {
        Ok(offered) => {
            // Echo the `auth-` sub-protocol as offered: browsers fail the connection otherwise.
            if let Some(offered) = offered {
                response
                    .headers_mut()
                    .insert(header::SEC_WEBSOCKET_PROTOCOL, offered);
            }
            write_response(&mut stream, &response).await?;
            Ok(
                WebSocketStream::from_partially_read(stream, tail, Role::Server, Some(config))
                    .await,
            )
        }
        Err(refused) => {
            let response = refused.response();
            write_response(&mut stream, &response).await?;
            Err(HandshakeError::Refused(response.status()))
        }
    }
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
        .version(tokio_tungstenite::tungstenite::http::Version::HTTP_11);
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

/// Checks one upgrade request: the `auth-` sub-protocol to echo, if offered, or why it is
/// refused. `at_capacity` refuses with 503. Pure, so it can be fuzzed.
pub fn decide(
    request: &Request,
    password: &str,
    at_capacity: bool,
) -> Result<Option<HeaderValue>, Refused> {
    if !matches!(request.uri().path(), "/" | "/ws") {
        return Err(Refused::NotFound);
    }
    if at_capacity {
        return Err(Refused::Busy);
    }
    let offered = offered_auth(request);
    if !password.is_empty() {
        let credentials = offered
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .map(|v| &v[AUTH_PREFIX.len()..]);
        if !credentials.is_some_and(|c| password_matches(c, password)) {
            return Err(Refused::Unauthorized);
        }
    }
    Ok(offered)
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
mod tests {
    use super::*;

    fn request(path: &str, protocol: Option<&str>) -> Request {
        let mut builder = Request::builder().uri(path);
        if let Some(p) = protocol {
            builder = builder.header(header::SEC_WEBSOCKET_PROTOCOL, p);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn accepts_raw_and_url_encoded_base64() {
        // "p+?/>" encodes to "cCs/Lz4=", which has every character that URL-encoding changes.
        let pw = "p+?/>";
        assert!(decide(&request("/", Some("auth-cCs/Lz4=")), pw, false).is_ok());
        assert!(decide(&request("/", Some("auth-cCs%2FLz4%3D")), pw, false).is_ok());
        assert!(
            decide(&request("/", Some("auth-cCs/Lz4")), pw, false).is_ok(),
            "unpadded"
        );
    }

    #[test]
    fn refuses_wrong_or_missing_password() {
        assert_eq!(
            decide(&request("/", Some("auth-d3Jvbmc=")), "secret", false),
            Err(Refused::Unauthorized)
        );
        assert_eq!(
            decide(&request("/", None), "secret", false),
            Err(Refused::Unauthorized)
        );
        assert_eq!(
            decide(&request("/", Some("auth-%%%")), "secret", false),
            Err(Refused::Unauthorized)
        );
    }

    #[test]
    fn echoes_the_offered_value_from_a_list() {
        let offered = decide(
            &request("/ws", Some("json, auth-c2VjcmV0")),
            "secret",
            false,
        )
        .unwrap();
        assert_eq!(offered.unwrap(), "auth-c2VjcmV0");
        let offered = decide(&request("/", Some("auth-anything")), "", false).unwrap();
        assert_eq!(
            offered.unwrap(),
            "auth-anything",
            "echoed even when no password is set"
        );
    }

    #[test]
    fn other_paths_are_not_found_and_capacity_is_busy() {
        assert_eq!(
            decide(&request("/api", None), "", false),
            Err(Refused::NotFound)
        );
        assert_eq!(decide(&request("/", None), "", true), Err(Refused::Busy));
    }

    #[test]
    fn constant_time_compare_handles_lengths() {
        assert!(constant_time_equal(b"abc", b"abc"));
        assert!(!constant_time_equal(b"abc", b"abc\0"));
        assert!(!constant_time_equal(b"", b"a"));
        assert!(constant_time_equal(b"", b""));
    }
}
