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

use crate::config::{Config, SectionSpec};
// The vocabulary the adapters speak, defined below both the room and the backends.
pub use crate::domain::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, ControlAction, Happening, Health,
    JoinRequest, Joined, Media, MeetingDetails, MemberChanges, Participant, Profile, RoomRole,
    ScheduledMeeting, Session, StartKind, StartRequest, cannot,
};
pub use health::HealthTracker;
pub use profile::meeting_code_schema;

/// A meeting service roomsd can work with: what it declares it can do, its configuration
/// section, and how its adapter is built. Each adapter defines its `SERVICE`.
pub struct Service {
    pub profile: Profile,
    pub section: SectionSpec,
    /// Builds the adapter: its reports go to the events channel, what it learns about the
    /// service's health to the tracker.
    pub build: fn(&Config, mpsc::Sender<BackendEvent>, HealthTracker) -> Arc<dyn Backend>,
}

/// Every service, in the order tables and schemas list them: the one place a service is
/// registered.
pub const SERVICES: &[Service] = &[
    sim::SERVICE,
    kedacom::SERVICE,
    easemob::SERVICE,
    rsc::SERVICE,
    hiar::SERVICE,
];

/// The service named `name` (`backend.kind`).
pub fn service(name: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.profile.service == name)
}

/// Every service's configuration section, for [`Config::parse`] and [`Config::load`].
pub fn sections() -> Vec<SectionSpec> {
    SERVICES.iter().map(|s| s.section).collect()
}

/// Checks that `backend.kind` names a service and that its section has what the service
/// cannot work without. [`Config::parse`] has checked this for a file; a configuration made in
/// code is checked here, before [`build`].
pub fn check(config: &Config) -> Result<(), String> {
    let kind = &config.backend.kind;
    let service = service(kind).ok_or_else(|| {
        let names = SectionSpec::names(&sections());
        format!("backend.kind = {kind:?}: not a meeting service; one of: {names}")
    })?;
    service.section.check_chosen(&config.services)
}

/// Builds the backend the configuration names ([`check`] it first). Must be called inside a Tokio runtime:
/// adapters that keep a session alive start doing so at once, and building never waits for the
/// service.
pub fn build(
    config: &Config,
    events: mpsc::Sender<BackendEvent>,
    health: HealthTracker,
) -> Arc<dyn Backend> {
    let kind = &config.backend.kind;
    // `Config::parse` refuses a kind that is not a service.
    let service =
        service(kind).unwrap_or_else(|| panic!("backend.kind = {kind:?} is not a service"));
    (service.build)(config, events, health)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration made in code, as tests and embedders make it, is checked like a file's.
    #[test]
    fn a_configuration_made_in_code_is_checked_before_building() {
        let mut config = Config::default();
        assert_eq!(check(&config), Ok(()));
        config.backend.kind = "kedacom".into();
        let err = check(&config).unwrap_err();
        assert!(err.contains("needs kedacom.base_url"), "{err}");
        config.backend.kind = "nowhere".into();
        let err = check(&config).unwrap_err();
        assert!(err.contains("\"nowhere\": not a meeting service"), "{err}");
    }
}
