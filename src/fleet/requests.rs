//! Requests from the fleet: `mqtt.calls` first, then the same dispatch as the WebSocket's.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::CallPolicy;
use crate::room::owner::RoomHandle;
use crate::server::dispatch::{self, Limits};
use crate::server::subscriptions::Subscriptions;
use crate::wire::{self, ErrorCode, Incoming, Outcome, Refusal, Request};

/// The reply to one request frame (`None` for notifications), secrets not yet blanked.
pub async fn answer(
    text: &str,
    room: &RoomHandle,
    policy: &CallPolicy,
    limits: &Limits,
) -> Option<String> {
    let refused = match wire::parse(text) {
        Incoming::Single(Ok(request)) => refusal(policy, &request).map(|refusal| {
            request
                .id
                .map(|id| wire::reply(&request.method, id, &Outcome::refused(&refusal)))
        }),
        // Not a request: the dispatcher answers with the JSON-RPC error.
        Incoming::Single(Err(_)) => None,
        Incoming::Batch(items) => {
            let refused: Vec<_> = items
                .iter()
                .flatten()
                .filter_map(|request| refusal(policy, request).map(|r| (request, r)))
                .collect();
            (!refused.is_empty()).then(|| {
                // A batch is run whole or not at all: the refusals say why, the rest says it
                // was not run.
                let first = &refused[0].1.message;
                let replies: Vec<String> = items
                    .iter()
                    .flatten()
                    .filter_map(|request| {
                        let id = request.id?;
                        let refusal = refusal(policy, request).unwrap_or_else(|| {
                            Refusal::new(
                                ErrorCode::UNSUPPORTED,
                                format!(
                                    "not run: another request of this batch is refused ({first})"
                                ),
                            )
                        });
                        Some(wire::reply(
                            &request.method,
                            id,
                            &Outcome::refused(&refusal),
                        ))
                    })
                    .collect();
                wire::batch(&replies)
            })
        }
    };
    if let Some(reply) = refused {
        return reply;
    }
    // The fleet's requests share no subscriptions: Subscribe is refused above.
    let mut subscriptions = Subscriptions::default();
    dispatch::handle_text(text, room, &mut subscriptions, limits).await
}

/// `params` of a call, as far as its action goes.
#[derive(Deserialize)]
struct Action<'a> {
    #[serde(borrow)]
    action: std::borrow::Cow<'a, str>,
}

/// Why `policy` does not let `request` run, if it does not.
fn refusal(policy: &CallPolicy, request: &Request<'_>) -> Option<Refusal> {
    let method = request.method.as_ref();
    let setting = match policy {
        CallPolicy::None => "\"none\"",
        CallPolicy::Read => "\"read\"",
        CallPolicy::Allow(_) => "a list",
    };
    let refuse = |what: String| {
        Some(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!("{what} is not allowed from the fleet (mqtt.calls is {setting})"),
        ))
    };
    if matches!(method, "Subscribe" | "Unsubscribe") {
        return Some(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!(
                "{method} over MQTT: the room publishes every event on its event/<Module> topics; \
                 subscribe to those at the broker"
            ),
        ));
    }
    let action = request
        .params
        .and_then(|p| serde_json::from_str::<Action>(p.get()).ok())
        .map(|a| a.action);
    let call = match &action {
        Some(action) => format!("{method} {action}"),
        None => method.to_owned(),
    };
    match policy {
        CallPolicy::None => refuse(call),
        _ if !method.starts_with("Call/") => None,
        CallPolicy::Read => refuse(call),
        CallPolicy::Allow(list) => {
            let module = &method["Call/".len()..];
            let Some(action) = action else {
                return refuse(format!("{method} without an action"));
            };
            // An action's vendor alias is the action: both are allowed by its name or alias.
            let named = |module: &str, action: &str| {
                crate::modules::module(module)
                    .and_then(|m| m.action(action))
                    .map_or(action.to_owned(), |spec| spec.name.to_owned())
            };
            let asked = named(module, &action);
            let allowed = list.iter().any(|entry| {
                entry
                    .split_once('/')
                    .is_some_and(|(m, a)| m == module && named(m, a) == asked)
            });
            if allowed { None } else { refuse(call) }
        }
    }
}

/// The id of a request, for logs.
pub fn id_of(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
    }
    serde_json::from_str::<Id>(text)
        .ok()
        .and_then(|i| i.id.map(|id| id.get().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &CallPolicy, text: &str) -> Option<String> {
        match wire::parse(text) {
            Incoming::Single(Ok(request)) => refusal(policy, &request).map(|r| r.message),
            _ => panic!("not a request"),
        }
    }

    #[test]
    fn the_policy_decides_before_anything_runs() {
        let query = r#"{"jsonrpc": "2.0", "id": 1, "method": "Query", "params": {"path": []}}"#;
        let leave = r#"{"jsonrpc": "2.0", "id": 2, "method": "Call/Meeting", "params": {"action": "LeaveMeeting"}}"#;
        let mic = r#"{"jsonrpc": "2.0", "id": 3, "method": "Call/Device", "params": {"action": "SetMicEnable"}}"#;
        let none = CallPolicy::None;
        assert!(
            refused(&none, query)
                .unwrap()
                .contains("mqtt.calls is \"none\"")
        );
        let read = CallPolicy::Read;
        assert_eq!(refused(&read, query), None);
        assert!(
            refused(&read, leave)
                .unwrap()
                .contains("Call/Meeting LeaveMeeting")
        );
        let list = CallPolicy::Allow(vec!["Meeting/LeaveMeeting".into()]);
        assert_eq!(refused(&list, query), None);
        assert_eq!(refused(&list, leave), None);
        assert!(
            refused(&list, mic)
                .unwrap()
                .contains("Call/Device SetMicEnable")
        );
        // SwitchLayout's vendor alias is SwitchLayout, either way round.
        let alias = r#"{"jsonrpc": "2.0", "id": 5, "method": "Call/Meeting", "params": {"action": "LayoutSwitchChanged"}}"#;
        let switch = CallPolicy::Allow(vec!["Meeting/SwitchLayout".into()]);
        assert_eq!(refused(&switch, alias), None);
        let by_alias = CallPolicy::Allow(vec!["Meeting/LayoutSwitchChanged".into()]);
        let layout = r#"{"jsonrpc": "2.0", "id": 6, "method": "Call/Meeting", "params": {"action": "SwitchLayout"}}"#;
        assert_eq!(refused(&by_alias, layout), None);
        assert!(refused(&list, alias).is_some());
        let subscribe =
            r#"{"jsonrpc": "2.0", "id": 4, "method": "Subscribe", "params": {"path": []}}"#;
        assert!(
            refused(&read, subscribe)
                .unwrap()
                .contains("event/<Module>")
        );
    }
}
