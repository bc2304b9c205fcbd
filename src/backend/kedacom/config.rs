//! The Kedacom adapter's section, `[kedacom]`.

use serde::Deserialize;

use crate::config::{Limit, Section};

/// The Kedacom video platform: meeting management (`mc`) and meeting control (`vc`) APIs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KedacomConfig {
    /// `http://platform.example` (the `/api/v1/...` paths are added).
    pub base_url: String,
    pub oauth_consumer_key: String,
    pub oauth_consumer_secret: String,
    pub username: String,
    pub password: String,
    /// The room's terminal on the platform, as `account_type` says: its E164 number, phone
    /// number, IP address or `alias@ip`.
    pub account: String,
    pub account_type: AccountType,
    /// How often the token and user heartbeats keep the session alive.
    pub heartbeat_secs: Limit<1>,
    /// How often the conference and its terminals are polled while joining and in a meeting.
    pub poll_ms: Limit<1>,
    /// The virtual meeting room "pmi" starts; empty: the first one reserved for `account`.
    pub virtual_meeting_room: String,
    /// The call rate the terminal is dialled at, in kbit/s.
    pub bitrate: u32,
    /// 0 H.323, 1 SIP.
    pub protocol: u8,
    /// Instant meetings: their length in minutes; 0 = no end time. They end by themselves
    /// anyway once no terminal is left in them (`auto_end`).
    pub duration_minutes: u32,
    /// Instant meetings: 0 traditional, 1 port, 2 SFU conference (`conf_type`).
    pub conf_type: ConfType,
    /// Instant meetings: the most terminals, 8, 32, 64 or 192 (`max_join_mt`).
    pub max_join_mt: MaxJoinMt,
    /// Instant meetings: how many times the platform calls an invited terminal that does not
    /// answer, and how many seconds apart (`call_times`, `call_interval`).
    pub call_times: u32,
    pub call_interval_secs: u32,
    /// The recording server (VRS moid) StartRecord asks for; empty = the platform's choice.
    pub vrs_id: String,
    /// The platform's time zone, `+HH:MM`: how a time it writes without an offset is read.
    pub time_zone: TimeZone,
}

impl Default for KedacomConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            oauth_consumer_key: String::new(),
            oauth_consumer_secret: String::new(),
            username: String::new(),
            password: String::new(),
            account: String::new(),
            account_type: AccountType(5),
            heartbeat_secs: Limit(300),
            poll_ms: Limit(2000),
            virtual_meeting_room: String::new(),
            bitrate: 2048,
            protocol: 0,
            duration_minutes: 240,
            conf_type: ConfType(0),
            max_join_mt: MaxJoinMt(32),
            call_times: 3,
            call_interval_secs: 20,
            vrs_id: String::new(),
            time_zone: TimeZone(jiff::tz::Offset::constant(8)),
        }
    }
}

/// How the platform identifies a terminal: 5 E164, 6 phone, 7 IP, 8 alias@ip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub struct AccountType(pub u8);

impl TryFrom<u8> for AccountType {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if (5..=8).contains(&n) {
            Ok(Self(n))
        } else {
            Err(format!(
                "must be 5 (E164), 6 (phone), 7 (IP) or 8 (alias@ip), not {n}"
            ))
        }
    }
}

/// `conf_type` of an instant meeting: 0 traditional, 1 port, 2 SFU (4, "auto", would need the
/// terminal's protocols as well).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub struct ConfType(pub u8);

impl TryFrom<u8> for ConfType {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        if n <= 2 {
            Ok(Self(n))
        } else {
            Err(format!(
                "must be 0 (traditional), 1 (port) or 2 (SFU), not {n}"
            ))
        }
    }
}

/// `max_join_mt`: one of the sizes the platform offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u16")]
pub struct MaxJoinMt(pub u16);

impl TryFrom<u16> for MaxJoinMt {
    type Error = String;
    fn try_from(n: u16) -> Result<Self, String> {
        if [8, 32, 64, 192].contains(&n) {
            Ok(Self(n))
        } else {
            Err(format!("must be 8, 32, 64 or 192, not {n}"))
        }
    }
}

/// A fixed offset from UTC, written `+08:00` or `-05:30`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TimeZone(pub jiff::tz::Offset);

impl TryFrom<String> for TimeZone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("must be an offset from UTC like \"+08:00\", not {s:?}");
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        let digits = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(bad());
        }
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 14 || m > 59 {
            return Err(bad());
        }
        jiff::tz::Offset::from_seconds(sign * (h * 3600 + m * 60))
            .map(Self)
            .map_err(|_| bad())
    }
}

impl Section for KedacomConfig {
    const NAME: &'static str = "kedacom";
    const DEFAULTS: &'static str = r##"
[kedacom]
base_url = ""              # http://platform.example (the /api/v1/... paths are added)
oauth_consumer_key = ""
oauth_consumer_secret = ""
username = ""
password = ""
account = ""               # the room's terminal: E164 number, phone number, IP address or alias@ip
account_type = 5           # 5 E164, 6 phone, 7 IP, 8 alias@ip
heartbeat_secs = 300       # token and user heartbeats; three failed ones mean log in again
poll_ms = 2000             # how often the conference is polled while joining and in a meeting
virtual_meeting_room = ""  # what "pmi" starts; empty = the first one reserved for account
bitrate = 2048             # the terminal's call rate, kbit/s
protocol = 0               # 0 H.323, 1 SIP
duration_minutes = 240     # instant meetings' length (0 = no end time); they end when everyone has left
conf_type = 0              # instant meetings: 0 traditional, 1 port, 2 SFU conference
max_join_mt = 32           # instant meetings: at most 8, 32, 64 or 192 terminals
call_times = 3             # the platform calls the room's terminal this often ...
call_interval_secs = 20    # ... this far apart, until it answers
vrs_id = ""                # the recording server StartRecord uses (its moid); empty = the platform's choice
time_zone = "+08:00"       # the platform's zone: how times it writes without an offset are read
"##;

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("base_url", &self.base_url),
            ("oauth_consumer_key", &self.oauth_consumer_key),
            ("oauth_consumer_secret", &self.oauth_consumer_secret),
            ("username", &self.username),
            ("password", &self.password),
            ("account", &self.account),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_offsets_from_utc() {
        let zone = |s: &str| TimeZone::try_from(s.to_owned()).map(|z| z.0.seconds());
        assert_eq!(zone("+08:00"), Ok(8 * 3600));
        assert_eq!(zone("-05:30"), Ok(-(5 * 3600 + 30 * 60)));
        assert_eq!(zone("+00:00"), Ok(0));
        for bad in [
            "08:00",
            "+8:00",
            "+08",
            "+15:00",
            "+08:60",
            "Asia/Shanghai",
            "",
        ] {
            assert!(zone(bad).is_err(), "{bad}");
        }
        assert_eq!(
            KedacomConfig::default().time_zone,
            TimeZone(jiff::tz::Offset::constant(8))
        );
        assert!(MaxJoinMt::try_from(33).is_err() && ConfType::try_from(4).is_err());
    }
}
