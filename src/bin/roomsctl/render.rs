//! How roomsctl shows things to people: one line per event (local time, module, event, the few
//! values that matter), the room's state in sentences, and the registry's actions. `--json`
//! bypasses all of this with one compact JSON line per result or event.

use std::io::Write as _;

use serde_json::{Map, Value};

use crate::registry;

/// Writes a line to stdout; exits quietly when the reader has gone (`roomsctl watch | head`).
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

/// The local time of day, as people read a log.
pub fn clock() -> String {
    jiff::ZonedDateTime::now().strftime("%H:%M:%S").to_string()
}

/// `14:03:07 Meeting JoinMeetingCompleted  status=in_meeting code=111222333 …`: `params` of an
/// `Event/<module>` notification on one line.
pub fn event_line(module: &str, params: &Value) -> String {
    let sub_event = params["sub_event"].as_str().unwrap_or("?");
    let mut fields = Vec::new();
    let code = &params["error_code"];
    if !code.is_null() && *code != 0 {
        fields.push(format!("error={code}"));
        fields.push(format!(
            "message={}",
            quoted(params["message"].as_str().unwrap_or(""))
        ));
    }
    if let Some(data) = params["data"].as_object() {
        summarize(data, &mut fields);
    }
    format!("{} {module} {sub_event}  {}", clock(), fields.join(" "))
        .trim_end()
        .to_owned()
}

fn quoted(text: &str) -> String {
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/#*".contains(c))
    {
        text.to_owned()
    } else {
        format!("{text:?}")
    }
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(quoted(s)),
        Value::Bool(_) | Value::Number(_) | Value::Null => Some(value.to_string()),
        _ => None,
    }
}

fn on_off(value: &Value) -> &'static str {
    if value.as_bool() == Some(true) {
        "on"
    } else {
        "off"
    }
}

/// `meeting_status` in words (PROTOCOL.md §3.1).
pub fn meeting_status(status: &Value) -> String {
    match status.as_u64() {
        Some(0) => "idle".into(),
        Some(1) => "in_meeting".into(),
        Some(2) => "joining".into(),
        Some(3) => "waiting_room".into(),
        Some(4) => "casting".into(),
        _ => status.to_string(),
    }
}

/// A `switch_type` in words (PROTOCOL.md §4.1).
pub fn layout_name(switch_type: &Value) -> String {
    let name = match switch_type.as_u64() {
        Some(1) => "grid",
        Some(2 | 3) => "speaker",
        Some(4) => "member-list",
        Some(5) => "top-L",
        Some(6) => "bottom-L",
        Some(7) => "surround",
        _ => return switch_type.to_string(),
    };
    format!("{name}({switch_type})")
}

/// The values of an event's `data` that say what happened, as `key=value`.
fn summarize(data: &Map<String, Value>, out: &mut Vec<String>) {
    for (key, value) in data {
        match key.as_str() {
            "meeting_info" => {
                // Leave and dissolve events carry the meeting as it was, with a `reason`.
                if !data.contains_key("reason") {
                    out.push(format!(
                        "status={}",
                        meeting_status(&value["meeting_status"])
                    ));
                }
                for (name, field) in [("code", "meeting_code"), ("title", "meeting_title")] {
                    if let Some(text) = value[field].as_str().filter(|t| !t.is_empty()) {
                        out.push(format!("{name}={}", quoted(text)));
                    }
                }
            }
            "self_user_info" if value["host"] == true => out.push("role=host".into()),
            "self_user_info" if value["co_host"] == true => out.push("role=co-host".into()),
            "mic_info" => {
                out.push(format!("mic={}", on_off(&value["switch"])));
                out.push(format!("mic_volume={}", value["volume"]));
            }
            "speaker_info" => out.push(format!("speaker_volume={}", value["volume"])),
            "camera_info" => {
                out.push(format!("camera={}", on_off(&value["switch"])));
                if let Some(name) = value["camera_frame_mode"]["name"].as_str() {
                    out.push(format!("framing={}", quoted(name)));
                }
            }
            "layout_switch_info" => layout(value, out),
            "layout_info" => layout(&value["layout_switch_info"], out),
            "member_count" => {
                out.push(format!("in_meeting={}", value["in_meeting"]));
                out.push(format!("waiting={}", value["in_waiting_room"]));
            }
            // MembersChanged: who, for a few; how many, for a crowd. Empty lists say nothing.
            "joined" | "updated" | "left" => {
                let list = value.as_array().map(Vec::as_slice).unwrap_or_default();
                if list.len() > 3 {
                    out.push(format!("{key}={}", list.len()));
                } else if !list.is_empty() {
                    let names: Vec<String> = list
                        .iter()
                        .map(|m| quoted(m["nickname"].as_str().or(m.as_str()).unwrap_or("?")))
                        .collect();
                    out.push(format!("{key}={}", names.join(",")));
                }
            }
            "user_list_info" if !data.contains_key("member_count") => {
                let count = value.as_array().map_or(0, Vec::len);
                out.push(format!("members={count}"));
            }
            "share_info" => {
                out.push(format!("sharing={}", value["is_sharing"]));
                out.push(format!(
                    "quick_casting_state={}",
                    value["quick_casting_state"]
                ));
            }
            "backend" => {
                out.push(format!("kind={}", value["kind"].as_str().unwrap_or("?")));
                out.push(format!("connected={}", value["connected"]));
                if let Some(error) = value["last_error"].as_str().filter(|e| !e.is_empty()) {
                    out.push(format!("last_error={}", quoted(error)));
                }
            }
            "meeting_list" => {
                let count = value.as_array().map_or(0, Vec::len);
                out.push(format!("meetings={count}"));
            }
            "multi_scree_info" => {
                out.push(format!(
                    "multi_screen_status={}",
                    value["multi_screen_status"]
                ));
            }
            // Details a person does not need in a one-line log; `--json` has them.
            "self_user_info"
            | "device_info"
            | "user_list_info"
            | "main_screen_layout_info"
            | "secondary_screen_layout_info" => {}
            _ => match scalar(value) {
                Some(text) => out.push(format!("{key}={text}")),
                None => out.push(format!("{key}={value}")),
            },
        }
    }
}

fn layout(info: &Value, out: &mut Vec<String>) {
    out.push(format!(
        "layout={}",
        layout_name(&info["current_switch_type"])
    ));
    out.push(format!("switchable={}", info["layout_switch_enable"]));
}

/// `[["Meeting"], ["Device", "EnableMic"]]` (Subscribe's answer) in words.
pub fn subscriptions(list: &Value) -> String {
    let paths: Vec<Vec<&str>> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            p.as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        })
        .collect();
    if paths.iter().any(Vec::is_empty) {
        let names: Vec<&str> = registry::with_events().map(|m| m.name).collect();
        return format!("all modules: {}", names.join(", "));
    }
    let named: Vec<String> = paths.iter().map(|p| p.join(" ")).collect();
    named.join(", ")
}

/// The room, from `Query []`'s `data`, in three short sentences.
pub fn status(tree: &Value) -> Vec<String> {
    let meeting = &tree["meeting"];
    let info = &meeting["meeting_info"];
    let title = info["meeting_title"].as_str().unwrap_or("");
    let code = info["formatted_meeting_code"]
        .as_str()
        .filter(|c| !c.is_empty())
        .or(info["meeting_code"].as_str())
        .unwrap_or("");
    let named = match (title.is_empty(), code.is_empty()) {
        (false, false) => format!("\"{title}\" ({code})"),
        (true, false) => code.to_owned(),
        _ => format!("\"{title}\""),
    };
    let self_info = &meeting["self_info"];
    let role = if self_info["host"] == true {
        " as host"
    } else if self_info["co_host"] == true {
        " as co-host"
    } else {
        ""
    };
    let count = &tree["members"]["member_count"];
    let people = count["in_meeting"].as_u64().unwrap_or(0);
    let layout = &meeting["layout_info"]["layout_switch_info"];
    let switching = if layout["layout_switch_enable"] == true {
        "switchable"
    } else {
        "not switchable while the room is alone"
    };
    let recording = if tree["meeting_control"]["is_recording"] == true {
        ", recording"
    } else {
        ""
    };
    let first = match info["meeting_status"].as_u64() {
        Some(0) => "Idle: not in a meeting.".to_owned(),
        Some(1) => format!(
            "In meeting {named}{}{role}, {people} in it{recording}; layout {} ({switching}).",
            booked(info),
            layout_name(&layout["current_switch_type"])
        ),
        Some(2) => format!("Joining meeting {named}."),
        Some(3) => format!("In the waiting room of {named}: the host has to admit the room."),
        Some(4) => "Casting to the room's display (no meeting).".to_owned(),
        _ => format!("Meeting status {}.", info["meeting_status"]),
    };
    let device = &tree["device"];
    let second = format!(
        "Microphone {} ({} %), camera {} ({} framing), speaker at {} %.",
        on_off(&device["mic_info"]["switch"]),
        device["mic_info"]["volume"],
        on_off(&device["camera_info"]["switch"]),
        device["camera_info"]["camera_frame_mode"]["name"]
            .as_str()
            .unwrap_or("?"),
        device["speaker_info"]["volume"],
    );
    let share = &tree["share"];
    let sharing = match (
        share["share_info"]["is_sharing"] == true,
        share["share_info"]["quick_casting_state"].as_u64(),
    ) {
        (true, _) => "Sharing".to_owned(),
        (false, Some(1)) => "The cast guide is shown".to_owned(),
        (false, Some(2)) => "Someone is casting to the room".to_owned(),
        _ => "Not sharing".to_owned(),
    };
    let cast_code = share["cast_code"].as_str().unwrap_or("?");
    let backend = &tree["backend"];
    let kind = backend["kind"].as_str().unwrap_or("?");
    let health = if backend["connected"] == true {
        format!("reached, answering in {} ms", backend["latency_ms"])
    } else {
        match backend["last_error"].as_str().filter(|e| !e.is_empty()) {
            Some(error) => format!("NOT reached: {error}"),
            None => "not reached yet".to_owned(),
        }
    };
    let third = format!("{sharing} (cast code {cast_code}); meeting service {kind}: {health}.");
    vec![first, second, third]
}

/// ` 14:00–15:00`: the meeting's times (Unix seconds on the wire) in local time, if it has them.
fn booked(info: &Value) -> String {
    let local = |key: &str| {
        let second = info[key].as_i64().filter(|s| *s > 0)?;
        let time = jiff::Timestamp::from_second(second).ok()?;
        let zoned = time.to_zoned_datetime(jiff::tz::TimeZone::system());
        Some(zoned.strftime("%H:%M").to_string())
    };
    match (local("begin_time"), local("end_time")) {
        (Some(begin), Some(end)) => format!(" {begin}–{end}"),
        _ => String::new(),
    }
}

/// `roomsctl actions [MODULE]`: every action with how it ends and its parameters.
pub fn actions(modules: &[&roomsd::modules::Module]) -> Vec<String> {
    let mut lines = Vec::new();
    for module in modules {
        lines.push(format!(
            "{} (roomsctl call {} ACTION …)",
            module.name, module.name
        ));
        for action in module.actions.iter().map(|a| a.name) {
            lines.push(format!("  {action:<20} {}", how_it_ends(module, action)));
            for param in registry::params(module, action) {
                lines.push(format!(
                    "      {:<30} {}",
                    param.usage(),
                    first_sentence(&param.describe())
                ));
            }
        }
    }
    lines
}

/// "waits for JoinMeetingCompleted or JoinWaitingRoom", or "answers at once".
pub fn how_it_ends(module: &roomsd::modules::Module, action: &str) -> String {
    match registry::outcome(module, action) {
        roomsd::schema::outcome::Outcome::Event(events) => {
            format!("async: ends with {}", events.join(" or "))
        }
        roomsd::schema::outcome::Outcome::Acknowledged => "sync: the answer is the outcome".into(),
    }
}

/// The description up to its first full stop, to keep listings one line each.
pub fn first_sentence(text: &str) -> String {
    match text.find(". ") {
        Some(end) => text[..=end].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_read_as_one_line() {
        let params = json!({"sub_event": "JoinMeetingCompleted", "error_code": 10020,
            "message": "wrong password", "data": {"meeting_info": {"meeting_status": 0,
            "meeting_code": "222333444", "meeting_title": "Board review"}}});
        let line = event_line("Meeting", &params);
        let (_, rest) = line.split_once(' ').unwrap();
        assert_eq!(
            rest,
            "Meeting JoinMeetingCompleted  error=10020 message=\"wrong password\" status=idle \
             code=222333444 title=\"Board review\""
        );
    }

    #[test]
    fn member_changes_read_as_who() {
        let params = json!({"sub_event": "MembersChanged", "error_code": 0, "message": "",
            "data": {"joined": [{"user_id": "u9", "nickname": "Dana"}], "left": ["u2"],
            "updated": [], "member_count": {"in_meeting": 4, "in_waiting_room": 0}}});
        let line = event_line("Meeting", &params);
        let (_, rest) = line.split_once(' ').unwrap();
        assert_eq!(
            rest,
            "Meeting MembersChanged  joined=Dana left=u2 in_meeting=4 waiting=0"
        );
    }

    #[test]
    fn subscriptions_in_words() {
        assert!(subscriptions(&json!([[]])).starts_with("all modules: Meeting, Device"));
        let some = json!([["Meeting"], ["Device", "EnableMic"]]);
        assert_eq!(subscriptions(&some), "Meeting, Device EnableMic");
    }
}
