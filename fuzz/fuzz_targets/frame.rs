//! Text frames, as a client sends them, through the whole request path: `wire::parse`, method
//! routing, the room (with the simulator behind it) and the reply envelopes.
//!
//! The input is one connection's frames, one per line, handled in order against a fresh room,
//! so a frame can subscribe, join a meeting, then act in it. The oracle: no panic; every reply
//! is a conforming JSON-RPC 2.0 reply (JSON, `"jsonrpc": "2.0"`, an id, `result` xor `error`,
//! an array for a batch, nothing for notifications only) with no raw brace inside a string
//! but the echoed ids; every event the frames caused is a conforming notification.

#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use roomsd::backend::HealthTracker;
use roomsd::backend::sim::{MeetingCode, SimConfig, SimMeeting};
use roomsd::config::Config;
use roomsd::room::{Given, Room};
use roomsd::room::device::DeviceSettings;
use roomsd::room::owner::{self, Inputs, OwnerSettings};
use roomsd::server::dispatch::{Limits, handle_text};
use roomsd::server::subscriptions::Subscriptions;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The simulator's meetings: one of each behaviour, as in the integration tests, and one whose
/// title and creator hold braces.
fn config() -> Config {
    let meeting = |code: &str, title: &str| SimMeeting {
        code: MeetingCode(code.into()),
        title: title.into(),
        participants: 2,
        begin_time: 1_700_000_000,
        end_time: 1_700_003_600,
        ..SimMeeting::default()
    };
    let mut c = Config::default();
    c.services.edit::<SimConfig>().join_delay_ms = 50;
    c.backend.timeout_ms.0 = 2000;
    c.share.capture_devices = vec!["hdmi-in".into()];
    c.services.edit::<SimConfig>().meetings = vec![
        meeting("111222333", "Weekly sync"),
        SimMeeting {
            password: "1234".into(),
            ..meeting("222333444", "Board review")
        },
        SimMeeting {
            waiting_room: true,
            admit_after_ms: 300,
            waiting: 2,
            ..meeting("333444555", "All hands")
        },
        SimMeeting {
            locked: true,
            ..meeting("444555666", "Locked review")
        },
        SimMeeting {
            room_is_host: true,
            participants: 3,
            recording_allowed: true,
            churn_ms: 300,
            ..meeting("555666777", "Hosted")
        },
        SimMeeting {
            host_ends_after_ms: 300,
            ..meeting("666777888", "Short")
        },
        SimMeeting {
            creator: "}}}}{".into(),
            ..meeting("121212121", "Plan {Q3} }}}}")
        },
    ];
    c
}

fuzz_target!(|data: &[u8]| {
    // Text frames are UTF-8: tungstenite refuses anything else before it reaches us.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A fresh runtime per input: nothing a run leaves behind reaches the next, so every crash
    // reproduces from its input alone. The clock is paused and jumps ahead whenever every task
    // waits, so the simulator's delays cost nothing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(run(text));
});

/// Frames handled since the fuzzer started, told every 100,000 (`#frames N` on stderr), since
/// libFuzzer counts inputs and an input holds several frames.
static FRAMES: AtomicU64 = AtomicU64::new(0);

fn count_frame() {
    let n = FRAMES.fetch_add(1, Ordering::Relaxed) + 1;
    if n.is_multiple_of(100_000) {
        eprintln!("#frames {n}");
    }
}

async fn run(text: &str) {
    let config = config();
    let shutdown = CancellationToken::new();
    let (reports_tx, reports) = mpsc::channel(256);
    let initial_health = roomsd::backend::health::initial(&config);
    let (health_tracker, health) = HealthTracker::new(initial_health.clone());
    let backend = roomsd::backend::build(&config, reports_tx, health_tracker);
    let (settings_tx, _settings_rx) = watch::channel(DeviceSettings::default());
    let given = Given {
        profile: backend.profile(),
        health: initial_health,
        cast_seed: 0,
    };
    let room = Room::new(&config, DeviceSettings::default(), given);
    let (room, owner) = owner::spawn(
        room,
        Arc::clone(&backend),
        Inputs {
            reports,
            displays: None,
            health,
        },
        OwnerSettings {
            backend_timeout: Duration::from_millis(config.backend.timeout_ms.0),
            event_capacity: 4096,
            history: roomsd::room::history::HistoryLimits::from_config(&config.events),
            device_settings: settings_tx,
            heartbeat: None,
        },
        shutdown.clone(),
    );
    let mut events = room.subscribe_events();
    let mut subscriptions = Subscriptions::default();
    let limits = Limits {
        batch_reply_bytes: config.server.max_batch_reply_bytes.get(),
        request_keys: Default::default(),
    };
    for frame in text.split('\n') {
        count_frame();
        let reply = handle_text(frame, &room, &mut subscriptions, &limits).await;
        check_reply(frame, reply.as_deref());
    }
    // Let what the frames started finish (joins, admissions, the host ending a meeting, a few
    // people coming and going): on the paused clock, this takes no time.
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.cancel();
    owner.await.expect("the owner task ends without a panic");
    while let Ok(event) = events.try_recv() {
        check_event(&event.text);
    }
}

/// `text` with every `\u` escape of a UTF-16 surrogate replaced by `\u003f`, for serde_json.
///
/// JSON's grammar allows any `\uXXXX`, lone surrogates included (RFC 8259 §8.2), and so does
/// the server's parser, which reads a frame's structure without decoding its strings: a request
/// whose params hold `"\ud83d\ud555"` is still a request, and an id holding it is echoed as
/// written. serde_json's `Value` refuses such strings, so the oracle reads both sides this way.
fn without_surrogates(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\u") {
        return text.into();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let hex = text.get(i + 2..i + 6).filter(|_| bytes[i + 1] == b'u');
            if let Some(unit) = hex.and_then(|h| u16::from_str_radix(h, 16).ok())
                && (0xD800..=0xDFFF).contains(&unit)
            {
                out.push_str("\\u003f");
                i += 6;
            } else {
                // Any other escape, copied whole so that `\\\\` never starts a new one.
                let len = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&text[i..i + 1 + len]);
                i += 1 + len;
            }
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&text[i..i + len]);
            i += len;
        }
    }
    out.into()
}

/// A JSON object's members, undecoded: read this way, a frame is JSON exactly when the server
/// finds it so (serde_json's `Value` also refuses numbers beyond `f64`, which JSON allows).
type Members<'a> = BTreeMap<String, &'a RawValue>;

/// `text` read as the server reads it: `None` when it is not JSON; else whether it is an array,
/// and its objects (`None` for an item that is not one).
fn members(text: &str) -> Option<(bool, Vec<Option<Members<'_>>>)> {
    let raw: &RawValue = serde_json::from_str(text).ok()?;
    if raw.get().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
        let objects = items
            .into_iter()
            .map(|item| serde_json::from_str(item.get()).ok())
            .collect();
        Some((true, objects))
    } else {
        Some((false, vec![serde_json::from_str(raw.get()).ok()]))
    }
}

/// The reply to `frame` conforms to JSON-RPC 2.0 and to the wire's brace rule.
fn check_reply(frame: &str, reply: Option<&str>) {
    let frame = without_surrogates(frame);
    let input = members(&frame);
    let Some(reply) = reply else {
        // Only notifications go unanswered: an object without an id, or a batch of them.
        let notification = |m: &Option<Members>| m.as_ref().is_some_and(|m| !m.contains_key("id"));
        let quiet = match &input {
            Some((true, items)) => !items.is_empty() && items.iter().all(notification),
            Some((false, single)) => notification(&single[0]),
            None => false,
        };
        assert!(
            quiet,
            "no reply to a frame that is not a notification: {frame:?}"
        );
        return;
    };
    let reply = without_surrogates(reply);
    let (batch, replies) =
        members(&reply).unwrap_or_else(|| panic!("the reply is not JSON: {reply:?} to {frame:?}"));
    if batch {
        assert!(
            matches!(input, Some((true, _))),
            "an array answers a single request: {reply:?} to {frame:?}"
        );
        assert!(!replies.is_empty(), "an empty batch reply to {frame:?}");
        if let Some((true, items)) = &input {
            assert!(replies.len() <= items.len(), "more replies than requests");
        }
    }
    let mut objects = 0;
    let mut raw_id_braces = false;
    for member in &replies {
        let member = member
            .as_ref()
            .unwrap_or_else(|| panic!("a reply that is not an object: {reply:?}"));
        objects += 1 + check_reply_object(member, &reply);
        raw_id_braces |= member["id"].get().contains(['{', '}']);
    }
    // The id is echoed byte for byte.
    if let (Some((false, single)), [Some(answer)]) = (&input, replies.as_slice())
        && let Some(request) = &single[0]
        && let Some(id) = request.get("id")
        && answer.contains_key("result")
    {
        assert_eq!(answer["id"].get(), id.get(), "the id is echoed: {reply:?}");
    }
    // Every brace is an object's own, but in ids, echoed as the client wrote them.
    if !raw_id_braces {
        let raw = reply.bytes().filter(|b| matches!(b, b'{' | b'}')).count();
        assert_eq!(raw, 2 * objects, "a raw brace inside a string: {reply:?}");
    }
}

/// Checks one reply object; the objects inside it (its own not counted). Everything but the id
/// is the server's own JSON, so it is read strictly.
fn check_reply_object(reply: &Members, text: &str) -> usize {
    assert_eq!(
        reply.get("jsonrpc").map(|v| v.get()),
        Some("\"2.0\""),
        "{text:?}"
    );
    let id = reply
        .get("id")
        .unwrap_or_else(|| panic!("a reply without an id: {text:?}"))
        .get();
    assert!(
        id == "null"
            || id.starts_with(['"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']),
        "an id that is no id: {text:?}"
    );
    let strict = |key: &str| -> Option<Value> {
        reply.get(key).map(|raw| {
            serde_json::from_str(raw.get())
                .unwrap_or_else(|e| panic!("{key} is not JSON ({e}): {text:?}"))
        })
    };
    let objects = match (strict("result"), strict("error")) {
        (Some(result), None) => {
            // The Rooms dialect: a method, and an in-band outcome (or the OpenRPC document).
            let method = strict("method").unwrap_or_else(|| panic!("no method: {text:?}"));
            assert!(method.is_string(), "{text:?}");
            if method != "rpc.discover" {
                assert!(result["error_code"].is_u64(), "{text:?}");
                assert!(result["message"].is_string(), "{text:?}");
            }
            count_objects(&result)
        }
        (None, Some(error)) => {
            assert!(error["code"].is_i64(), "{text:?}");
            assert!(error["message"].is_string(), "{text:?}");
            count_objects(&error)
        }
        _ => panic!("a reply needs result xor error: {text:?}"),
    };
    let known = ["jsonrpc", "method", "id", "result", "error"];
    assert!(
        reply.keys().all(|k| known.contains(&k.as_str())),
        "unexpected keys: {text:?}"
    );
    objects
}

/// An event: a notification (no id) named `Event/<Module>` with its outcome and data.
fn check_event(text: &str) {
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("the event is not JSON ({e}): {text:?}"));
    assert_eq!(value["jsonrpc"], "2.0", "{text:?}");
    assert!(
        value.get("id").is_none(),
        "an event is a notification: {text:?}"
    );
    assert!(
        value["method"]
            .as_str()
            .is_some_and(|m| m.starts_with("Event/")),
        "{text:?}"
    );
    let params = &value["params"];
    assert!(params["sub_event"].is_string(), "{text:?}");
    assert!(params["error_code"].is_u64(), "{text:?}");
    assert!(params["message"].is_string(), "{text:?}");
    assert!(params.get("data").is_some(), "{text:?}");
    let raw = text.bytes().filter(|b| matches!(b, b'{' | b'}')).count();
    assert_eq!(
        raw,
        2 * count_objects(&value),
        "a raw brace inside a string: {text:?}"
    );
}

/// Objects in `value`, itself included.
fn count_objects(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(count_objects).sum::<usize>(),
        Value::Array(items) => items.iter().map(count_objects).sum(),
        _ => 0,
    }
}
