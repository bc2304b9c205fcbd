//! The Backend module (beyond the vendor protocol): the meeting service's health, so that an
//! installer or a panel can tell "the platform is down" from "the room is idle".
//! `Query ["Backend"]` serves it; `Event/Backend` `BackendStatusChanged` says when the service
//! comes or goes, or a new error is recorded. It has no actions.

use schemars::JsonSchema;
use serde::Serialize;

use super::{EventDef, Module, schema_of};
use crate::domain::{Capability, Health, Profile};
use crate::wire::{ErrorCode, Refusal};

pub const NAME: &str = "Backend";

/// The Backend module as subscriptions, the schemas and roomsctl see it. `Call/Backend` is not
/// a method.
pub const MODULE: Module = Module {
    name: NAME,
    key: "backend",
    bare: false,
    state: schema_of::<BackendNode>,
    actions: &[],
    events: &[BACKEND_STATUS_CHANGED.spec()],
    parse: |_| {
        Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            "unknown method \"Call/Backend\"",
        ))
    },
};

pub const BACKEND_STATUS_CHANGED: EventDef<BackendStatusChanged> =
    EventDef::new(NAME, "BackendStatusChanged");

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BackendStatusChanged {
    pub backend: BackendNode,
}

/// `Query ["Backend"]` → `{"backend": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BackendNode {
    /// The configured meeting service, as `backend.kind` names it (`sim`: the embedded
    /// simulator).
    pub kind: String,
    /// The service answers. False until it has been reached, and after three failed exchanges
    /// in a row.
    pub connected: bool,
    /// The last thing that went wrong, naming the service's own error; `""` if nothing has.
    pub last_error: String,
    /// When the service last answered, in Unix seconds; 0 if it never has. Refreshed at most
    /// every few seconds.
    pub last_ok_at: i64,
    /// How long the service took to answer, at `last_ok_at`.
    pub latency_ms: u64,
    /// What a `meeting_code` for this service must look like (a regular expression over the
    /// code as typed, spaces included), so that a panel can check it before `JoinMeeting`;
    /// others are refused with 10010.
    pub meeting_code_pattern: String,
    /// What the service can do. Anything else is refused with 9 (`leave` absent: the room
    /// leaves without telling the service; `member_list` absent: the member list only holds
    /// the room; `end_detection` absent: the room does not notice a meeting ended on the
    /// service).
    pub capabilities: Vec<Capability>,
}

impl BackendNode {
    pub fn new(profile: &Profile, health: &Health) -> Self {
        Self {
            kind: profile.service.to_owned(),
            connected: health.connected,
            last_error: health.last_error.clone(),
            last_ok_at: health.last_ok_at,
            latency_ms: health.latency_ms,
            meeting_code_pattern: profile.code_rule.pattern().to_owned(),
            capabilities: profile.capabilities.to_vec(),
        }
    }
}
