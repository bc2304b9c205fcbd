//! The HTTP upgrade request as a client sends it, through `server::handshake::parse_head` (the
//! head parser, fed the way the server reads: the bytes so far, growing) and, once a head is
//! complete, tungstenite's validation and roomsd's path and auth decision.
//!
//! The oracle: no panic; a complete head never claims more bytes than it was given and parses
//! the same from its own bytes alone; an incomplete head is waited for only below the size
//! limit, so a client can never make the server read without end.

#![no_main]

use libfuzzer_sys::fuzz_target;
use roomsd::server::handshake::{Policy, decide, parse_head};
use tokio_tungstenite::tungstenite::handshake::server::create_response;

/// `handshake.rs`'s limit on a request head.
const MAX_REQUEST: usize = 16 * 1024;
/// How much the server reads at once.
const CHUNK: usize = 2048;

fuzz_target!(|data: &[u8]| {
    // Read as the server reads: a chunk at a time, parsing what has arrived after each.
    let mut end = 0;
    let parsed = loop {
        end = (end + CHUNK).min(data.len());
        match parse_head(&data[..end]) {
            Ok(Some(parsed)) => break Some(parsed),
            Ok(None) if end == data.len() => {
                assert!(end < MAX_REQUEST, "waits for more past the limit");
                break None;
            }
            Ok(None) => assert!(end < MAX_REQUEST, "waits for more past the limit"),
            Err(_) => break None,
        }
    };
    let Some((request, head_len)) = parsed else {
        return;
    };
    assert!(head_len <= end, "a head longer than the bytes read");
    // The head ends where it says: its bytes alone give the same request.
    let (again, again_len) = parse_head(&data[..head_len])
        .expect("the head parses alone")
        .expect("the head is complete alone");
    assert_eq!(again_len, head_len);
    assert_eq!(again.uri(), request.uri());
    assert_eq!(again.headers(), request.headers());
    // What the server does next with a complete head; none of it may panic.
    let _ = create_response(&request);
    let listed = ["http://panel.example".to_owned()];
    for password in ["", "1234", "p\u{e4}ss w{rd}"] {
        for serve_panel in [false, true] {
            let policy = Policy {
                password,
                allowed_origins: &listed,
                serve_panel,
            };
            if let Ok(Some(offered)) = decide(&request, &policy) {
                assert!(offered.as_bytes().starts_with(b"auth-"));
            }
        }
    }
});
