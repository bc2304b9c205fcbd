//! The member list: kept rendered member by member, and its changes announced.
//!
//! A step renders only the members it changed (`MemberCache`), so in a meeting of a thousand
//! one join costs one rendering, and the snapshot reuses the rest. `MembersChanged` says what
//! changed since the previous one (joined, left, updated), not the whole list (170 KB in a
//! meeting of a thousand). Changes are gathered for `members.coalesce_ms` and announced as one
//! event with their net effect (a join and a leave of the same person are nothing; three
//! mutes one update); the owner task runs the window.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::control::{member, role_type};
use super::snapshot::{PreparedMembers, Snapshot};
use super::{Effect, Room};
use crate::config::Config;
use crate::domain::Participant;
use crate::modules::meeting::MEMBERS_CHANGED;
use crate::modules::members::{Member, MemberCount, MembersDelta};
use crate::wire::to_wire;

/// What clients were last told of the list.
#[derive(Debug, Clone)]
pub(super) struct Announced {
    ids: HashSet<String>,
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
            ids: HashSet::new(),
            count: MemberCount::default(),
            pending: false,
            window: Duration::from_millis(config.members.coalesce_ms),
            full_list: config.compat.members_changed_list,
        }
    }
}

/// Each member's wire form, kept between steps, and who changed since the last announcement.
#[derive(Debug, Clone, Default)]
pub(super) struct MemberCache {
    by_id: HashMap<String, Rendered>,
    prepared: Arc<PreparedMembers>,
    /// Something that shows in the list changed since `prepared`.
    stale: bool,
    /// Which pass last saw each member, to forget those who left.
    pass: u64,
    /// Rendered anew (came or changed) since the last announcement, in the order they did.
    changed: Vec<String>,
    changed_ids: HashSet<String>,
    /// Gone since the last announcement.
    gone: Vec<String>,
}

#[derive(Debug, Clone)]
struct Rendered {
    member: Member,
    wire: Arc<str>,
    pass: u64,
}

impl MemberCache {
    pub(super) fn new() -> Self {
        Self {
            stale: true,
            ..Self::default()
        }
    }

    /// A member's wire form: the kept one while it is the same.
    fn render(
        &mut self,
        user_id: &str,
        same: impl Fn(&Member) -> bool,
        make: impl FnOnce() -> Member,
    ) -> Arc<str> {
        let pass = self.pass;
        if let Some(kept) = self.by_id.get_mut(user_id)
            && same(&kept.member)
        {
            kept.pass = pass;
            return kept.wire.clone();
        }
        let member = make();
        let wire: Arc<str> = Arc::from(to_wire(&member));
        if self.changed_ids.insert(member.user_id.clone()) {
            self.changed.push(member.user_id.clone());
        }
        self.by_id.insert(
            member.user_id.clone(),
            Rendered {
                member,
                wire: wire.clone(),
                pass,
            },
        );
        wire
    }

    fn forget_changes(&mut self) {
        self.changed.clear();
        self.changed_ids.clear();
        self.gone.clear();
    }
}

impl Room {
    /// The state as Query serves it; the member list rendered only where it changed.
    pub fn snapshot(&mut self) -> Snapshot {
        let members = self.prepared_members();
        Snapshot::prepared(&self.tree_with_members(serde_json::Value::Null), members)
            .with_reply_budget(self.reply_budget)
    }

    fn prepared_members(&mut self) -> Arc<PreparedMembers> {
        if !self.member_cache.stale {
            return self.member_cache.prepared.clone();
        }
        let room = Member::from(self.self_info());
        let cache = &mut self.member_cache;
        cache.pass += 1;
        let mut list = Vec::new();
        let mut waiting = 0;
        if let Some(meeting) = self.phase.in_meeting() {
            list.reserve(meeting.participants.len() + 1);
            let id = room.user_id.clone();
            list.push(cache.render(&id, |kept| *kept == room, || room.clone()));
            for p in &meeting.participants {
                list.push(cache.render(&p.user_id, |kept| same(kept, p), || member(p)));
            }
            waiting = meeting.waiting.len();
        }
        if cache.by_id.len() > list.len() {
            let pass = cache.pass;
            let gone = &mut cache.gone;
            cache.by_id.retain(|id, kept| {
                let here = kept.pass == pass;
                if !here {
                    gone.push(id.clone());
                }
                here
            });
        }
        cache.prepared = Arc::new(PreparedMembers::new(list, waiting));
        cache.stale = false;
        cache.prepared.clone()
    }

    /// The member list or its counts may have changed: announced now without a window, else
    /// when the window closes (`announce_members`).
    pub(super) fn members_changed(&mut self) -> Option<Effect> {
        self.member_cache.stale = true;
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
    /// Costs what changed (and the whole list only under `[compat] members_changed_list`).
    pub fn announce_members(&mut self) -> Option<Effect> {
        self.announced.pending = false;
        let count = self.prepared_members().count_of();
        let cache = &mut self.member_cache;
        let announced = &mut self.announced;
        let mut delta = MembersDelta::default();
        for id in &cache.changed {
            let Some(now) = cache.by_id.get(id) else {
                continue; // came and went within the window
            };
            if announced.ids.insert(id.clone()) {
                delta.joined.push(now.member.clone());
            } else {
                delta.updated.push(now.member.clone());
            }
        }
        for id in &cache.gone {
            if !cache.by_id.contains_key(id) && announced.ids.remove(id) {
                delta.left.push(id.clone());
            }
        }
        cache.forget_changes();
        if delta.joined.is_empty()
            && delta.left.is_empty()
            && delta.updated.is_empty()
            && count == announced.count
        {
            return None;
        }
        announced.count = count;
        delta.member_count = count;
        if announced.full_list {
            delta.user_list_info = Some(self.members_node().user_list_info);
        }
        Some(super::event(MEMBERS_CHANGED, delta))
    }

    /// Entering or leaving a meeting: clients learn the list from the Query after
    /// `JoinMeetingCompleted` (or that it is empty from the exit event), so the next delta
    /// starts from there, and changes still waiting are part of that.
    pub(super) fn members_announced_as_now(&mut self) {
        self.member_cache.stale = true;
        let count = self.prepared_members().count_of();
        self.member_cache.forget_changes();
        self.announced.ids = self.member_cache.by_id.keys().cloned().collect();
        self.announced.count = count;
        self.announced.pending = false;
    }
}

/// Whether `kept` is what `p` shows as, without building its record.
fn same(kept: &Member, p: &Participant) -> bool {
    kept.user_id == p.user_id
        && kept.nickname == p.nickname
        && kept.host == p.host
        && kept.co_host == p.co_host
        && kept.role_type == role_type(p.role())
        && kept.audio_on == p.audio_on
        && kept.video_on == p.video_on
}

impl PreparedMembers {
    fn count_of(&self) -> MemberCount {
        MemberCount {
            in_meeting: self.list.len(),
            in_waiting_room: self.count["in_waiting_room"].as_u64().unwrap_or(0) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use crate::domain::{Happening, RoomRole};
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

    /// The snapshot's member list, kept between steps, is the one rendered whole from the tree.
    #[test]
    fn the_kept_member_list_is_the_tree_rendered_whole() {
        use super::super::snapshot::Snapshot;
        use crate::modules::device::DeviceAction;
        let check = |r: &mut crate::room::Room, step: &str| {
            let kept = r.snapshot();
            let whole = Snapshot::build(&r.tree());
            for path in [
                &[][..],
                &["Members"],
                &["Members", "UserListInfo"],
                &["Members", "MemberCount"],
            ] {
                assert_eq!(
                    kept.fragment(path),
                    whole.fragment(path),
                    "{step}: {path:?}"
                );
            }
        };
        let mut r = room();
        check(&mut r, "idle");
        let mut r = in_meeting(RoomRole::Host, 3);
        check(&mut r, "joined");
        let mut muted = person(1);
        muted.audio_on = false;
        report(
            &mut r,
            Happening::Participants(vec![person(0), muted, person(4)]),
        );
        check(&mut r, "one muted, one left, one came");
        report(&mut r, Happening::Waiting(vec![person(9)]));
        check(&mut r, "someone waits");
        let (s, _, change) = media_op(&device(&mut r, DeviceAction::EnableMic(false)).unwrap());
        r.complete(super::super::Completed::Media(s, change, Ok(())));
        check(&mut r, "the room's microphone off");
        leave(&mut r);
        check(&mut r, "left");
    }
}
