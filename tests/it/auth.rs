//! Handshake and authentication (PROTOCOL.md §1).

use crate::common;

use common::{Client, config, start, start_default};
use tokio_tungstenite::tungstenite::Error;

async fn with_password(password: &str) -> roomsd::daemon::Daemon {
    let mut cfg = config();
    cfg.server.password = password.into();
    start(cfg).await
}

fn status_of(result: Result<Client, Error>) -> u16 {
    match result {
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected a refusal, got a connection"),
    }
}

#[tokio::test]
async fn raw_and_url_encoded_base64_are_accepted_and_echoed() {
    // "s3cr+t/=" in Base64 is "czNjcit0Lz0=", which URL-encoding changes.
    let daemon = with_password("s3cr+t/=").await;
    for offered in ["auth-czNjcit0Lz0=", "auth-czNjcit0Lz0%3D"] {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                common::url(daemon.local_addr()),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", offered.parse().unwrap());
        let (mut ws, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("accepted");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            offered,
            "echoed as offered"
        );
        use futures_util::SinkExt;
        ws.send(r#"{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": ["Meeting", "MeetingInfo", "MeetingStatus"]}}"#.into()).await.unwrap();
    }
    let mut ok = Client::connect_with(daemon.local_addr(), Some("auth-czNjcit0Lz0%3D"))
        .await
        .unwrap();
    assert_eq!(ok.status().await, 0);
}

#[tokio::test]
async fn wrong_or_missing_password_is_401_before_upgrade() {
    let daemon = with_password("secret").await;
    assert_eq!(
        status_of(Client::connect_with(daemon.local_addr(), Some("auth-d3Jvbmc=")).await),
        401
    );
    assert_eq!(
        status_of(Client::connect_with(daemon.local_addr(), None).await),
        401
    );
    assert_eq!(
        status_of(Client::connect_with(daemon.local_addr(), Some("auth-!!")).await),
        401
    );
}

#[tokio::test]
async fn no_password_configured_accepts_anyone() {
    let daemon = start_default().await;
    let mut plain = Client::connect(daemon.local_addr()).await;
    assert_eq!(plain.status().await, 0);
    let mut offering = Client::connect_with(daemon.local_addr(), Some("auth-YW55"))
        .await
        .unwrap();
    assert_eq!(offering.status().await, 0);
}

#[tokio::test]
async fn paths_other_than_root_and_ws_are_404() {
    let daemon = start_default().await;
    let url = format!("ws://{}/ws", daemon.local_addr());
    tokio_tungstenite::connect_async(url)
        .await
        .expect("/ws is served");
    let url = format!("ws://{}/other", daemon.local_addr());
    match tokio_tungstenite::connect_async(url).await {
        Err(Error::Http(response)) => assert_eq!(response.status().as_u16(), 404),
        other => panic!("expected 404, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn connections_over_the_limit_get_503() {
    let mut cfg = config();
    cfg.server.max_connections.0 = 1;
    let daemon = start(cfg).await;
    let mut first = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        status_of(Client::connect_with(daemon.local_addr(), None).await),
        503
    );
    assert_eq!(first.status().await, 0, "the first keeps working");
}

/// jsonrpsee's own WebSocket client, as an integrator would use it: it cannot offer a
/// sub-protocol, so it sends the password as `Authorization`.
async fn stock_jsonrpsee_client(
    addr: std::net::SocketAddr,
    authorization: &str,
) -> Result<jsonrpsee::ws_client::WsClient, jsonrpsee::core::ClientError> {
    let mut headers = tokio_tungstenite::tungstenite::http::HeaderMap::new();
    headers.insert("Authorization", authorization.parse().unwrap());
    jsonrpsee::ws_client::WsClientBuilder::default()
        .set_headers(headers)
        .build(common::url(addr))
        .await
}

#[tokio::test]
async fn a_stock_jsonrpsee_client_authenticates_with_an_authorization_header() {
    use jsonrpsee::core::client::ClientT;
    let daemon = with_password("secret").await;
    let client = stock_jsonrpsee_client(daemon.local_addr(), "Bearer secret")
        .await
        .expect("Bearer is accepted, with no sub-protocol echoed");
    let mut params = jsonrpsee::core::params::ObjectParams::new();
    params.insert("path", ["Meeting", "MeetingInfo"]).unwrap();
    let result: serde_json::Value = client.request("Query", params).await.unwrap();
    assert_eq!(result["error_code"], 0, "{result}");
    assert_eq!(result["data"]["meeting_info"]["meeting_status"], 0);

    // "room:secret"
    assert!(
        stock_jsonrpsee_client(daemon.local_addr(), "Basic cm9vbTpzZWNyZXQ=")
            .await
            .is_ok()
    );
    assert!(
        stock_jsonrpsee_client(daemon.local_addr(), "Bearer wrong")
            .await
            .is_err()
    );
}

/// `examples/jsonrpsee_client.rs`, run as a user runs it, against a daemon with a password:
/// it joins, lists the members and leaves.
#[test]
fn the_jsonrpsee_example_drives_a_room_with_a_password() {
    let (_roomsd, addr) = common::spawn_roomsd(&["--password", "example-pw"], &[]);
    let run = |password: Option<&str>| {
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo
            .args(["run", "--quiet", "--example", "jsonrpsee_client", "--"])
            .arg(common::url(addr))
            .arg("111222333")
            .env_remove("ROOMSD_PASSWORD");
        // cargo describes the package to tests in these; ring's build script reruns when they
        // change, which would rebuild half the tree here and again at the next `cargo test`.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let described = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix));
            if described || name == "CARGO_PRIMARY_PACKAGE" || name == "CARGO_TARGET_TMPDIR" {
                cargo.env_remove(name.as_ref());
            }
        }
        if let Some(password) = password {
            cargo.env("ROOMSD_PASSWORD", password);
        }
        cargo.output().expect("cargo runs the example")
    };
    let out = run(Some("example-pw"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("joined \"111222333\""), "{stdout}");
    assert!(stdout.contains("in the meeting: Room"), "{stdout}");
    assert!(stdout.ends_with("left\n"), "{stdout}");

    let out = run(None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set ROOMSD_PASSWORD"), "{stderr}");
}
