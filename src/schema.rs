//! The protocol described as data, for tools and developers: a JSON Schema of every module's
//! state node, generated from the Rust types that serialize it (schemars), and the OpenRPC
//! document `rpc.discover` answers with: methods, every module's actions and events, and those
//! schemas. `schemas/` holds the same files; a test fails while they are stale, and the
//! integration tests validate real daemon output against them.

use schemars::{JsonSchema, Schema, schema_for};
use serde_json::{Value, json};

use crate::modules::{device, meeting, meeting_control, members, share};

/// A protocol module: its path segment, its state node's schema, its actions and its events.
pub struct Module {
    pub name: &'static str,
    /// The key `Query [name]` answers under (`members` answers its keys bare).
    pub key: &'static str,
    pub state: fn() -> Schema,
    pub actions: &'static [&'static str],
    pub events: &'static [&'static str],
}

fn schema<T: JsonSchema>() -> Schema {
    schema_for!(T)
}

pub const MODULES: &[Module] = &[
    Module {
        name: "Meeting",
        key: "meeting",
        state: schema::<meeting::MeetingNode>,
        actions: meeting::ACTIONS,
        events: meeting::EVENTS,
    },
    Module {
        name: "Device",
        key: "device",
        state: schema::<device::DeviceNode>,
        actions: device::ACTIONS,
        events: device::EVENTS,
    },
    Module {
        name: "Members",
        key: "members",
        state: schema::<members::MembersNode>,
        actions: &[],
        events: &[],
    },
    Module {
        name: "MeetingControl",
        key: "meeting_control",
        state: schema::<meeting_control::MeetingControlNode>,
        actions: meeting_control::ACTIONS,
        events: meeting_control::EVENTS,
    },
    Module {
        name: "Share",
        key: "share",
        state: schema::<share::ShareNode>,
        actions: share::ACTIONS,
        events: share::EVENTS,
    },
];

/// `schemas/state/<key>.schema.json`, by file name.
pub fn state_files() -> Vec<(String, String)> {
    MODULES
        .iter()
        .map(|m| {
            let mut schema = (m.state)();
            schema.insert(
                "$id".into(),
                json!(format!(
                    "https://roomsd.invalid/schemas/state/{}.schema.json",
                    m.key
                )),
            );
            let text = serde_json::to_string_pretty(&schema).expect("schemas serialize") + "\n";
            (format!("state/{}.schema.json", m.key), text)
        })
        .collect()
}

/// A JSON-RPC method of the OpenRPC document.
fn method(name: &str, summary: &str, params: Value, result: Value) -> Value {
    json!({"name": name, "summary": summary, "params": params, "result": result})
}

/// The result every `Query` and `Call` answers with (PROTOCOL.md §2.2).
fn outcome(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {
            "error_code": {"type": "integer", "description": "0, or a code of PROTOCOL.md §5"},
            "message": {"type": "string"},
            "action": {"type": "string"},
            "data": data,
        }
    })
}

/// The OpenRPC document `rpc.discover` answers with.
pub fn openrpc() -> Value {
    let path = json!({"name": "path", "required": true,
        "schema": {"type": "array", "items": {"type": "string"}}});
    let mut methods = vec![
        method(
            "Query",
            "Read a node of the state tree: the module, then nested nodes, in PascalCase",
            json!([path.clone()]),
            json!({"name": "result", "schema": outcome(json!({"type": "object"}))}),
        ),
        method(
            "Subscribe",
            "Receive Event/<Module> notifications for a module or one of its events",
            json!([path.clone()]),
            json!({"name": "result", "schema": outcome(json!({"type": "object"}))}),
        ),
        method(
            "Unsubscribe",
            "Stop receiving what Subscribe asked for",
            json!([path]),
            json!({"name": "result", "schema": outcome(json!({"type": "object"}))}),
        ),
    ];
    let mut schemas = serde_json::Map::new();
    for module in MODULES {
        schemas.insert(module.name.into(), (module.state)().to_value());
        if module.actions.is_empty() {
            continue;
        }
        methods.push(json!({
            "name": format!("Call/{}", module.name),
            "summary": format!("Run a {} action; asynchronous outcomes arrive as Event/{} notifications", module.name, module.name),
            "params": [
                {"name": "action", "required": true, "schema": {"type": "string", "enum": module.actions}},
                {"name": "action_params", "required": false, "schema": {"type": "object"}},
            ],
            "result": {"name": "result", "schema": outcome(json!({"type": "object"}))},
            "x-events": module.events,
        }));
    }
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "Rooms control protocol (roomsd)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON-RPC 2.0 over WebSocket; params are passed by name. Events are \
                notifications named Event/<Module> with params {sub_event, error_code, message, \
                data}. See PROTOCOL.md.",
        },
        "methods": methods,
        "components": {"schemas": schemas},
    })
}

pub fn openrpc_file() -> String {
    serde_json::to_string_pretty(&openrpc()).expect("the document serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ErrorCode;
    use std::path::Path;

    /// Fails while `schemas/` differs from the types; `UPDATE_SCHEMAS=1` rewrites it.
    #[test]
    fn checked_in_schemas_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
        let mut files = state_files();
        files.push(("openrpc.json".into(), openrpc_file()));
        let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
        for (name, text) in files {
            let path = root.join(&name);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                checked_in == text,
                "schemas/{name} is stale: run `UPDATE_SCHEMAS=1 cargo test --lib schemas_are_current` and commit"
            );
        }
    }

    #[test]
    fn every_listed_action_exists() {
        let known = |result: Result<(), crate::wire::Refusal>| {
            result
                .err()
                .is_none_or(|r| r.code != ErrorCode::UNSUPPORTED)
        };
        for action in meeting::ACTIONS {
            assert!(
                known(meeting::parse_action(action, None).map(drop)),
                "{action}"
            );
        }
        for action in device::ACTIONS {
            assert!(
                known(device::parse_action(action, None).map(drop)),
                "{action}"
            );
        }
        for action in meeting_control::ACTIONS {
            assert!(
                known(meeting_control::parse_action(action, None).map(drop)),
                "{action}"
            );
        }
        for action in share::ACTIONS {
            assert!(
                known(share::parse_action(action, None, None).map(drop)),
                "{action}"
            );
        }
    }
}
