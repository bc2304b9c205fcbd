//! The room: its state machines (meeting, layout and screens, devices) and the task that owns
//! them.
//!
//! Everything but [`owner`] is pure and synchronous: an action or a backend report goes in, the
//! state changes, and [`Effect`]s come out (events to publish, backend operations to start). Unit
//! tests drive it directly; the owner task runs the effects.

mod control;
#[cfg(test)]
mod control_tests;
pub mod device;
#[cfg(test)]
mod device_tests;
pub mod history;
pub mod layout;
pub mod machine;
#[cfg(test)]
mod machine_doc;
mod meeting;
mod members;
pub mod owner;
#[cfg(test)]
mod owner_tests;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod props;
mod reconcile;
mod reply_budget;
pub mod screens;
mod share;
#[cfg(test)]
mod share_tests;
pub mod snapshot;
#[cfg(test)]
mod test_support;
mod view;

use std::sync::Arc;

use serde_json::Value;

use crate::backend::{
    BackendResult, Health, JoinRequest, Joined, Media, MeetingDetails, Profile, ScheduledMeeting,
    Session, StartRequest,
};
use crate::config::Config;
use crate::modules::backend::{BACKEND_STATUS_CHANGED, BackendNode};
use crate::modules::device::DeviceAction;
use crate::modules::meeting::MeetingAction;
use crate::modules::meeting_control::{ControlAction, MemberRange};
use crate::modules::share::ShareAction;
use crate::wire::{ErrorCode, Refusal};
use device::{DeviceSettings, Devices, MediaChange};
use layout::Layout;
use screens::Screens;
use share::Share;

pub use meeting::Phase;

/// A request from a client to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Meeting(MeetingAction),
    Device(DeviceAction),
    Control(ControlAction),
    /// `Call/MeetingControl` `ListMemberIds`, answered at once.
    ListMemberIds(MemberRange),
    Share(ShareAction),
}

/// An event for subscribers, before serialization.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The module, as in `Event/<Module>`.
    pub module: &'static str,
    pub name: &'static str,
    pub code: ErrorCode,
    pub message: String,
    pub data: Value,
}

impl Event {
    pub fn new(module: &'static str, name: &'static str, data: Value) -> Self {
        Self {
            module,
            name,
            code: ErrorCode::OK,
            message: String::new(),
            data,
        }
    }

    /// The event that reports a failed action.
    pub fn failed(module: &'static str, name: &'static str, why: &Refusal, data: Value) -> Self {
        Self {
            module,
            name,
            code: why.code,
            message: why.message.clone(),
            data,
        }
    }
}

/// A backend operation the room wants run.
#[derive(Debug, Clone)]
pub enum BackendOp {
    Start(StartRequest),
    Join(JoinRequest),
    Leave(Session),
    Dissolve(Session),
    MeetingList,
    Media {
        session: Session,
        media: Media,
        change: MediaChange,
    },
    Control(Session, ControlAction),
    /// Give up an attempt the room never showed as a meeting, undoing what it did on the
    /// service (`Backend::abandon`). Cuts short the attempt's start or join if it is still
    /// running. No answer comes back.
    Abandon(Session),
    /// Ask the service whether the room is in a meeting it is not following, to be followed as
    /// this session if so (`Backend::reconcile`).
    Reconcile(Session),
}

/// The answer to a [`BackendOp`].
#[derive(Debug, Clone)]
pub enum Completed {
    Started(Session, BackendResult<MeetingDetails>),
    Joined(Session, BackendResult<Joined>),
    Left(Session, BackendResult<()>),
    Dissolved(Session, BackendResult<()>),
    MeetingList(BackendResult<Vec<ScheduledMeeting>>),
    Media(Session, MediaChange, BackendResult<()>),
    Controlled(Session, ControlAction, BackendResult<()>),
    Reconciled(Session, BackendResult<Option<MeetingDetails>>),
}

/// What a step of the room produces.
#[derive(Debug, Clone)]
pub enum Effect {
    Publish(Event),
    Run(BackendOp),
    /// The data a synchronous action answers with, in its acknowledgement.
    Reply(Value),
}

/// The whole state of the room.
#[derive(Debug, Clone)]
pub struct Room {
    name: String,
    phase: Phase,
    screens: Screens,
    layout: Layout,
    devices: Devices,
    meeting_list: Vec<ScheduledMeeting>,
    share: Share,
    /// In this meeting, the room has asked to record (`RequestRecord` as host) and may start.
    record_requested: bool,
    /// What the meeting service can do and its meeting code rule.
    profile: Profile,
    /// The meeting service's health (`Query ["Backend"]`).
    backend: BackendNode,
    last_session: u64,
    /// The reconcile under way, and whether another was asked for meanwhile.
    reconciling: Option<Session>,
    reconcile_again: bool,
    /// The member list as `MembersChanged` last told it.
    announced: members::Announced,
    member_cache: members::MemberCache,
    /// The tree (without the members) the last snapshot rendered, and its rendering.
    rendered_nodes: Option<(Value, Arc<snapshot::Nodes>)>,
    /// `[compat] max_reply_bytes`, which the snapshot answers within.
    reply_budget: Option<usize>,
}

impl Room {
    /// A room in the configured setup, its devices as `settings` say.
    pub fn new(config: &Config, settings: DeviceSettings) -> Self {
        let profile = Profile::of(config.backend.kind);
        Self {
            name: config.room.name.clone(),
            phase: Phase::Idle,
            screens: Screens::from_config(&config.screens),
            layout: Layout::default(),
            devices: Devices::new(&config.room.name, settings),
            meeting_list: Vec::new(),
            share: Share::new(&config.share),
            record_requested: false,
            profile,
            backend: BackendNode::new(&profile, &Health::initial(config)),
            last_session: 0,
            reconciling: None,
            reconcile_again: false,
            announced: members::Announced::new(config),
            member_cache: members::MemberCache::new(),
            rendered_nodes: None,
            reply_budget: (config.compat.max_reply_bytes > 0)
                .then_some(config.compat.max_reply_bytes as usize),
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Applies a client's command: the effects to run, or why it is refused (then nothing
    /// changed).
    pub fn apply(&mut self, command: Command) -> Result<Vec<Effect>, Refusal> {
        match command {
            Command::Meeting(action) => self.meeting_action(action),
            Command::Device(action) => self.device_action(action),
            Command::Control(action) => self.control_action(action),
            Command::ListMemberIds(range) => Ok(vec![Effect::Reply(self.member_ids(range)?)]),
            Command::Share(action) => self.share_action(action),
        }
    }

    /// The device settings to keep across restarts.
    pub fn device_settings(&self) -> &DeviceSettings {
        self.devices.settings()
    }

    /// The state tree served by `Query`, keyed by module.
    pub fn tree(&self) -> Value {
        self.tree_with_members(to_value(&self.members_node()))
    }

    /// The tree with `members` as the Members module (the snapshot prepares its own).
    fn tree_with_members(&self, members: Value) -> Value {
        let mut tree = serde_json::Map::new();
        tree.insert("meeting".into(), to_value(&self.meeting_node()));
        tree.insert("device".into(), to_value(self.devices.node()));
        tree.insert("members".into(), members);
        tree.insert(
            "meeting_control".into(),
            to_value(&self.meeting_control_node()),
        );
        tree.insert("share".into(), to_value(&self.share_node()));
        tree.insert("backend".into(), to_value(&self.backend));
        Value::Object(tree)
    }

    /// The meeting service's health changed: the Backend node follows, subscribers hear when
    /// it comes, goes or records a new error, and a service that is gone ends any meeting.
    pub fn health_changed(&mut self, health: &Health) -> Vec<Effect> {
        let now = BackendNode::new(&self.profile, health);
        let before = std::mem::replace(&mut self.backend, now);
        let mut effects = Vec::new();
        if before.connected != health.connected || before.last_error != health.last_error {
            effects.push(Effect::Publish(Event::new(
                "Backend",
                BACKEND_STATUS_CHANGED,
                serde_json::json!({ "backend": to_value(&self.backend) }),
            )));
        }
        if before.connected != health.connected {
            effects.extend(self.reachability_changed(health.connected));
        }
        effects
    }

    fn next_session(&mut self) -> Session {
        self.last_session += 1;
        Session(self.last_session)
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("state nodes always serialize")
}

/// An `Event/Meeting`.
fn event(name: &'static str, data: Value) -> Effect {
    Effect::Publish(Event::new("Meeting", name, data))
}

/// An `Event/Meeting` reporting a failure.
fn failed_event(name: &'static str, refusal: &Refusal, data: Value) -> Effect {
    Effect::Publish(Event::failed("Meeting", name, refusal, data))
}
