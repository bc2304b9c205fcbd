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

use tokio::sync::mpsc;

use crate::config::{BackendKind, Config};
// The vocabulary the adapters speak, defined below both the room and the backends.
pub use crate::domain::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, ControlAction, Happening, Health,
    JoinRequest, Joined, Media, MeetingDetails, MemberChanges, Participant, Profile, RoomRole,
    ScheduledMeeting, Session, StartKind, StartRequest, cannot,
};
pub use health::HealthTracker;
pub use profile::meeting_code_schema;

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

/// The declaration of `kind`'s service, its adapter's `PROFILE` (which a built adapter answers
/// with [`Backend::profile`]), for tools that need it without building one. With [`build`], the
/// one place a service is registered.
pub fn profile_of(kind: BackendKind) -> Profile {
    match kind {
        BackendKind::Sim => sim::PROFILE,
        BackendKind::Kedacom => kedacom::PROFILE,
        BackendKind::Easemob => easemob::PROFILE,
        BackendKind::Rsc => rsc::PROFILE,
        BackendKind::Hiar => hiar::PROFILE,
    }
}
