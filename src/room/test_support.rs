//! Helpers for the room's unit tests: rooms in given states, and reading effects.

use serde_json::{Value, json};

use super::device::DeviceSettings;
use super::*;
use crate::config::Config;
use futures_util::future::BoxFuture;

use crate::domain::{
    Backend, BackendEvent, Happening, JoinRequest, Media, Participant, RoomRole, StartRequest,
};
use crate::modules::meeting_control::MemberList;
use crate::modules::share::ShareSource;

/// A room that announces member changes at once (the owner task runs the window).
pub fn room() -> Room {
    let mut config = Config::default();
    config.members.coalesce_ms = 0;
    room_for(&config)
}

/// A room as the daemon would build it for `config`, with default device settings. Tests may
/// reach above the room's layer: this one uses the configured service's real declaration.
pub fn room_for(config: &Config) -> Room {
    let given = crate::room::Given {
        profile: crate::backend::service(&config.backend.kind)
            .expect("a service")
            .profile,
        health: crate::backend::health::initial(config),
        cast_seed: 123_456,
    };
    Room::new(config, DeviceSettings::default(), given)
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

/// The meeting service comes or goes: checks that subscribers hear it as `BackendStatusChanged`
/// and returns the other effects.
pub fn reach(r: &mut Room, connected: bool) -> Vec<Effect> {
    let health = crate::domain::Health {
        connected,
        last_error: if connected { "" } else { "connection refused" }.into(),
        last_ok_at: 1,
        latency_ms: 1,
    };
    let mut effects = r.health_changed(&health);
    let status = effects.iter().position(
        |e| matches!(e, Effect::Publish(ev) if ev.module == "Backend" && ev.name == "BackendStatusChanged"),
    );
    let status = status.expect("a BackendStatusChanged event");
    if let Effect::Publish(ev) = effects.remove(status) {
        assert_eq!(ev.data["backend"]["connected"], connected);
    }
    effects
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
    let mut config = Config::default();
    config.members.coalesce_ms = 0;
    in_meeting_with(&config, role, others)
}

pub fn in_meeting_with(config: &Config, role: RoomRole, others: usize) -> Room {
    let mut r = room_for(config);
    r.apply(join()).unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::InMeeting(details(role, others))));
    assert_eq!(r.phase.status(), 1);
    r
}

pub fn device(r: &mut Room, action: DeviceAction) -> Result<Vec<Effect>, Refusal> {
    r.apply(Command::Device(action))
}

pub fn control(r: &mut Room, action: ControlAction) -> Result<Vec<Effect>, Refusal> {
    r.apply(Command::Control(action))
}

pub fn share(r: &mut Room, action: ShareAction) -> Result<Vec<Effect>, Refusal> {
    r.apply(Command::Share(action))
}

/// `ListMemberIds`: the ids it answers with, or why it is refused.
pub fn list_ids(
    r: &mut Room,
    list: MemberList,
    begin: usize,
    end: usize,
) -> Result<Value, Refusal> {
    let effects = r.apply(Command::ListMemberIds(MemberRange { list, begin, end }))?;
    match &effects[..] {
        [Effect::Reply(data)] => Ok(data.clone()),
        other => panic!("expected one reply, got {other:?}"),
    }
}

/// A report from the backend about the room's current meeting.
pub fn report(r: &mut Room, happening: Happening) -> Vec<Effect> {
    let session = r.phase.session();
    r.happen(BackendEvent { session, happening })
}

/// Joins and lands in the meeting `meeting`.
pub fn meeting_with(meeting: MeetingDetails) -> Room {
    let mut r = room();
    r.apply(join()).unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::InMeeting(meeting)));
    assert_eq!(r.phase.status(), 1);
    r
}

pub fn in_waiting_room() -> Room {
    let mut r = room();
    r.apply(join()).unwrap();
    let s = session_of(&r);
    r.join_answered(s, Ok(Joined::WaitingRoom(details(RoomRole::Attendee, 1))));
    assert_eq!(r.phase.status(), 3);
    r
}

/// Leaves the meeting through the backend and returns the effects of its answer.
pub fn leave(r: &mut Room) -> Vec<Effect> {
    let s = session_of(r);
    act(r, MeetingAction::Leave).unwrap();
    let effects = r.leave_answered(s, Ok(()));
    assert_eq!(r.phase, Phase::Idle);
    effects
}

/// `(module, name)` of every event, in order.
pub fn names(effects: &[Effect]) -> Vec<(&'static str, &'static str)> {
    events(effects).iter().map(|e| (e.module, e.name)).collect()
}

pub fn mic_on(r: &Room) -> bool {
    r.devices.node().mic_info.switch
}

pub fn camera_on(r: &Room) -> bool {
    r.devices.node().camera_info.switch
}

/// What the meeting service was asked by one of the room's calls (the session of each is in
/// [`calls`]).
#[derive(Debug, Clone)]
pub enum Asked {
    Start(StartRequest),
    Join(JoinRequest),
    Leave,
    Dissolve,
    MeetingList,
    Media(Session, Media),
    Control(Session, ControlAction),
    Reconcile,
}

/// A service that notes what it is asked. It answers `Ok` at once what has nothing to tell
/// (media, control, leave, dissolve), and never answers the rest: tests give those answers.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<Asked>>);

impl Recorder {
    fn note<T: Send + 'static>(&self, asked: Asked) -> BoxFuture<'static, BackendResult<T>> {
        self.0.lock().unwrap().push(asked);
        Box::pin(std::future::pending())
    }

    fn done(&self, asked: Asked) -> BoxFuture<'static, BackendResult<()>> {
        self.0.lock().unwrap().push(asked);
        Box::pin(async { Ok(()) })
    }
}

impl Backend for Recorder {
    fn profile(&self) -> crate::domain::Profile {
        crate::domain::Profile {
            service: "recorder",
            ..crate::backend::sim::PROFILE
        }
    }
    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        self.note(Asked::Start(request))
    }
    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        self.note(Asked::Join(request))
    }
    fn leave(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.done(Asked::Leave)
    }
    fn dissolve(&self, _: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.done(Asked::Dissolve)
    }
    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        self.note(Asked::MeetingList)
    }
    fn set_media(&self, session: Session, media: Media) -> BoxFuture<'static, BackendResult<()>> {
        self.done(Asked::Media(session, media))
    }
    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        self.done(Asked::Control(session, action))
    }
    fn reconcile(&self, _: Session) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        self.note(Asked::Reconcile)
    }
}

/// What each backend call in `effects` asks the service, and its answer when the service
/// answers at once (see [`Recorder`]).
pub fn answers(effects: &[Effect]) -> Vec<(Asked, Option<Completed>)> {
    use futures_util::FutureExt;
    let mut found = Vec::new();
    for effect in effects {
        if let Effect::Run(call) = effect {
            let service = Recorder::default();
            let answer = call.run(&service, None).now_or_never();
            let asked = service
                .0
                .lock()
                .unwrap()
                .pop()
                .expect("the call asks the service");
            found.push((asked, answer));
        }
    }
    found
}

/// What the backend calls in `effects` ask the service, in order.
pub fn asked(effects: &[Effect]) -> Vec<Asked> {
    answers(effects)
        .into_iter()
        .map(|(asked, _)| asked)
        .collect()
}

/// The names and sessions of the backend calls in `effects`.
pub fn calls(effects: &[Effect]) -> Vec<(&'static str, Option<Session>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Run(call) => Some((call.name, call.session)),
            _ => None,
        })
        .collect()
}

/// The single media change `effects` asks the service for, which `room` holds as pending.
pub fn media_op(room: &Room, effects: &[Effect]) -> (Session, Media, MediaChange) {
    assert_eq!(effects.len(), 1, "expected one media call, got {effects:?}");
    let change = room.devices.pending.expect("a media change is pending");
    match &asked(effects)[..] {
        [Asked::Media(session, media)] => (*session, *media, change),
        other => panic!("expected one media call, got {other:?}"),
    }
}

/// The single MeetingControl action `effects` asks the service for.
pub fn control_op(effects: &[Effect]) -> (Session, ControlAction) {
    assert_eq!(
        effects.len(),
        1,
        "expected one control call, got {effects:?}"
    );
    match &asked(effects)[..] {
        [Asked::Control(session, action)] => (*session, action.clone()),
        other => panic!("expected one control call, got {other:?}"),
    }
}

pub fn mute(user: &str) -> ControlAction {
    ControlAction::MuteMember {
        user_id: user.into(),
    }
}

pub fn stop_video(user: &str) -> ControlAction {
    ControlAction::StopVideo {
        user_id: user.into(),
    }
}

pub fn remove(user: &str) -> ControlAction {
    ControlAction::RemoveMember {
        user_id: user.into(),
        allow_join: true,
    }
}

pub fn mute_all() -> ControlAction {
    ControlAction::MuteAll {
        allow_unmute_by_self: true,
    }
}

pub fn start_record() -> ControlAction {
    ControlAction::StartRecord {
        mobile_address: String::new(),
    }
}

pub fn screen() -> ShareAction {
    ShareAction::Start(ShareSource::Screen { select_index: 0 })
}

pub fn window() -> ShareAction {
    ShareAction::StartWindow(ShareSource::Window { select_index: 0 })
}

pub fn casting_room() -> Room {
    let mut r = room();
    share(&mut r, screen()).unwrap();
    assert_eq!(r.share_node().share_info.quick_casting_state, 2);
    r
}

pub fn ids(list: &[&str]) -> Value {
    json!(list)
}
