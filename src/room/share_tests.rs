//! Unit tests of sharing and casting (PROTOCOL.md §6).

use super::*;
use crate::domain::{Happening, RoomRole};
use crate::modules::meeting::StartKind;
use crate::modules::share::ShareSource;
use crate::room::test_support::*;

// Share

#[test]
fn start_share_outside_a_meeting_casts_to_the_room() {
    let mut r = room();
    let effects = share(&mut r, screen()).unwrap();
    assert_eq!(
        names(&effects),
        [
            ("Share", "ShareInfoChanged"),
            ("Meeting", "MeetingInfoChanged")
        ]
    );
    let evs = events(&effects);
    assert_eq!(evs[0].data["share_info"]["quick_casting_state"], 2);
    assert_eq!(evs[0].data["share_info"]["is_sharing"], true);
    assert_eq!(evs[1].data["meeting_info"]["meeting_status"], 4);
    assert_eq!(evs[1].data["meeting_info"]["meeting_type"], 4);

    let info = r.share_node().share_info;
    assert_eq!((info.quick_casting_state, info.is_sharing), (2, true));
    assert_eq!(info.share_user_info.nickname, "Room 101");
    let meeting = r.meeting_info();
    assert_eq!((meeting.meeting_status, meeting.meeting_type), (4, 4));
    assert_eq!(r.phase, Phase::Idle);
}

#[test]
fn casting_blocks_starting_and_joining_a_meeting() {
    let mut r = casting_room();
    assert_eq!(
        code_of(r.apply(join())),
        ErrorCode::CANNOT_JOIN_WHILE_SHARING
    );
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Start(StartKind::Instant))),
        ErrorCode::CANNOT_START_WHILE_SHARING
    );
    assert_eq!(r.phase, Phase::Idle);
    assert_eq!(r.share_node().share_info.quick_casting_state, 2);
}

#[test]
fn end_quick_share_stop_share_and_cancel_quick_share_each_end_a_cast() {
    for action in [
        ShareAction::EndQuickShare,
        ShareAction::Stop,
        ShareAction::CancelQuickShare,
    ] {
        let mut r = casting_room();
        let effects = share(&mut r, action.clone()).unwrap();
        assert_eq!(
            names(&effects),
            [
                ("Share", "ShareInfoChanged"),
                ("Meeting", "MeetingInfoChanged")
            ],
            "{action:?}"
        );
        assert_eq!(
            events(&effects)[1].data["meeting_info"]["meeting_status"],
            0
        );
        let info = r.share_node().share_info;
        assert_eq!((info.quick_casting_state, info.is_sharing), (0, false));
        assert_eq!(info.share_user_info.nickname, "");
        let meeting = r.meeting_info();
        assert_eq!((meeting.meeting_status, meeting.meeting_type), (0, 0));
        r.apply(join())
            .unwrap_or_else(|e| panic!("{action:?}: join after the cast: {e}"));
    }
}

#[test]
fn the_share_guide_opens_and_closes() {
    let mut r = room();
    let effects = share(&mut r, ShareAction::OpenGuide).unwrap();
    let ev = only_event(&effects);
    assert_eq!((ev.module, ev.name), ("Share", "ShareInfoChanged"));
    assert_eq!(ev.data["share_info"]["quick_casting_state"], 1);
    let info = r.share_node().share_info;
    assert_eq!((info.quick_casting_state, info.is_sharing), (1, false));
    assert_eq!(
        r.meeting_info().meeting_status,
        0,
        "the guide is not a cast"
    );
    assert!(
        share(&mut r, ShareAction::OpenGuide).unwrap().is_empty(),
        "already open"
    );

    let effects = share(&mut r, ShareAction::CloseGuide).unwrap();
    assert_eq!(
        only_event(&effects).data["share_info"]["quick_casting_state"],
        0
    );
    assert_eq!(r.share_node().share_info.quick_casting_state, 0);

    share(&mut r, ShareAction::OpenGuide).unwrap();
    share(&mut r, ShareAction::CancelQuickShare).unwrap();
    assert_eq!(r.share_node().share_info.quick_casting_state, 0);

    // From the guide, a source starts the cast.
    share(&mut r, ShareAction::OpenGuide).unwrap();
    let effects = share(&mut r, screen()).unwrap();
    assert_eq!(events(&effects).len(), 2);
    assert_eq!(r.share_node().share_info.quick_casting_state, 2);
}

#[test]
fn starting_a_share_twice_is_a_repeat() {
    let mut r = casting_room();
    assert_eq!(
        code_of(share(&mut r, screen())),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(
        code_of(share(&mut r, ShareAction::OpenGuide)),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(r.share_node().share_info.quick_casting_state, 2);

    let mut m = in_meeting(RoomRole::Attendee, 1);
    share(&mut m, screen()).unwrap();
    assert_eq!(
        code_of(share(&mut m, screen())),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(
        code_of(share(&mut m, window())),
        ErrorCode::REPEAT_OPERATION
    );
    assert!(m.self_info().screen_sharing);
}

#[test]
fn sharing_in_a_meeting_marks_the_room_as_sharing() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let effects = share(&mut r, screen()).unwrap();
    assert_eq!(
        names(&effects),
        [("Share", "ShareInfoChanged"), ("Meeting", "MembersChanged")]
    );
    let ev = events(&effects)[0];
    assert_eq!(ev.data["share_info"]["is_sharing"], true);
    assert_eq!(
        ev.data["share_info"]["share_user_info"]["user_id"],
        "room-1"
    );

    assert!(r.self_info().screen_sharing);
    assert!(r.members_node().user_list_info[0].screen_sharing);
    let info = r.share_node().share_info;
    assert_eq!((info.is_sharing, info.quick_casting_state), (true, 0));
    assert_eq!(r.meeting_info().meeting_status, 1, "still the meeting");

    let effects = share(&mut r, ShareAction::Stop).unwrap();
    assert_eq!(events(&effects)[0].data["share_info"]["is_sharing"], false);
    assert_eq!(
        events(&effects)[1].data["user_list_info"][0]["screen_sharing"],
        false
    );
    assert!(!r.self_info().screen_sharing);
    assert!(!r.members_node().user_list_info[0].screen_sharing);
}

#[test]
fn sharing_in_a_meeting_publishes_members_changed() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let effects = share(&mut r, screen()).unwrap();
    let ev = events(&effects)
        .into_iter()
        .find(|e| e.name == "MembersChanged")
        .expect("MembersChanged after the room's member record changed");
    assert_eq!(ev.data["user_list_info"][0]["screen_sharing"], true);
}

#[test]
fn leaving_the_meeting_ends_its_share() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    share(&mut r, screen()).unwrap();
    let effects = leave(&mut r);
    assert_eq!(
        names(&effects),
        [("Meeting", "LeaveMeeting"), ("Share", "ShareInfoChanged")]
    );
    assert_eq!(events(&effects)[1].data["share_info"]["is_sharing"], false);
    let info = r.share_node().share_info;
    assert_eq!((info.is_sharing, info.quick_casting_state), (false, 0));
    assert!(!r.self_info().screen_sharing);
    // Nothing is left shared: a new share casts to the room.
    share(&mut r, screen()).unwrap();
    assert_eq!(r.meeting_info().meeting_status, 4);
}

#[test]
fn the_host_ending_the_meeting_ends_its_share_too() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    share(&mut r, window()).unwrap();
    let effects = report(&mut r, Happening::HostEnded);
    assert_eq!(
        names(&effects),
        [
            ("Meeting", "DissolveMeeting"),
            ("Share", "ShareInfoChanged")
        ]
    );
    assert!(!r.share_node().share_info.is_sharing);
}

#[test]
fn window_share_needs_a_meeting() {
    let mut r = room();
    assert_eq!(code_of(share(&mut r, window())), ErrorCode::NOT_IN_MEETING);
    let info = r.share_node().share_info;
    assert_eq!((info.is_sharing, info.quick_casting_state), (false, 0));
    assert_eq!(r.meeting_info().meeting_status, 0);

    let mut m = in_meeting(RoomRole::Attendee, 1);
    let effects = share(&mut m, window()).unwrap();
    assert_eq!(events(&effects)[0].name, "ShareInfoChanged");
    assert!(m.self_info().screen_sharing);
    let effects = share(&mut m, ShareAction::StopWindow).unwrap();
    assert_eq!(events(&effects)[0].name, "ShareInfoChanged");
    assert!(!m.self_info().screen_sharing);
}

#[test]
fn no_share_while_joining_or_in_the_waiting_room() {
    let mut joining = room();
    joining.apply(join()).unwrap();
    let mut waiting = in_waiting_room();
    for r in [&mut joining, &mut waiting] {
        for action in [screen(), window()] {
            assert_eq!(
                code_of(share(r, action.clone())),
                ErrorCode::NOT_IN_MEETING,
                "{action:?}"
            );
        }
        assert!(!r.share_node().share_info.is_sharing);
    }
}

#[test]
fn capture_share_needs_a_configured_device() {
    let capture = |id: &str| {
        ShareAction::Start(ShareSource::Capture {
            device_id: id.into(),
        })
    };
    let mut r = room();
    assert_eq!(
        code_of(share(&mut r, capture("hdmi-in"))),
        ErrorCode::PARAMETER
    );
    assert!(!r.share_node().share_info.is_sharing);

    let mut config = Config::default();
    config.share.capture_devices = vec!["hdmi-in".into()];
    let mut r = crate::room::test_support::room_for(&config);
    assert_eq!(
        code_of(share(&mut r, capture("hdmi-2"))),
        ErrorCode::PARAMETER
    );
    assert!(!r.share_node().share_info.is_sharing);
    share(&mut r, capture("hdmi-in")).unwrap();
    assert_eq!(r.share_node().share_info.quick_casting_state, 2);
    assert_eq!(r.share_node().capture_device_list[0].device_id, "hdmi-in");
}

#[test]
fn stopping_what_is_not_shared_succeeds_without_events() {
    let stops = [
        ShareAction::Stop,
        ShareAction::StopWindow,
        ShareAction::CloseGuide,
        ShareAction::EndQuickShare,
        ShareAction::CancelQuickShare,
    ];
    let mut idle = room();
    let mut meeting = in_meeting(RoomRole::Attendee, 1);
    for r in [&mut idle, &mut meeting] {
        for action in stops.clone() {
            let effects =
                share(r, action.clone()).unwrap_or_else(|e| panic!("{action:?} refused: {e}"));
            assert!(effects.is_empty(), "{action:?}: {effects:?}");
        }
        let info = r.share_node().share_info;
        assert_eq!((info.is_sharing, info.quick_casting_state), (false, 0));
    }
    // A cast is not a window share: StopWindowShare leaves it running.
    let mut casting = casting_room();
    assert!(
        share(&mut casting, ShareAction::StopWindow)
            .unwrap()
            .is_empty()
    );
    assert_eq!(casting.share_node().share_info.quick_casting_state, 2);
}

#[test]
fn a_meeting_over_the_share_guide_reports_the_guide_closing() {
    let mut r = room();
    share(&mut r, ShareAction::OpenGuide).unwrap();
    let effects = r.apply(join()).unwrap();
    assert_eq!(r.share_node().share_info.quick_casting_state, 0);
    let ev = events(&effects)
        .into_iter()
        .find(|e| e.name == "ShareInfoChanged")
        .expect("ShareInfoChanged for the guide closing");
    assert_eq!(ev.data["share_info"]["quick_casting_state"], 0);
}

#[test]
fn stop_share_ends_a_window_share_too() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    share(&mut r, window()).unwrap();
    share(&mut r, ShareAction::Stop).unwrap();
    assert!(!r.share_node().share_info.is_sharing);
}

#[test]
fn an_unset_cast_code_is_six_digits_from_the_seed() {
    let mut r = room();
    assert_eq!(r.share_node().cast_code, "123456");
    let given = crate::room::Given {
        profile: crate::backend::sim::PROFILE,
        health: crate::domain::Health::unknown(),
        cast_seed: 7,
    };
    r = Room::new(&Config::default(), DeviceSettings::default(), given);
    assert_eq!(r.share_node().cast_code, "000007");
}
