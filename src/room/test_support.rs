//! Helpers for the room's unit tests: rooms in given states, and reading effects.

use super::device::DeviceSettings;
use super::*;
use crate::backend::{Participant, RoomRole};
use crate::config::Config;

pub fn room() -> Room {
    Room::new(&Config::default(), DeviceSettings::default())
}

pub fn details(role: RoomRole, others: usize) -> MeetingDetails {
    MeetingDetails {
        code: "111222333".into(),
        meeting_id: "m1".into(),
        title: "Weekly sync".into(),
        password: String::new(),
        meeting_type: 0,
        creator_name: "Alice".into(),
        begin_time: 100,
        end_time: 200,
        url: String::new(),
        room_user_id: "room-1".into(),
        room_role: role,
        room_is_creator: false,
        participants: (0..others).map(person).collect(),
        waiting: Vec::new(),
        recording_allowed: true,
        recording: false,
    }
}

pub fn person(i: usize) -> Participant {
    Participant {
        user_id: format!("u{i}"),
        nickname: format!("P{i}"),
        host: i == 0,
        co_host: false,
        audio_on: true,
        video_on: true,
    }
}

pub fn join() -> Command {
    Command::Meeting(MeetingAction::Join {
        code: "111222333".into(),
        password: String::new(),
        mic_enable: None,
        camera_enable: None,
    })
}

pub fn act(room: &mut Room, action: MeetingAction) -> Result<Vec<Effect>, Refusal> {
    room.apply(Command::Meeting(action))
}

pub fn code_of(result: Result<Vec<Effect>, Refusal>) -> ErrorCode {
    result.expect_err("expected a refusal").code
}

pub fn events(effects: &[Effect]) -> Vec<&Event> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Publish(ev) = e {
                Some(ev)
            } else {
                None
            }
        })
        .collect()
}

pub fn only_event(effects: &[Effect]) -> &Event {
    let evs = events(effects);
    assert_eq!(evs.len(), 1, "expected one event, got {effects:?}");
    evs[0]
}

pub fn session_of(room: &Room) -> Session {
    room.phase.session().expect("a session")
}

/// Joins and lands in the meeting with `others` other participants.
pub fn in_meeting(role: RoomRole, others: usize) -> Room {
    let mut r = room();
    r.apply(join()).unwrap();
    let s = session_of(&r);
    r.complete(Completed::Joined(
        s,
        Ok(Joined::InMeeting(details(role, others))),
    ));
    assert_eq!(r.phase.status(), 1);
    r
}
