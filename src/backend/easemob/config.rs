//! The Easemob adapter's section, `[easemob]`.

use serde::Deserialize;

use crate::config::{Limit, Section};

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

impl Section for EasemobConfig {
    const NAME: &'static str = "easemob";
    const DEFAULTS: &'static str = r##"
[easemob]
base_url = ""              # https://a1.easemob.com
org = ""
app = ""
client_id = ""
client_secret = ""
username = ""               # the room's own Easemob user (its media client's): creator of the conferences it starts
poll_ms = 2000             # how often the conference is polled while the room is in it
"##;

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("base_url", &self.base_url),
            ("org", &self.org),
            ("app", &self.app),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("username", &self.username),
        ]
    }
}
