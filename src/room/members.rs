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
use super::snapshot::{Nodes, PreparedMembers, Snapshot};
use super::{Effect, Room};
use crate::config::{Config, ListInEvents};
use crate::domain::{MemberChanges, Participant};
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
    /// `[compat] members_changed_list`: when the whole list rides along too.
    full_list: ListInEvents,
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
        // The rest of the tree is rendered again only when it changed: a member's coming or
        // going leaves it as it was.
        let tree = self.tree_with_members(serde_json::Value::Null);
        let nodes = match &self.rendered_nodes {
            Some((rendered, nodes)) if *rendered == tree => nodes.clone(),
            _ => {
                let nodes = Arc::new(Nodes::render(&tree));
                self.rendered_nodes = Some((tree, nodes.clone()));
                nodes
            }
        };
        Snapshot::with_nodes(nodes, members).with_reply_budget(self.reply_budget)
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

    /// The member list or its counts may have changed: looked over whole at the next
    /// snapshot, and announced now without a window, else when the window closes
    /// (`announce_members`).
    pub(super) fn members_changed(&mut self) -> Option<Effect> {
        self.member_cache.stale = true;
        self.members_pending()
    }

    /// The service said what changed (`Happening::Members`): the participants, the kept
    /// renderings and the prepared list follow member by member, not by a pass over everyone.
    pub(super) fn change_members(&mut self, changes: MemberChanges) -> Vec<Effect> {
        if changes.waiting_room {
            let Some(meeting) = self.phase.meeting_mut() else {
                return Vec::new();
            };
            apply_changes(&mut meeting.waiting, changes, |_| {});
            let waiting = meeting.waiting.len();
            if self.phase.in_meeting().is_none() {
                return Vec::new();
            }
            if !self.member_cache.stale {
                Arc::make_mut(&mut self.member_cache.prepared).set_waiting(waiting);
            }
            return self.members_pending().into_iter().collect();
        }
        self.participants_change(|room| {
            let in_meeting = room.phase.in_meeting().is_some();
            let meeting = room.phase.meeting_mut()?;
            let cache = &mut room.member_cache;
            if !in_meeting || cache.stale {
                apply_changes(&mut meeting.participants, changes, |_| {});
                cache.stale = true;
                return in_meeting.then(|| room.members_pending()).flatten();
            }
            // The prepared list is the room, then the participants in their order. Copied only
            // when a published snapshot still holds it: a copy of pointers, not renderings.
            let mut prepared = std::mem::take(&mut cache.prepared);
            let prepared_mut = Arc::make_mut(&mut prepared);
            let list = Arc::make_mut(&mut prepared_mut.list);
            apply_changes(&mut meeting.participants, changes, |step| match step {
                Step::Left(i, id) => {
                    list.remove(i + 1);
                    cache.by_id.remove(id);
                    cache.gone.push(id.to_owned());
                }
                Step::Changed(i, p) => {
                    list[i + 1] = cache.render(&p.user_id, |kept| same(kept, p), || member(p));
                }
                Step::Joined(p) => {
                    let wire = cache.render(&p.user_id, |kept| same(kept, p), || member(p));
                    list.push(wire);
                }
            });
            prepared_mut.recount();
            cache.prepared = prepared;
            room.members_pending()
        })
    }

    /// A change waits for the window, or is announced now when there is none.
    fn members_pending(&mut self) -> Option<Effect> {
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
        if announced.full_list.carries(count.in_meeting) {
            delta.user_list_info = Some(self.members_node().user_list_info);
            // Under a reply budget the list never pushes the frame past it: a driver that
            // cannot read the frame whole loses the deltas too.
            if self
                .reply_budget
                .is_some_and(|budget| !event_fits(&super::to_value(&delta), budget))
            {
                delta.user_list_info = None;
            }
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

/// Whether `MembersChanged` with `data` fits a frame of `budget` bytes, its sequence number
/// (`, "seq": N`, at most 30 bytes) included.
fn event_fits(data: &serde_json::Value, budget: usize) -> bool {
    const SEQ: usize = 30;
    let text = crate::wire::event(
        "Event/Meeting",
        MEMBERS_CHANGED.name,
        crate::wire::ErrorCode::OK,
        "",
        data,
    );
    super::reply_budget::frame_len(text.len() + SEQ) <= budget
}

/// One step of applying [`MemberChanges`] to a list, for whoever mirrors it.
enum Step<'a> {
    /// The one at this position left.
    Left(usize, &'a str),
    /// The one at this position is now `p`.
    Changed(usize, &'a Participant),
    /// `p` came, at the end.
    Joined(&'a Participant),
}

/// Applies `changes` to `people` (leaving first, then joined and updated put by user id:
/// replaced where present, added at the end), telling `mirror` each step.
fn apply_changes(
    people: &mut Vec<Participant>,
    changes: MemberChanges,
    mut mirror: impl FnMut(Step<'_>),
) {
    for id in &changes.left {
        if let Some(i) = people.iter().position(|p| p.user_id == *id) {
            people.remove(i);
            mirror(Step::Left(i, id));
        }
    }
    for p in changes.joined.into_iter().chain(changes.updated) {
        match people.iter().position(|kept| kept.user_id == p.user_id) {
            Some(i) => {
                if people[i] != p {
                    people[i] = p;
                    mirror(Step::Changed(i, &people[i]));
                }
            }
            None => {
                people.push(p);
                mirror(Step::Joined(people.last().expect("just pushed")));
            }
        }
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
    fn recount(&mut self) {
        self.count["in_meeting"] = self.list.len().into();
    }

    fn set_waiting(&mut self, waiting: usize) {
        self.count["in_waiting_room"] = waiting.into();
    }

    fn count_of(&self) -> MemberCount {
        MemberCount {
            in_meeting: self.list.len(),
            in_waiting_room: self.count["in_waiting_room"].as_u64().unwrap_or(0) as usize,
        }
    }
}

#[cfg(test)]
#[path = "members_tests.rs"]
mod tests;
