//! The topic layout (docs/FLEET.md): everything under `<prefix>/<room_id>/`.

#[derive(Debug, Clone)]
pub struct Topics {
    /// `<prefix>/<room_id>`
    base: String,
}

impl Topics {
    pub fn new(prefix: &str, room_id: &str) -> Self {
        Self {
            base: format!("{prefix}/{room_id}"),
        }
    }

    /// Retained `online` / `offline`; the last will.
    pub fn status(&self) -> String {
        format!("{}/status", self.base)
    }

    /// Retained: what the room is (name, version, backend, screens, start).
    pub fn info(&self) -> String {
        format!("{}/info", self.base)
    }

    /// Retained: one module's state, as `Query [Module]` answers it.
    pub fn state(&self, module: &str) -> String {
        format!("{}/state/{module}", self.base)
    }

    /// Not retained: one module's events' `params`.
    pub fn event(&self, module: &str) -> String {
        format!("{}/event/{module}", self.base)
    }

    /// Requests to the room: one JSON-RPC frame each.
    pub fn request(&self) -> String {
        format!("{}/request", self.base)
    }

    /// Answers to requests that named no MQTT 5 response topic.
    pub fn response(&self) -> String {
        format!("{}/response", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_under_prefix_and_room() {
        let t = Topics::new("acme/berlin", "r-101");
        assert_eq!(t.status(), "acme/berlin/r-101/status");
        assert_eq!(t.state("Meeting"), "acme/berlin/r-101/state/Meeting");
        assert_eq!(t.event("Device"), "acme/berlin/r-101/event/Device");
        assert_eq!(t.request(), "acme/berlin/r-101/request");
        assert_eq!(t.response(), "acme/berlin/r-101/response");
    }
}
