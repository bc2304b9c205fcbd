//! Which `action_params` keys an action does not read. Drivers send vendor extras, so such keys
//! are not an error; but a misspelt `volumme` that silently does nothing is the worst kind of
//! answer, so the acknowledgement names what was ignored.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::value::RawValue;

/// The keys of `params` (an accepted call's `action_params`) that `module`'s `action` does not
/// read, in the order sent. Each new `(module, action, key)` is logged once, up to a bound, so a
/// driver that sends the same extra on every call does not fill the journal.
pub fn ignored_params(module: &str, action: &str, params: Option<&RawValue>) -> Vec<String> {
    // Only objects have keys; anything else was refused by the action's parser already.
    let Some(Ok(sent)) =
        params.map(|p| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p.get()))
    else {
        return Vec::new();
    };
    if sent.is_empty() {
        return Vec::new();
    }
    let known = known_names(module, action);
    let ignored: Vec<String> = sent
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| !known.contains(key))
        .collect();
    for key in &ignored {
        log_once(module, action, key, &known);
    }
    ignored
}

/// The parameter names `action` reads, from its schema, made once per action. Only actions the
/// parser accepted get here, so the table is as small as the protocol.
fn known_names(module: &str, action: &str) -> Arc<[String]> {
    /// `(module, action)` → the names its parameters have.
    type Table = HashMap<(String, String), Arc<[String]>>;
    static KNOWN: LazyLock<Mutex<Table>> = LazyLock::new(Mutex::default);
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    let key = (module.to_owned(), action.to_owned());
    known
        .entry(key)
        .or_insert_with(|| {
            let Some(spec) = crate::modules::module(module).and_then(|m| m.action(action)) else {
                return Arc::from([]);
            };
            (spec.params)()
                .get("properties")
                .and_then(|p| p.as_object())
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        })
        .clone()
}

fn log_once(module: &str, action: &str, key: &str, known: &[String]) {
    /// Distinct keys remembered; past this, nothing more is logged (a client sending a new
    /// key on every call must not grow memory).
    const REMEMBERED: usize = 256;
    static LOGGED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    if logged.len() < REMEMBERED && logged.insert(format!("{module}.{action}.{key}")) {
        tracing::warn!(
            module,
            action,
            key,
            reads = known.join(", "),
            "action_params key ignored (logged once per key)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(module: &str, action: &str, params: &str) -> Vec<String> {
        let raw = RawValue::from_string(params.to_owned()).unwrap();
        ignored_params(module, action, Some(&raw))
    }

    #[test]
    fn names_only_the_keys_the_action_does_not_read() {
        assert_eq!(
            ignored(
                "Device",
                "SetSpeakerVolume",
                r#"{"volume": 3, "volumme": 20, "vendor": {}}"#
            ),
            ["volumme", "vendor"]
        );
        assert!(
            ignored(
                "Meeting",
                "JoinMeeting",
                r#"{"meeting_code": "1", "password": ""}"#
            )
            .is_empty()
        );
        // The alias reads what SwitchLayout reads.
        assert!(ignored("Meeting", "LayoutSwitchChanged", r#"{"switch_type": 2}"#).is_empty());
        assert_eq!(
            ignored("Meeting", "LeaveMeeting", r#"{"reason": "x"}"#),
            ["reason"]
        );
        assert!(ignored("Meeting", "LeaveMeeting", "{}").is_empty());
        assert!(ignored_params("Meeting", "LeaveMeeting", None).is_empty());
    }
}
