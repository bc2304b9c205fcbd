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
pub mod meeting;
mod members;
pub mod owner;
#[cfg(test)]
mod owner_tests;
mod phase;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod props;
#[cfg(test)]
mod props_service;
#[cfg(test)]
mod props_steps;
mod reconcile;
mod reply_budget;
mod reports;
pub mod screens;
mod share;
#[cfg(test)]
mod share_tests;
pub mod snapshot;
#[cfg(test)]
mod test_support;
mod view;

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use crate::config::Config;
use crate::domain::{Backend, BackendResult, Health, Profile, ScheduledMeeting, Session};
use crate::modules::EventDef;
use crate::modules::backend::{BACKEND_STATUS_CHANGED, BackendNode, BackendStatusChanged};
// The unit tests (`use super::*`) build commands from these.
use crate::wire::{ErrorCode, Refusal};
#[cfg(test)]
use crate::{
    domain::{Joined, MeetingDetails},
    modules::{
        device::DeviceAction, meeting::MeetingAction, meeting_control::ControlAction,
        meeting_control::MemberRange, share::ShareAction,
    },
};
#[cfg(test)]
use device::MediaChange;
use device::{DeviceSettings, Devices};
use layout::Layout;
use screens::Screens;
use share::Share;

pub use phase::Phase;

/// A request from a client to the room (parsed by its module's description).
pub use crate::modules::Command;

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
    /// Event `def` with its `data`; the payload's type is the one the module declares for it.
    pub fn new<P: Serialize>(def: EventDef<P>, data: P) -> Self {
        debug_assert!(
            crate::modules::module(def.module).is_some_and(|m| m.event(def.name).is_some()),
            "{}.{} is not in its module's events",
            def.module,
            def.name
        );
        Self {
            module: def.module,
            name: def.name,
            code: ErrorCode::OK,
            message: String::new(),
            data: to_value(&data),
        }
    }

    /// Event `def` telling an action's outcome: failed with `failure`, or done.
    pub fn told<P: Serialize>(def: EventDef<P>, failure: Option<&Refusal>, data: P) -> Self {
        match failure {
            None => Self::new(def, data),
            Some(refusal) => Self::failed(def, refusal, data),
        }
    }

    /// The event that reports a failed action.
    pub fn failed<P: Serialize>(def: EventDef<P>, why: &Refusal, data: P) -> Self {
        Self {
            code: why.code,
            message: why.message.clone(),
            ..Self::new(def, data)
        }
    }
}

/// A call to the meeting service the room wants made, declared where the room makes it: which
/// [`Backend`] method to call, and which room method takes its answer. The owner runs any call
/// the same way (on its own task, under the timeout), so adding an operation touches the
/// `Backend` trait and the room's code that makes the call and takes the answer.
pub struct BackendCall {
    /// The `Backend` method, for tests and logs.
    pub name: &'static str,
    /// The meeting attempt it concerns; `None` for the meeting list.
    pub session: Option<Session>,
    /// A start or join: cut short when the room abandons its attempt.
    pub attempt: bool,
    run: Arc<RunCall>,
}

/// Calls the backend, under a timeout if one is given, and hands its answer to the room method
/// that takes it.
type RunCall =
    dyn Fn(&dyn Backend, Option<Duration>) -> BoxFuture<'static, TakeAnswer> + Send + Sync;

/// A room method with the service's answer in hand.
type TakeAnswer = Box<dyn FnOnce(&mut Room) -> Vec<Effect> + Send>;

impl BackendCall {
    /// Calls `call` on the backend; `take` is the room method its answer goes to.
    fn new<T: Send + 'static>(
        name: &'static str,
        session: Option<Session>,
        call: impl Fn(&dyn Backend) -> BoxFuture<'static, BackendResult<T>> + Send + Sync + 'static,
        take: impl Fn(&mut Room, BackendResult<T>) -> Vec<Effect> + Send + Sync + 'static,
    ) -> Self {
        let take = Arc::new(take);
        Self {
            name,
            session,
            attempt: false,
            run: Arc::new(move |backend, timeout| {
                let pending = call(backend);
                let take = Arc::clone(&take);
                Box::pin(async move {
                    let answer = owner::within(timeout, pending).await;
                    Box::new(move |room: &mut Room| take(room, answer)) as TakeAnswer
                })
            }),
        }
    }

    /// A start or join.
    fn attempt(mut self) -> Self {
        self.attempt = true;
        self
    }

    /// Calls the backend. The future ends with the answer for [`Room::complete`]: the
    /// service's, 12 once `timeout` passes, or 1 if the adapter panics.
    pub fn run(
        &self,
        backend: &dyn Backend,
        timeout: Option<Duration>,
    ) -> BoxFuture<'static, Completed> {
        let pending = (self.run)(backend, timeout);
        let (name, session, attempt) = (self.name, self.session, self.attempt);
        Box::pin(async move {
            Completed {
                name,
                session,
                attempt,
                take: pending.await,
            }
        })
    }
}

impl Clone for BackendCall {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            session: self.session,
            attempt: self.attempt,
            run: Arc::clone(&self.run),
        }
    }
}

impl std::fmt::Debug for BackendCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendCall")
            .field("name", &self.name)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// The answer to a [`BackendCall`], for [`Room::complete`]: which call it answers, and the
/// room method that takes it.
pub struct Completed {
    /// The `Backend` method that answered.
    pub name: &'static str,
    pub session: Option<Session>,
    /// The answer to a start or join.
    pub attempt: bool,
    take: TakeAnswer,
}

impl std::fmt::Debug for Completed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completed")
            .field("name", &self.name)
            .field("session", &self.session)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// What a step of the room produces.
#[derive(Debug, Clone)]
pub enum Effect {
    Publish(Event),
    Run(BackendCall),
    /// Give up an attempt the room never showed as a meeting, undoing what it did on the
    /// service (`Backend::abandon`, run without the timeout). Cuts short the attempt's start or
    /// join if it is still running. No answer comes back.
    Abandon(Session),
    /// The data a synchronous action answers with, in its acknowledgement.
    Reply(Value),
}

/// What the room is given instead of reading the system: the service it works with, how that
/// service is doing at start, and the seed of its cast code.
#[derive(Debug, Clone)]
pub struct Given {
    /// What the meeting service can do and its meeting code rule.
    pub profile: Profile,
    /// The service's health at start.
    pub health: Health,
    /// Makes the six-digit cast code when `[share] cast_code` is unset; the daemon's stays the
    /// same until the machine reboots.
    pub cast_seed: u64,
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
    pub fn new(config: &Config, settings: DeviceSettings, given: Given) -> Self {
        let Given {
            profile,
            health,
            cast_seed,
        } = given;
        Self {
            name: config.room.name.clone(),
            phase: Phase::Idle,
            screens: Screens::from_config(&config.screens),
            layout: Layout::default(),
            devices: Devices::new(&config.room.name, settings),
            meeting_list: Vec::new(),
            share: Share::new(&config.share, cast_seed),
            record_requested: false,
            profile,
            backend: BackendNode::new(&profile, &health),
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
            effects.push(event(
                BACKEND_STATUS_CHANGED,
                BackendStatusChanged {
                    backend: self.backend.clone(),
                },
            ));
        }
        if before.connected != health.connected {
            effects.extend(self.reachability_changed(health.connected));
        }
        effects
    }

    /// Applies the service's answer to a [`BackendCall`]: the room method the call named takes
    /// it (each one drops an answer about an attempt the room has left behind).
    pub fn complete(&mut self, completed: Completed) -> Vec<Effect> {
        (completed.take)(self)
    }

    fn next_session(&mut self) -> Session {
        self.last_session += 1;
        Session(self.last_session)
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("state nodes always serialize")
}

/// Publishes event `def`.
fn event<P: Serialize>(def: EventDef<P>, data: P) -> Effect {
    Effect::Publish(Event::new(def, data))
}

/// Publishes event `def`, reporting a failure.
fn failed_event<P: Serialize>(def: EventDef<P>, refusal: &Refusal, data: P) -> Effect {
    Effect::Publish(Event::failed(def, refusal, data))
}
