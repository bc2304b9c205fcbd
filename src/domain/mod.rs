//! The room's and the meeting services' shared vocabulary: meeting attempts, what a start or
//! join asks and gets, what a service reports, its health and its declared abilities, and the
//! [`Backend`] port the adapters implement. It sits below both the room and the backends (see
//! `docs/ARCHITECTURE.md`, "Layers"), so neither depends on the other.

mod health;
mod meeting;
mod profile;
mod service;

pub use health::Health;
pub use meeting::{
    BackendEvent, BackendResult, ControlAction, Happening, JoinRequest, Joined, Media,
    MeetingDetails, MemberChanges, Participant, RoomRole, ScheduledMeeting, Session, StartKind,
    StartRequest,
};
pub use profile::{Capability, CodeRule, Profile, cannot};
pub use service::Backend;
