//! Unit tests of MeetingControl, ListMemberIds and the member list (PROTOCOL.md §6).

use serde_json::json;

use super::*;
use crate::domain::{BackendEvent, Happening, RoomRole};
use crate::modules::meeting_control::MemberList;
use crate::modules::members::MembersNode;
use crate::room::test_support::*;

// MeetingControl

#[test]
fn meeting_control_outside_a_meeting_is_user_not_in_meeting() {
    let mut idle = room();
    let mut joining = room();
    joining.apply(join()).unwrap();
    let mut waiting = in_waiting_room();
    for r in [&mut idle, &mut joining, &mut waiting] {
        for action in [
            mute_all(),
            mute("u0"),
            stop_video("u0"),
            remove("u0"),
            ControlAction::RequestRecord,
            start_record(),
        ] {
            assert_eq!(
                code_of(control(r, action.clone())),
                ErrorCode::USER_NOT_IN_MEETING,
                "{action:?} in status {}",
                r.phase.status()
            );
        }
    }
}

#[test]
fn an_attendee_may_only_request_recording() {
    let mut r = in_meeting(RoomRole::Attendee, 2);
    let s = session_of(&r);
    for action in [
        mute_all(),
        mute("u0"),
        stop_video("u0"),
        remove("u0"),
        start_record(),
    ] {
        assert_eq!(
            code_of(control(&mut r, action.clone())),
            ErrorCode::NOT_HOST,
            "{action:?}"
        );
    }
    let effects = control(&mut r, ControlAction::RequestRecord).unwrap();
    assert_eq!(control_op(&effects), (s, ControlAction::RequestRecord));

    // Asking the host does not let the room start recording itself.
    let effects = r.control_answered(s, ControlAction::RequestRecord, Ok(()));
    assert_eq!(names(&effects), [("MeetingControl", "RequestRecord")]);
    assert_eq!(r.meeting_control_node().record_status, 0);
    assert_eq!(
        code_of(control(&mut r, start_record())),
        ErrorCode::NOT_HOST
    );
}

#[test]
fn member_actions_need_a_participant_other_than_the_room() {
    let mut r = in_meeting(RoomRole::Host, 2);
    for action in [mute("nobody"), stop_video("nobody"), remove("nobody")] {
        assert_eq!(
            code_of(control(&mut r, action.clone())),
            ErrorCode::USER_NOT_IN_MEETING,
            "{action:?}"
        );
    }
    for action in [mute("room-1"), stop_video("room-1"), remove("room-1")] {
        assert_eq!(
            code_of(control(&mut r, action.clone())),
            ErrorCode::PARAMETER,
            "{action:?}"
        );
    }
}

#[test]
fn accepted_actions_go_to_the_service_and_end_in_their_event() {
    for role in [RoomRole::Host, RoomRole::CoHost] {
        let mut r = in_meeting(role, 2);
        let s = session_of(&r);
        for action in [mute_all(), mute("u1"), stop_video("u1"), remove("u0")] {
            let effects = control(&mut r, action.clone()).unwrap();
            assert_eq!(control_op(&effects), (s, action.clone()), "{role:?}");

            let effects = r.control_answered(s, action.clone(), Ok(()));
            let ev = only_event(&effects);
            assert_eq!(
                (ev.module, ev.name, ev.code),
                ("MeetingControl", action.name(), ErrorCode::OK)
            );
            if let Some(user) = action.target() {
                assert_eq!(ev.data, json!({ "user_id": user }));
            }
        }
    }
}

#[test]
fn a_failed_control_action_reports_the_service_code() {
    let mut r = in_meeting(RoomRole::Host, 1);
    let s = session_of(&r);
    control(&mut r, mute("u0")).unwrap();
    let effects = r.control_answered(
        s,
        mute("u0"),
        Err(Refusal::new(ErrorCode::NETWORK, "timed out")),
    );
    let ev = only_event(&effects);
    assert_eq!(
        (ev.module, ev.name, ev.code, ev.message.as_str()),
        (
            "MeetingControl",
            "MuteMember",
            ErrorCode::NETWORK,
            "timed out"
        )
    );
    assert_eq!(ev.data, json!({ "user_id": "u0" }));
}

#[test]
fn start_record_needs_a_successful_request_first_then_records() {
    let mut r = in_meeting(RoomRole::Host, 1);
    let s = session_of(&r);
    assert_eq!(
        code_of(control(&mut r, start_record())),
        ErrorCode::REQUEST_RECORD_FIRST
    );

    // A request the service refused does not count.
    control(&mut r, ControlAction::RequestRecord).unwrap();
    let effects = r.control_answered(
        s,
        ControlAction::RequestRecord,
        Err(Refusal::new(ErrorCode::FAIL, "no")),
    );
    assert_eq!(only_event(&effects).code, ErrorCode::FAIL);
    assert_eq!(
        code_of(control(&mut r, start_record())),
        ErrorCode::REQUEST_RECORD_FIRST
    );

    control(&mut r, ControlAction::RequestRecord).unwrap();
    let effects = r.control_answered(s, ControlAction::RequestRecord, Ok(()));
    assert_eq!(
        names(&effects),
        [
            ("MeetingControl", "RequestRecord"),
            ("MeetingControl", "RecordStateChanged")
        ]
    );
    assert_eq!(r.meeting_control_node().record_status, 1);

    let effects = control(&mut r, start_record()).unwrap();
    assert_eq!(control_op(&effects), (s, start_record()));
    assert_eq!(
        r.meeting_control_node().record_status,
        1,
        "not recording before the service confirms"
    );
    let effects = r.control_answered(s, start_record(), Ok(()));
    assert_eq!(
        names(&effects),
        [
            ("MeetingControl", "StartRecord"),
            ("MeetingControl", "RecordStateChanged")
        ]
    );
    assert_eq!(
        events(&effects)[1].data,
        json!({ "is_recording": true, "record_status": 2 })
    );
    let node = r.meeting_control_node();
    assert_eq!((node.is_recording, node.record_status), (true, 2));

    assert_eq!(
        code_of(control(&mut r, ControlAction::RequestRecord)),
        ErrorCode::ALREADY_RECORDING
    );
    assert_eq!(
        code_of(control(&mut r, start_record())),
        ErrorCode::ALREADY_RECORDING
    );
}

#[test]
fn recording_disabled_refuses_both_record_actions() {
    for role in [RoomRole::Host, RoomRole::Attendee] {
        let mut r = meeting_with(MeetingDetails {
            recording_allowed: false,
            ..details(role, 1)
        });
        assert_eq!(
            code_of(control(&mut r, ControlAction::RequestRecord)),
            ErrorCode::RECORDING_DISABLED,
            "{role:?}"
        );
    }
    let mut host = meeting_with(MeetingDetails {
        recording_allowed: false,
        ..details(RoomRole::Host, 1)
    });
    assert_eq!(
        code_of(control(&mut host, start_record())),
        ErrorCode::RECORDING_DISABLED
    );
}

#[test]
fn recording_reported_by_the_service_updates_the_record_state() {
    let mut r = in_meeting(RoomRole::Host, 1);
    // A report for no meeting, or an earlier one, is not about this meeting.
    for session in [None, Some(Session(999))] {
        assert!(
            r.happen(BackendEvent {
                session,
                happening: Happening::Recording(true),
            })
            .is_empty()
        );
    }
    assert_eq!(r.meeting_control_node().record_status, 0);

    let effects = report(&mut r, Happening::Recording(true));
    let ev = only_event(&effects);
    assert_eq!(
        (ev.module, ev.name),
        ("MeetingControl", "RecordStateChanged")
    );
    assert_eq!(ev.data, json!({ "is_recording": true, "record_status": 2 }));
    let node = r.meeting_control_node();
    assert_eq!((node.is_recording, node.record_status), (true, 2));
    assert_eq!(
        code_of(control(&mut r, ControlAction::RequestRecord)),
        ErrorCode::ALREADY_RECORDING
    );
    assert!(
        report(&mut r, Happening::Recording(true)).is_empty(),
        "no change, no event"
    );

    let effects = report(&mut r, Happening::Recording(false));
    assert_eq!(
        only_event(&effects).data,
        json!({ "is_recording": false, "record_status": 0 })
    );
    assert_eq!(r.meeting_control_node().record_status, 0);
}

#[test]
fn the_record_state_ends_with_the_meeting() {
    let mut r = in_meeting(RoomRole::Host, 1);
    report(&mut r, Happening::Recording(true));
    leave(&mut r);
    let node = r.meeting_control_node();
    assert_eq!((node.is_recording, node.record_status), (false, 0));
}

// ListMemberIds and Members

#[test]
fn list_member_ids_pages_the_room_then_the_participants() {
    let mut r = in_meeting(RoomRole::Attendee, 3);
    let all = MemberList::InMeeting;
    assert_eq!(list_ids(&mut r, all, 0, 1).unwrap(), ids(&["room-1", "u0"]));
    assert_eq!(
        list_ids(&mut r, all, 1, 3).unwrap(),
        ids(&["u0", "u1", "u2"]),
        "end_count is inclusive"
    );
    assert_eq!(list_ids(&mut r, all, 3, 3).unwrap(), ids(&["u2"]));
    assert_eq!(
        list_ids(&mut r, all, 2, 100).unwrap(),
        ids(&["u1", "u2"]),
        "clipped to the list"
    );
    assert_eq!(list_ids(&mut r, all, 4, 9).unwrap(), ids(&[]));
    assert_eq!(list_ids(&mut r, all, 50, 60).unwrap(), ids(&[]));
}

#[test]
fn list_member_ids_type_0_reads_the_waiting_room() {
    let mut r = meeting_with(MeetingDetails {
        waiting: vec![person(5), person(6)],
        ..details(RoomRole::Host, 1)
    });
    let waiting = MemberList::WaitingRoom;
    assert_eq!(list_ids(&mut r, waiting, 0, 0).unwrap(), ids(&["u5"]));
    assert_eq!(list_ids(&mut r, waiting, 0, 9).unwrap(), ids(&["u5", "u6"]));
    assert_eq!(list_ids(&mut r, waiting, 2, 9).unwrap(), ids(&[]));
    assert_eq!(r.members_node().member_count.in_waiting_room, 2);

    // The service reports who is waiting now.
    let effects = report(&mut r, Happening::Waiting(vec![person(7)]));
    let ev = only_event(&effects);
    assert_eq!(ev.name, "MembersChanged");
    assert_eq!(ev.data["member_count"]["in_waiting_room"], 1);
    assert_eq!(list_ids(&mut r, waiting, 0, 9).unwrap(), ids(&["u7"]));
}

#[test]
fn list_member_ids_outside_a_meeting_is_user_not_in_meeting() {
    let mut idle = room();
    let mut waiting = in_waiting_room();
    for r in [&mut idle, &mut waiting] {
        for list in [MemberList::InMeeting, MemberList::WaitingRoom] {
            assert_eq!(
                list_ids(r, list, 0, 5).unwrap_err().code,
                ErrorCode::USER_NOT_IN_MEETING
            );
        }
    }
}

#[test]
fn members_are_empty_outside_a_meeting() {
    let empty = MembersNode::default();
    assert!(empty.user_list_info.is_empty());
    assert_eq!(
        (
            empty.member_count.in_meeting,
            empty.member_count.in_waiting_room
        ),
        (0, 0)
    );
    assert_eq!(room().members_node(), empty);
    assert_eq!(in_waiting_room().members_node(), empty);
    let mut r = in_meeting(RoomRole::Host, 2);
    leave(&mut r);
    assert_eq!(r.members_node(), empty);
}

#[test]
fn members_list_the_room_first_then_the_participants() {
    let mut r = in_meeting(RoomRole::CoHost, 2);
    let node = r.members_node();
    let list = &node.user_list_info;
    assert_eq!(
        list.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(),
        ["room-1", "u0", "u1"]
    );
    let me = &list[0];
    assert_eq!(me.nickname, "Room 101");
    assert_eq!((me.host, me.co_host, me.role_type), (false, true, 2));
    assert!(me.audio_on && me.video_on && !me.screen_sharing);
    assert_eq!(
        (list[1].nickname.as_str(), list[1].host, list[1].role_type),
        ("P0", true, 1)
    );
    assert_eq!((list[2].host, list[2].role_type), (false, 3));
    assert_eq!(node.member_count.in_meeting, list.len());
    assert_eq!(node.member_count.in_waiting_room, 0);

    let host = in_meeting(RoomRole::Host, 0).members_node();
    assert_eq!(host.user_list_info.len(), 1);
    assert_eq!(host.member_count.in_meeting, 1);
    assert_eq!(
        (
            host.user_list_info[0].host,
            host.user_list_info[0].role_type
        ),
        (true, 1)
    );

    // The room's own record follows its devices.
    let s = session_of(&r);
    device(&mut r, DeviceAction::EnableCamera(false)).unwrap();
    r.media_answered(s, MediaChange::Camera(false), Ok(()));
    assert!(!r.members_node().user_list_info[0].video_on);
}

#[test]
fn participant_changes_in_a_meeting_publish_members_changed() {
    let mut r = in_meeting(RoomRole::Host, 1);
    let effects = report(
        &mut r,
        Happening::Participants(vec![person(1), person(2), person(3)]),
    );
    let ev = events(&effects)
        .into_iter()
        .find(|e| e.name == "MembersChanged")
        .expect("MembersChanged");
    assert_eq!(ev.module, "Meeting");
    let list = ev.data["user_list_info"].as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["user_id"], "room-1");
    assert_eq!(ev.data["member_count"]["in_meeting"], 4);
    let node = r.members_node();
    assert_eq!(node.member_count.in_meeting, 4);
    assert_eq!(node.user_list_info[3].user_id, "u3");
}

#[test]
fn leaving_while_recording_announces_the_end_of_the_recording() {
    let mut r = in_meeting(RoomRole::Host, 1);
    report(&mut r, Happening::Recording(true));
    let effects = leave(&mut r);
    let ended = events(&effects)
        .into_iter()
        .find(|e| e.name == "RecordStateChanged")
        .expect("RecordStateChanged");
    assert_eq!(ended.data["record_status"], 0);
}

#[test]
fn a_huge_end_count_is_clipped_not_a_panic() {
    let mut r = in_meeting(RoomRole::Host, 2);
    assert_eq!(
        list_ids(&mut r, MemberList::InMeeting, 1, usize::MAX).unwrap(),
        json!(["u0", "u1"])
    );
}
