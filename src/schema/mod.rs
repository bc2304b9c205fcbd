//! The protocol described as data, for tools and developers: a JSON Schema of every module's
//! state node, generated from the Rust types that serialize it (schemars), and the OpenRPC
//! document `rpc.discover` answers with: methods, every module's actions and events, and those
//! schemas. All of it is read off the module registry (`modules::MODULES`). `schemas/` holds
//! the same files; a test fails while they are stale, and the integration tests validate real
//! daemon output against them.

pub mod outcome;
mod params;

pub use params::ignored_params;

use schemars::Schema;
use serde_json::{Value, json};

use crate::modules::{ActionSpec, MODULES, Module};

/// The schema of an action's `action_params`, with `meeting_code` saying what each meeting
/// service accepts: the services sit above the protocol's modules, so their rules are put in
/// here.
pub fn params_schema(action: &ActionSpec) -> Schema {
    let mut schema = (action.params)();
    let code = schema
        .get_mut("properties")
        .and_then(|p| p.get_mut("meeting_code"))
        .and_then(Value::as_object_mut);
    if let Some(code) = code {
        let per_service = crate::backend::meeting_code_schema().to_value();
        let mut with_rules = serde_json::Map::new();
        for (key, value) in std::mem::take(code) {
            if key == "anyOf" {
                with_rules.insert(key, per_service["anyOf"].clone());
                with_rules.insert(
                    "x-meeting-code-patterns".into(),
                    per_service["x-meeting-code-patterns"].clone(),
                );
            } else {
                with_rules.insert(key, value);
            }
        }
        *code = with_rules;
    }
    schema
}

/// Every file of `schemas/`, by path: `state/<key>.schema.json` for each module's node,
/// `actions/<Module>.<Action>.schema.json` for each action's `action_params`,
/// `events/<Module>.<Event>.schema.json` for each event's `data`, and `openrpc.json`.
pub fn files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut add = |path: String, mut schema: Schema| {
        let id = format!("https://roomsd.invalid/schemas/{path}");
        schema.insert("$id".into(), json!(id));
        let text = serde_json::to_string_pretty(&schema).expect("schemas serialize") + "\n";
        files.push((path, text));
    };
    for m in MODULES {
        add(format!("state/{}.schema.json", m.key), (m.state)());
        for action in m.actions {
            let path = format!("actions/{}.{}.schema.json", m.name, action.name);
            add(path, params_schema(action));
        }
        for event in m.events {
            if let Some(data) = event.data {
                add(
                    format!("events/{}.{}.schema.json", m.name, event.name),
                    data(),
                );
            }
        }
    }
    files.push(("openrpc.json".into(), openrpc_file()));
    files
}

/// A JSON-RPC method of the OpenRPC document.
fn method(name: &str, summary: &str, params: Value, result: Value) -> Value {
    json!({"name": name, "summary": summary, "params": params, "result": result})
}

/// The result every `Query` and `Call` answers with (docs/PROTOCOL.md §2.2).
fn outcome(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {
            "error_code": {"type": "integer", "description": "0 on success, else an error code: see the table in docs/PROTOCOL.md §5"},
            "message": {"type": "string"},
            "action": {"type": "string"},
            "data": data,
        }
    })
}

/// A module's events, each with a reference to the schema of its `data` (added to `schemas`).
fn event_refs(module: &Module, schemas: &mut serde_json::Map<String, Value>) -> Value {
    let mut refs = serde_json::Map::new();
    for event in module.events {
        let data = match event.data {
            Some(schema) => {
                let name = format!("{}.{}.data", module.name, event.name);
                schemas.insert(name.clone(), schema().to_value());
                json!({"$ref": format!("#/components/schemas/{name}")})
            }
            None => json!({"description": "never sent by roomsd"}),
        };
        refs.insert(event.name.into(), data);
    }
    Value::Object(refs)
}

/// The OpenRPC document `rpc.discover` answers with.
pub fn openrpc() -> Value {
    let path = json!({"name": "path", "required": true,
        "schema": {"type": "array", "items": {"type": "string"}}});
    let mut methods = vec![
        method(
            "Query",
            "Read a node of the state tree: the module, then nested nodes, in PascalCase",
            json!([path.clone(),
                {"name": "begin", "required": false, "description": "[\"Members\"] only: the first member of the page (0, the room, by default)",
                 "schema": {"type": "integer", "minimum": 0}},
                {"name": "count", "required": false, "description": "[\"Members\"] only: at most this many members (all by default); member_count still counts everyone",
                 "schema": {"type": "integer", "minimum": 0}}]),
            json!({"name": "result", "schema": outcome(json!({"type": "object"}))}),
        ),
        method(
            "Subscribe",
            "Receive Event/<Module> notifications for a module or one of its events; with since \
             (0: from now), events carry seq and the answer the epoch and seq; with since and \
             epoch, the events missed after since are replayed first (code 18: no longer kept)",
            json!([
                {"name": "path", "required": false,
                    "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "since", "required": false,
                    "schema": {"type": "integer", "minimum": 0}},
                {"name": "epoch", "required": false,
                    "schema": {"type": "integer", "minimum": 0}},
            ]),
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
        let mut params = serde_json::Map::new();
        for action in module.actions {
            let name = format!("{}.{}", module.name, action.name);
            schemas.insert(name.clone(), params_schema(action).to_value());
            params.insert(
                action.name.into(),
                json!({"$ref": format!("#/components/schemas/{name}")}),
            );
        }
        let names: Vec<&str> = module.actions.iter().map(|a| a.name).collect();
        methods.push(json!({
            "name": format!("Call/{}", module.name),
            "summary": format!("Run a {} action; asynchronous outcomes arrive as Event/{} notifications", module.name, module.name),
            "params": [
                {"name": "action", "required": true, "schema": {"type": "string", "enum": names}},
                {"name": "action_params", "required": false, "schema": {"type": "object"}},
                {"name": "request_key", "required": false, "schema": {"type": "string",
                    "minLength": 1, "maxLength": crate::wire::MAX_REQUEST_KEY_BYTES,
                    "description": "A retry with the same key within 10 minutes gets the first \
                        answer again instead of running the action twice"}},
            ],
            "result": {"name": "result", "schema": outcome(json!({"type": "object"}))},
            "x-action-params": params,
            "x-events": event_refs(module, &mut schemas),
        }));
    }
    json!({
        "openrpc": "1.3.2",
        "info": {
            "title": "Rooms control protocol (roomsd)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON-RPC 2.0 over WebSocket; params are passed by name. Events are \
                notifications named Event/<Module> with params {sub_event, error_code, message, \
                data}, and seq last for connections that subscribed with since. The protocol and its error codes: docs/PROTOCOL.md in the roomsd sources, \
                /usr/share/doc/roomsd/PROTOCOL.md where the package is installed.",
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
    use crate::modules::ActionCall;
    use crate::wire::{ErrorCode, Refusal};
    use serde_json::value::RawValue;

    /// Fails while `schemas/` differs from the types; `UPDATE_SCHEMAS=1` rewrites it.
    #[test]
    fn checked_in_schemas_are_current() {
        for (name, text) in super::files() {
            crate::generated::ensure_current(
                &format!("schemas/{name}"),
                &text,
                "UPDATE_SCHEMAS",
                "schemas_are_current",
                "a node, parameter or event type changed",
            );
        }
    }

    /// Whether `module`'s parser accepts `action` with `params`.
    fn parse(module: &str, action: &str, params: Option<&RawValue>) -> Result<(), Refusal> {
        let module = crate::modules::module(module).expect("a module");
        (module.parse)(&ActionCall::new(action, params)).map(drop)
    }

    #[test]
    fn every_listed_action_exists() {
        for module in MODULES {
            let names = module
                .actions
                .iter()
                .flat_map(|a| a.aliases.iter().chain([&a.name]));
            for action in names {
                let unknown = parse(module.name, action, None)
                    .is_err_and(|refusal| refusal.code == ErrorCode::UNSUPPORTED);
                assert!(!unknown, "{}.{action} is not an action", module.name);
            }
            // And what it does not list, it refuses.
            let refusal = parse(module.name, "NoSuchAction", None).unwrap_err();
            assert_eq!(refusal.code, ErrorCode::UNSUPPORTED, "{}", module.name);
        }
    }

    /// The parameter schemas say what the parsers accept: each example is valid for both or
    /// for neither.
    #[test]
    fn params_schemas_agree_with_the_parsers() {
        let cases: &[(&str, &str, &str, bool)] = &[
            (
                "Meeting",
                "JoinMeeting",
                r#"{"meeting_code": "111 222 333", "password": ""}"#,
                true,
            ),
            (
                "Meeting",
                "JoinMeeting",
                r#"{"meeting_code": 111222333, "password": 1234}"#,
                true,
            ),
            ("Meeting", "JoinMeeting", r#"{"password": ""}"#, false),
            (
                "Meeting",
                "StartMeeting",
                r#"{"meeting_type": "pmi"}"#,
                true,
            ),
            ("Meeting", "StartMeeting", r#"{}"#, false),
            (
                "Meeting",
                "SwitchLayout",
                r#"{"switch_type": 2, "show_voice_active": false}"#,
                true,
            ),
            ("Meeting", "SwitchLayout", r#"{"switch_type": 9}"#, false),
            ("Device", "EnableMic", r#"{"enable": false}"#, true),
            ("Device", "EnableMic", r#"{}"#, false),
            ("Device", "SetSpeakerVolume", r#"{"volume": 40}"#, true),
            ("Device", "SetSpeakerVolume", r#"{"volume": 101}"#, false),
            ("Device", "SetCameraFrameMode", r#"{"mode": 3}"#, true),
            ("Device", "SetCameraFrameMode", r#"{"mode": 0}"#, false),
            ("Device", "TestMic", r#"{"test": true}"#, true),
            ("MeetingControl", "MuteMember", r#"{"user_id": "u1"}"#, true),
            (
                "MeetingControl",
                "RemoveMember",
                r#"{"user_id": 7, "allow_join": false}"#,
                true,
            ),
            ("MeetingControl", "StopVideo", r#"{}"#, false),
            (
                "MeetingControl",
                "ListMemberIds",
                r#"{"begin_count": 0, "end_count": 9, "type": 1}"#,
                true,
            ),
            (
                "Share",
                "StartShare",
                r#"{"share_type": 0, "select_index": 0}"#,
                true,
            ),
        ];
        for (module, action, params, accepted) in cases {
            let m = crate::modules::module(module).unwrap();
            let schema = params_schema(m.action(action).unwrap()).to_value();
            let value: Value = serde_json::from_str(params).unwrap();
            let valid = jsonschema::validator_for(&schema).unwrap().is_valid(&value);
            assert_eq!(valid, *accepted, "schema of {module}.{action} on {params}");
            let raw = serde_json::value::RawValue::from_string(params.to_string()).unwrap();
            let parsed = parse(module, action, Some(raw.as_ref())).is_ok();
            assert_eq!(parsed, *accepted, "parser of {module}.{action} on {params}");
        }
    }
}
