//! The service's declaration at work in the room: what it cannot do is refused with 9 naming
//! it, its code rule decides which codes are accepted, and a service not reached yet is tried.

use super::test_support::*;
use super::*;
use crate::config::Config;
use crate::domain::{Capability, Health, RoomRole};
use crate::modules::meeting::StartKind;

fn room_of(kind: &str) -> Room {
    let mut config = Config::default();
    config.backend.kind = kind.into();
    crate::room::test_support::room_for(&config)
}

fn join_code(code: &str) -> MeetingAction {
    MeetingAction::Join {
        code: code.into(),
        password: String::new(),
        mic_enable: None,
        camera_enable: None,
    }
}

/// A room of `kind` in a meeting as host with two others.
fn hosting(kind: &str) -> Room {
    let mut r = room_of(kind);
    r.apply(Command::Meeting(join_code("abc1"))).unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::InMeeting(details(RoomRole::Host, 2))));
    assert_eq!(r.phase.status(), 1);
    r
}

#[test]
fn what_rsc_cannot_do_is_refused_with_9_naming_it_in_any_state() {
    let mut r = room_of("rsc");
    let refusal = act(&mut r, MeetingAction::Start(StartKind::Instant)).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
    assert!(refusal.message.contains("(rsc)"), "{}", refusal.message);
    let mut r = hosting("rsc");
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Dissolve)),
        ErrorCode::UNSUPPORTED
    );
    for action in [mute("u0"), stop_video("u0"), remove("u0"), mute_all()] {
        assert_eq!(code_of(control(&mut r, action)), ErrorCode::UNSUPPORTED);
    }
    let refusal = device(&mut r, DeviceAction::EnableMic(false)).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
    assert_eq!(r.phase.status(), 1, "refusals change nothing");
}

#[test]
fn leaving_is_never_refused_and_goes_through_the_adapter() {
    let mut r = hosting("hiar");
    let effects = act(&mut r, MeetingAction::Leave).unwrap();
    assert!(matches!(calls(&effects)[..], [("leave", _)]));
}

#[test]
fn easemob_can_remove_but_not_mute() {
    let mut r = hosting("easemob");
    assert!(control(&mut r, remove("u1")).is_ok());
    let refusal = control(&mut r, mute("u1")).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
    assert_eq!(
        refusal.message,
        "the meeting service (easemob) cannot mute participants"
    );
}

#[test]
fn each_service_takes_its_own_codes() {
    let easemob_id = "TURN25AIYAVxASW7PL1Q00C51";
    let mut sim = room();
    assert_eq!(
        code_of(act(&mut sim, join_code(easemob_id))),
        ErrorCode::MEETING_CODE_INVALID
    );
    let effects = act(&mut sim, join_code("111 222-333")).unwrap();
    assert!(matches!(&asked(&effects)[..], [Asked::Join(req)] if req.code == "111222333"));

    let mut easemob = room_of("easemob");
    let effects = act(&mut easemob, join_code(easemob_id)).unwrap();
    assert!(matches!(&asked(&effects)[..], [Asked::Join(req)] if req.code == easemob_id));
    let mut easemob = room_of("easemob");
    assert_eq!(
        code_of(act(&mut easemob, join_code("12#"))),
        ErrorCode::MEETING_CODE_INVALID
    );
}

#[test]
fn a_service_without_a_schedule_is_not_asked_for_one() {
    let mut r = room_of("rsc");
    assert!(
        calls(&r.started())
            .iter()
            .all(|(name, _)| *name != "meeting_list")
    );
    let mut sim = room();
    assert!(
        calls(&sim.started())
            .iter()
            .any(|(name, _)| *name == "meeting_list")
    );
}

#[test]
fn a_service_not_reached_yet_is_tried_and_one_known_away_refused() {
    let mut r = room_of("easemob");
    assert!(!r.backend.connected);
    assert!(act(&mut r, MeetingAction::Start(StartKind::Instant)).is_ok());

    let mut r = room_of("easemob");
    r.health_changed(&Health {
        last_error: "easemob: cannot connect (Connection refused)".into(),
        ..Health::unknown()
    });
    let refusal = act(&mut r, join_code("abc")).unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NETWORK);
    assert!(
        refusal.message.contains("Connection refused"),
        "{}",
        refusal.message
    );
}

#[test]
fn the_backend_node_shows_the_declaration() {
    let r = room_of("rsc");
    let node = serde_json::to_value(&r.backend).unwrap();
    assert_eq!(node["capabilities"], serde_json::json!(["join"]));
    assert_eq!(
        node["meeting_code_pattern"],
        crate::domain::CodeRule::Identifier.pattern()
    );
    let sim = serde_json::to_value(&room().backend).unwrap();
    assert_eq!(
        sim["capabilities"].as_array().unwrap().len(),
        Capability::ALL.len()
    );
}
