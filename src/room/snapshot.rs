//! The state tree as the bytes `Query` serves, prepared once per change.
//!
//! Query is the hot path: panels and control systems poll it. So when the state changes the owner
//! renders every node's `data` fragment (`{"meeting_info": {...}}`) and a query is one hash
//! lookup and one copy into the response.

use std::collections::HashMap;

use serde_json::Value;

use crate::modules::push_snake_case;
use crate::wire::to_wire;

/// Modules whose Query answer is the node's own keys rather than `{"<module>": node}`: drivers
/// read `user_list_info` directly from `["Members"]` (PROTOCOL.md §3).
const BARE_MODULES: &[&str] = &["members"];

#[derive(Debug, Default)]
pub struct Snapshot {
    /// Keyed by the snake_case path joined with `/`; `""` is the whole tree.
    fragments: HashMap<String, String>,
}

impl Snapshot {
    /// Renders every object node of `tree` (a map of modules).
    pub fn build(tree: &Value) -> Self {
        let mut fragments = HashMap::new();
        fragments.insert(String::new(), to_wire(tree));
        if let Value::Object(modules) = tree {
            for (key, value) in modules {
                add_node(&mut fragments, key.clone(), key, value);
                if BARE_MODULES.contains(&key.as_str()) {
                    fragments.insert(key.clone(), to_wire(value));
                }
            }
        }
        Self { fragments }
    }

    /// The `data` fragment of the node at `path`; segments in PascalCase or snake_case.
    pub fn fragment<S: AsRef<str>>(&self, path: &[S]) -> Option<&str> {
        let mut key = String::with_capacity(path.iter().map(|s| s.as_ref().len() + 4).sum());
        for (i, segment) in path.iter().enumerate() {
            if segment.as_ref().contains('/') {
                return None;
            }
            if i > 0 {
                key.push('/');
            }
            push_snake_case(&mut key, segment.as_ref());
        }
        self.fragments.get(&key).map(String::as_str)
    }
}

fn add_node(fragments: &mut HashMap<String, String>, path: String, key: &str, value: &Value) {
    let mut single = serde_json::Map::with_capacity(1);
    single.insert(key.to_owned(), value.clone());
    fragments.insert(path.clone(), to_wire(&single));
    if let Value::Object(children) = value {
        for (child_key, child) in children {
            add_node(fragments, format!("{path}/{child_key}"), child_key, child);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> Value {
        json!({"meeting": {"multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""}, "meeting_list": []}})
    }

    #[test]
    fn every_node_by_pascal_or_snake_case() {
        let s = Snapshot::build(&tree());
        let expected = r#"{"multi_scree_info": {"multi_screen_status": 0, "main_monitor_id": ""}}"#;
        assert_eq!(s.fragment(&["Meeting", "MultiScreeInfo"]), Some(expected));
        assert_eq!(s.fragment(&["meeting", "multi_scree_info"]), Some(expected));
        assert_eq!(
            s.fragment(&["Meeting", "MultiScreeInfo", "MainMonitorId"]),
            Some(r#"{"main_monitor_id": ""}"#)
        );
        assert_eq!(
            s.fragment(&["Meeting", "MeetingList"]),
            Some(r#"{"meeting_list": []}"#)
        );
    }

    #[test]
    fn root_is_every_module() {
        let s = Snapshot::build(&tree());
        assert_eq!(s.fragment::<&str>(&[]).unwrap(), to_wire(&tree()));
        assert!(
            s.fragment(&["Meeting"])
                .unwrap()
                .starts_with(r#"{"meeting": {"multi_scree_info""#)
        );
    }

    #[test]
    fn members_answers_its_keys_directly() {
        let s = Snapshot::build(
            &json!({"members": {"user_list_info": [], "member_count": {"in_meeting": 0}}}),
        );
        assert_eq!(
            s.fragment(&["Members"]),
            Some(r#"{"user_list_info": [], "member_count": {"in_meeting": 0}}"#)
        );
        assert_eq!(
            s.fragment(&["Members", "UserListInfo"]),
            Some(r#"{"user_list_info": []}"#)
        );
        assert!(
            s.fragment::<&str>(&[])
                .unwrap()
                .starts_with(r#"{"members": {"user_list_info""#)
        );
    }

    #[test]
    fn fragments_escape_braces_inside_strings() {
        let s = Snapshot::build(&json!({"meeting": {"meeting_info": {"meeting_title": "a}}}}{"}}}));
        let escaped = r#"{"meeting_title": "a\u007d\u007d\u007d\u007d\u007b"}"#;
        assert_eq!(
            s.fragment(&["Meeting", "MeetingInfo"]),
            Some(format!(r#"{{"meeting_info": {escaped}}}"#).as_str())
        );
        assert!(s.fragment::<&str>(&[]).unwrap().contains(escaped));
    }

    #[test]
    fn unknown_paths_are_absent() {
        let s = Snapshot::build(&tree());
        assert_eq!(s.fragment(&["Meeting", "Nope"]), None);
        assert_eq!(s.fragment(&["Meeting", "MeetingList", "0"]), None);
        assert_eq!(s.fragment(&["Meeting/MeetingList"]), None);
    }
}
