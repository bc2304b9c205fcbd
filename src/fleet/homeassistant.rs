//! Home Assistant MQTT discovery (`mqtt.homeassistant`): each room a device with its meeting
//! status and member count sensors, microphone and camera switches, a speaker volume number
//! and a Leave button. Commands are ordinary requests on the room's `request` topic, so
//! `mqtt.calls` decides them like any other (e.g. `["Device/EnableMic", "Device/EnableCamera",
//! "Device/SetSpeakerVolume", "Meeting/LeaveMeeting"]`).

use serde_json::{Value, json};

use super::Topics;
use crate::config::Config;
use crate::wire::to_wire;

/// A request frame as a command payload; answered on the room's `response` topic.
fn request(id: &str, module: &str, params: Value) -> String {
    to_wire(
        &json!({"jsonrpc": "2.0", "id": id, "method": format!("Call/{module}"), "params": params}),
    )
}

/// The retained discovery documents: topic and payload.
pub fn documents(config: &Config, room_id: &str, topics: &Topics) -> Vec<(String, String)> {
    let prefix = &config.mqtt.homeassistant_prefix.0;
    // Home Assistant's ids allow `[a-zA-Z0-9_-]`.
    let node: String = room_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let device = json!({
        "identifiers": [format!("roomsd_{node}")],
        "name": config.room.name,
        "manufacturer": "roomsd",
        "model": format!("meeting room ({})", config.backend.kind),
        "sw_version": env!("CARGO_PKG_VERSION"),
    });
    let common = |object: &str, name: &str| {
        json!({
            "name": name,
            "unique_id": format!("roomsd_{node}_{object}"),
            "object_id": format!("{node}_{object}"),
            "availability_topic": topics.status(),
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device,
        })
    };
    let with = |mut base: Value, extra: Value| {
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
            base.extend(extra);
        }
        base
    };
    let switch = |object: &str, name: &str, node_key: &str, action: &str| {
        with(
            common(object, name),
            json!({
                "state_topic": topics.state("Device"),
                "value_template": format!("{{{{ 'ON' if value_json.device.{node_key}.switch else 'OFF' }}}}"),
                "state_on": "ON",
                "state_off": "OFF",
                "command_topic": topics.request(),
                "payload_on": request(&format!("ha-{object}"), "Device", json!({"action": action, "action_params": {"enable": true}})),
                "payload_off": request(&format!("ha-{object}"), "Device", json!({"action": action, "action_params": {"enable": false}})),
            }),
        )
    };
    let entities = [
        (
            "sensor",
            "meeting",
            with(
                common("meeting", "Meeting"),
                json!({
                    "state_topic": topics.state("Meeting"),
                    "value_template": "{{ ['idle', 'in meeting', 'joining', 'waiting room', 'casting'][value_json.meeting.meeting_info.meeting_status] | default('unknown') }}",
                    "json_attributes_topic": topics.state("Meeting"),
                    "json_attributes_template": "{{ {'title': value_json.meeting.meeting_info.meeting_title, 'code': value_json.meeting.meeting_info.meeting_code} | tojson }}",
                    "icon": "mdi:video-account",
                }),
            ),
        ),
        (
            "sensor",
            "members",
            with(
                common("members", "Members"),
                json!({
                    "state_topic": topics.state("Members"),
                    "value_template": "{{ value_json.member_count.in_meeting }}",
                    "state_class": "measurement",
                    "icon": "mdi:account-group",
                }),
            ),
        ),
        (
            "switch",
            "microphone",
            switch("microphone", "Microphone", "mic_info", "EnableMic"),
        ),
        (
            "switch",
            "camera",
            switch("camera", "Camera", "camera_info", "EnableCamera"),
        ),
        (
            "number",
            "speaker_volume",
            with(
                common("speaker_volume", "Speaker volume"),
                json!({
                    "state_topic": topics.state("Device"),
                    "value_template": "{{ value_json.device.speaker_info.volume }}",
                    "command_topic": topics.request(),
                    "command_template": "{\"jsonrpc\": \"2.0\", \"id\": \"ha-volume\", \"method\": \"Call/Device\", \"params\": {\"action\": \"SetSpeakerVolume\", \"action_params\": {\"volume\": {{ value | int }}}}}",
                    "min": 0,
                    "max": 100,
                    "step": 1,
                    "icon": "mdi:volume-high",
                }),
            ),
        ),
        (
            "button",
            "leave",
            with(
                common("leave", "Leave meeting"),
                json!({
                    "command_topic": topics.request(),
                    "payload_press": request("ha-leave", "Meeting", json!({"action": "LeaveMeeting"})),
                    "icon": "mdi:phone-hangup",
                }),
            ),
        ),
    ];
    entities
        .into_iter()
        .map(|(component, object, document)| {
            (
                format!("{prefix}/{component}/roomsd_{node}/{object}/config"),
                // Plain serde_json: Home Assistant reads templates, not the driver-safe wire form.
                document.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_names_its_device_and_availability() {
        let mut config = Config::default();
        config.mqtt.homeassistant = true;
        let docs = documents(&config, "r.101", &Topics::new("rooms", "r.101"));
        assert_eq!(docs.len(), 6);
        for (topic, payload) in &docs {
            assert!(
                topic.starts_with("homeassistant/") && topic.ends_with("/config"),
                "{topic}"
            );
            assert!(topic.contains("roomsd_r_101"), "{topic}");
            let doc: Value = serde_json::from_str(payload).unwrap();
            assert_eq!(doc["availability_topic"], "rooms/r.101/status");
            assert_eq!(doc["device"]["identifiers"][0], "roomsd_r_101");
        }
        let mic: Value = serde_json::from_str(&docs[2].1).unwrap();
        let on: Value = serde_json::from_str(mic["payload_on"].as_str().unwrap()).unwrap();
        assert_eq!(
            on["params"],
            json!({"action": "EnableMic", "action_params": {"enable": true}})
        );
        assert_eq!(
            mic["value_template"],
            "{{ 'ON' if value_json.device.mic_info.switch else 'OFF' }}"
        );
    }
}
