//! What one member change costs the room in a meeting of 1,000 (and, reported as a delta, of
//! 10,000): the backend's report applied, the new snapshot prepared (as the owner task does
//! after every step) and the events serialized once (as the owner publishes them).
//!
//! `cargo bench --bench members`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use roomsd::backend::{
    Backend, BackendEvent, BackendResult, Happening, JoinRequest, Joined, MeetingDetails,
    MemberChanges, Participant, Profile, RoomRole,
};
use roomsd::config::Config;
use roomsd::modules::meeting::MeetingAction;
use roomsd::room::device::DeviceSettings;
use roomsd::room::snapshot::Snapshot;
use roomsd::room::{Command, Effect, Room};

const OTHERS: usize = 999;

fn person(i: usize) -> Participant {
    Participant {
        user_id: format!("user-{i:05}"),
        nickname: format!("Participant {i}"),
        host: i == 0,
        co_host: false,
        audio_on: true,
        video_on: i.is_multiple_of(3),
    }
}

/// A room in a meeting with the room and `OTHERS` others.
fn room_in_meeting(config: &Config) -> Room {
    room_in_meeting_of(config, OTHERS)
}

fn room_in_meeting_of(config: &Config, others: usize) -> Room {
    let given = roomsd::room::Given {
        profile: roomsd::backend::sim::PROFILE,
        health: roomsd::backend::health::initial(config),
        cast_seed: 0,
    };
    let mut room = Room::new(config, DeviceSettings::default(), given);
    let meeting = MeetingDetails {
        code: "111222333".into(),
        meeting_id: "m1".into(),
        title: "All hands".into(),
        password: String::new(),
        meeting_type: 0,
        creator_name: "Alice".into(),
        begin_time: 1_700_000_000,
        end_time: 1_700_003_600,
        url: String::new(),
        room_user_id: "room-1".into(),
        room_role: RoomRole::Host,
        room_is_creator: false,
        participants: (0..others).map(person).collect(),
        waiting: Vec::new(),
        recording_allowed: true,
        recording: false,
    };
    let effects = room
        .apply(Command::Meeting(MeetingAction::Join {
            code: "111222333".into(),
            password: String::new(),
            mic_enable: None,
            camera_enable: None,
        }))
        .expect("join accepted");
    // The join's call, answered by a service that lets the room in, as the owner runs it.
    let service = LetsIn(meeting);
    for effect in effects {
        if let Effect::Run(call) = effect {
            let answer = call
                .run(&service, None)
                .now_or_never()
                .expect("answered at once");
            room.complete(answer);
        }
    }
    room
}

/// A meeting service that lets the room into `.0` when it joins.
struct LetsIn(MeetingDetails);

impl Backend for LetsIn {
    fn profile(&self) -> Profile {
        roomsd::backend::sim::PROFILE
    }

    fn join(&self, _: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let meeting = self.0.clone();
        Box::pin(async move { Ok(Joined::InMeeting(meeting)) })
    }
}

/// What the owner task does with a step's effects: a new snapshot, kept (the member list
/// rendered where it changed) or, as before, rendered whole from the tree.
fn commit(room: &mut Room, effects: Vec<Effect>, kept: bool) -> usize {
    let snapshot = if kept {
        room.snapshot()
    } else {
        Snapshot::build(&room.tree())
    };
    let mut bytes = snapshot
        .fragment::<&str>(&["Members", "MemberCount"])
        .map_or(0, str::len);
    for effect in effects.into_iter().chain(room.announce_members()) {
        if let Effect::Publish(event) = effect {
            let method = format!("Event/{}", event.module);
            bytes +=
                roomsd::wire::event(&method, event.name, event.code, &event.message, &event.data)
                    .len();
        }
    }
    bytes
}

fn one_change(c: &mut Criterion) {
    for (name, kept, full_list) in [
        (
            "as before: whole snapshot, whole list in the event",
            false,
            true,
        ),
        ("kept snapshot, compat list in the event", true, true),
        ("kept snapshot, delta event", true, false),
    ] {
        let mut config = Config::default();
        config.compat.members_changed_list = if full_list {
            roomsd::config::ListInEvents::Always
        } else {
            roomsd::config::ListInEvents::Never
        };
        let mut room = room_in_meeting(&config);
        let mut people: Vec<Participant> = (0..OTHERS).map(person).collect();
        let mut i = 0usize;
        c.bench_function(
            &format!("apply 1 change to a 1,000-member meeting ({name})"),
            |b| {
                b.iter(|| {
                    // Someone toggles their microphone: one changed record.
                    i = (i + 1) % OTHERS;
                    people[i].audio_on = !people[i].audio_on;
                    let effects = room.happen(BackendEvent {
                        session: room.phase().session(),
                        happening: Happening::Participants(people.clone()),
                    });
                    black_box(commit(&mut room, effects, kept))
                });
            },
        );
    }
}

/// The same change reported as what changed (`Happening::Members`), as the simulator and
/// services with member events report it: no pass over the list, at 1,000 and at 10,000.
fn member_delta_apply(c: &mut Criterion) {
    let mut config = Config::default();
    config.compat.members_changed_list = roomsd::config::ListInEvents::Never;
    for others in [OTHERS, 9_999] {
        let mut room = room_in_meeting_of(&config, others);
        let mut people: Vec<Participant> = (0..others).map(person).collect();
        let mut i = 0usize;
        c.bench_function(
            &format!(
                "member delta apply: 1 change to a {}-member meeting",
                others + 1
            ),
            |b| {
                b.iter(|| {
                    i = (i + 1) % others;
                    people[i].audio_on = !people[i].audio_on;
                    let effects = room.happen(BackendEvent {
                        session: room.phase().session(),
                        happening: Happening::Members(MemberChanges {
                            updated: vec![people[i].clone()],
                            ..MemberChanges::default()
                        }),
                    });
                    black_box(commit(&mut room, effects, true))
                });
            },
        );
    }
}

criterion_group!(benches, one_change, member_delta_apply);
criterion_main!(benches);
