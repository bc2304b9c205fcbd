//! The wire's hot paths: parsing a request frame, building a Query reply around a prepared
//! fragment (whole and paged Members of a 1,000-person meeting), and serializing an event.
//!
//! `cargo bench --bench wire`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use roomsd::room::snapshot::PreparedMembers;
use roomsd::wire::{self, ErrorCode, to_wire};
use serde_json::{json, value::RawValue};

fn member(i: usize) -> serde_json::Value {
    json!({"user_id": format!("user-{i:05}"), "nickname": format!("Participant {i}"),
        "host": false, "co_host": false, "role_type": 3, "user_type": 1,
        "audio_on": true, "video_on": false, "screen_sharing": false})
}

fn frame_parse(c: &mut Criterion) {
    let query = r#"{"jsonrpc": "2.0", "id": "q1", "method": "Query", "params": {"path": ["Members"], "begin": 20, "count": 20}}"#;
    let call = r#"{"jsonrpc": "2.0", "id": 7, "method": "Call/MeetingControl", "params": {"action": "MuteMember", "action_params": {"user_id": "user-00042"}}}"#;
    c.bench_function("frame parse: Query", |b| {
        b.iter(|| black_box(wire::parse(black_box(query))))
    });
    c.bench_function("frame parse: Call", |b| {
        b.iter(|| black_box(wire::parse(black_box(call))))
    });
}

fn reply_build(c: &mut Criterion) {
    let members = PreparedMembers::new(
        (0..1000).map(|i| Arc::from(to_wire(&member(i)))).collect(),
        3,
    );
    let id: Box<RawValue> = RawValue::from_string(r#""q1""#.into()).unwrap();
    let whole = members.node(0..usize::MAX);
    c.bench_function("reply build: Members of 1,000, prepared", |b| {
        b.iter(|| black_box(wire::query_ok(&id, black_box(&whole))))
    });
    c.bench_function("reply build: Members page of 20", |b| {
        b.iter(|| black_box(wire::query_ok(&id, &members.node(black_box(500..520)))))
    });
}

fn event_serialise(c: &mut Criterion) {
    let delta = json!({"joined": [member(1001)], "left": ["user-00007"], "updated": [],
        "member_count": {"in_meeting": 1000, "in_waiting_room": 3}});
    let whole = json!({"joined": [member(1001)], "left": ["user-00007"], "updated": [],
        "user_list_info": (0..1000).map(member).collect::<Vec<_>>(),
        "member_count": {"in_meeting": 1000, "in_waiting_room": 3}});
    for (name, data) in [("delta", &delta), ("with the compat list of 1,000", &whole)] {
        c.bench_function(&format!("event serialise: MembersChanged {name}"), |b| {
            b.iter(|| {
                black_box(wire::event(
                    "Event/Meeting",
                    "MembersChanged",
                    ErrorCode::OK,
                    "",
                    data,
                ))
            })
        });
    }
}

criterion_group!(benches, frame_parse, reply_build, event_serialise);
criterion_main!(benches);
