//! Unit tests of the upgrade request: parsing, the origin and password policy, the answers.

use super::*;

fn policy(password: &str) -> Policy<'_> {
    Policy {
        password,
        allowed_origins: &[],
        serve_panel: false,
    }
}

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
    assert!(decide(&request("/", Some("auth-cCs/Lz4=")), &policy(pw)).is_ok());
    assert!(decide(&request("/", Some("auth-cCs%2FLz4%3D")), &policy(pw)).is_ok());
    assert!(
        decide(&request("/", Some("auth-cCs/Lz4")), &policy(pw)).is_ok(),
        "unpadded"
    );
}

#[test]
fn refuses_wrong_or_missing_password() {
    assert_eq!(
        decide(&request("/", Some("auth-d3Jvbmc=")), &policy("secret")),
        Err(Refused::Unauthorized)
    );
    assert_eq!(
        decide(&request("/", None), &policy("secret")),
        Err(Refused::Unauthorized)
    );
    assert_eq!(
        decide(&request("/", Some("auth-%%%")), &policy("secret")),
        Err(Refused::Unauthorized)
    );
}

#[test]
fn echoes_the_offered_value_from_a_list() {
    let offered = decide(
        &request("/ws", Some("json, auth-c2VjcmV0")),
        &policy("secret"),
    )
    .unwrap();
    assert_eq!(offered.unwrap(), "auth-c2VjcmV0");
    let offered = decide(&request("/", Some("auth-anything")), &policy("")).unwrap();
    assert_eq!(
        offered.unwrap(),
        "auth-anything",
        "echoed even when no password is set"
    );
}

fn authorized(value: &str) -> Request {
    Request::builder()
        .uri("/")
        .header(header::AUTHORIZATION, value)
        .body(())
        .unwrap()
}

#[test]
fn the_password_may_come_as_an_authorization_header() {
    let secret = policy("secret");
    assert_eq!(decide(&authorized("Bearer secret"), &secret), Ok(None));
    assert_eq!(decide(&authorized("bearer  secret "), &secret), Ok(None));
    // "room:secret" and ":secret"; the user name is not checked.
    assert_eq!(
        decide(&authorized("Basic cm9vbTpzZWNyZXQ="), &secret),
        Ok(None)
    );
    assert_eq!(decide(&authorized("Basic OnNlY3JldA"), &secret), Ok(None));
    for wrong in [
        "Bearer secre",
        "Bearer",
        "Basic c2VjcmV0",
        "Basic cm9vbTpzZWNyZXR4",
        "Digest secret",
        "secret",
    ] {
        assert_eq!(
            decide(&authorized(wrong), &secret),
            Err(Refused::Unauthorized),
            "{wrong}"
        );
    }
}

#[test]
fn other_paths_are_not_found() {
    assert_eq!(
        decide(&request("/api", None), &policy("")),
        Err(Refused::NotFound)
    );
}

fn from_page(origin: &str, host: &str) -> Request {
    Request::builder()
        .uri("/")
        .header(header::ORIGIN, origin)
        .header(header::HOST, host)
        .body(())
        .unwrap()
}

#[test]
fn foreign_pages_are_refused_unless_listed() {
    let evil = from_page("http://evil.example", "127.0.0.1:6295");
    assert_eq!(
        decide(&evil, &policy("")),
        Err(Refused::ForeignOrigin("http://evil.example".into()))
    );
    let listed = ["HTTP://evil.example/".to_owned()];
    let allowing = Policy {
        allowed_origins: &listed,
        ..policy("")
    };
    assert!(decide(&evil, &allowing).is_ok());
    assert!(
        decide(&request("/", None), &policy("")).is_ok(),
        "no Origin: not a browser"
    );
}

#[test]
fn the_panels_own_origin_is_allowed_while_it_is_served() {
    let panel = |password| Policy {
        serve_panel: true,
        ..policy(password)
    };
    let own = from_page("http://127.0.0.1:6295", "127.0.0.1:6295");
    assert!(decide(&own, &panel("")).is_ok());
    assert!(decide(&from_page("http://[::1]:6295", "[::1]:6295"), &panel("")).is_ok());
    assert!(
        decide(
            &from_page("http://localhost:6295", "localhost:6295"),
            &panel("")
        )
        .is_ok()
    );
    assert!(
        decide(&own, &policy("")).is_err(),
        "no panel is served, so no page of ours exists"
    );
    assert!(
        decide(
            &from_page("http://127.0.0.1:8080", "127.0.0.1:6295"),
            &panel("")
        )
        .is_err(),
        "another port is another origin"
    );
    // DNS rebinding: a site whose name now points at 127.0.0.1.
    let rebound = from_page("http://evil.example:6295", "evil.example:6295");
    assert!(decide(&rebound, &panel("")).is_err());
    let room = from_page("http://room101.lan:6295", "room101.lan:6295");
    let with_password = Request::builder()
        .uri("/")
        .header(header::ORIGIN, "http://room101.lan:6295")
        .header(header::HOST, "room101.lan:6295")
        .header(header::SEC_WEBSOCKET_PROTOCOL, "auth-c2VjcmV0")
        .body(())
        .unwrap();
    assert!(
        decide(&with_password, &panel("secret")).is_ok(),
        "with a password, a rebinding page would still not get in"
    );
    assert_eq!(decide(&room, &panel("secret")), Err(Refused::Unauthorized));
}

#[test]
fn http_1_0_upgrades_are_refused() {
    let head = b"GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let (request, _) = parse_head(head).unwrap().unwrap();
    assert!(create_response(&request).is_err());
    let eleven = String::from_utf8_lossy(head).replace("HTTP/1.0", "HTTP/1.1");
    let (request, _) = parse_head(eleven.as_bytes()).unwrap().unwrap();
    assert!(create_response(&request).is_ok());
}

#[test]
fn constant_time_compare_handles_lengths() {
    assert!(constant_time_equal(b"abc", b"abc"));
    assert!(!constant_time_equal(b"abc", b"abc\0"));
    assert!(!constant_time_equal(b"", b"a"));
    assert!(constant_time_equal(b"", b""));
}
