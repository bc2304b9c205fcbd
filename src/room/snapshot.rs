//! The state tree as the bytes `Query` serves, prepared once per change.
//!
//! Query is the hot path: panels and control systems poll it. So when the state changes the owner
//! renders every node's `data` fragment (`{"meeting_info": {...}}`) and a query is one hash
//! lookup and one copy into the response.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::modules::push_snake_case;
use crate::wire::to_wire;

/// Modules whose Query answer is the node's own keys rather than `{"<module>": node}`: drivers
/// read `user_list_info` directly from `["Members"]` (PROTOCOL.md §3).
const BARE_MODULES: &[&str] = &["members"];

/// The member list as Query serves it: each member's wire form, rendered when that member
/// changed, so that a change in a meeting of a thousand renders one member, not a thousand.
#[derive(Debug, Clone)]
pub struct PreparedMembers {
    /// In list order, the room first. Shared on its own, so that a change of the counts alone
    /// (the waiting room) does not copy it.
    pub list: Arc<Vec<Arc<str>>>,
    /// `member_count`.
    pub count: Value,
}

impl Default for PreparedMembers {
    fn default() -> Self {
        Self::new(Vec::new(), 0)
    }
}

impl PreparedMembers {
    pub fn new(list: Vec<Arc<str>>, in_waiting_room: usize) -> Self {
        let count =
            serde_json::json!({"in_meeting": list.len(), "in_waiting_room": in_waiting_room});
        Self {
            list: Arc::new(list),
            count,
        }
    }

    /// `{"user_list_info": [...], "member_count": {...}}` with the members at `range` (clamped
    /// to the list); `member_count` always counts them all.
    pub fn node(&self, range: Range<usize>) -> String {
        let end = range.end.min(self.list.len());
        let page = self.list.get(range.start.min(end)..end).unwrap_or_default();
        let count = to_wire(&self.count);
        let mut out = String::with_capacity(
            page.iter().map(|m| m.len() + 2).sum::<usize>() + count.len() + 40,
        );
        out.push_str(r#"{"user_list_info": "#);
        push_list(&mut out, page);
        out.push_str(r#", "member_count": "#);
        out.push_str(&count);
        out.push('}');
        out
    }

    /// The wire form of one member.
    pub fn member(&self, i: usize) -> Option<&str> {
        self.list.get(i).map(|m| &**m)
    }
}

fn push_list(out: &mut String, members: &[Arc<str>]) {
    out.push('[');
    for (i, member) in members.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(member);
    }
    out.push(']');
}

/// Every node's fragment but the member list's. A step that changed only the members (most
/// steps of a large meeting) shares the previous snapshot's instead of rendering them again.
#[derive(Debug, Default)]
pub struct Nodes {
    /// Keyed by the snake_case path joined with `/`: every node but the root and those of the
    /// Members module.
    fragments: HashMap<String, String>,
    /// The root's modules as `"key": value`, in order; `None` where the members go.
    root_parts: Vec<Option<String>>,
}

impl Nodes {
    /// Renders every object node of `tree` (a map of modules) but the Members module's.
    pub fn render(tree: &Value) -> Self {
        let mut nodes = Self::default();
        if let Value::Object(modules) = tree {
            for (key, value) in modules {
                if BARE_MODULES.contains(&key.as_str()) {
                    nodes.root_parts.push(None);
                    continue;
                }
                let part = add_node(&mut nodes.fragments, key.clone(), key, value);
                // `{"key": value}` without its braces.
                nodes
                    .root_parts
                    .push(Some(part[1..part.len() - 1].to_owned()));
            }
        }
        nodes
    }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    nodes: Arc<Nodes>,
    /// `members/member_count` and its children.
    count_fragments: HashMap<String, String>,
    members: Arc<PreparedMembers>,
    root: OnceLock<String>,
    members_node: OnceLock<String>,
    members_list: OnceLock<String>,
    /// `[compat] max_reply_bytes`: what a Query reply's frame may take.
    reply_budget: Option<usize>,
}

impl Snapshot {
    /// Renders every object node of `tree` (a map of modules), the member list included.
    pub fn build(tree: &Value) -> Self {
        let node = &tree["members"];
        let list = node["user_list_info"]
            .as_array()
            .map(|list| list.iter().map(|m| Arc::from(to_wire(m))).collect())
            .unwrap_or_default();
        let members = PreparedMembers {
            list: Arc::new(list),
            count: node["member_count"].clone(),
        };
        Self::prepared(tree, Arc::new(members))
    }

    /// Renders every object node of `tree` but the Members module, which is `members`, already
    /// prepared (the value under `tree["members"]` is not read).
    pub fn prepared(tree: &Value, members: Arc<PreparedMembers>) -> Self {
        Self::with_nodes(Arc::new(Nodes::render(tree)), members)
    }

    /// The snapshot of `nodes`, already rendered, and `members`.
    pub fn with_nodes(nodes: Arc<Nodes>, members: Arc<PreparedMembers>) -> Self {
        let mut count_fragments = HashMap::new();
        add_node(
            &mut count_fragments,
            "members/member_count".into(),
            "member_count",
            &members.count,
        );
        Self {
            nodes,
            count_fragments,
            members,
            ..Self::default()
        }
    }

    /// Query replies cut to `budget` bytes a frame (`reply_budget.rs`).
    pub fn with_reply_budget(mut self, budget: Option<usize>) -> Self {
        self.reply_budget = budget;
        self
    }

    pub fn reply_budget(&self) -> Option<usize> {
        self.reply_budget
    }

    /// The member list this snapshot serves. A snapshot whose members did not change shares it
    /// with the one before (`Arc::ptr_eq`), so a reader can skip rendering it.
    pub fn members(&self) -> &Arc<PreparedMembers> {
        &self.members
    }

    /// The `data` fragment of the node at `path`; segments in PascalCase or snake_case.
    pub fn fragment<S: AsRef<str>>(&self, path: &[S]) -> Option<&str> {
        self.fragment_at(&path_key(path)?)
    }

    /// [`fragment`](Self::fragment) by the path's key (see [`path_key`]).
    pub fn fragment_at(&self, key: &str) -> Option<&str> {
        match key {
            "" => Some(self.root.get_or_init(|| self.render_root())),
            "members" => Some(
                self.members_node
                    .get_or_init(|| self.members.node(0..usize::MAX)),
            ),
            "members/user_list_info" => Some(self.members_list.get_or_init(|| {
                let mut out = String::from(r#"{"user_list_info": "#);
                push_list(&mut out, &self.members.list);
                out.push('}');
                out
            })),
            _ => self
                .count_fragments
                .get(key)
                .or_else(|| self.nodes.fragments.get(key))
                .map(String::as_str),
        }
    }

    /// `Query ["Members"]` with `begin` and `count`: that page of the list.
    pub fn members_page(&self, begin: Option<usize>, count: Option<usize>) -> String {
        let begin = begin.unwrap_or(0);
        let end = count.map_or(usize::MAX, |count| begin.saturating_add(count));
        self.members.node(begin..end)
    }

    fn render_root(&self) -> String {
        let mut out = String::from("{");
        for (i, part) in self.nodes.root_parts.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match part {
                Some(part) => out.push_str(part),
                None => {
                    out.push_str(r#""members": "#);
                    out.push_str(self.members.node(0..usize::MAX).as_str());
                }
            }
        }
        out.push('}');
        out
    }
}

/// Renders `value` as `{"key": value}` at `path`, and its object children below it; returns
/// the rendering.
/// The key a state path is prepared under: `["Meeting", "MeetingInfo"]` (or snake_case) →
/// `meeting/meeting_info`. `None` when a segment holds a `/`: it would name another node.
pub fn path_key<S: AsRef<str>>(path: &[S]) -> Option<String> {
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
    Some(key)
}

fn add_node(
    fragments: &mut HashMap<String, String>,
    path: String,
    key: &str,
    value: &Value,
) -> String {
    let mut single = serde_json::Map::with_capacity(1);
    single.insert(key.to_owned(), value.clone());
    let rendered = to_wire(&single);
    fragments.insert(path.clone(), rendered.clone());
    if let Value::Object(children) = value {
        for (child_key, child) in children {
            add_node(fragments, format!("{path}/{child_key}"), child_key, child);
        }
    }
    rendered
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
