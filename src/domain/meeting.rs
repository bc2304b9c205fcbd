//! What the room and the meeting services say to each other about meetings: the attempt
//! ([`Session`]), what a start or join asks for and gets, and what a service reports unasked.

use crate::wire::Refusal;

/// How a meeting is started: an instant meeting, or the room's personal meeting room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    Instant,
    Pmi,
}

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

/// An action the room asks the meeting service to carry out. All are asynchronous and need the
/// room in a meeting; all but `RequestRecord` need host or co-host rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlAction {
    MuteAll { allow_unmute_by_self: bool },
    MuteMember { user_id: String },
    StopVideo { user_id: String },
    RemoveMember { user_id: String, allow_join: bool },
    RequestRecord,
    StartRecord { mobile_address: String },
}

impl ControlAction {
    /// The participant the action is about, if it is about one.
    pub fn target(&self) -> Option<&str> {
        match self {
            Self::MuteMember { user_id }
            | Self::StopVideo { user_id }
            | Self::RemoveMember { user_id, .. } => Some(user_id),
            _ => None,
        }
    }
}
