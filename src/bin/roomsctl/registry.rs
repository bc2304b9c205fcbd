//! What roomsctl knows about modules, actions, events, nodes and parameters. All of it is read
//! from the crate's own registry (`roomsd::modules::MODULES`), the schemas it generates and
//! `schema::outcome`, so the client cannot list an action or a parameter the daemon lacks.

use roomsd::modules::{MODULES, Module};
use roomsd::schema::outcome::{self, Outcome};
use serde_json::Value;

/// The form names are compared in: `join_meeting`, `JoinMeeting` and `joinmeeting` are one.
pub fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub fn module(name: &str) -> Option<&'static Module> {
    MODULES.iter().copied().find(|m| fold(m.name) == fold(name))
}

pub fn action(module: &Module, name: &str) -> Option<&'static str> {
    module
        .actions
        .iter()
        .map(|a| a.name)
        .find(|a| fold(a) == fold(name))
}

pub fn event(module: &Module, name: &str) -> Option<&'static str> {
    module
        .events
        .iter()
        .map(|e| e.name)
        .find(|e| fold(e) == fold(name))
}

/// The modules that take `Call/<Module>`.
pub fn callable() -> impl Iterator<Item = &'static Module> {
    MODULES.iter().copied().filter(|m| !m.actions.is_empty())
}

/// The modules that send events.
pub fn with_events() -> impl Iterator<Item = &'static Module> {
    MODULES.iter().copied().filter(|m| !m.events.is_empty())
}

pub fn outcome(module: &Module, action: &str) -> Outcome {
    outcome::outcome(module.name, action)
}

/// One parameter of an action, from its `action_params` schema.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    /// JSON types it takes, without `null`: "string", "integer", "number", "boolean", …
    pub types: Vec<String>,
    pub required: bool,
    pub doc: String,
    pub range: Option<(f64, f64)>,
    pub default: Option<Value>,
}

impl Param {
    /// Whether `key=value` (a JSON string) is a value of this parameter.
    pub fn takes_text(&self) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == "string")
    }

    /// The types in words: "number", "true or false", "text or number".
    pub fn kind(&self) -> String {
        let mut words: Vec<&str> = Vec::new();
        for t in &self.types {
            let word = match t.as_str() {
                "string" => "text",
                "integer" | "number" => "number",
                "boolean" => "true or false",
                "object" => "JSON object",
                "array" => "JSON array",
                other => other,
            };
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.is_empty() {
            "any JSON".into()
        } else {
            words.join(" or ")
        }
    }

    /// How to write it on the command line: `meeting_code=…` or `volume:=…`.
    pub fn usage(&self) -> String {
        let sign = if self.takes_text() { "=" } else { ":=" };
        format!("{}{sign}", self.name)
    }

    /// A one-line description: kind, range, required or default, and the schema's words.
    pub fn describe(&self) -> String {
        let mut text = self.kind();
        if let Some((min, max)) = self.range {
            text += &format!(", {min} to {max}");
        }
        if self.required {
            text += ", required";
        } else if let Some(default) = self.default.as_ref().filter(|d| !d.is_null()) {
            text += &format!(", default {default}");
        }
        let doc = self.doc.split_whitespace().collect::<Vec<_>>().join(" ");
        if !doc.is_empty() {
            text += &format!(": {doc}");
        }
        text
    }
}

/// The parameters of `module`'s `action`, in the schema's order.
pub fn params(module: &Module, action: &str) -> Vec<Param> {
    let Some(spec) = module.action(action) else {
        return Vec::new();
    };
    let schema = (spec.params)().to_value();
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let properties = schema["properties"].as_object().into_iter().flatten();
    properties
        .map(|(name, property)| {
            let mut types = Vec::new();
            let alternatives = property["anyOf"].as_array().cloned().unwrap_or_default();
            for schema in std::iter::once(property).chain(&alternatives) {
                match &schema["type"] {
                    Value::String(t) => types.push(t.clone()),
                    Value::Array(ts) => {
                        types.extend(ts.iter().filter_map(Value::as_str).map(Into::into))
                    }
                    _ => {}
                }
            }
            types.retain(|t| t != "null");
            types.dedup();
            let range = property["minimum"]
                .as_f64()
                .zip(property["maximum"].as_f64());
            Param {
                name: name.clone(),
                types,
                required: required.contains(&name.as_str()),
                doc: property["description"].as_str().unwrap_or("").into(),
                range,
                default: property.get("default").cloned(),
            }
        })
        .collect()
}

/// A Query path as the server names it: the module's name, then each node's name in
/// PascalCase as the state schema has it (`meeting meeting_info` → `Meeting MeetingInfo`).
/// Segments the schema does not know are sent as written, for the server to answer.
pub fn query_path(path: &[String]) -> Vec<String> {
    let Some((first, rest)) = path.split_first() else {
        return Vec::new();
    };
    let Some(module) = module(first) else {
        return path.to_vec();
    };
    let root = (module.state)().to_value();
    let mut node = Some(&root);
    let mut canonical = vec![module.name.to_owned()];
    for segment in rest {
        let key = node.and_then(|n| {
            let properties = resolve(&root, n)["properties"].as_object()?;
            properties.keys().find(|k| fold(k) == fold(segment))
        });
        match key {
            Some(key) => {
                canonical.push(pascal_case(key));
                node = node.and_then(|n| resolve(&root, n)["properties"].get(key));
            }
            None => {
                canonical.push(segment.clone());
                node = None;
            }
        }
    }
    canonical
}

/// `{"$ref": "#/$defs/X"}` → the definition; an array → its items.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return resolve(root, &root["$defs"][name]);
    }
    if schema["type"] == "array" {
        return resolve(root, &schema["items"]);
    }
    schema
}

fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whatever_their_case_and_underscores() {
        let meeting = module("meeting").unwrap();
        assert_eq!(meeting.name, "Meeting");
        assert_eq!(module("meeting_control").unwrap().name, "MeetingControl");
        assert_eq!(action(meeting, "join_meeting"), Some("JoinMeeting"));
        assert_eq!(action(meeting, "JOINMEETING"), Some("JoinMeeting"));
        assert_eq!(action(meeting, "join"), None);
    }

    #[test]
    fn query_paths_take_the_schema_names() {
        let path = |p: &[&str]| query_path(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            path(&["meeting", "meeting_info", "meetingstatus"]),
            ["Meeting", "MeetingInfo", "MeetingStatus"]
        );
        assert_eq!(path(&["share", "CastCode"]), ["Share", "CastCode"]);
        assert_eq!(
            path(&["meeting", "nonsense", "x"]),
            ["Meeting", "nonsense", "x"]
        );
    }

    #[test]
    fn parameters_come_from_the_schema() {
        let meeting = module("Meeting").unwrap();
        let join = params(meeting, "JoinMeeting");
        let code = join.iter().find(|p| p.name == "meeting_code").unwrap();
        assert!(code.required && code.takes_text());
        let layout = params(meeting, "SwitchLayout");
        assert_eq!(layout[0].usage(), "switch_type:=");
        assert_eq!(layout[0].range, Some((1.0, 7.0)));
    }
}
