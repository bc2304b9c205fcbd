//! The daemon's configuration (docs/CONFIGURATION.md): a TOML file, every key optional, unknown
//! keys refused.
//!
//! Values that have rules are parsed into types that check them, so that a bad value is reported
//! by the TOML parser with its file, line and key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::modules::meeting::normalize_meeting_code;

mod backends;
mod events;
mod members;
mod mqtt;
mod toml_error;
pub use backends::{
    AccountType, ConfType, EasemobConfig, HiarConfig, KedacomConfig, MaxJoinMt, RscConfig, TimeZone,
};
pub use events::EventsConfig;
pub use members::{CompatConfig, ListInEvents, MembersConfig};
pub use mqtt::{Broker, BrokerUrl, CallPolicy, MqttConfig, RoomId, TopicPrefix};

/// The commented default configuration that `roomsd print-default-config` prints.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// Where `roomsd` looks for its configuration when no `--config` is given.
pub const DEFAULT_PATH: &str = "/etc/roomsd/roomsd.toml";

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub room: RoomConfig,
    pub screens: ScreensConfig,
    pub share: ShareConfig,
    pub events: EventsConfig,
    pub backend: BackendConfig,
    pub sim: SimConfig,
    pub kedacom: KedacomConfig,
    pub easemob: EasemobConfig,
    pub rsc: RscConfig,
    pub hiar: HiarConfig,
    pub members: MembersConfig,
    pub compat: CompatConfig,
    pub mqtt: MqttConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub password: String,
    /// A file holding the password (its first line), so that it stays out of this file and the
    /// unit: e.g. a systemd credential.
    pub password_file: PathBuf,
    /// Serve a non-loopback address without a password. Off by default: an open room controller
    /// on the LAN lets anyone end meetings.
    pub allow_unauthenticated_lan: bool,
    /// Clients connected at once, counted once they are authenticated: connections still in
    /// the handshake have their own budget, so idle sockets cannot lock clients out.
    pub max_connections: Limit<1>,
    /// Connections still in the handshake. When they are all taken, the oldest is closed to
    /// make room for the newcomer.
    pub max_handshakes: Limit<1>,
    /// Connections in the handshake from one address (one IPv6 /64); its own oldest is closed
    /// past this.
    pub max_handshakes_per_peer: Limit<1>,
    /// How long a connection may take to complete its handshake.
    pub handshake_timeout_ms: Limit<100>,
    /// Browser pages (`Origin`) allowed to connect, e.g. "https://panel.example:8443". The
    /// panel's own origin is always allowed; clients that send no `Origin` are not browsers.
    pub allowed_origins: Vec<String>,
    /// The largest text frame accepted; larger ones close the connection with 1009.
    pub max_message_bytes: Limit<1024>,
    /// Bytes waiting to be written to one client, replies, events and pongs included. A
    /// client that lets them pass this is not reading, and is disconnected so that it never
    /// holds up anyone else.
    pub max_unsent_bytes: Limit<65536>,
    /// Frames waiting to be written to one client, the same rule counted in frames.
    pub outbound_queue: Limit<8>,
    /// The reply to one batch. Requests of a batch whose reply has reached this are not run,
    /// and are answered with an error saying so.
    pub max_batch_reply_bytes: Limit<4096>,
    /// Serve the touch panel (`examples/panel/`) to browsers at `/panel/` on the same port.
    pub panel: bool,
}

impl ServerConfig {
    /// A password and a password file exclude each other.
    fn check_password_source(&self) -> Result<(), String> {
        if !self.password_file.as_os_str().is_empty() && !self.password.is_empty() {
            return Err(format!(
                "server.password and server.password_file = \"{}\" are both set: keep one",
                self.password_file.display()
            ));
        }
        Ok(())
    }

    /// Takes the password from `password_file`, if one is named.
    fn read_password_file(&mut self) -> Result<(), String> {
        if self.password_file.as_os_str().is_empty() {
            return Ok(());
        }
        let file = self.password_file.display();
        let text = std::fs::read_to_string(&self.password_file)
            .map_err(|e| format!("server.password_file = \"{file}\": cannot read: {e}"))?;
        let password = text.lines().next().unwrap_or_default();
        if password.is_empty() {
            return Err(format!(
                "server.password_file = \"{file}\": the first line, the password, is empty"
            ));
        }
        self.password = password.to_owned();
        Ok(())
    }

    /// Serving `addr` without a password is allowed on loopback only, unless
    /// `allow_unauthenticated_lan` says otherwise. `addr` is `listen`, or the socket systemd
    /// passed.
    pub fn check_exposure(&self, addr: std::net::SocketAddr) -> Result<(), String> {
        if self.password.is_empty() && !addr.ip().is_loopback() && !self.allow_unauthenticated_lan {
            return Err(format!(
                "serving {addr}, which is not a loopback address, and server.password is empty: \
                 set a password, listen on 127.0.0.1, or set server.allow_unauthenticated_lan = true"
            ));
        }
        Ok(())
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 6295)),
            password: String::new(),
            password_file: PathBuf::new(),
            allow_unauthenticated_lan: false,
            max_connections: Limit(64),
            max_handshakes: Limit(128),
            max_handshakes_per_peer: Limit(64),
            handshake_timeout_ms: Limit(3000),
            allowed_origins: Vec::new(),
            max_message_bytes: Limit(64 * 1024),
            max_unsent_bytes: Limit(1024 * 1024),
            outbound_queue: Limit(256),
            max_batch_reply_bytes: Limit(256 * 1024),
            panel: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoomConfig {
    pub name: String,
    pub pmi_code: String,
    /// Where the room's device settings are kept across restarts. Empty: systemd's
    /// `$STATE_DIRECTORY`, else they are not kept.
    pub state_dir: String,
}

impl Default for RoomConfig {
    fn default() -> Self {
        Self {
            name: "Room 101".into(),
            pmi_code: "800100200".into(),
            state_dir: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShareConfig {
    /// The code people enter to cast to the room. Empty: six digits that stay the same until
    /// the machine reboots.
    pub cast_code: CastCode,
    /// Capture inputs (e.g. an HDMI grabber) that `StartShare` with `share_type` 1 may share.
    pub capture_devices: Vec<String>,
}

/// A cast code: empty, or 4 to 12 digits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct CastCode(pub String);

impl TryFrom<String> for CastCode {
    type Error = String;
    fn try_from(code: String) -> Result<Self, String> {
        if code.is_empty()
            || ((4..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()))
        {
            Ok(Self(code))
        } else {
            Err(format!("cast_code must be 4 to 12 digits, not {code:?}"))
        }
    }
}

impl std::ops::Deref for CastCode {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScreensConfig {
    pub count: ScreenCount,
    pub mode: ScreenMode,
    pub main_monitor_id: String,
    pub drm_root: String,
}

impl Default for ScreensConfig {
    fn default() -> Self {
        Self {
            count: ScreenCount::One,
            mode: ScreenMode::Extend,
            main_monitor_id: "HDMI-A-1".into(),
            drm_root: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub enum ScreenCount {
    One,
    Two,
}

impl TryFrom<i64> for ScreenCount {
    type Error = String;
    fn try_from(n: i64) -> Result<Self, String> {
        match n {
            1 => Ok(Self::One),
            2 => Ok(Self::Two),
            _ => Err(format!("count must be 1 or 2, not {n}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScreenMode {
    Extend,
    Mirror,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendConfig {
    pub kind: BackendKind,
    /// Every asynchronous action ends in its event within this.
    pub timeout_ms: Limit<1>,
    /// Easemob, RSC and HiAR: the first wait before trying to reach the service again after a
    /// failed try (at start, or after an outage); it doubles up to `check_ms`.
    pub retry_ms: Limit<1>,
    /// Easemob, RSC and HiAR: how often the service is checked once it answers.
    pub check_ms: Limit<1>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self {
            kind: BackendKind::Sim,
            timeout_ms: Limit(15_000),
            retry_ms: Limit(1000),
            check_ms: Limit(30_000),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Sim,
    Kedacom,
    Easemob,
    Rsc,
    Hiar,
}

impl BackendKind {
    /// Every service, in the order tables and schemas list them.
    pub const ALL: [BackendKind; 5] = [
        Self::Sim,
        Self::Kedacom,
        Self::Easemob,
        Self::Rsc,
        Self::Hiar,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sim => "sim",
            Self::Kedacom => "kedacom",
            Self::Easemob => "easemob",
            Self::Rsc => "rsc",
            Self::Hiar => "hiar",
        }
    }
}

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

/// A number from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct Probability(pub f64);

impl TryFrom<f64> for Probability {
    type Error = String;
    fn try_from(p: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&p) {
            Ok(Self(p))
        } else {
            Err(format!("must be from 0 to 1, not {p}"))
        }
    }
}

/// A size or count of at least `MIN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u64")]
pub struct Limit<const MIN: u64>(pub u64);

impl<const MIN: u64> TryFrom<u64> for Limit<MIN> {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        if n >= MIN {
            Ok(Self(n))
        } else {
            Err(format!("must be at least {MIN}, not {n}"))
        }
    }
}

impl<const MIN: u64> Limit<MIN> {
    pub fn get(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

/// A configuration that cannot be used, with where the problem is.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl Config {
    /// Reads and checks a configuration file, then the files it names ([`Config::read_files`]).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        let mut config = Self::parse(&text).map_err(error)?;
        config.read_files().map_err(error)?;
        Ok(config)
    }

    /// Parses and checks configuration text. Pure: the files the text names are read by
    /// [`Config::read_files`].
    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| toml_error::describe(text, &e))?;
        config.check_consistency()?;
        Ok(config)
    }

    /// Reads the files the configuration names (`server.password_file`, the `[mqtt]`
    /// credentials and TLS files) into it. Errors name the key and the file.
    pub fn read_files(&mut self) -> Result<(), String> {
        self.server.read_password_file()?;
        self.mqtt.read_files()
    }

    /// Every rule, including who may be served: call it once flags and the environment have
    /// been applied over the file (`--password`, `ROOMSD_PASSWORD`).
    pub fn check(&self) -> Result<(), String> {
        self.server.check_exposure(self.server.listen)?;
        self.check_consistency()
    }

    /// The rules that involve more than one key of the file.
    fn check_consistency(&self) -> Result<(), String> {
        self.server.check_password_source()?;
        backends::check_required(self)?;
        self.mqtt.check_keys()?;
        let mut codes = std::collections::HashSet::new();
        for meeting in &self.sim.meetings {
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

#[cfg(test)]
mod tests;
