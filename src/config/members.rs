//! `[members]` (how member changes are announced) and `[compat]` (concessions to drivers
//! written against older payloads or small buffers).

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MembersConfig {
    /// Member changes closer together than this are announced as one `MembersChanged`; 0: one
    /// event per change. Bounds the events a busy meeting sends every panel.
    pub coalesce_ms: u64,
}

impl Default for MembersConfig {
    fn default() -> Self {
        Self { coalesce_ms: 50 }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompatConfig {
    /// When `MembersChanged` also carries the whole list as `user_list_info`, as it did
    /// before the delta payload: deployed drivers (the Extron one) read it from the event.
    pub members_changed_list: ListInEvents,
    /// Query replies that carry lists (Members, Meeting, MeetingList) are cut to whole
    /// entries so that their WebSocket frame, header included, fits this; 0: off. 2048 for
    /// the Extron driver, which loses the start of a longer frame.
    pub max_reply_bytes: u64,
}

impl Default for CompatConfig {
    fn default() -> Self {
        Self {
            members_changed_list: ListInEvents::UpTo(100),
            max_reply_bytes: 0,
        }
    }
}

/// `[compat] members_changed_list`: `true` always, `false` never, a number: while the meeting
/// has at most that many members (the room counted). A driver that reads the list from the
/// event has a small buffer (the Extron one: 2,048 bytes, about a dozen members), so in a big
/// meeting the list is of no use to it and costs every client the whole meeting per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BoolOrCount")]
pub enum ListInEvents {
    Never,
    Always,
    UpTo(usize),
}

impl ListInEvents {
    /// Whether an event about a meeting of `members` carries the list.
    pub fn carries(self, members: usize) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::UpTo(most) => members <= most,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrCount {
    Bool(bool),
    Count(i64),
}

impl TryFrom<BoolOrCount> for ListInEvents {
    type Error = String;
    fn try_from(value: BoolOrCount) -> Result<Self, String> {
        match value {
            BoolOrCount::Bool(true) => Ok(Self::Always),
            BoolOrCount::Bool(false) => Ok(Self::Never),
            BoolOrCount::Count(n) => usize::try_from(n).map(Self::UpTo).map_err(|_| {
                format!(
                    "members_changed_list: {n} is not true, false or a member count (0 or more)"
                )
            }),
        }
    }
}
