//! Bad input and bad clients: clear answers, no crash, no harm to other clients.

use crate::common;

use std::time::Duration;

use common::{Client, config, start, start_default};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test]
async fn garbage_gets_json_rpc_errors_and_the_connection_stays() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    assert_eq!(
        c.raw("hello?").await,
        r#"{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}"#
    );
    assert_eq!(
        c.raw(r#"{"jsonrpc": "2.0", "id": 5}"#).await,
        r#"{"jsonrpc": "2.0", "id": 5, "error": {"code": -32600, "message": "Invalid Request"}}"#
    );
    assert_eq!(
        c.raw("[]").await,
        r#"{"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Invalid Request"}}"#
    );
    assert_eq!(
        c.raw(r#"{"jsonrpc": "2.0", "id": 6, "method": "Dance"}"#)
            .await,
        r#"{"jsonrpc": "2.0", "method": "Dance", "id": 6, "result": {"error_code": 9, "message": "unknown method \"Dance\""}}"#
    );
    assert_eq!(c.query(&["Meeting", "Nowhere"]).await["error_code"], 6);
    assert_eq!(
        c.call("Query", json!({"path": [1, 2]})).await["error_code"],
        8
    );
    assert_eq!(
        c.call("Call/Meeting", json!({"no_action": 1})).await["error_code"],
        8
    );
    assert_eq!(c.status().await, 0, "still serving");
}

#[tokio::test]
async fn batches_and_notifications() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let reply = c
        .raw(r#"[{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": ["Meeting", "MeetingInfo", "MeetingStatus"]}}, {"jsonrpc": "2.0", "method": "Subscribe"}, 7]"#)
        .await;
    assert_eq!(
        reply,
        r#"[{"jsonrpc": "2.0", "method": "Query", "id": 1, "result": {"error_code": 0, "message": "", "data": {"meeting_status": 0}}}, {"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Invalid Request"}}]"#
    );
    // A notification is executed and not answered: the Subscribe above took effect.
    c.send(r#"{"jsonrpc": "2.0", "method": "Call/Meeting", "params": {"action": "StartMeeting", "action_params": {"meeting_type": "instant"}}}"#).await;
    let event = c.event("JoinMeetingCompleted").await;
    assert_eq!(event["error_code"], 0);
}

#[tokio::test]
async fn binary_frames_close_with_1003() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.send_message(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(c.close_frame().await.unwrap().code, CloseCode::Unsupported);
}

#[tokio::test]
async fn oversized_messages_close_with_1009() {
    let mut cfg = config();
    cfg.server.max_message_bytes.0 = 2048;
    let daemon = start(cfg).await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let big = format!(
        r#"{{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {{"pad": "{}"}}}}"#,
        "x".repeat(4096)
    );
    c.send(&big).await;
    assert_eq!(c.close_frame().await.unwrap().code, CloseCode::Size);
    let mut other = Client::connect(daemon.local_addr()).await;
    assert_eq!(other.status().await, 0);
}

#[tokio::test]
async fn pings_are_answered() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.send_message(Message::Ping(b"are you there".to_vec().into()))
        .await;
    match c.next_message().await {
        Some(Message::Pong(payload)) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[tokio::test]
async fn first_frame_pipelined_with_the_handshake() {
    let daemon = start_default().await;
    let mut tcp = tokio::net::TcpStream::connect(daemon.local_addr())
        .await
        .unwrap();
    let request = "GET / HTTP/1.1\r\nHost: room\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let body = br#"{"jsonrpc": "2.0", "id": "p", "method": "Query", "params": {"path": ["Meeting", "MeetingInfo", "MeetingStatus"]}}"#;
    let mask = [1u8, 2, 3, 4];
    let mut bytes = request.as_bytes().to_vec();
    bytes.extend_from_slice(&[0x81, 0xFE]);
    bytes.extend_from_slice(&(body.len() as u16).to_be_bytes());
    bytes.extend_from_slice(&mask);
    bytes.extend(body.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    tcp.write_all(&bytes).await.unwrap();
    let expected = r#"{"jsonrpc": "2.0", "method": "Query", "id": "p", "result": {"error_code": 0, "message": "", "data": {"meeting_status": 0}}}"#;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains(expected) {
        let n = tokio::time::timeout(common::WAIT, tcp.read(&mut chunk))
            .await
            .expect("reply in time")
            .unwrap();
        assert!(
            n > 0,
            "closed before replying: {}",
            String::from_utf8_lossy(&received)
        );
        received.extend_from_slice(&chunk[..n]);
    }
    assert!(received.starts_with(b"HTTP/1.1 101"));
}

#[tokio::test]
async fn a_client_leaving_mid_join_harms_nothing() {
    let daemon = start_default().await;
    let mut quitter = Client::connect(daemon.local_addr()).await;
    quitter
        .meeting(
            "JoinMeeting",
            json!({"meeting_code": "111222333", "password": ""}),
        )
        .await;
    drop(quitter);
    let mut c = Client::connect(daemon.local_addr()).await;
    for _ in 0..100 {
        if c.status().await == 1 {
            assert_eq!(c.meeting("LeaveMeeting", json!(null)).await, 0);
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the join never completed");
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_others_keep_working() {
    let mut cfg = config();
    cfg.server.outbound_queue.0 = 8;
    let daemon = start(cfg).await;
    let addr = daemon.local_addr();

    // A client with a tiny receive window that sends queries and never reads the replies.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut stuck, _) = tokio_tungstenite::client_async(common::url(addr), stream)
        .await
        .unwrap();
    use futures_util::SinkExt;
    let query = r#"{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": []}}"#;
    // Sending stops either because the server hung up or because its socket stopped taking
    // bytes (it stopped reading this client): bounded either way.
    let flood = async {
        for _ in 0..20_000 {
            if stuck.send(Message::Text(query.into())).await.is_err() {
                return true;
            }
        }
        false
    };
    let dropped = tokio::time::timeout(Duration::from_secs(10), flood)
        .await
        .unwrap_or(false);

    let mut c = Client::connect(addr).await;
    c.subscribe(&["Meeting", "JoinMeetingCompleted"]).await;
    assert_eq!(
        c.meeting(
            "JoinMeeting",
            json!({"meeting_code": "111222333", "password": ""})
        )
        .await,
        0
    );
    assert_eq!(c.event("JoinMeetingCompleted").await["error_code"], 0);

    // The server hung up on it: reading what it left finds the end of the stream.
    if !dropped {
        use futures_util::StreamExt;
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = stuck.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the non-reading client was never dropped");
    }
}

#[tokio::test]
async fn shutdown_closes_clients_with_1001() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    c.status().await;
    let stop = tokio::spawn(daemon.stop());
    assert_eq!(c.close_frame().await.unwrap().code, CloseCode::Away);
    tokio::time::timeout(Duration::from_secs(5), stop)
        .await
        .expect("stops in time")
        .unwrap();
}

/// Drivers send vendor extras, so unknown `action_params` keys do not fail the call; but the
/// acknowledgement names them, so a misspelt parameter is not silently "done".
#[tokio::test]
async fn unknown_action_params_succeed_and_are_named() {
    let daemon = start_default().await;
    let mut c = Client::connect(daemon.local_addr()).await;
    let ack = c
        .call(
            "Call/Device",
            json!({"action": "SetSpeakerVolume", "action_params": {"volume": 30, "volumme": 20, "x_vendor": 1}}),
        )
        .await;
    assert_eq!(ack["error_code"], 0, "{ack}");
    assert_eq!(
        ack["message"],
        "SetSpeakerVolume ignored unknown action_params: volumme, x_vendor"
    );
    let speaker = c.query(&["Device", "SpeakerInfo"]).await;
    assert_eq!(speaker["data"]["speaker_info"]["volume"], 30, "{speaker}");
    // A call that reads all it was sent answers with an empty message, as before.
    let ack = c
        .call(
            "Call/Device",
            json!({"action": "SetSpeakerVolume", "action_params": {"volume": 40}}),
        )
        .await;
    assert_eq!(ack["message"], "", "{ack}");
}
