//! From a text frame to its reply: method routing for Query, Call/<Module>, Subscribe and
//! Unsubscribe. Everything a request can get wrong is answered in-band (PROTOCOL.md §2.2, §5).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::request_keys::{Claim, MAX_KEY_BYTES, RequestKeys};
use super::subscriptions::{Since, Subscriptions};
use crate::modules::{ActionCall, CallParams};
use crate::room::owner::{CallResult, RoomHandle};
use crate::wire::{self, ErrorCode, Incoming, Outcome, ProtocolError, Refusal, Request};

/// What one frame's handling may cost, and what the daemon's connections share.
pub struct Limits {
    /// Once a batch's reply has reached this, its remaining requests are not run (a few KB
    /// of `rpc.discover` calls would otherwise make a reply a thousand times their size).
    pub batch_reply_bytes: usize,
    /// The answers to calls that carried a `request_key`, for every connection.
    pub request_keys: RequestKeys<CallAnswer>,
}

/// What a call answered, kept for a retry with the same `request_key`.
#[derive(Clone)]
pub struct CallAnswer {
    action: Option<String>,
    result: CallResult,
    ignored: String,
}

/// Handles one text frame; the reply to send, if any (notifications get none).
pub async fn handle_text(
    text: &str,
    room: &RoomHandle,
    subscriptions: &mut Subscriptions,
    limits: &Limits,
) -> Option<String> {
    match wire::parse(text) {
        Incoming::Single(Ok(request)) => handle_request(request, room, subscriptions, limits).await,
        Incoming::Single(Err(error)) => Some(wire::protocol_error(&error)),
        Incoming::Batch(items) => {
            let mut replies = Vec::with_capacity(items.len());
            let mut reply_bytes = 0;
            for item in items {
                let reply = match item {
                    Ok(Request { id: Some(id), .. }) if reply_bytes >= limits.batch_reply_bytes => {
                        Some(wire::protocol_error(&ProtocolError::not_run(id)))
                    }
                    Ok(request) => handle_request(request, room, subscriptions, limits).await,
                    Err(error) => Some(wire::protocol_error(&error)),
                };
                reply_bytes += reply.as_ref().map_or(0, String::len);
                replies.extend(reply);
            }
            if reply_bytes >= limits.batch_reply_bytes {
                tracing::info!(
                    reply_bytes,
                    "batch reply reached its limit: requests left unrun"
                );
            }
            wire::batch(&replies)
        }
    }
}

/// The OpenRPC document, rendered once.
fn discovery() -> &'static RawValue {
    static DOCUMENT: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        RawValue::from_string(wire::to_wire(&crate::schema::openrpc()))
            .expect("the OpenRPC document is JSON")
    })
}

async fn handle_request(
    request: Request<'_>,
    room: &RoomHandle,
    subscriptions: &mut Subscriptions,
    limits: &Limits,
) -> Option<String> {
    let Request { id, method, params } = request;
    tracing::debug!(%method, request_id = id.map(RawValue::get), "request");
    match method.as_ref() {
        "Query" => query(id?, params, room),
        "Subscribe" | "Unsubscribe" => {
            let result = change_subscriptions(&method, params, subscriptions, room);
            let data = match &result {
                Ok(Some(position)) => json!({
                    "subscriptions": subscriptions.paths(),
                    "epoch": position.epoch,
                    "seq": position.seq,
                }),
                _ => json!({ "subscriptions": subscriptions.paths() }),
            };
            let outcome = match &result {
                Ok(_) => Outcome::ok().with_data(&data),
                Err(refusal) => Outcome::refused(refusal),
            };
            Some(wire::reply(&method, id?, &outcome))
        }
        m if m.starts_with("Call/") => {
            let started = std::time::Instant::now();
            let CallAnswer {
                action,
                result,
                ignored,
            } = call_once(&method, params, room, &limits.request_keys).await;
            let (code, refusal) = match &result {
                Ok(_) => (0, ""),
                Err(refusal) => (refusal.code.0, refusal.message.as_str()),
            };
            // The line's text says which call and how it went, so `journalctl -u roomsd`
            // reads on its own; the fields are for collectors. `message` would clash with the
            // line's own text in JSON and in the journal.
            let action_name = action.as_deref().unwrap_or_default();
            let outcome: Cow<str> = match code {
                0 => "accepted".into(),
                _ => format!("refused with {code}: {refusal}").into(),
            };
            tracing::info!(
                %method,
                action = action_name,
                request_id = id.map(RawValue::get),
                code,
                refusal,
                duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "call {method} {action_name} {outcome}"
            );
            let mut outcome = Outcome::from_result(&result);
            if !ignored.is_empty() && result.is_ok() {
                outcome.message = &ignored;
            }
            let outcome = match &action {
                Some(action) => outcome.with_action(action),
                None => outcome,
            };
            Some(wire::reply(&method, id?, &outcome))
        }
        "rpc.discover" => Some(wire::raw_result(&method, id?, discovery())),
        _ => {
            let refusal =
                Refusal::new(ErrorCode::UNSUPPORTED, format!("unknown method {method:?}"));
            Some(wire::reply(&method, id?, &Outcome::refused(&refusal)))
        }
    }
}

/// `params` of Subscribe: `path`, and `since` and `epoch` to get sequence numbers or resume.
#[derive(Deserialize, Default)]
struct SubscribeParams<'a> {
    #[serde(default, borrow)]
    path: Vec<Cow<'a, str>>,
    since: Option<u64>,
    epoch: Option<u64>,
}

/// `params` of Query, Subscribe and Unsubscribe. No params means `path: []`.
#[derive(Deserialize, Default)]
struct PathParams<'a> {
    #[serde(default, borrow)]
    path: Vec<Cow<'a, str>>,
    /// Query `["Members"]` only: a page of the list (PROTOCOL.md §6.2).
    begin: Option<usize>,
    count: Option<usize>,
}

fn path_params<'a>(method: &str, params: Option<&'a RawValue>) -> Result<PathParams<'a>, Refusal> {
    match params {
        None => Ok(PathParams::default()),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            Refusal::new(
                ErrorCode::PARAMETER,
                format!("{method}: params.path must be an array of strings ({e})"),
            )
        }),
    }
}

fn query(id: &RawValue, params: Option<&RawValue>, room: &RoomHandle) -> Option<String> {
    let refused = |refusal: Refusal| Some(wire::reply("Query", id, &Outcome::refused(&refusal)));
    let params = match path_params("Query", params) {
        Ok(p) => p,
        Err(refusal) => return refused(refusal),
    };
    let snapshot = room.snapshot();
    let envelope = wire::query_ok_envelope(id);
    match snapshot.answer(&params.path, (params.begin, params.count), envelope) {
        Ok(data) => Some(wire::query_ok(id, &data)),
        Err(refusal) => refused(refusal),
    }
}

/// Changes the subscriptions; with `since`, where the event sequence stands.
fn change_subscriptions(
    method: &str,
    params: Option<&RawValue>,
    subscriptions: &mut Subscriptions,
    room: &RoomHandle,
) -> Result<Option<super::subscriptions::Position>, Refusal> {
    if method == "Unsubscribe" {
        let path: Vec<String> = owned(path_params(method, params)?.path);
        return subscriptions.unsubscribe(&path).map(|()| None);
    }
    let parsed: SubscribeParams = match params {
        None => SubscribeParams::default(),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| {
            Refusal::new(
                ErrorCode::PARAMETER,
                format!(
                    "Subscribe: params.path must be an array of strings, and since and epoch \
                     whole numbers ({e})"
                ),
            )
        })?,
    };
    let path = owned(parsed.path);
    let since = match (parsed.since, parsed.epoch) {
        (None, None) => return subscriptions.subscribe(&path).map(|()| None),
        (Some(0), None) => Since::Now,
        (Some(seq), Some(epoch)) => Since::After { epoch, seq },
        (Some(_), None) => {
            return Err(Refusal::new(
                ErrorCode::PARAMETER,
                "Subscribe: resuming after an event needs the epoch it was numbered in: \
                 send since and epoch from the earlier answer, or since 0 to start from now",
            ));
        }
        (None, Some(_)) => {
            return Err(Refusal::new(
                ErrorCode::PARAMETER,
                "Subscribe: epoch without since: send the seq of the last event received as since",
            ));
        }
    };
    subscriptions
        .subscribe_since(&path, since, room.events())
        .map(Some)
}

fn owned(path: Vec<Cow<'_, str>>) -> Vec<String> {
    path.into_iter().map(Cow::into_owned).collect()
}

/// `params` of a call, as far as its `request_key` goes.
#[derive(Deserialize)]
struct Keyed<'a> {
    #[serde(default, borrow)]
    action: Option<Cow<'a, str>>,
    #[serde(default)]
    request_key: Option<serde_json::Value>,
}

/// Runs a call, or with a `request_key` seen before, answers as the first call did.
async fn call_once(
    method: &str,
    params: Option<&RawValue>,
    room: &RoomHandle,
    keys: &RequestKeys<CallAnswer>,
) -> CallAnswer {
    let module = &method["Call/".len()..];
    // Calls without a key (every driver's) pay for one substring search, not a second parse.
    let keyed = params
        .filter(|raw| raw.get().contains("request_key"))
        .and_then(|raw| serde_json::from_str::<Keyed>(raw.get()).ok());
    let Some(Keyed {
        action,
        request_key: Some(key),
    }) = keyed
    else {
        return call(module, params, room).await;
    };
    let key = match key {
        serde_json::Value::String(key) if !key.is_empty() && key.len() <= MAX_KEY_BYTES => key,
        _ => {
            let refusal = Refusal::new(
                ErrorCode::PARAMETER,
                format!(
                    "{method}: request_key must be a string of 1 to {MAX_KEY_BYTES} bytes, \
                     the same in every retry of one call"
                ),
            );
            return CallAnswer {
                action: action.map(Cow::into_owned),
                result: Err(refusal),
                ignored: String::new(),
            };
        }
    };
    let what = format!("{method} {}", action.as_deref().unwrap_or_default());
    loop {
        match keys.claim(&key, &what) {
            Claim::First(first) => {
                let answer = call(module, params, room).await;
                let size = answer.result.as_ref().map_or_else(
                    |refusal| refusal.message.len(),
                    |data| data.as_ref().map_or(0, |d| wire::to_wire(d).len()),
                ) + answer.ignored.len();
                first.finish(answer.clone(), size);
                return answer;
            }
            Claim::Again(answer) => return answer,
            Claim::Wait(mut running) => {
                if let Ok(answer) = running.wait_for(Option::is_some).await {
                    return answer.clone().expect("waited for an answer");
                }
                // The first call ended without an answer: claim the key again.
            }
            Claim::Other(first) => {
                let refusal = Refusal::new(
                    ErrorCode::PARAMETER,
                    format!(
                        "{method}: request_key {key:?} was used for {first:?} in the last \
                         10 minutes: choose a new key for each call"
                    ),
                );
                return CallAnswer {
                    action: action.map(Cow::into_owned),
                    result: Err(refusal),
                    ignored: String::new(),
                };
            }
        }
    }
}

/// Runs a `Call/<module>`; the action name to echo (as the client sent it), the result, and
/// for an accepted call, what it ignored (the acknowledgement's `message`; empty if nothing).
async fn call(module: &str, params: Option<&RawValue>, room: &RoomHandle) -> CallAnswer {
    let parsed: Result<CallParams, _> = match params {
        Some(raw) => serde_json::from_str(raw.get()),
        None => serde_json::from_str("{}"),
    };
    let Ok(CallParams {
        action,
        action_params,
        meeting_type,
        ..
    }) = parsed
    else {
        let refusal = Refusal::new(
            ErrorCode::PARAMETER,
            format!("Call/{module}: params must be an object with a string \"action\""),
        );
        return CallAnswer {
            action: None,
            result: Err(refusal),
            ignored: String::new(),
        };
    };
    let command = match crate::modules::module(module) {
        Some(description) => (description.parse)(&ActionCall {
            action: &action,
            params: action_params,
            meeting_type: meeting_type.as_deref(),
        }),
        None => Err(Refusal::new(
            ErrorCode::UNSUPPORTED,
            format!("unknown method \"Call/{module}\""),
        )),
    };
    let (result, ignored) = match command {
        Ok(command) => {
            let ignored = crate::schema::ignored_params(module, &action, action_params);
            (room.call(command).await, ignored_message(&action, &ignored))
        }
        Err(refusal) => (Err(refusal), String::new()),
    };
    CallAnswer {
        action: Some(action.into_owned()),
        result,
        ignored,
    }
}

/// "SetSpeakerVolume ignored unknown action_params: volumme" (empty when nothing was ignored).
fn ignored_message(action: &str, ignored: &[String]) -> String {
    if ignored.is_empty() {
        return String::new();
    }
    format!(
        "{action} ignored unknown action_params: {}",
        ignored.join(", ")
    )
}
