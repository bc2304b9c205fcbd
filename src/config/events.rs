//! `[events]`: what is kept for clients that resume their subscriptions (docs/CONTINUITY.md).

use serde::Deserialize;

use super::Limit;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// Events kept, at most.
    pub history_size: Limit<0>,
    /// How long an event is kept, at most.
    pub history_secs: Limit<0>,
    /// What the kept events may take in memory, at most.
    pub history_bytes: Limit<0>,
}

impl Default for EventsConfig {
    fn default() -> Self {
        // A busy meeting (people joining, layouts, volumes) publishes a few events a second:
        // these cover several minutes of it, and the bytes bound holds large member lists.
        Self {
            history_size: Limit(4096),
            history_secs: Limit(300),
            history_bytes: Limit(8 * 1024 * 1024),
        }
    }
}
