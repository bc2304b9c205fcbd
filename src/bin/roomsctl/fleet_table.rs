//! `roomsctl fleet status`: what each room's retained topics say, as a table.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::render::{self, emit};

/// The live table is redrawn at most this often.
pub const REDRAW: Duration = Duration::from_millis(250);

/// What is known of one room.
#[derive(Default)]
pub struct Room {
    status: String,
    info: Value,
    meeting: Value,
    members: Value,
    backend: Value,
}

impl Room {
    fn cells(&self, id: &str) -> [String; 7] {
        let info = &self.meeting["meeting"]["meeting_info"];
        let meeting = if info.is_null() {
            "?".into()
        } else {
            render::meeting_status(&info["meeting_status"])
        };
        let title: String = info["meeting_title"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(32)
            .collect();
        let members = match &self.members["member_count"]["in_meeting"] {
            Value::Null => "?".into(),
            n => n.to_string(),
        };
        let backend = &self.backend["backend"];
        let backend = match backend["connected"].as_bool() {
            Some(true) => format!("{} up", backend["kind"].as_str().unwrap_or("")),
            Some(false) => format!("{} DOWN", backend["kind"].as_str().unwrap_or("")),
            None => "?".into(),
        };
        let screens = match &self.info["screens"] {
            Value::Null => "?".into(),
            n => n.to_string(),
        };
        let status = if self.status.is_empty() {
            "?".into()
        } else {
            self.status.clone()
        };
        [
            id.to_owned(),
            status,
            meeting,
            title,
            members,
            backend,
            screens,
        ]
    }

    fn json(&self, id: &str) -> Value {
        let [_, status, meeting, title, members, backend, screens] = self.cells(id);
        json!({
            "room": id, "status": status, "meeting": meeting, "title": title,
            "members": members, "backend": backend, "screens": screens,
        })
    }
}

#[derive(Default)]
pub struct Rooms(BTreeMap<String, Room>);

impl Rooms {
    /// Takes in one message; the room it is about, if it is one of the table's topics.
    pub fn apply(&mut self, prefix: &str, topic: &[u8], payload: &[u8]) -> Option<String> {
        let topic = std::str::from_utf8(topic).ok()?;
        let rest = topic.strip_prefix(prefix)?.strip_prefix('/')?;
        let (id, what) = rest.split_once('/')?;
        let parse = || serde_json::from_slice::<Value>(payload).unwrap_or(Value::Null);
        let room = self.0.entry(id.to_owned()).or_default();
        match what {
            "status" => room.status = String::from_utf8_lossy(payload).into_owned(),
            "info" => room.info = parse(),
            "state/Meeting" => room.meeting = parse(),
            "state/Members" => room.members = parse(),
            "state/Backend" => room.backend = parse(),
            _ => return None,
        }
        Some(id.to_owned())
    }
}

const HEADER: [&str; 7] = [
    "ROOM", "STATUS", "MEETING", "TITLE", "MEMBERS", "BACKEND", "SCREENS",
];

pub struct Table {
    /// On a terminal: redrawn in place. Otherwise one line per change.
    live: bool,
    dirty: bool,
    drawn: Option<Instant>,
}

impl Table {
    pub fn new(live: bool) -> Self {
        Self {
            live,
            dirty: false,
            drawn: None,
        }
    }

    /// A room changed: a line for it when piped, a redraw soon on a terminal.
    pub fn changed(&mut self, rooms: &Rooms, id: &str, json_out: bool) {
        if self.live {
            self.dirty = true;
            return;
        }
        let Some(room) = rooms.0.get(id) else { return };
        if json_out {
            emit(&room.json(id).to_string());
        } else {
            emit(&format!(
                "{} {}",
                render::clock(),
                room.cells(id).join("  ")
            ));
        }
    }

    /// Redraws the live table if it changed and was not drawn within [`REDRAW`].
    pub fn tick(&mut self, rooms: &Rooms) {
        if !self.live || !self.dirty || self.drawn.is_some_and(|at| at.elapsed() < REDRAW) {
            return;
        }
        self.dirty = false;
        self.drawn = Some(Instant::now());
        // Home and clear, then the table: the whole screen is the table.
        let mut out = std::io::stdout();
        let _ = std::io::Write::write_all(&mut out, b"\x1b[H\x1b[2J");
        self.print_table(rooms);
    }

    /// The whole table once (`--once`), or one JSON line per room.
    pub fn print_all(&self, rooms: &Rooms, json_out: bool) {
        if json_out {
            for (id, room) in &rooms.0 {
                emit(&room.json(id).to_string());
            }
        } else {
            self.print_table(rooms);
        }
    }

    fn print_table(&self, rooms: &Rooms) {
        let rows: Vec<[String; 7]> = rooms.0.iter().map(|(id, room)| room.cells(id)).collect();
        let mut widths = HEADER.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        emit(&line(&HEADER.map(String::from)));
        for row in &rows {
            emit(&line(row));
        }
        let online = rooms.0.values().filter(|r| r.status == "online").count();
        emit(&summary(rooms.0.len(), online));
    }
}

/// The line under the table: `2 rooms, 1 online`.
fn summary(rooms: usize, online: usize) -> String {
    let plural = if rooms == 1 { "" } else { "s" };
    format!("{rooms} room{plural}, {online} online")
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn the_summary_counts_rooms_in_words() {
        assert_eq!(summary(1, 1), "1 room, 1 online");
        assert_eq!(summary(2, 0), "2 rooms, 0 online");
        assert_eq!(summary(0, 0), "0 rooms, 0 online");
    }
}
