use super::*;
use crate::domain::{Happening, ScheduledMeeting};
use crate::modules::meeting::StartKind;
use crate::room::Command;
use crate::room::machine::MEETING_STATES;
use crate::room::test_support::*;
use serde_json::json;

#[test]
fn join_asks_the_backend_and_waits_in_joining() {
    let mut r = room();
    let effects = r.apply(join()).unwrap();
    assert!(matches!(&asked(&effects)[..], [Asked::Join(req)] if req.code == "111222333"));
    assert_eq!(calls(&effects), [("join", Some(session_of(&r)))]);
    assert_eq!(r.phase.status(), 2);
}

#[test]
fn join_success_enters_the_meeting_with_its_event() {
    let mut r = room();
    r.apply(join()).unwrap();
    let effects = r.join_answered(
        session_of(&r),
        Ok(Joined::InMeeting(details(RoomRole::Attendee, 2))),
    );
    let ev = only_event(&effects);
    assert_eq!((ev.name, ev.code), ("JoinMeetingCompleted", ErrorCode::OK));
    assert_eq!(ev.data["meeting_info"]["meeting_status"], 1);
    assert_eq!(
        ev.data["meeting_info"]["formatted_meeting_code"],
        "111 222 333"
    );
    assert_eq!(ev.data["self_user_info"]["nickname"], "Room 101");
    assert!(ev.data["mic_info"]["switch"].as_bool().unwrap());
}

#[test]
fn reports_that_overtake_the_join_answer_apply_once_it_arrives() {
    let mut r = room();
    r.apply(join()).unwrap();
    let session = Some(session_of(&r));
    let early = r.happen(BackendEvent {
        session,
        happening: Happening::Participants(vec![person(1), person(2), person(3)]),
    });
    assert!(early.is_empty(), "nothing to show while joining");
    let effects = r.join_answered(
        session_of(&r),
        Ok(Joined::InMeeting(details(RoomRole::Attendee, 1))),
    );
    assert_eq!(
        names(&effects)[..2],
        [
            ("Meeting", "JoinMeetingCompleted"),
            ("Meeting", "MembersChanged")
        ]
    );
    assert_eq!(r.members_node().user_list_info.len(), 4, "room and three");
}

#[test]
fn early_reports_of_a_failed_join_are_dropped() {
    let mut r = room();
    r.apply(join()).unwrap();
    let session = Some(session_of(&r));
    r.happen(BackendEvent {
        session,
        happening: Happening::HostEnded,
    });
    let refusal = Refusal::new(ErrorCode::NETWORK, "kedacom: connection refused");
    r.join_answered(session_of(&r), Err(refusal));
    assert_eq!(r.phase, Phase::Idle);
    r.apply(join()).unwrap();
    let effects = r.join_answered(
        session_of(&r),
        Ok(Joined::InMeeting(details(RoomRole::Attendee, 1))),
    );
    assert_eq!(names(&effects), [("Meeting", "JoinMeetingCompleted")]);
}

#[test]
fn join_failure_returns_to_idle_with_the_backend_code() {
    let mut r = room();
    r.apply(join()).unwrap();
    let refusal = Refusal::new(ErrorCode::WRONG_PASSWORD, "wrong password");
    let effects = r.join_answered(session_of(&r), Err(refusal));
    let ev = only_event(&effects);
    assert_eq!(
        (ev.name, ev.code, ev.message.as_str()),
        (
            "JoinMeetingCompleted",
            ErrorCode::WRONG_PASSWORD,
            "wrong password"
        )
    );
    assert_eq!(r.phase, Phase::Idle);
}

#[test]
fn start_uses_the_room_defaults_and_lands_in_meeting() {
    let mut r = room();
    let effects = act(&mut r, MeetingAction::Start(StartKind::Instant)).unwrap();
    assert!(
        matches!(&asked(&effects)[..], [Asked::Start(req)] if req.kind == StartKind::Instant && req.media.mic_on)
    );
    r.start_answered(session_of(&r), Ok(details(RoomRole::Host, 0)));
    assert_eq!(r.phase.status(), 1);
}

#[test]
fn start_failure_returns_to_idle() {
    let mut r = room();
    act(&mut r, MeetingAction::Start(StartKind::Pmi)).unwrap();
    let effects = r.start_answered(
        session_of(&r),
        Err(Refusal::new(ErrorCode::NETWORK, "down")),
    );
    assert_eq!(only_event(&effects).code, ErrorCode::NETWORK);
    assert_eq!(r.phase, Phase::Idle);
}

#[test]
fn second_attempt_while_joining_is_a_repeat() {
    let mut r = room();
    r.apply(join()).unwrap();
    assert_eq!(code_of(r.apply(join())), ErrorCode::REPEAT_OPERATION);
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Start(StartKind::Instant))),
        ErrorCode::REPEAT_OPERATION
    );
}

#[test]
fn start_or_join_in_a_meeting_or_waiting_room_is_refused() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    assert_eq!(code_of(r.apply(join())), ErrorCode::ALREADY_IN_MEETING);
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Start(StartKind::Instant))),
        ErrorCode::ALREADY_IN_MEETING
    );

    let mut w = room();
    w.apply(join()).unwrap();
    w.join_answered(
        session_of(&w),
        Ok(Joined::WaitingRoom(details(RoomRole::Attendee, 1))),
    );
    assert_eq!(code_of(w.apply(join())), ErrorCode::ALREADY_IN_MEETING);
}

#[test]
fn unreachable_backend_refuses_start_and_join_at_once() {
    let mut r = room();
    reach(&mut r, false);
    assert_eq!(code_of(r.apply(join())), ErrorCode::NETWORK);
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Start(StartKind::Instant))),
        ErrorCode::NETWORK
    );
    assert_eq!(r.phase, Phase::Idle);
    let effects = reach(&mut r, true);
    assert!(matches!(
        &calls(&effects)[..],
        [("meeting_list", None), ("reconcile", Some(_))]
    ));
    r.apply(join()).unwrap();
}

#[test]
fn actions_that_need_a_meeting_are_refused_when_idle() {
    let mut r = room();
    for action in [
        MeetingAction::Leave,
        MeetingAction::Dissolve,
        MeetingAction::LeaveWaitingRoom,
        MeetingAction::SwitchLayout {
            switch_type: 2,
            show_voice_active: None,
        },
    ] {
        assert_eq!(
            code_of(act(&mut r, action.clone())),
            ErrorCode::NOT_IN_MEETING,
            "{action:?}"
        );
    }
}

#[test]
fn actions_that_need_a_meeting_are_refused_while_joining() {
    let mut r = room();
    r.apply(join()).unwrap();
    for action in [
        MeetingAction::Leave,
        MeetingAction::Dissolve,
        MeetingAction::LeaveWaitingRoom,
    ] {
        assert_eq!(
            code_of(act(&mut r, action.clone())),
            ErrorCode::NOT_IN_MEETING,
            "{action:?}"
        );
    }
}

#[test]
fn leave_goes_through_the_backend_then_to_idle() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let effects = act(&mut r, MeetingAction::Leave).unwrap();
    assert_eq!(calls(&effects), [("leave", Some(s))]);
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Leave)),
        ErrorCode::REPEAT_OPERATION
    );
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Dissolve)),
        ErrorCode::REPEAT_OPERATION
    );
    let effects = r.leave_answered(s, Ok(()));
    let ev = only_event(&effects);
    assert_eq!(ev.name, "LeaveMeeting");
    assert_eq!(ev.data["reason"], "requested");
    assert_eq!(
        ev.data["meeting_info"]["meeting_code"], "111222333",
        "the meeting as it was"
    );
    assert_eq!(r.phase, Phase::Idle);
}

#[test]
fn failed_leave_keeps_the_room_in_the_meeting() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    act(&mut r, MeetingAction::Leave).unwrap();
    let effects = r.leave_answered(s, Err(Refusal::new(ErrorCode::LEAVE_FAILED, "no")));
    assert_eq!(only_event(&effects).code, ErrorCode::LEAVE_FAILED);
    assert_eq!(r.phase.status(), 1);
    act(&mut r, MeetingAction::Leave).unwrap();
}

#[test]
fn dissolve_needs_host_or_co_host() {
    let mut attendee = in_meeting(RoomRole::Attendee, 1);
    assert_eq!(
        code_of(act(&mut attendee, MeetingAction::Dissolve)),
        ErrorCode::NOT_HOST
    );
    for role in [RoomRole::Host, RoomRole::CoHost] {
        let mut r = in_meeting(role, 1);
        let s = session_of(&r);
        act(&mut r, MeetingAction::Dissolve).unwrap();
        let effects = r.dissolve_answered(s, Ok(()));
        assert_eq!(only_event(&effects).name, "DissolveMeeting");
        assert_eq!(r.phase, Phase::Idle);
    }
}

#[test]
fn failed_dissolve_keeps_the_room_in_the_meeting() {
    let mut r = in_meeting(RoomRole::Host, 1);
    let s = session_of(&r);
    act(&mut r, MeetingAction::Dissolve).unwrap();
    let effects = r.dissolve_answered(s, Err(Refusal::new(ErrorCode::DISSOLVE_FAILED, "no")));
    assert_eq!(only_event(&effects).code, ErrorCode::DISSOLVE_FAILED);
    assert_eq!(r.phase.status(), 1);
}

#[test]
fn waiting_room_then_admitted() {
    let mut r = room();
    r.apply(join()).unwrap();
    let s = session_of(&r);
    let effects = r.join_answered(s, Ok(Joined::WaitingRoom(details(RoomRole::Attendee, 1))));
    assert_eq!(only_event(&effects).name, "JoinWaitingRoom");
    assert_eq!(r.phase.status(), 3);
    assert_eq!(
        code_of(act(&mut r, MeetingAction::Leave)),
        ErrorCode::NOT_IN_MEETING
    );
    let effects = r.happen(BackendEvent {
        session: Some(s),
        happening: Happening::Admitted(Box::new(details(RoomRole::Attendee, 1))),
    });
    assert_eq!(only_event(&effects).name, "JoinMeetingCompleted");
    assert_eq!(r.phase.status(), 1);
}

#[test]
fn leave_waiting_room() {
    let mut r = room();
    r.apply(join()).unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::WaitingRoom(details(RoomRole::Attendee, 1))));
    act(&mut r, MeetingAction::LeaveWaitingRoom).unwrap();
    assert_eq!(
        code_of(act(&mut r, MeetingAction::LeaveWaitingRoom)),
        ErrorCode::REPEAT_OPERATION
    );
    // An admission racing the leave does not pull the room in.
    assert!(
        r.happen(BackendEvent {
            session: Some(s),
            happening: Happening::Admitted(Box::new(details(RoomRole::Attendee, 1)))
        })
        .is_empty()
    );
    let effects = r.leave_answered(s, Ok(()));
    assert_eq!(only_event(&effects).name, "LeaveWaitingRoom");
    assert_eq!(r.phase, Phase::Idle);
}

#[test]
fn host_ending_and_removal_are_events_with_reasons() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let effects = r.happen(BackendEvent {
        session: Some(s),
        happening: Happening::HostEnded,
    });
    let ev = only_event(&effects);
    assert_eq!(
        (ev.name, &ev.data["reason"]),
        ("DissolveMeeting", &json!("host_ended"))
    );
    assert_eq!(r.phase, Phase::Idle);

    let mut r = in_meeting(RoomRole::Attendee, 1);
    let s = session_of(&r);
    let effects = r.happen(BackendEvent {
        session: Some(s),
        happening: Happening::Removed,
    });
    let ev = only_event(&effects);
    assert_eq!(
        (ev.name, &ev.data["reason"]),
        ("LeaveMeeting", &json!("removed"))
    );
}

#[test]
fn losing_the_backend_ends_the_meeting() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let effects = reach(&mut r, false);
    let ev = only_event(&effects);
    assert_eq!(
        (ev.name, ev.code, &ev.data["reason"]),
        ("LeaveMeeting", ErrorCode::NETWORK, &json!("backend_lost"))
    );
    assert_eq!(r.phase, Phase::Idle);

    let mut joining = room();
    joining.apply(join()).unwrap();
    let effects = reach(&mut joining, false);
    assert_eq!(only_event(&effects).name, "JoinMeetingCompleted");
    assert_eq!(joining.phase, Phase::Idle);
}

#[test]
fn answers_and_reports_for_an_earlier_meeting_are_dropped() {
    let mut r = in_meeting(RoomRole::Attendee, 1);
    let old = session_of(&r);
    act(&mut r, MeetingAction::Leave).unwrap();
    r.leave_answered(old, Ok(()));
    r.apply(join()).unwrap();
    assert!(
        r.happen(BackendEvent {
            session: Some(old),
            happening: Happening::HostEnded
        })
        .is_empty()
    );
    // A join that got in after the room gave it up is undone.
    let late = r.join_answered(old, Ok(Joined::InMeeting(details(RoomRole::Attendee, 1))));
    assert!(
        matches!(&late[..], [Effect::Abandon(s)] if *s == old),
        "{late:?}"
    );
    assert_eq!(r.phase.status(), 2);
}

#[test]
fn switch_layout_needs_someone_else() {
    let mut alone = in_meeting(RoomRole::Host, 0);
    let action = MeetingAction::SwitchLayout {
        switch_type: 2,
        show_voice_active: Some(false),
    };
    assert_eq!(
        code_of(act(&mut alone, action.clone())),
        ErrorCode::CANNOT_SWITCH_LAYOUT
    );

    let mut r = in_meeting(RoomRole::Attendee, 1);
    let effects = act(&mut r, action).unwrap();
    let ev = only_event(&effects);
    assert_eq!(ev.name, "LayoutSwitchChanged");
    assert_eq!(ev.data["layout_switch_info"]["current_switch_type"], 2);
    assert_eq!(
        ev.data["main_screen_layout_info"]["show_small_view"], true,
        "first speaker switch forces it"
    );
}

#[test]
fn participants_update_members_host_status_and_layout_enablement() {
    let mut r = in_meeting(RoomRole::Attendee, 0);
    let s = session_of(&r);
    let effects = r.happen(BackendEvent {
        session: Some(s),
        happening: Happening::Participants(vec![person(0)]),
    });
    let names: Vec<&str> = events(&effects).iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "MembersChanged",
            "MeetingInfoChanged",
            "LayoutSwitchChanged"
        ]
    );
    assert_eq!(
        events(&effects)[0].data["user_list_info"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(r.layout_switchable());
    // Same host, still switchable: only the members change.
    let effects = r.happen(BackendEvent {
        session: Some(s),
        happening: Happening::Participants(vec![person(0), person(1)]),
    });
    assert_eq!(
        events(&effects).iter().map(|e| e.name).collect::<Vec<_>>(),
        ["MembersChanged"]
    );
}

#[test]
fn leaving_resets_layout_and_devices() {
    let mut r = room();
    r.apply(Command::Meeting(MeetingAction::Join {
        code: "1".into(),
        password: String::new(),
        mic_enable: Some(false),
        camera_enable: Some(false),
    }))
    .unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::InMeeting(details(RoomRole::Attendee, 1))));
    assert!(!r.devices.mic_on() && !r.devices.camera_on());
    act(
        &mut r,
        MeetingAction::SwitchLayout {
            switch_type: 4,
            show_voice_active: None,
        },
    )
    .unwrap();
    act(&mut r, MeetingAction::Leave).unwrap();
    r.leave_answered(s, Ok(()));
    assert!(r.devices.mic_on() && r.devices.camera_on());
    assert_eq!(
        r.meeting_node()
            .layout_info
            .layout_switch_info
            .current_switch_type,
        1
    );
}

#[test]
fn meeting_list_changes_are_published_once() {
    let mut r = room();
    let list = vec![ScheduledMeeting {
        title: "T".into(),
        code: "1".into(),
        meeting_id: "m".into(),
        meeting_type: 0,
        creator_name: "A".into(),
        begin_time: 1,
        end_time: 2,
    }];
    let effects = r.meeting_list_answered(Ok(list.clone()));
    assert_eq!(only_event(&effects).name, "MeetingListChanged");
    assert!(r.meeting_list_answered(Ok(list)).is_empty());
}

/// Every `MeetingAction` is known to the table by its module's name for it.
#[test]
fn every_meeting_action_is_named_as_its_module_names_it() {
    let calls: Vec<&str> = crate::room::machine::meeting_calls().collect();
    let actions = [
        MeetingAction::Start(StartKind::Instant),
        MeetingAction::Join {
            code: "111222333".into(),
            password: String::new(),
            mic_enable: None,
            camera_enable: None,
        },
        MeetingAction::LeaveWaitingRoom,
        MeetingAction::Leave,
        MeetingAction::Dissolve,
        MeetingAction::SwitchLayout {
            switch_type: 1,
            show_voice_active: None,
        },
    ];
    for action in &actions {
        assert!(calls.contains(&action.name()), "{action:?}");
    }
    assert_eq!(actions.len(), calls.len(), "an action missing here");
}

/// Every row of `CALLS` names a `Call/Meeting` action the state machine decides on.
#[test]
fn every_rule_names_a_meeting_call() {
    let calls: Vec<&str> = crate::room::machine::meeting_calls().collect();
    for rule in CALLS {
        assert!(
            calls.contains(&rule.call),
            "{} is not a Meeting action",
            rule.call
        );
    }
}

#[test]
fn every_call_has_exactly_one_rule_in_every_state() {
    for call in crate::room::machine::meeting_calls() {
        for state in MEETING_STATES {
            let rules = CALLS
                .iter()
                .filter(|r| r.call == call && r.from.contains(&state))
                .count();
            assert_eq!(rules, 1, "{call:?} in {state:?}");
        }
    }
}

#[test]
fn signals_are_unambiguous() {
    for state in MEETING_STATES {
        for t in SIGNALS {
            let same = SIGNALS
                .iter()
                .filter(|u| u.on == t.on && u.from.contains(&state))
                .count();
            assert!(same <= 1, "{:?} in {state:?}", t.on);
        }
    }
}

#[test]
fn every_state_a_call_leads_to_ends_either_way() {
    // The service's work a call starts ends in success or failure, never in a wait for ever:
    // every state an accepted call leads to has a row for `Failed` and for one success.
    for rule in CALLS {
        if let Answer::Accept {
            next: Next::To(state),
            ..
        } = rule.answer
        {
            assert!(
                signal_transition(state, Signal::Failed).is_some(),
                "{state:?} has no way out when the service fails"
            );
            let succeeds = [Signal::Entered, Signal::Waiting, Signal::Done]
                .into_iter()
                .any(|s| signal_transition(state, s).is_some());
            assert!(
                succeeds,
                "{state:?} has no way out when the service succeeds"
            );
        }
    }
}
