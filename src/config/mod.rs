//! The daemon's configuration (docs/CONFIGURATION.md): a TOML file, every key optional, unknown
//! keys refused.
//!
//! Values that have rules are parsed into types that check them, so that a bad value is reported
//! by the TOML parser with its file, line and key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod events;
mod members;
mod mqtt;
mod services;
mod toml_error;
pub use events::EventsConfig;
pub use members::{CompatConfig, ListInEvents, MembersConfig};
pub use mqtt::{Broker, BrokerUrl, CallPolicy, MqttConfig, RoomId, TopicPrefix};
pub use services::{Section, SectionSpec, Sections};

/// The commented default configuration of everything but the services' sections
/// ([`Config::default_text`] adds them).
const CORE_DEFAULTS: &str = include_str!("default.toml");

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
    pub members: MembersConfig,
    pub compat: CompatConfig,
    pub mqtt: MqttConfig,
    /// The meeting services' sections (`[sim]`, `[kedacom]`…), read by [`Config::parse`].
    #[serde(skip)]
    pub services: Sections,
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
    /// The meeting service: the name of its section.
    pub kind: String,
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
            kind: "sim".into(),
            timeout_ms: Limit(15_000),
            retry_ms: Limit(1000),
            check_ms: Limit(30_000),
        }
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
    /// Reads and checks a configuration file with the sections of `services`, then the files
    /// it names ([`Config::read_files`]).
    pub fn load(path: &Path, services: &[SectionSpec]) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        let mut config = Self::parse(&text, services).map_err(error)?;
        config.read_files().map_err(error)?;
        Ok(config)
    }

    /// Parses and checks configuration text, with the sections of `services`; `backend.kind`
    /// must name one of them. Pure: the files the text names are read by
    /// [`Config::read_files`].
    pub fn parse(text: &str, services: &[SectionSpec]) -> Result<Self, String> {
        let describe = |mut error: toml::de::Error| {
            error.set_input(Some(text));
            toml_error::describe(text, &error)
        };
        let mut file = toml::de::DeTable::parse(text).map_err(describe)?;
        services::check_kind(&file, services).map_err(describe)?;
        let top_level: Vec<String> = file
            .get_ref()
            .keys()
            .map(|k| k.get_ref().to_string())
            .collect();
        let sections = Sections::cut_from(&mut file, services).map_err(describe)?;
        let mut config = Self::deserialize(toml::de::Deserializer::from(file)).map_err(|e| {
            // toml lists the sections `Config` has; the services' are the others.
            let misspelt_section = e.message().starts_with("unknown field")
                && top_level
                    .iter()
                    .any(|key| e.message().starts_with(&format!("unknown field `{key}`")));
            let mut message = describe(e);
            if misspelt_section {
                message.push_str(&format!(
                    "\nor a meeting service's: {}",
                    SectionSpec::names(services)
                ));
            }
            message
        })?;
        config.services = sections;
        config.check_consistency()?;
        Ok(config)
    }

    /// The commented default configuration that `roomsd print-default-config` prints, with
    /// the sections of `services` at the end.
    pub fn default_text(services: &[SectionSpec]) -> String {
        let mut text = CORE_DEFAULTS.to_owned();
        text.push_str(
            "\n# The meeting services. Only the section of backend.kind is used \
             (docs/BACKENDS.md).\n",
        );
        for service in services {
            text.push('\n');
            text.push_str(service.defaults.trim_start());
        }
        text
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
        self.services.check(&self.backend.kind)?;
        self.mqtt.check_keys()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
