//! The sections of the real meeting services (BACKENDS.md): `[kedacom]`, `[easemob]`, `[rsc]`
//! and `[hiar]`. Only the section of the configured `backend.kind` is used, and its required
//! keys are checked when that kind is chosen.

use serde::Deserialize;

use super::{BackendKind, Config, Limit};

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

/// Easemob conferences (seed 003).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EasemobConfig {
    pub base_url: String,
    pub org: String,
    pub app: String,
    pub client_id: String,
    pub client_secret: String,
    /// The room's own Easemob user, which its media client logs in as: the `creator` of the
    /// conferences it starts, and how the room is told apart in a conference's members.
    pub username: String,
    /// How often the conference is polled while the room is in it.
    pub poll_ms: Limit<1>,
}

impl Default for EasemobConfig {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            org: String::new(),
            app: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            username: String::new(),
            poll_ms: Limit(2000),
        }
    }
}

/// RSC sessions (seed 000).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RscConfig {
    pub base_url: String,
    pub token: String,
    pub endpoint_id: String,
    pub device_id: String,
    pub device_sn: String,
}

/// HiAR sessions (seed 001).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HiarConfig {
    pub base_url: String,
    pub app_id: String,
    pub app_secret: String,
    pub collaboration_id: String,
    pub user_id: String,
}

/// The section of the configured backend has the keys it cannot work without.
pub(super) fn check_required(config: &Config) -> Result<(), String> {
    match config.backend.kind {
        BackendKind::Sim => Ok(()),
        BackendKind::Kedacom => {
            let k = &config.kedacom;
            require(
                "kedacom",
                &[
                    ("base_url", &k.base_url),
                    ("oauth_consumer_key", &k.oauth_consumer_key),
                    ("oauth_consumer_secret", &k.oauth_consumer_secret),
                    ("username", &k.username),
                    ("password", &k.password),
                    ("account", &k.account),
                ],
            )
        }
        BackendKind::Easemob => {
            let e = &config.easemob;
            require(
                "easemob",
                &[
                    ("base_url", &e.base_url),
                    ("org", &e.org),
                    ("app", &e.app),
                    ("client_id", &e.client_id),
                    ("client_secret", &e.client_secret),
                    ("username", &e.username),
                ],
            )
        }
        BackendKind::Rsc => {
            let r = &config.rsc;
            require(
                "rsc",
                &[
                    ("base_url", &r.base_url),
                    ("token", &r.token),
                    ("endpoint_id", &r.endpoint_id),
                ],
            )
        }
        BackendKind::Hiar => {
            let h = &config.hiar;
            require(
                "hiar",
                &[
                    ("base_url", &h.base_url),
                    ("app_id", &h.app_id),
                    ("app_secret", &h.app_secret),
                    ("collaboration_id", &h.collaboration_id),
                    ("user_id", &h.user_id),
                ],
            )
        }
    }
}

/// Names the first of `keys` of `section` that is empty.
fn require(section: &str, keys: &[(&str, &String)]) -> Result<(), String> {
    match keys.iter().find(|(_, value)| value.trim().is_empty()) {
        Some((key, _)) => Err(format!(
            "backend.kind = \"{section}\" needs {section}.{key}: see `roomsd print-default-config`"
        )),
        None => Ok(()),
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
