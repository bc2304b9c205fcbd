//! Announcing member changes. `MembersChanged` says what changed since the previous one
//! (joined, left, updated), not the whole list: in a meeting of a thousand, the whole list is
//! 170 KB every time someone comes or goes. Changes are gathered for a short window
//! (`members.coalesce_ms`) and announced as one event; the owner task runs the window.
//!
//! The delta is taken at announcement time against the list last announced, so whatever
//! happened in the window (a join and a leave of the same person, three mutes) comes out as
//! the net change, and a client applying every event ends with the Query's list.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{Effect, Room};
use crate::config::Config;
use crate::modules::meeting::MEMBERS_CHANGED;
use crate::modules::members::{Member, MemberCount, MembersDelta};

/// The member list as clients were last told it.
#[derive(Debug, Clone)]
pub(super) struct Announced {
    /// In list order (the room first).
    members: Vec<Member>,
    count: MemberCount,
    /// A change waits for the window to close.
    pending: bool,
    window: Duration,
    /// `[compat] members_changed_list`: the whole list rides along too.
    full_list: bool,
}

impl Announced {
    pub(super) fn new(config: &Config) -> Self {
        Self {
            members: Vec::new(),
            count: MemberCount::default(),
            pending: false,
            window: Duration::from_millis(config.members.coalesce_ms),
            full_list: config.compat.members_changed_list,
        }
    }
}

impl Room {
    /// The member list or its counts may have changed: announced now without a window, else
    /// when the window closes (`announce_members`).
    pub(super) fn members_changed(&mut self) -> Option<Effect> {
        if self.announced.window.is_zero() {
            return self.announce_members();
        }
        self.announced.pending = true;
        None
    }

    /// How long the owner waits before `announce_members`, when a change is waiting.
    pub fn members_due(&self) -> Option<Duration> {
        self.announced.pending.then_some(self.announced.window)
    }

    /// `MembersChanged` with the net change since the last one; nothing when there is none.
    pub fn announce_members(&mut self) -> Option<Effect> {
        self.announced.pending = false;
        let node = self.members_node();
        let delta = delta(&self.announced.members, &node.user_list_info);
        if delta.joined.is_empty()
            && delta.left.is_empty()
            && delta.updated.is_empty()
            && node.member_count == self.announced.count
        {
            return None;
        }
        let data = MembersDelta {
            user_list_info: self
                .announced
                .full_list
                .then(|| node.user_list_info.clone()),
            member_count: node.member_count,
            ..delta
        };
        self.announced.members = node.user_list_info;
        self.announced.count = node.member_count;
        Some(super::event(MEMBERS_CHANGED, super::to_value(&data)))
    }

    /// Entering or leaving a meeting: clients learn the list from the Query after
    /// `JoinMeetingCompleted` (or that it is empty from the exit event), so the next delta
    /// starts from there, and changes still waiting are part of that.
    pub(super) fn members_announced_as_now(&mut self) {
        let node = self.members_node();
        self.announced.members = node.user_list_info;
        self.announced.count = node.member_count;
        self.announced.pending = false;
    }
}

/// Who joined, left or changed between `before` and `now`, in list order.
pub(super) fn delta(before: &[Member], now: &[Member]) -> MembersDelta {
    let old: HashMap<&str, &Member> = before.iter().map(|m| (m.user_id.as_str(), m)).collect();
    let mut joined = Vec::new();
    let mut updated = Vec::new();
    for member in now {
        match old.get(member.user_id.as_str()) {
            None => joined.push(member.clone()),
            Some(was) if *was != member => updated.push(member.clone()),
            Some(_) => {}
        }
    }
    let present: HashSet<&str> = now.iter().map(|m| m.user_id.as_str()).collect();
    let left = before
        .iter()
        .filter(|m| !present.contains(m.user_id.as_str()))
        .map(|m| m.user_id.clone())
        .collect();
    MembersDelta {
        joined,
        left,
        updated,
        ..MembersDelta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::backend::{Happening, RoomRole};
    use serde_json::json;

    fn members_changed(effects: &[super::Effect]) -> serde_json::Value {
        events(effects)
            .into_iter()
            .find(|e| e.name == "MembersChanged")
            .expect("MembersChanged")
            .data
            .clone()
    }

    #[test]
    fn a_change_is_announced_as_what_changed() {
        let mut r = in_meeting(RoomRole::Host, 3);
        let mut muted = person(1);
        muted.audio_on = false;
        let effects = report(
            &mut r,
            Happening::Participants(vec![person(0), muted, person(3)]),
        );
        let data = members_changed(&effects);
        assert_eq!(data["joined"][0]["user_id"], "u3");
        assert_eq!(data["left"], json!(["u2"]));
        assert_eq!(data["updated"].as_array().unwrap().len(), 1);
        assert_eq!(data["updated"][0]["user_id"], "u1");
        assert_eq!(data["updated"][0]["audio_on"], false);
        assert_eq!(data["member_count"]["in_meeting"], 4);
        // With [compat] members_changed_list on (the default), the whole list too.
        assert_eq!(data["user_list_info"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn changes_within_a_window_are_announced_as_their_net_effect() {
        let mut config = crate::config::Config::default();
        config.members.coalesce_ms = 50;
        config.compat.members_changed_list = false;
        let mut r = in_meeting_with(&config, RoomRole::Host, 2);
        let came = report(
            &mut r,
            Happening::Participants(vec![person(0), person(1), person(7)]),
        );
        assert!(events(&came).iter().all(|e| e.name != "MembersChanged"));
        assert!(r.members_due().is_some(), "the owner is asked to announce");
        let mut muted = person(0);
        muted.audio_on = false;
        report(&mut r, Happening::Participants(vec![muted, person(1)]));
        let Some(super::Effect::Publish(event)) = r.announce_members() else {
            panic!("one announcement for the window");
        };
        assert_eq!(
            serde_json::to_string(&event.data).unwrap(),
            json!({"joined": [], "left": [], "updated": [r.members_node().user_list_info[1]], "member_count": {"in_meeting": 3, "in_waiting_room": 0}}).to_string(),
            "u7 came and went within the window: not mentioned; no user_list_info"
        );
        assert!(r.members_due().is_none());
        assert!(r.announce_members().is_none(), "nothing more to say");
    }
}
