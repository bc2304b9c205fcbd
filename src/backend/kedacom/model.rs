//! What the Kedacom platform answers, and how it becomes the room's view of a meeting.
//! Fields are read leniently (`#[serde(default)]`): platform versions differ in what they add,
//! and a missing optional field must not fail a join.

use serde::Deserialize;

use crate::backend::http::ErrorTable;
use crate::backend::{Participant, ScheduledMeeting};
use crate::wire::ErrorCode;

/// The platform's error codes (BACKENDS.md) as Rooms codes (PROTOCOL.md §5).
pub const ERRORS: ErrorTable = ErrorTable {
    service: "kedacom",
    codes: &[
        (10001, ErrorCode::FAIL),
        (10002, ErrorCode::FAIL),
        (10101, ErrorCode::FAIL),
        (10102, ErrorCode::FAIL),
        (12103, ErrorCode::NO_SUCH_MEETING),
        (12104, ErrorCode::USER_NOT_IN_MEETING),
        (19002, ErrorCode::FAIL),
        (20003, ErrorCode::JOIN_FAILED),
        (20101, ErrorCode::JOIN_FAILED),
        (20102, ErrorCode::JOIN_FAILED),
        (20105, ErrorCode::JOIN_FAILED),
        (20565, ErrorCode::JOIN_FAILED),
    ],
    otherwise: ErrorCode::FAIL,
};

/// Token rejected: fetch a new token, then log in.
pub const TOKEN_REJECTED: i64 = 10002;
/// Not logged in, or the login timed out: log in again.
pub const NOT_LOGGED_IN: i64 = 10102;
/// The conference does not exist (any more).
pub const CONFERENCE_NOT_FOUND: i64 = 12103;

/// The envelope of every reply.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    pub success: i64,
    #[serde(default)]
    pub error_code: i64,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Person {
    pub name: String,
    pub account: String,
}

/// `GET /api/v1/vc/confs/{conf_id}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Conference {
    pub name: String,
    pub conf_id: String,
    pub meeting_id: String,
    pub start_time: String,
    pub end_time: String,
    pub need_password: i64,
    pub creator: Person,
}

/// `GET /api/v1/vc/confs`: the live conferences.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LiveConferences {
    pub confs: Vec<Conference>,
}

/// One terminal of `GET /api/v1/vc/confs/{conf_id}/mts`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Terminal {
    #[serde(deserialize_with = "string_or_number")]
    pub mt_id: String,
    pub alias: String,
    pub e164: String,
    pub account: String,
    pub ip: String,
    pub online: i64,
    pub mute: i64,
}

impl Terminal {
    /// Whether this terminal is the one configured as the room's.
    pub fn is(&self, account: &str) -> bool {
        [&self.account, &self.e164, &self.ip]
            .iter()
            .any(|id| !id.is_empty() && *id == account)
    }

    pub fn participant(&self, chairman: &str) -> Participant {
        let nickname = [&self.alias, &self.e164, &self.account, &self.ip]
            .into_iter()
            .find(|name| !name.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("terminal {}", self.mt_id));
        Participant {
            user_id: self.mt_id.clone(),
            nickname,
            host: self.mt_id == chairman,
            co_host: false,
            audio_on: self.mute == 0,
            video_on: true,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Terminals {
    pub mts: Vec<Terminal>,
}

impl Terminals {
    /// The participants besides the room's terminal `own`: the terminals online.
    pub fn others(&self, own: &str, chairman: &str) -> Vec<Participant> {
        self.mts
            .iter()
            .filter(|t| t.online == 1 && t.mt_id != own)
            .map(|t| t.participant(chairman))
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Chairman {
    #[serde(deserialize_with = "string_or_number")]
    pub mt_id: String,
}

/// `POST /api/v1/mc/confs`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Created {
    pub conf_id: String,
    pub meeting_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BookedList {
    pub booked_confs: Vec<Booked>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Booked {
    pub name: String,
    pub conf_id: String,
    pub meeting_id: String,
    pub start_time: String,
    pub end_time: String,
    pub creator: Person,
}

impl Booked {
    pub fn scheduled(&self) -> ScheduledMeeting {
        ScheduledMeeting {
            title: self.name.clone(),
            code: self.conf_id.clone(),
            meeting_id: self.meeting_id.clone(),
            meeting_type: 0,
            creator_name: self.creator.name.clone(),
            begin_time: unix_time(&self.start_time).unwrap_or(0),
            end_time: unix_time(&self.end_time).unwrap_or(0),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VirtualRooms {
    pub virtual_meeting_rooms: Vec<VirtualRoom>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VirtualRoom {
    pub id: String,
    pub exclusive_users: Vec<Person>,
}

/// Terminal ids are strings in the documents and numbers on some platforms.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

/// `2016-11-11T15:30:00+08:00` (the platform's time format) as Unix seconds. A time without
/// an offset is taken as UTC.
pub fn unix_time(iso: &str) -> Option<i64> {
    let iso = iso.trim();
    let timestamp = iso.parse::<jiff::Timestamp>().ok().or_else(|| {
        let civil: jiff::civil::DateTime = iso.parse().ok()?;
        jiff::tz::Offset::UTC.to_timestamp(civil).ok()
    })?;
    Some(timestamp.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_times_become_unix_seconds() {
        assert_eq!(unix_time("1970-01-01T00:00:00Z"), Some(0));
        // 2016-11-11T07:30:00Z
        assert_eq!(unix_time("2016-11-11T15:30:00+08:00"), Some(1_478_849_400));
        assert_eq!(unix_time("2016-11-11T07:30:00.250Z"), Some(1_478_849_400));
        assert_eq!(
            unix_time("2016-11-11T07:30:00"),
            Some(1_478_849_400),
            "no offset: UTC"
        );
        assert_eq!(unix_time("2024-02-29T00:00:00-0130"), Some(1_709_170_200));
        assert_eq!(unix_time(""), None);
        assert_eq!(unix_time("2016-13-11T15:30:00+08:00"), None);
        assert_eq!(unix_time("yesterday"), None);
    }

    #[test]
    fn the_room_terminal_is_found_by_e164_account_or_ip() {
        let t = Terminal {
            e164: "1234567".into(),
            ..Terminal::default()
        };
        assert!(t.is("1234567") && !t.is("") && !t.is("7654321"));
    }

    #[test]
    fn conference_not_found_is_no_such_meeting() {
        let r = ERRORS.refusal(12103, "conference not found");
        assert_eq!(r.code, ErrorCode::NO_SUCH_MEETING);
        assert!(r.message.contains("12103"));
    }
}
