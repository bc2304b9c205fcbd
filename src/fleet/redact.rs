//! Secrets stay out of the broker: every key naming a password is blanked (`""`, the key kept,
//! so payloads keep the shapes of the WebSocket protocol).

use std::borrow::Cow;

use serde_json::Value;

use crate::wire::to_wire;

/// `text` (JSON) with every password value blanked; unchanged, and not parsed, when no key can
/// name one. Text that is not JSON is returned as is.
pub fn blank_passwords(text: &str) -> Cow<'_, str> {
    if !text.contains("password") {
        return Cow::Borrowed(text);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return Cow::Borrowed(text);
    };
    if !blank(&mut value) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(to_wire(&value))
}

/// Blanks in place; whether anything was blanked.
fn blank(value: &mut Value) -> bool {
    let mut changed = false;
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key.contains("password") && (child.is_string() || child.is_number()) {
                    if child.as_str() != Some("") {
                        *child = Value::String(String::new());
                        changed = true;
                    }
                } else {
                    changed |= blank(child);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                changed |= blank(item);
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_blanked_at_any_depth_and_the_key_kept() {
        let text = r#"{"meeting": {"meeting_info": {"meeting_title": "a}", "meeting_password": "1234"}, "list": [{"password": 99}]}}"#;
        assert_eq!(
            blank_passwords(text),
            r#"{"meeting": {"meeting_info": {"meeting_title": "a\u007d", "meeting_password": ""}, "list": [{"password": ""}]}}"#
        );
    }

    #[test]
    fn text_without_secrets_is_not_touched() {
        let text = r#"{"device": {"mic_enable": true}}"#;
        assert!(matches!(blank_passwords(text), Cow::Borrowed(t) if t == text));
        let empty = r#"{"meeting_password": ""}"#;
        assert!(matches!(blank_passwords(empty), Cow::Borrowed(_)));
    }
}
