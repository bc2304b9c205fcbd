//! Meeting backends: the services the room forwards meeting operations to.
//!
//! A backend answers operations ([`Backend`]) and reports what happens without a call (the host
//! ends the meeting, the room is admitted, people come and go) as [`BackendEvent`]s on the
//! channel it was built with. Every meeting attempt carries a [`Session`] so that the room can
//! drop reports about a meeting it has already left.

pub mod contact;
pub mod easemob;
pub mod health;
pub mod hiar;
pub mod http;
pub mod kedacom;
pub mod profile;
pub mod rsc;
pub mod sim;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::config::{BackendKind, Config};
use crate::modules::meeting::StartKind;
use crate::modules::meeting_control::ControlAction;
use crate::wire::Refusal;
pub use health::{Health, HealthTracker};
pub use profile::{Capability, CodeRule, Profile, cannot};

/// A failed operation: the Rooms code it maps to and a message that names the service's own
/// error.
pub type BackendResult<T> = Result<T, Refusal>;

/// One meeting attempt (a start or a join) and everything that follows it until the room is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Session(pub u64);

/// The room's role in a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomRole {
    Host,
    CoHost,
    Attendee,
}

/// Another participant of the meeting (the room itself is not one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub user_id: String,
    pub nickname: String,
    pub host: bool,
    pub co_host: bool,
    pub audio_on: bool,
    pub video_on: bool,
}

impl Participant {
    pub fn role(&self) -> RoomRole {
        if self.host {
            RoomRole::Host
        } else if self.co_host {
            RoomRole::CoHost
        } else {
            RoomRole::Attendee
        }
    }
}

/// A meeting the room is in, or waiting to be admitted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingDetails {
    pub code: String,
    pub meeting_id: String,
    pub title: String,
    pub password: String,
    /// 0 one-off, 1 recurring, 2 WeChat, 4 cast.
    pub meeting_type: i32,
    pub creator_name: String,
    pub begin_time: i64,
    pub end_time: i64,
    pub url: String,
    pub room_user_id: String,
    pub room_role: RoomRole,
    pub room_is_creator: bool,
    pub participants: Vec<Participant>,
    /// People in the waiting room, waiting to be admitted.
    pub waiting: Vec<Participant>,
    /// Whether the meeting may be recorded.
    pub recording_allowed: bool,
    pub recording: bool,
}

impl MeetingDetails {
    /// Whether a host is in the meeting (`host_status`).
    pub fn host_present(&self) -> bool {
        self.room_role == RoomRole::Host || self.participants.iter().any(|p| p.host)
    }
}

/// A scheduled meeting, for `meeting_list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledMeeting {
    pub title: String,
    pub code: String,
    pub meeting_id: String,
    pub meeting_type: i32,
    pub creator_name: String,
    pub begin_time: i64,
    pub end_time: i64,
}

#[derive(Debug, Clone)]
pub struct StartRequest {
    pub session: Session,
    pub kind: StartKind,
    pub media: Media,
}

#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub session: Session,
    pub code: String,
    pub password: String,
    pub media: Media,
}

/// The room's microphone and camera, as the meeting should see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub mic_on: bool,
    pub camera_on: bool,
}

/// Where a successful join leaves the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    InMeeting(MeetingDetails),
    WaitingRoom(MeetingDetails),
}

/// Something the backend reports without being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// The host let the room in from the waiting room.
    Admitted(Box<MeetingDetails>),
    /// The host ended the meeting.
    HostEnded,
    /// The room was removed from the meeting.
    Removed,
    /// The other participants now are these: for services that poll whole lists.
    Participants(Vec<Participant>),
    /// The people in the waiting room now are these.
    Waiting(Vec<Participant>),
    /// Who came, went or changed since the previous report: for services that say so, and
    /// what a large meeting's churn should cost the room.
    Members(MemberChanges),
    /// The meeting started or stopped being recorded.
    Recording(bool),
    /// The scheduled meetings changed.
    MeetingList(Vec<ScheduledMeeting>),
}

/// A change to the meeting's participants, or (`waiting_room`) to its waiting room. A joined
/// user id already there is an update; a left one not there is nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberChanges {
    pub waiting_room: bool,
    pub joined: Vec<Participant>,
    pub left: Vec<String>,
    pub updated: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendEvent {
    /// The meeting attempt this concerns; `None` for reports about the service as a whole.
    pub session: Option<Session>,
    pub happening: Happening,
}

/// A meeting service. Operations return `'static` futures so that the room's owner task can run
/// them on their own tasks and never wait for one.
///
/// What a service cannot do is declared in its [`Profile`] (`Profile::of`), and the room
/// refuses it with code 9 before it reaches the adapter; the default methods answer the same
/// refusal, so an adapter only writes what its service can do.
pub trait Backend: Send + Sync {
    /// The configuration name of this backend (`sim`, `kedacom`, ...).
    fn kind(&self) -> &'static str;
    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        let capability = match request.kind {
            StartKind::Instant => Capability::StartInstant,
            StartKind::Pmi => Capability::StartPmi,
        };
        refused(cannot(self.kind(), capability))
    }
    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>>;
    /// Leave the meeting or the waiting room. A service without a leave call
    /// ([`Capability::Leave`] not declared) keeps the default: the room's media client hangs up
    /// on its own, the adapter stops following the meeting ([`Backend::forget`]), and the room
    /// is out.
    fn leave(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        self.forget(session);
        Box::pin(async { Ok(()) })
    }
    /// End the meeting for everyone.
    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        let _ = session;
        refused(cannot(self.kind(), Capability::Dissolve))
    }
    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        refused(cannot(self.kind(), Capability::MeetingList))
    }
    /// Tell the meeting that the room's microphone or camera changed.
    fn set_media(&self, session: Session, media: Media) -> BoxFuture<'static, BackendResult<()>> {
        let _ = (session, media);
        refused(cannot(self.kind(), Capability::Media))
    }
    /// Carry out a MeetingControl action. What it changes comes back as reports
    /// ([`Happening::Participants`], [`Happening::Recording`]).
    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        let _ = session;
        refused(cannot(self.kind(), Profile::capability_of(&action)))
    }

    /// Stop following `session` (its polls, what is kept about it): the room is out of it
    /// without the service having been told. The default keeps nothing.
    fn forget(&self, session: Session) {
        let _ = session;
    }

    /// The room has given `session` up without ever showing it as a meeting: its start or join
    /// failed, timed out or was cut short by a shutdown, or it is a meeting [`reconcile`] found
    /// that the room did not adopt. Stop following it, and undo what it did on the service (a
    /// terminal dialled into a conference is hung up). The future ends once that is done, or
    /// the service says there is nothing to undo; it retries on its own while the service
    /// cannot be reached, so the room runs it without a timeout. An adapter whose attempts
    /// leave nothing behind keeps the default, which does nothing.
    ///
    /// [`reconcile`]: Backend::reconcile
    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        let _ = session;
        Box::pin(async {})
    }

    /// Whether the room is in a meeting on the service that it is not following (it was in it
    /// before the daemon restarted, or when the service went away): that meeting, which the
    /// adapter follows from now on as `session`, or `None`. The default knows of none.
    fn reconcile(
        &self,
        session: Session,
    ) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        let _ = session;
        Box::pin(async { Ok(None) })
    }
}

/// An operation answered at once with `refusal`.
fn refused<T: Send + 'static>(refusal: Refusal) -> BoxFuture<'static, BackendResult<T>> {
    Box::pin(async move { Err(refusal) })
}

/// Builds the backend the configuration names. Its reports go to `events`, what it learns about
/// the service's health to `health`. Must be called inside a Tokio runtime: adapters that keep
/// a session alive start doing so at once, and building never waits for the service.
pub fn build(
    config: &Config,
    events: mpsc::Sender<BackendEvent>,
    health: HealthTracker,
) -> Arc<dyn Backend> {
    match config.backend.kind {
        BackendKind::Sim => Arc::new(sim::Simulator::new(config, events, health)),
        BackendKind::Kedacom => Arc::new(kedacom::Kedacom::new(config, events, health)),
        BackendKind::Easemob => Arc::new(easemob::Easemob::new(config, events, health)),
        BackendKind::Rsc => Arc::new(rsc::Rsc::new(config, events, health)),
        BackendKind::Hiar => Arc::new(hiar::Hiar::new(config, events, health)),
    }
}
