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
    /// `MembersChanged` also carries the whole list as `user_list_info`, as it did before the
    /// delta payload: deployed drivers (the Extron one) read it from the event. Costs the whole
    /// list per event; turn it off when every client applies the deltas.
    pub members_changed_list: bool,
    /// Query replies that carry lists (Members, Meeting, MeetingList) are cut to whole
    /// entries so that their WebSocket frame, header included, fits this; 0: off. 2048 for
    /// the Extron driver, which loses the start of a longer frame.
    pub max_reply_bytes: u64,
}

impl Default for CompatConfig {
    fn default() -> Self {
        Self {
            members_changed_list: true,
            max_reply_bytes: 0,
        }
    }
}
