//! The sections of the real meeting services (BACKENDS.md): `[kedacom]`, `[easemob]`, `[rsc]`
//! and `[hiar]`. Only the section of the configured `backend.kind` is used, and its required
//! keys are checked when that kind is chosen.

use serde::Deserialize;

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
    /// The room's terminal on the platform: its E164 number or IP address.
    pub account: String,
    /// 5 E164, 6 phone, 7 IP, 8 alias@ip.
    pub account_type: u8,
    /// How often the token and user heartbeats keep the session alive.
    pub heartbeat_secs: u64,
    /// How often the conference and its terminals are polled while joining and in a meeting.
    pub poll_ms: u64,
    /// The virtual meeting room "pmi" starts; empty: the first one reserved for `account`.
    pub virtual_meeting_room: String,
    /// The call rate the terminal is dialled at, in kbit/s.
    pub bitrate: u32,
    /// 0 H.323, 1 SIP.
    pub protocol: u8,
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
            account_type: 5,
            heartbeat_secs: 300,
            poll_ms: 2000,
            virtual_meeting_room: String::new(),
            bitrate: 2048,
            protocol: 0,
        }
    }
}

/// Easemob conferences (seed 003).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EasemobConfig {
    pub base_url: String,
    pub org: String,
    pub app: String,
    pub client_id: String,
    pub client_secret: String,
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

/// Names the first of `keys` (section, key, value) that is empty.
pub(super) fn require(keys: &[(&str, &str, &str)]) -> Result<(), String> {
    for (section, key, value) in keys {
        if value.trim().is_empty() {
            return Err(format!(
                "backend.kind = \"{section}\" needs {section}.{key}: see `roomsd print-default-config`"
            ));
        }
    }
    Ok(())
}
