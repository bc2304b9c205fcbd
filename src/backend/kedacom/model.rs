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

/// `2016-11-11T15:30:00+08:00` (the platform's only time format) as Unix seconds. Hand-written:
/// this one fixed format is all the adapter reads, which does not warrant a date crate.
pub fn unix_time(iso: &str) -> Option<i64> {
    let b = iso.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        std::str::from_utf8(&b[from..to]).ok()?.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Skip fractional seconds, then read the offset.
    let mut rest = &iso.trim()[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        rest = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "" | "Z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 {
                return None;
            }
            let hours: i64 = digits[..2].parse().ok()?;
            let minutes: i64 = digits[2..].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
    };
    // Days from 1970-01-01 to the date (proleptic Gregorian; H. Hinnant's days_from_civil).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
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
