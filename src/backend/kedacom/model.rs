//! What the Kedacom platform answers, and how it becomes the room's view of a meeting.
//! Fields are read leniently (`#[serde(default)]`): platform versions differ in what they add,
//! and a missing optional field must not fail a join.

use serde::Deserialize;

use crate::backend::http::ErrorTable;
use crate::backend::{Participant, ScheduledMeeting};
use crate::wire::{ErrorCode, Refusal};

/// The platform's error codes (BACKENDS.md) as Rooms codes (PROTOCOL.md §5).
pub const ERRORS: ErrorTable = ErrorTable {
    service: "kedacom",
    codes: &[
        (10001, ErrorCode::FAIL),
        (10002, ErrorCode::FAIL),
        (10101, ErrorCode::AUTH_FAILED),
        (10102, ErrorCode::FAIL),
        (12103, ErrorCode::NO_SUCH_MEETING),
        (12104, ErrorCode::USER_NOT_IN_MEETING),
        (19002, ErrorCode::AUTH_FAILED),
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
/// A conference of that name exists already.
pub const NAME_EXISTS: i64 = 20105;

/// The platform's own code behind a refusal made from its reply (`kedacom error N: ...`).
pub fn platform_code(refusal: &Refusal) -> Option<i64> {
    let rest = refusal.message.strip_prefix("kedacom error ")?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

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

/// One terminal of `GET /api/v1/vc/confs/{conf_id}/mts`: its documented fields name it by
/// `alias`, `e164` and `ip` only (no `account`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct Terminal {
    #[serde(deserialize_with = "string_or_number")]
    pub mt_id: String,
    pub alias: String,
    pub e164: String,
    pub ip: String,
    pub online: i64,
    pub mute: i64,
}

impl Terminal {
    /// Whether this is the terminal `account` names, read as `account_type` says: 5 its E164
    /// number, 6 a phone number (in `e164`, or the alias), 7 its IP address, 8 `alias@ip`.
    pub fn is(&self, account: &str, account_type: u8) -> bool {
        let account = account.trim();
        if account.is_empty() {
            return false;
        }
        match account_type {
            5 => self.e164 == account,
            6 => self.e164 == account || self.alias == account,
            7 => self.ip == account,
            8 => account
                .rsplit_once('@')
                .is_some_and(|(alias, ip)| self.alias == alias && self.ip == ip),
            _ => false,
        }
    }

    pub fn participant(&self, chairman: &str) -> Participant {
        let nickname = [&self.alias, &self.e164, &self.ip]
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

/// `POST /api/v1/vc/confs/{conf_id}/recorders`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecorderStarted {
    #[serde(deserialize_with = "string_or_number")]
    pub rec_id: String,
}

/// A page of `GET /api/v1/mc/booked_confs` or `GET /api/v1/mc/meetings`: `total` and the items
/// under `booked_confs` or `meetings`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MeetingPage {
    pub total: Option<usize>,
    pub booked_confs: Vec<Booked>,
    pub meetings: Vec<Booked>,
}

/// A booked meeting (`booked_confs`, `booked_confs/{conf_id}`), or one of `meetings`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Booked {
    pub name: String,
    pub conf_id: String,
    pub meeting_id: String,
    pub start_time: String,
    pub end_time: String,
    pub password: String,
    pub creator: Person,
}

impl Booked {
    /// As the meeting list shows it; times without an offset are in `zone`.
    pub fn scheduled(&self, zone: jiff::tz::Offset) -> ScheduledMeeting {
        ScheduledMeeting {
            title: self.name.clone(),
            code: self.conf_id.clone(),
            meeting_id: self.meeting_id.clone(),
            meeting_type: 0,
            creator_name: self.creator.name.clone(),
            begin_time: unix_time(&self.start_time, zone).unwrap_or(0),
            end_time: unix_time(&self.end_time, zone).unwrap_or(0),
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
/// an offset is the platform's local time, in `zone` (`kedacom.time_zone`).
pub fn unix_time(iso: &str, zone: jiff::tz::Offset) -> Option<i64> {
    let iso = iso.trim();
    let timestamp = iso.parse::<jiff::Timestamp>().ok().or_else(|| {
        let civil: jiff::civil::DateTime = iso.parse().ok()?;
        zone.to_timestamp(civil).ok()
    })?;
    Some(timestamp.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_times_become_unix_seconds() {
        let utc = jiff::tz::Offset::UTC;
        let beijing = jiff::tz::Offset::constant(8);
        assert_eq!(unix_time("1970-01-01T00:00:00Z", beijing), Some(0));
        // 2016-11-11T07:30:00Z
        let t = Some(1_478_849_400);
        assert_eq!(unix_time("2016-11-11T15:30:00+08:00", utc), t);
        assert_eq!(unix_time("2016-11-11T07:30:00.250Z", beijing), t);
        assert_eq!(
            unix_time("2016-11-11T15:30:00", beijing),
            t,
            "no offset: the platform's zone"
        );
        assert_eq!(unix_time("2016-11-11T07:30:00", utc), t);
        assert_eq!(
            unix_time("2024-02-29T00:00:00-0130", beijing),
            Some(1_709_170_200)
        );
        assert_eq!(unix_time("", utc), None);
        assert_eq!(unix_time("2016-13-11T15:30:00+08:00", utc), None);
        assert_eq!(unix_time("yesterday", utc), None);
    }

    #[test]
    fn the_room_terminal_is_found_by_the_field_its_account_type_names() {
        let t = Terminal {
            alias: "lobby".into(),
            e164: "1234567".into(),
            ip: "10.0.0.5".into(),
            ..Terminal::default()
        };
        assert!(t.is("1234567", 5) && !t.is("", 5) && !t.is("7654321", 5));
        assert!(!t.is("10.0.0.5", 5), "an E164 account is not an IP");
        assert!(t.is("1234567", 6) && t.is("lobby", 6));
        assert!(t.is("10.0.0.5", 7) && !t.is("1234567", 7));
        assert!(t.is("lobby@10.0.0.5", 8));
        assert!(!t.is("lobby@10.0.0.6", 8) && !t.is("lobby", 8) && !t.is("hall@10.0.0.5", 8));
    }

    #[test]
    fn login_failures_are_authentication_failures() {
        for code in [10101, 19002] {
            assert_eq!(
                ERRORS.refusal(code, "bad password").code,
                ErrorCode::AUTH_FAILED
            );
        }
    }

    #[test]
    fn conference_not_found_is_no_such_meeting() {
        let r = ERRORS.refusal(12103, "conference not found");
        assert_eq!(r.code, ErrorCode::NO_SUCH_MEETING);
        assert!(r.message.contains("12103"));
        assert_eq!(platform_code(&r), Some(12103));
        assert_eq!(platform_code(&ERRORS.refusal(20105, "")), Some(20105));
        assert_eq!(
            platform_code(&Refusal::new(ErrorCode::FAIL, "kedacom: x")),
            None
        );
    }
}
