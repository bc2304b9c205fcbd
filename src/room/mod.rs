//! The room: its state machines (meeting, layout and screens, devices) and the task that owns
//! them.
//!
//! Everything but [`owner`] is pure and synchronous: an action or a backend report goes in, the
//! state changes, and [`Effect`]s come out (events to publish, backend operations to start). Unit
//! tests drive it directly; the owner task runs the effects.

pub mod device;
pub mod layout;
mod meeting;
pub mod owner;
pub mod snapshot;
mod view;

use serde_json::Value;

use crate::backend::{
    BackendResult, JoinRequest, Joined, MeetingDetails, ScheduledMeeting, Session, StartRequest,
};
use crate::config::Config;
use crate::wire::{ErrorCode, Refusal};
use device::Devices;
use layout::{Layout, ScreenSetup};

pub use meeting::Phase;

/// A request from a client to the room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Meeting(crate::modules::meeting::MeetingAction),
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

/// A backend operation the room wants run.
#[derive(Debug, Clone)]
pub enum BackendOp {
    Start(StartRequest),
    Join(JoinRequest),
    Leave(Session),
    Dissolve(Session),
    MeetingList,
}

/// The answer to a [`BackendOp`].
#[derive(Debug, Clone)]
pub enum Completed {
    Started(Session, BackendResult<MeetingDetails>),
    Joined(Session, BackendResult<Joined>),
    Left(Session, BackendResult<()>),
    Dissolved(Session, BackendResult<()>),
    MeetingList(BackendResult<Vec<ScheduledMeeting>>),
}

#[derive(Debug, Clone)]
pub enum Effect {
    Publish(Event),
    Run(BackendOp),
}

/// The whole state of the room.
#[derive(Debug, Clone)]
pub struct Room {
    name: String,
    phase: Phase,
    layout: Layout,
    devices: Devices,
    meeting_list: Vec<ScheduledMeeting>,
    backend_reachable: bool,
    last_session: u64,
}

impl Room {
    pub fn new(config: &Config) -> Self {
        Self {
            name: config.room.name.clone(),
            phase: Phase::Idle,
            layout: Layout::new(
                ScreenSetup::from_config(&config.screens),
                config.screens.main_monitor_id.clone(),
            ),
            devices: Devices::new(&config.room.name),
            meeting_list: Vec::new(),
            backend_reachable: true,
            last_session: 0,
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
        }
    }

    /// The state tree served by `Query`, keyed by module.
    pub fn tree(&self) -> Value {
        let mut tree = serde_json::Map::new();
        tree.insert("meeting".into(), to_value(&self.meeting_node()));
        tree.insert("device".into(), to_value(self.devices.node()));
        Value::Object(tree)
    }

    fn next_session(&mut self) -> Session {
        self.last_session += 1;
        Session(self.last_session)
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("state nodes always serialize")
}

fn event(name: &'static str, data: Value) -> Effect {
    Effect::Publish(Event {
        module: "Meeting",
        name,
        code: ErrorCode::OK,
        message: String::new(),
        data,
    })
}

fn failed_event(name: &'static str, refusal: &Refusal, data: Value) -> Effect {
    Effect::Publish(Event {
        module: "Meeting",
        name,
        code: refusal.code,
        message: refusal.message.clone(),
        data,
    })
}
