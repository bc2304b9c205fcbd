//! Unit tests of `members.rs`: deltas, the window, the kept list, the compat list.

use super::super::test_support::*;
use crate::config::ListInEvents;
use crate::domain::{Happening, MemberChanges, Participant, RoomRole};
use serde_json::json;

fn members_changed(effects: &[super::Effect]) -> serde_json::Value {
    events(effects)
        .into_iter()
        .find(|e| e.name == "MembersChanged")
        .expect("MembersChanged")
        .data
        .clone()
}

#[test]
fn a_change_is_announced_as_what_changed() {
    let mut r = in_meeting(RoomRole::Host, 3);
    let mut muted = person(1);
    muted.audio_on = false;
    let effects = report(
        &mut r,
        Happening::Participants(vec![person(0), muted, person(3)]),
    );
    let data = members_changed(&effects);
    assert_eq!(data["joined"][0]["user_id"], "u3");
    assert_eq!(data["left"], json!(["u2"]));
    assert_eq!(data["updated"].as_array().unwrap().len(), 1);
    assert_eq!(data["updated"][0]["user_id"], "u1");
    assert_eq!(data["updated"][0]["audio_on"], false);
    assert_eq!(data["member_count"]["in_meeting"], 4);
    // With [compat] members_changed_list on (the default), the whole list too.
    assert_eq!(data["user_list_info"].as_array().unwrap().len(), 4);
}

#[test]
fn changes_within_a_window_are_announced_as_their_net_effect() {
    let mut config = crate::config::Config::default();
    config.members.coalesce_ms = 50;
    config.compat.members_changed_list = crate::config::ListInEvents::Never;
    let mut r = in_meeting_with(&config, RoomRole::Host, 2);
    let came = report(
        &mut r,
        Happening::Participants(vec![person(0), person(1), person(7)]),
    );
    assert!(events(&came).iter().all(|e| e.name != "MembersChanged"));
    assert!(r.members_due().is_some(), "the owner is asked to announce");
    let mut muted = person(0);
    muted.audio_on = false;
    report(&mut r, Happening::Participants(vec![muted, person(1)]));
    let Some(super::Effect::Publish(event)) = r.announce_members() else {
        panic!("one announcement for the window");
    };
    assert_eq!(
        serde_json::to_string(&event.data).unwrap(),
        json!({"joined": [], "left": [], "updated": [r.members_node().user_list_info[1]], "member_count": {"in_meeting": 3, "in_waiting_room": 0}}).to_string(),
        "u7 came and went within the window: not mentioned; no user_list_info"
    );
    assert!(r.members_due().is_none());
    assert!(r.announce_members().is_none(), "nothing more to say");
}

/// The snapshot's member list, kept between steps, is the one rendered whole from the tree.
#[test]
fn the_kept_member_list_is_the_tree_rendered_whole() {
    use super::super::snapshot::Snapshot;
    use crate::modules::device::DeviceAction;
    let check = |r: &mut crate::room::Room, step: &str| {
        let kept = r.snapshot();
        let whole = Snapshot::build(&r.tree());
        for path in [
            &[][..],
            &["Members"],
            &["Members", "UserListInfo"],
            &["Members", "MemberCount"],
            &["Members", "MemberCount", "InMeeting"],
            &["Meeting", "MeetingInfo"],
            &["Meeting", "LayoutInfo"],
        ] {
            assert_eq!(
                kept.fragment(path),
                whole.fragment(path),
                "{step}: {path:?}"
            );
        }
    };
    let mut r = room();
    check(&mut r, "idle");
    let mut r = in_meeting(RoomRole::Host, 3);
    check(&mut r, "joined");
    let mut muted = person(1);
    muted.audio_on = false;
    report(
        &mut r,
        Happening::Participants(vec![person(0), muted, person(4)]),
    );
    check(&mut r, "one muted, one left, one came");
    report(&mut r, Happening::Waiting(vec![person(9)]));
    check(&mut r, "someone waits");
    let effects = device(&mut r, DeviceAction::EnableMic(false)).unwrap();
    let (s, _, change) = media_op(&r, &effects);
    r.media_answered(s, change, Ok(()));
    check(&mut r, "the room's microphone off");
    leave(&mut r);
    check(&mut r, "left");
}

fn changes(joined: Vec<Participant>, left: &[&str], updated: Vec<Participant>) -> Happening {
    Happening::Members(MemberChanges {
        waiting_room: false,
        joined,
        left: left.iter().map(|id| (*id).to_owned()).collect(),
        updated,
    })
}

/// A service that says what changed leaves the room where one that reports whole lists
/// would: the same list in the same order, the same Query answers, the same event.
#[test]
fn reported_changes_keep_the_list_as_a_whole_list_report_would() {
    use super::super::snapshot::Snapshot;
    let mut by_delta = in_meeting(RoomRole::Host, 5);
    let mut by_list = in_meeting(RoomRole::Host, 5);
    let mut muted = person(1);
    muted.audio_on = false;
    let delta = report(
        &mut by_delta,
        changes(vec![person(7)], &["u2", "nobody"], vec![muted.clone()]),
    );
    let whole = report(
        &mut by_list,
        Happening::Participants(vec![person(0), muted, person(3), person(4), person(7)]),
    );
    assert_eq!(members_changed(&delta), members_changed(&whole));
    assert_eq!(by_delta.tree(), by_list.tree());
    let kept = by_delta.snapshot();
    let rebuilt = Snapshot::build(&by_delta.tree());
    for path in [&[][..], &["Members"], &["Members", "MemberCount"]] {
        assert_eq!(kept.fragment(path), rebuilt.fragment(path), "{path:?}");
    }
    assert_eq!(
        kept.members_page(Some(1), Some(2)),
        rebuilt.members_page(Some(1), Some(2))
    );

    // A join of someone already there is an update; nothing changed is nothing announced.
    let again = report(&mut by_delta, changes(vec![person(7)], &[], vec![]));
    assert!(events(&again).is_empty(), "{again:?}");

    // The waiting room: only the count shows.
    let waiting = report(
        &mut by_delta,
        Happening::Members(MemberChanges {
            waiting_room: true,
            joined: vec![person(20), person(21)],
            ..MemberChanges::default()
        }),
    );
    assert_eq!(
        members_changed(&waiting)["member_count"],
        json!({"in_meeting": 6, "in_waiting_room": 2})
    );
    let kept = by_delta.snapshot();
    assert_eq!(
        kept.fragment(&["Members", "MemberCount"]),
        Snapshot::build(&by_delta.tree()).fragment(&["Members", "MemberCount"])
    );
}

/// The host leaving by a reported change is told as it is by a whole list.
#[test]
fn the_host_leaving_by_a_change_is_announced() {
    let mut r = in_meeting(RoomRole::Attendee, 3);
    let effects = report(&mut r, changes(vec![], &["u0"], vec![]));
    let info = events(&effects)
        .into_iter()
        .find(|e| e.name == "MeetingInfoChanged")
        .expect("MeetingInfoChanged");
    assert_eq!(info.data["meeting_info"]["host_status"], 0);
}

fn compat_room(list: ListInEvents, max_reply_bytes: u64, others: usize) -> crate::room::Room {
    let mut config = crate::config::Config::default();
    config.members.coalesce_ms = 0;
    config.compat.members_changed_list = list;
    config.compat.max_reply_bytes = max_reply_bytes;
    in_meeting_with(&config, RoomRole::Host, others)
}

#[test]
fn the_compat_list_rides_along_only_up_to_its_member_count() {
    // The room and three others: four members.
    let mut r = compat_room(ListInEvents::UpTo(5), 0, 3);
    let data = members_changed(&report(&mut r, changes(vec![person(8)], &[], vec![])));
    assert_eq!(data["user_list_info"].as_array().unwrap().len(), 5);
    let data = members_changed(&report(&mut r, changes(vec![person(9)], &[], vec![])));
    assert!(data.get("user_list_info").is_none(), "six members: {data}");
    assert_eq!(data["joined"][0]["user_id"], "u9");

    let mut r = compat_room(ListInEvents::Always, 0, 300);
    let data = members_changed(&report(&mut r, changes(vec![], &["u5"], vec![])));
    assert_eq!(data["user_list_info"].as_array().unwrap().len(), 300);
    let mut r = compat_room(ListInEvents::Never, 0, 3);
    let data = members_changed(&report(&mut r, changes(vec![], &["u1"], vec![])));
    assert!(data.get("user_list_info").is_none(), "{data}");
}

#[test]
fn under_a_reply_budget_the_compat_list_never_overflows_an_event_frame() {
    let event_frame = |r: &mut crate::room::Room, happening| {
        let effects = report(r, happening);
        let event = events(&effects)
            .into_iter()
            .find(|e| e.name == "MembersChanged")
            .expect("MembersChanged")
            .clone();
        let text = crate::wire::event(
            "Event/Meeting",
            event.name,
            event.code,
            &event.message,
            &event.data,
        );
        (event.data, text.len())
    };
    let mut small = compat_room(ListInEvents::Always, 2048, 3);
    let (data, _) = event_frame(&mut small, changes(vec![person(5)], &[], vec![]));
    assert!(data.get("user_list_info").is_some(), "a small meeting fits");
    let mut big = compat_room(ListInEvents::Always, 2048, 30);
    let (data, len) = event_frame(&mut big, changes(vec![person(40)], &[], vec![]));
    assert!(data.get("user_list_info").is_none(), "{len} bytes");
    assert_eq!(data["joined"][0]["user_id"], "u40", "the delta still comes");
    assert!(len + 30 + 4 <= 2048);
}
