//! Query answers that fit a driver's buffer (`[compat] max_reply_bytes`).
//!
//! Some drivers read replies into a fixed buffer (the Extron one: 2,048 bytes) and lose the
//! start of a longer frame, and with it every name. Under a budget, the answers that carry
//! lists (`["Members"]`, `["Members", "UserListInfo"]`, `["Meeting"]`,
//! `["Meeting", "MeetingList"]`) are cut to whole entries so that the whole WebSocket frame,
//! header included, fits; `member_count` still counts everyone, so the driver pages on with
//! `begin`. `Query []` is exempt: it is for tools, not drivers.

use std::borrow::Cow;

use serde_json::Value;

use super::snapshot::{Snapshot, path_key};
use crate::wire::{ErrorCode, Refusal, to_wire};

impl Snapshot {
    /// The `data` of `Query` at `path` (a page of the members with `begin`/`count`), cut to
    /// the reply budget when there is one. `envelope` is the length of the reply around `data`.
    pub fn answer<S: AsRef<str>>(
        &self,
        path: &[S],
        page: (Option<usize>, Option<usize>),
        envelope: usize,
    ) -> Result<Cow<'_, str>, Refusal> {
        let Some(key) = path_key(path) else {
            return Err(unknown(path));
        };
        let paged = page.0.is_some() || page.1.is_some();
        if paged && key != "members" {
            return Err(Refusal::new(
                ErrorCode::PARAMETER,
                format!("begin and count page [\"Members\"] only, not {key:?}"),
            ));
        }
        let Some(budget) = self.reply_budget() else {
            if paged {
                return Ok(Cow::Owned(self.members_page(page.0, page.1)));
            }
            return self
                .fragment_at(&key)
                .map(Cow::Borrowed)
                .ok_or_else(|| unknown(path));
        };
        let fits = |data: &str| frame_len(envelope + data.len()) <= budget;
        let begin = page.0.unwrap_or(0);
        let end = page
            .1
            .map_or(usize::MAX, |count| begin.saturating_add(count));
        let members = self.members();
        let cut = match key.as_str() {
            "members" => {
                let end = end.min(members.list.len()).max(begin);
                let render = |n: usize| members.node(begin..begin + n);
                largest_fitting(end - begin, &render, &fits)
            }
            "members/user_list_info" => {
                let end = end.min(members.list.len());
                let render = |n: usize| list_node(members, n);
                largest_fitting(end, &render, &fits)
            }
            "meeting" | "meeting/meeting_list" => {
                let whole = self.fragment_at(&key).ok_or_else(|| unknown(path))?;
                if fits(whole) {
                    return Ok(Cow::Borrowed(whole));
                }
                let value: Value = serde_json::from_str(whole).expect("fragments are JSON");
                let inner = if key == "meeting" { "meeting" } else { "" };
                let entries = meeting_list(&value, inner).map_or(0, Vec::len);
                let render = |n: usize| {
                    let mut cut = value.clone();
                    if let Some(list) = meeting_list_mut(&mut cut, inner) {
                        list.truncate(n);
                    }
                    to_wire(&cut)
                };
                largest_fitting(entries, &render, &fits)
            }
            _ => {
                return self
                    .fragment_at(&key)
                    .map(Cow::Borrowed)
                    .ok_or_else(|| unknown(path));
            }
        };
        Ok(Cow::Owned(cut))
    }
}

/// The rendering of the most entries (of `n`) that `fits`; with none, if even that is too
/// long (the driver then gets the counts, not the list).
fn largest_fitting(
    n: usize,
    render: &dyn Fn(usize) -> String,
    fits: &dyn Fn(&str) -> bool,
) -> String {
    let whole = render(n);
    if fits(&whole) {
        return whole;
    }
    // Longer lists render longer: the largest count that fits, by bisection.
    let (mut good, mut bad) = (0, n);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if fits(&render(mid)) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    render(good)
}

/// A server's (unmasked) WebSocket text frame carrying `payload` bytes.
pub fn frame_len(payload: usize) -> usize {
    let header = match payload {
        0..=125 => 2,
        126..=65535 => 4,
        _ => 10,
    };
    header + payload
}

fn list_node(members: &super::snapshot::PreparedMembers, n: usize) -> String {
    let page = members.node(0..n);
    // `{"user_list_info": [...], "member_count": ...}` without the count.
    let end = page
        .rfind(r#", "member_count": "#)
        .expect("the node ends with the count");
    format!("{}}}", &page[..end])
}

fn meeting_list<'a>(value: &'a Value, inner: &str) -> Option<&'a Vec<Value>> {
    let node = if inner.is_empty() {
        value
    } else {
        &value[inner]
    };
    node["meeting_list"].as_array()
}

fn meeting_list_mut<'a>(value: &'a mut Value, inner: &str) -> Option<&'a mut Vec<Value>> {
    let node = if inner.is_empty() {
        value
    } else {
        value.get_mut(inner)?
    };
    node.get_mut("meeting_list")?.as_array_mut()
}

fn unknown<S: AsRef<str>>(path: &[S]) -> Refusal {
    let path: Vec<&str> = path.iter().map(AsRef::as_ref).collect();
    Refusal::new(ErrorCode::QUERY_PATH, format!("no state at path {path:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_count_their_header() {
        assert_eq!(frame_len(125), 127);
        assert_eq!(frame_len(126), 130);
        assert_eq!(frame_len(65_536), 65_546);
    }

    #[test]
    fn a_budget_cuts_lists_to_whole_entries_and_leaves_the_rest() {
        let members: Vec<Value> = (0..40)
            .map(|i| json!({"user_id": format!("u{i}"), "nickname": "Someone with a long name"}))
            .collect();
        let tree = json!({
            "meeting": {"meeting_info": {"meeting_title": "t"}, "meeting_list": []},
            "members": {"user_list_info": members, "member_count": {"in_meeting": 40, "in_waiting_room": 0}},
        });
        let snapshot = Snapshot::build(&tree).with_reply_budget(Some(600));
        let envelope = 90;
        let data = snapshot
            .answer(&["Members"], (None, None), envelope)
            .unwrap();
        assert!(frame_len(envelope + data.len()) <= 600);
        let answer: Value = serde_json::from_str(&data).unwrap();
        let kept = answer["user_list_info"].as_array().unwrap().len();
        assert!(kept > 0 && kept < 40, "{kept}");
        assert_eq!(
            answer["member_count"]["in_meeting"], 40,
            "the count tells the truth"
        );
        let next = snapshot
            .answer(&["Members"], (Some(kept), None), envelope)
            .unwrap();
        let next: Value = serde_json::from_str(&next).unwrap();
        assert_eq!(next["user_list_info"][0]["user_id"], format!("u{kept}"));
        let whole = snapshot
            .answer::<&str>(&[], (None, None), envelope)
            .unwrap();
        assert!(whole.len() > 600, "Query [] is not cut");
    }
}
