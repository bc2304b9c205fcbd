//! The shape of a module's description ([`Module`]): what each protocol module declares once, in
//! its own file, and what dispatch, subscriptions, the schemas, roomsctl and the tests read.

use std::marker::PhantomData;

use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::value::RawValue;

use super::Command;
use crate::wire::Refusal;

/// One protocol module: its path segment, its state node, its actions and its events.
pub struct Module {
    /// `Query [name]`, `Call/<name>`, `Event/<name>`.
    pub name: &'static str,
    /// The key `Query [name]` answers under, and the name of its state schema file.
    pub key: &'static str,
    /// `Query [name]` answers the node's keys directly rather than under `key` (Members).
    pub bare: bool,
    /// The JSON Schema of the state node.
    pub state: fn() -> Schema,
    pub actions: &'static [ActionSpec],
    pub events: &'static [EventSpec],
    /// Reads a `Call/<name>` into the room's command; an action it does not list is 9.
    pub parse: fn(&ActionCall<'_>) -> Result<Command, Refusal>,
}

impl Module {
    /// The action called `name` (or one of its aliases), exactly as spelt on the wire.
    pub fn action(&self, name: &str) -> Option<&'static ActionSpec> {
        self.actions
            .iter()
            .find(|a| a.name == name || a.aliases.contains(&name))
    }

    pub fn event(&self, name: &str) -> Option<&'static EventSpec> {
        self.events.iter().find(|e| e.name == name)
    }
}

/// A `Call/<Module>` action.
pub struct ActionSpec {
    pub name: &'static str,
    /// Other names the vendor's text uses for it, accepted like the name.
    pub aliases: &'static [&'static str],
    /// The JSON Schema of its `action_params`, from the struct its parser reads.
    pub params: fn() -> Schema,
    /// How a client learns whether it did what it asked.
    pub ends: Ends,
}

/// Where an accepted action's outcome is told (`schema::outcome`, `roomsctl call`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// The acknowledgement is the outcome (synchronous, no event).
    Acknowledged,
    /// The event of the action's own name tells it, with its `error_code`.
    OwnEvent,
    /// The first of these events of the module tells it, with its `error_code`.
    In(&'static [&'static str]),
    /// As the meeting state machine's tables say (`room::meeting`): the events that leave the
    /// state the call moves the room to, or the layout event.
    MeetingMachine,
}

/// An event a module sends (or accepts in subscriptions).
pub struct EventSpec {
    pub name: &'static str,
    /// The JSON Schema of its `data`; `None` for an event roomsd never sends.
    pub data: Option<fn() -> Schema>,
}

impl EventSpec {
    /// An event clients may subscribe to that roomsd never sends.
    pub const fn never_sent(name: &'static str) -> Self {
        Self { name, data: None }
    }
}

/// An event with the type of its `data`: the room can only build it with that payload, and
/// its schema is generated from the same type.
pub struct EventDef<P> {
    pub module: &'static str,
    pub name: &'static str,
    payload: PhantomData<fn() -> P>,
}

// Derived impls would ask `P: Copy`.
impl<P> Clone for EventDef<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P> Copy for EventDef<P> {}
impl<P> std::fmt::Debug for EventDef<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

impl<P: Serialize + JsonSchema> EventDef<P> {
    pub const fn new(module: &'static str, name: &'static str) -> Self {
        Self {
            module,
            name,
            payload: PhantomData,
        }
    }

    /// Its entry in the module's `events`.
    pub const fn spec(self) -> EventSpec {
        EventSpec {
            name: self.name,
            data: Some(schema_of::<P>),
        }
    }
}

/// The JSON Schema of `T`.
pub fn schema_of<T: JsonSchema>() -> Schema {
    schemars::schema_for!(T)
}

/// A `Call/<Module>` request's action, as sent.
#[derive(Debug, Clone, Copy)]
pub struct ActionCall<'a> {
    pub action: &'a str,
    pub params: Option<&'a RawValue>,
    /// `EndQuickShare` and `CancelQuickShare` carry `meeting_type` in `params` itself.
    pub meeting_type: Option<&'a str>,
}

impl<'a> ActionCall<'a> {
    pub fn new(action: &'a str, params: Option<&'a RawValue>) -> Self {
        Self {
            action,
            params,
            meeting_type: None,
        }
    }
}
