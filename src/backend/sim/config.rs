//! The simulator's section, `[sim]`: how it behaves (delays, injected faults) and the meetings
//! that exist.

use serde::Deserialize;

use crate::config::{Probability, Section};
use crate::modules::meeting::normalize_meeting_code;

/// The embedded simulator (BACKENDS.md, last section).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// How long joining and starting take, so clients see `meeting_status` 2.
    pub join_delay_ms: u64,
    /// Fault injection: added to every operation.
    pub latency_ms: u64,
    /// Fault injection: the share of operations (0 to 1) that fail with error 12.
    pub failure_rate: Probability,
    /// Fault injection: operations never answer (the daemon's `timeout_ms` ends them).
    pub hang: bool,
    /// Fault injection: the service becomes unreachable this long after start (0 = never) ...
    pub disconnect_after_ms: u64,
    /// ... and reachable again this long after that (0 = never).
    pub reconnect_after_ms: u64,
    /// The meetings that exist; empty: a few built-in demo meetings.
    pub meetings: Vec<SimMeeting>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            join_delay_ms: 300,
            latency_ms: 0,
            failure_rate: Probability(0.0),
            hang: false,
            disconnect_after_ms: 0,
            reconnect_after_ms: 0,
            meetings: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimMeeting {
    pub code: MeetingCode,
    pub title: String,
    pub password: String,
    pub waiting_room: bool,
    /// Waiting room: admitted after this; 0 = never.
    pub admit_after_ms: u64,
    pub locked: bool,
    pub participants: u32,
    pub creator: String,
    /// Whether the creator (the host) is in the meeting.
    pub host_present: bool,
    pub room_is_host: bool,
    /// More than 0: a participant joins or leaves about this often, the meeting staying about
    /// `participants` strong.
    pub churn_ms: u64,
    /// More than 0: someone arrives in or leaves the waiting room about this often, while the
    /// room is in the meeting.
    pub waiting_churn_ms: u64,
    /// > 0: the host ends the meeting this long after the room joins.
    pub host_ends_after_ms: u64,
    /// Unix seconds; 0 = when the daemon starts.
    pub begin_time: i64,
    /// Unix seconds; 0 = begin + 1 hour.
    pub end_time: i64,
    /// People waiting in the meeting's waiting room.
    pub waiting: u32,
    /// Whether the meeting may be recorded (MeetingControl RequestRecord / StartRecord).
    pub recording_allowed: bool,
}

impl Default for SimMeeting {
    fn default() -> Self {
        Self {
            code: MeetingCode(String::new()),
            title: "Meeting".into(),
            password: String::new(),
            waiting_room: false,
            admit_after_ms: 1000,
            locked: false,
            participants: 3,
            creator: "Alice".into(),
            host_present: true,
            room_is_host: false,
            churn_ms: 0,
            waiting_churn_ms: 0,
            host_ends_after_ms: 0,
            begin_time: 0,
            end_time: 0,
            waiting: 0,
            recording_allowed: true,
        }
    }
}

/// A meeting code, normalized (spaces and dashes removed) and checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MeetingCode(pub String);

impl TryFrom<String> for MeetingCode {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        normalize_meeting_code(&raw)
            .map(Self)
            .map_err(|r| r.message)
    }
}

impl Section for SimConfig {
    const NAME: &'static str = "sim";
    const DEFAULTS: &'static str = r##"
[sim]
join_delay_ms = 300        # how long starting and joining take
latency_ms = 0             # fault injection: added to every operation
failure_rate = 0.0         # fault injection: share of operations failing with error 12 (0 to 1)
hang = false               # fault injection: operations never answer
disconnect_after_ms = 0    # fault injection: the service goes away this long after start (0 = never)
reconnect_after_ms = 0     # ... and comes back this long after that (0 = never)

# The meetings that exist. With none listed, built-in demo meetings are used:
#   111222333 "Weekly sync"   3 participants, churn
#   222333444 "Board review"  password 1234
#   333444555 "All hands"     waiting room, admitted after 3 s
#   444555666 "Locked review" locked
#   555666777 "Room standup"  the room is host
#
# [[sim.meetings]]
# code = "111222333"
# title = "Weekly sync"
# password = ""              # non-empty: joining needs it
# waiting_room = false
# admit_after_ms = 1000      # waiting room: admitted after this; 0 = never
# locked = false
# participants = 3           # other participants already in the meeting
# creator = "Alice"
# host_present = true        # whether the creator (host) is in the meeting
# room_is_host = false       # whether the room gets host rights when it joins
# churn_ms = 0               # > 0: a participant joins or leaves about this often (size kept near participants)
# waiting_churn_ms = 0       # > 0: someone arrives in or leaves the waiting room about this often
# host_ends_after_ms = 0     # > 0: the host ends the meeting this long after the room joins
# waiting = 0                # people in the meeting's waiting room
# recording_allowed = true   # whether RequestRecord / StartRecord may record it
# begin_time = 0             # Unix seconds; 0 = when the daemon starts
# end_time = 0               # Unix seconds; 0 = begin + 1 hour
"##;

    fn check(&self) -> Result<(), String> {
        let mut codes = std::collections::HashSet::new();
        for meeting in &self.meetings {
            if meeting.code.0.is_empty() {
                return Err(format!(
                    "sim.meetings: meeting {:?} has no code",
                    meeting.title
                ));
            }
            if !codes.insert(&meeting.code.0) {
                return Err(format!(
                    "sim.meetings: code {} is used twice",
                    meeting.code.0
                ));
            }
            if meeting.end_time != 0 && meeting.end_time < meeting.begin_time {
                return Err(format!(
                    "sim.meetings: meeting {} ends before it begins",
                    meeting.code.0
                ));
            }
        }
        Ok(())
    }
}
