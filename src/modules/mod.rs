//! The protocol modules: for each, its state-tree node types (in the exact key order of the wire),
//! its `Call/<Module>` actions as typed values, its events with their payload types, and the one
//! description of it all (`MODULE`) that [`MODULES`] collects.

pub mod backend;
pub mod device;
pub mod meeting;
pub mod meeting_control;
pub mod members;
pub mod share;
mod spec;

pub use spec::{ActionCall, ActionSpec, Ends, EventDef, EventSpec, Module, schema_of};

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::wire::{ErrorCode, Refusal};

/// Every protocol module, in the order tools list them and subscriptions are answered. Each
/// file declares its own `MODULE`; everything that lists modules, actions or events reads this.
pub const MODULES: &[&Module] = &[
    &meeting::MODULE,
    &device::MODULE,
    &members::MODULE,
    &meeting_control::MODULE,
    &share::MODULE,
    &backend::MODULE,
];

/// The module called `name` (as in `Call/<name>`), spelt exactly.
pub fn module(name: &str) -> Option<&'static Module> {
    MODULES.iter().copied().find(|m| m.name == name)
}

/// A client's call, parsed: what the room is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Meeting(meeting::MeetingAction),
    Device(device::DeviceAction),
    Control(meeting_control::ControlAction),
    /// `Call/MeetingControl` `ListMemberIds`, answered at once.
    ListMemberIds(meeting_control::MemberRange),
    Share(share::ShareAction),
}

/// `MultiScreeInfo` → `multi_scree_info`: path segments and names may be written either way.
/// Text already in snake_case passes unchanged.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    push_snake_case(&mut out, name);
    out
}

/// [`snake_case`], appending to `out`.
pub fn push_snake_case(out: &mut String, name: &str) {
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else {
            out.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
}

/// `params` of a `Call/<Module>` request: the action name and its parameters.
#[derive(Debug, Deserialize)]
pub struct CallParams<'a> {
    #[serde(borrow)]
    pub action: Cow<'a, str>,
    #[serde(default, borrow)]
    pub action_params: Option<&'a RawValue>,
    /// `EndQuickShare` and `CancelQuickShare` carry `meeting_type` here, beside `action`.
    #[serde(default, borrow)]
    pub meeting_type: Option<Cow<'a, str>>,
    /// Makes a retried call idempotent (docs/CONTINUITY.md); read by the server, not the action.
    #[serde(default)]
    pub request_key: Option<serde_json::Value>,
}

/// Reads an action's parameters into `T`, naming the action in the error.
pub fn action_params<'a, T: Deserialize<'a>>(
    action: &str,
    raw: Option<&'a RawValue>,
) -> Result<T, Refusal> {
    let text = raw.map_or("{}", RawValue::get);
    serde_json::from_str(text).map_err(|e| {
        Refusal::new(
            ErrorCode::PARAMETER,
            format!("{action}: invalid action_params: {e}"),
        )
    })
}

/// The schema of parameters read by [`string_or_integer`].
pub(crate) fn string_or_integer_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": ["string", "integer"]})
}

/// The `action_params` of an action that takes none.
pub(crate) fn no_params_schema() -> schemars::Schema {
    schemars::json_schema!({"type": "object"})
}

/// Control-system scripts send codes and numeric passwords as numbers as often as as strings.
pub(crate) fn string_or_integer<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Str(String),
        Int(u64),
    }
    Ok(Option::<Text>::deserialize(d)?.map(|t| match t {
        Text::Str(s) => s,
        Text::Int(n) => n.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Names are what dispatch, subscriptions and the schema files are keyed by: each must be
    /// unique where it is looked up.
    #[test]
    fn the_registry_names_everything_once() {
        let mut modules = HashSet::new();
        for module in MODULES {
            assert!(modules.insert(module.name), "module {}", module.name);
            let mut actions = HashSet::new();
            for action in module.actions {
                for name in action.aliases.iter().chain([&action.name]) {
                    assert!(actions.insert(name), "{}.{name}", module.name);
                }
            }
            let mut events = HashSet::new();
            for event in module.events {
                assert!(events.insert(event.name), "{}.{}", module.name, event.name);
            }
        }
        let keys: HashSet<&str> = MODULES.iter().map(|m| m.key).collect();
        assert_eq!(keys.len(), MODULES.len(), "Query keys");
    }

    #[test]
    fn modules_are_found_by_their_exact_name() {
        assert_eq!(module("Backend").map(|m| m.name), Some("Backend"));
        assert!(
            module("backend").is_none(),
            "Call/<Module> is case-sensitive"
        );
        let meeting = module("Meeting").unwrap();
        let alias = meeting.action("LayoutSwitchChanged").unwrap();
        assert_eq!(alias.name, "SwitchLayout");
    }
}
