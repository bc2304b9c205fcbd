//! `roomsctl call`: checks the parameters against the action's schema, sends the call, and for
//! an asynchronous action waits for the event that tells its outcome. The events are subscribed
//! to before the call is sent, so that an outcome that comes before the acknowledgement (a
//! Device change outside a meeting is one step in the room) is not missed.

use std::process::ExitCode;
use std::time::Duration;

use jsonrpsee::core::client::SubscriptionClientT;
use jsonrpsee::ws_client::WsClient;
use roomsd::modules::Module;
use roomsd::modules::meeting::JOIN_WAITING_ROOM;
use roomsd::schema::outcome::Outcome;
use serde_json::{Value, json};

use crate::connect::{Failure, Link, cause, request};
use crate::params::{self, Given};
use crate::registry;
use crate::render::{self, emit};

/// What `call` was asked to do.
pub struct Call<'a> {
    pub module: &'static Module,
    /// The registry's name, or with --raw the name as typed.
    pub action: &'a str,
    pub given: &'a [Given],
    pub wait: bool,
    pub wait_timeout: u64,
    pub json: bool,
}

/// Refuses parameters the action's schema does not take (exit 2), unless `raw`.
pub fn check(call: &Call<'_>, raw: bool) -> Result<(), Failure> {
    if raw {
        return Ok(());
    }
    params::check(call.module, call.action, call.given).map_err(Failure::usage)
}

pub async fn run(link: &Link, rpc: &WsClient, call: &Call<'_>) -> Result<ExitCode, Failure> {
    let (module, action) = (call.module.name, call.action);
    let awaited = match registry::outcome(call.module, action) {
        Outcome::Event(events) if call.wait => events,
        _ => Vec::new(),
    };
    let mut events = None;
    if !awaited.is_empty() {
        let method = format!("Event/{module}");
        let stream = rpc.subscribe_to_method::<Value>(&method).await;
        events = Some(stream.map_err(|e| link.lost(cause(e)))?);
        let answer = request(link, rpc, "Subscribe", json!({"path": [module]})).await?;
        if answer["error_code"] != 0 {
            return Err(Failure(
                1,
                format!("Subscribe [{module}]: {}", answer["message"]),
            ));
        }
    }
    let mut params = json!({"action": action});
    if !call.given.is_empty() {
        params["action_params"] = Value::Object(params::object(call.given));
    }
    let answer = request(link, rpc, &format!("Call/{module}"), params).await?;
    if call.json {
        emit(&answer.to_string());
    }
    if answer["error_code"] != 0 {
        let why = format!("{action} refused: {}", error_text(&answer));
        return Err(Failure(1, why));
    }
    let Some(mut events) = events else {
        if !call.json {
            accepted(call, &answer);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let limit = Duration::from_secs(call.wait_timeout);
    let outcome = tokio::time::timeout(limit, async {
        let mut said = false;
        loop {
            // Most outcomes come within a second; say what is awaited only when one does not.
            let next = tokio::time::timeout(Duration::from_secs(1), events.next()).await;
            let event = match next {
                Ok(event) => event?,
                Err(_) if said || call.json => continue,
                Err(_) => {
                    eprintln!(
                        "roomsctl: {action} accepted; waiting for {}…",
                        awaited.join(" or ")
                    );
                    said = true;
                    continue;
                }
            };
            let Ok(params) = event else { continue };
            if awaited.iter().any(|e| params["sub_event"] == *e) {
                return Some(params);
            }
        }
    });
    let params = match outcome.await {
        Ok(Some(params)) => params,
        Ok(None) => return Err(link.lost("connection lost while waiting for the outcome")),
        Err(_) => {
            let why = format!(
                "{action} was accepted, but no {} came within {}s (--wait-timeout): \
                 `roomsctl status` shows where the room is",
                awaited.join(" or "),
                call.wait_timeout
            );
            return Err(Failure(4, why));
        }
    };
    if call.json {
        emit(&params.to_string());
    } else {
        emit(&render::event_line(module, &params));
    }
    if params["sub_event"] == JOIN_WAITING_ROOM.name && !call.json {
        // An outcome, but not the meeting yet: that is up to the host, not to a timeout.
        eprintln!(
            "roomsctl: the room is in the waiting room; the host has to admit it \
             (`roomsctl watch Meeting` shows JoinMeetingCompleted when it does)"
        );
    }
    if params["error_code"] != 0 {
        let sub_event = params["sub_event"].as_str().unwrap_or("the event");
        let why = format!("{action} failed ({sub_event}): {}", error_text(&params));
        return Err(Failure(1, why));
    }
    Ok(ExitCode::SUCCESS)
}

/// An accepted call without an awaited outcome, for people.
fn accepted(call: &Call<'_>, answer: &Value) {
    let action = call.action;
    match registry::outcome(call.module, action) {
        Outcome::Event(events) => emit(&format!(
            "{action}: accepted; the outcome comes as {} (`roomsctl watch {}`)",
            events.join(" or "),
            call.module.name
        )),
        Outcome::Acknowledged => match answer.get("data") {
            Some(data) if !data.is_null() => emit(&format!("{action}: done  {data}")),
            _ => emit(&format!("{action}: done")),
        },
    }
}

/// `error 10020: wrong password`.
pub fn error_text(result: &Value) -> String {
    let message = result["message"].as_str().unwrap_or("");
    format!("error {}: {message}", result["error_code"])
}
