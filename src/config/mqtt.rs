//! `[mqtt]`: the fleet link (docs/FLEET.md). Off while `url` is empty.

use std::path::PathBuf;

use serde::Deserialize;

use super::Limit;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`; empty: no fleet link.
    pub url: BrokerUrl,
    /// The `<room_id>` topic level; empty: the machine's hostname.
    pub room_id: RoomId,
    /// The first topic level(s), e.g. `rooms` or `acme/berlin`.
    pub prefix: TopicPrefix,
    pub username: String,
    pub password: String,
    /// A file holding the broker password (its first line).
    pub password_file: PathBuf,
    /// TLS: a CA (PEM) trusted besides the system's roots.
    pub ca_file: PathBuf,
    /// TLS: a client certificate and its key (PEM), both or neither.
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// Which requests from the fleet are run.
    pub calls: CallPolicy,
    pub keepalive_secs: Limit<5>,
    /// QoS of `event/<Module>` messages (state, status and responses are always QoS 1).
    pub events_qos: EventsQos,
    /// Messages waiting for the broker; past this, events are dropped (and counted) and state
    /// waits, newest wins. Bounds what a slow or absent broker costs.
    pub queue: Limit<16>,
    /// Publish Home Assistant MQTT discovery documents.
    pub homeassistant: bool,
    /// Home Assistant's discovery prefix.
    pub homeassistant_prefix: TopicPrefix,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: BrokerUrl::default(),
            room_id: RoomId::default(),
            prefix: TopicPrefix("rooms".into()),
            username: String::new(),
            password: String::new(),
            password_file: PathBuf::new(),
            ca_file: PathBuf::new(),
            cert_file: PathBuf::new(),
            key_file: PathBuf::new(),
            calls: CallPolicy::None,
            keepalive_secs: Limit(30),
            events_qos: EventsQos(0),
            queue: Limit(256),
            homeassistant: false,
            homeassistant_prefix: TopicPrefix("homeassistant".into()),
        }
    }
}

impl MqttConfig {
    pub fn enabled(&self) -> bool {
        self.url.0.is_some()
    }

    /// The room id in use: the configured one, or the hostname (checked by the same rules).
    pub fn resolved_room_id(&self) -> Result<String, String> {
        if !self.room_id.0.is_empty() {
            return Ok(self.room_id.0.clone());
        }
        let host = hostname();
        RoomId::try_from(host.clone()).map(|id| id.0).map_err(|e| {
            format!("mqtt.room_id is not set and the hostname {host:?} cannot stand in: {e}")
        })
    }

    /// The rules that involve several keys. Pure: the files are read by [`Mqtt::read_files`].
    pub(super) fn check_keys(&self) -> Result<(), String> {
        let has_file = !self.password_file.as_os_str().is_empty();
        if has_file && !self.password.is_empty() {
            return Err(format!(
                "mqtt.password and mqtt.password_file = \"{}\" are both set: keep one",
                self.password_file.display()
            ));
        }
        if (has_file || !self.password.is_empty()) && self.username.is_empty() {
            return Err("mqtt.password is set without mqtt.username".into());
        }
        if self.cert_file.as_os_str().is_empty() != self.key_file.as_os_str().is_empty() {
            return Err("mqtt.cert_file and mqtt.key_file go together: set both or neither".into());
        }
        let Some(url) = &self.url.0 else {
            return Ok(());
        };
        for (key, path) in self.tls_files() {
            if !path.as_os_str().is_empty() && !url.tls {
                return Err(format!(
                    "mqtt.{key} is set but mqtt.url is not mqtts://: TLS files need TLS"
                ));
            }
        }
        Ok(())
    }

    /// Reads `password_file` into `password`, checks the TLS files can be read and, with the
    /// link on, that the room has an id (the hostname when `room_id` is not set).
    pub(super) fn read_files(&mut self) -> Result<(), String> {
        if !self.password_file.as_os_str().is_empty() {
            let file = self.password_file.display();
            let text = std::fs::read_to_string(&self.password_file)
                .map_err(|e| format!("mqtt.password_file = \"{file}\": cannot read: {e}"))?;
            let password = text.lines().next().unwrap_or_default();
            if password.is_empty() {
                return Err(format!(
                    "mqtt.password_file = \"{file}\": the first line, the password, is empty"
                ));
            }
            self.password = password.to_owned();
        }
        if self.url.0.is_none() {
            return Ok(());
        }
        for (key, path) in self.tls_files() {
            if !path.as_os_str().is_empty() {
                std::fs::metadata(path).map_err(|e| {
                    format!("mqtt.{key} = \"{}\": cannot read: {e}", path.display())
                })?;
            }
        }
        self.resolved_room_id()?;
        Ok(())
    }

    fn tls_files(&self) -> [(&'static str, &PathBuf); 3] {
        [
            ("ca_file", &self.ca_file),
            ("cert_file", &self.cert_file),
            ("key_file", &self.key_file),
        ]
    }
}

/// The machine's hostname (Linux), or "" when it cannot be read.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// The broker's address, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct BrokerUrl(pub Option<Broker>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl TryFrom<String> for BrokerUrl {
    type Error = String;
    fn try_from(url: String) -> Result<Self, String> {
        if url.is_empty() {
            return Ok(Self(None));
        }
        let bad = |why: &str| {
            format!("url must be mqtt://host[:port] or mqtts://host[:port]: {url:?} {why}")
        };
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(bad("has another scheme"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#']) {
            return Err(bad(
                "has more than a host and port (credentials go in username and password)",
            ));
        }
        // `[v6]:port`, `[v6]`, `host:port` or `host`.
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6
                    .split_once(']')
                    .ok_or_else(|| bad("has no closing ']'"))?;
                (host, after.strip_prefix(':'))
            }
            None => match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            },
        };
        let port = match port {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(port) => port
                .parse()
                .ok()
                .filter(|&p: &u16| p > 0)
                .ok_or_else(|| bad("has a port that is not 1 to 65535"))?,
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        Ok(Self(Some(Broker {
            tls,
            host: host.to_owned(),
            port,
        })))
    }
}

/// A topic level: not `+`, `#` or `/`, not empty (empty in the file: the hostname).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RoomId(pub String);

impl TryFrom<String> for RoomId {
    type Error = String;
    fn try_from(id: String) -> Result<Self, String> {
        if id.contains(['+', '#', '/']) || id.chars().any(char::is_control) || id.len() > 128 {
            return Err(format!(
                "room_id must be one topic level (no '+', '#', '/' or control characters, at \
                 most 128 bytes), not {id:?}"
            ));
        }
        Ok(Self(id))
    }
}

/// One or more topic levels without wildcards, e.g. `rooms` or `acme/berlin`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct TopicPrefix(pub String);

impl TryFrom<String> for TopicPrefix {
    type Error = String;
    fn try_from(prefix: String) -> Result<Self, String> {
        if prefix.is_empty()
            || prefix.contains(['+', '#'])
            || prefix.starts_with('/')
            || prefix.ends_with('/')
            || prefix.contains("//")
        {
            return Err(format!(
                "prefix must be topic levels without '+' or '#', not empty and without empty \
                 levels, e.g. \"rooms\" or \"acme/berlin\", not {prefix:?}"
            ));
        }
        Ok(Self(prefix))
    }
}

/// `events_qos`: 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "u8")]
pub struct EventsQos(pub u8);

impl TryFrom<u8> for EventsQos {
    type Error = String;
    fn try_from(qos: u8) -> Result<Self, String> {
        if qos <= 1 {
            Ok(Self(qos))
        } else {
            Err(format!("events_qos must be 0 or 1, not {qos}"))
        }
    }
}

/// `calls`: which requests from the fleet are run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CallsValue")]
pub enum CallPolicy {
    /// Nothing: every request is refused.
    None,
    /// Query (and `rpc.discover`) only.
    Read,
    /// Query, and the listed `Module/Action` calls.
    Allow(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CallsValue {
    Word(String),
    List(Vec<String>),
}

impl TryFrom<CallsValue> for CallPolicy {
    type Error = String;
    fn try_from(value: CallsValue) -> Result<Self, String> {
        match value {
            CallsValue::Word(word) => match word.as_str() {
                "none" => Ok(Self::None),
                "read" => Ok(Self::Read),
                _ => Err(format!(
                    "calls must be \"none\", \"read\" or a list of \"Module/Action\", not {word:?}"
                )),
            },
            CallsValue::List(list) => {
                for entry in &list {
                    let known = entry.split_once('/').is_some_and(|(module, action)| {
                        crate::modules::module(module).is_some_and(|m| m.action(action).is_some())
                    });
                    if !known {
                        return Err(format!(
                            "calls: {entry:?} is not a Module/Action of the protocol (e.g. \
                             \"Meeting/LeaveMeeting\")"
                        ));
                    }
                }
                Ok(Self::Allow(list))
            }
        }
    }
}
