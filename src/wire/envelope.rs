//! Envelopes of everything the server writes, in the byte-exact form of PROTOCOL.md §2.2–2.3.
//!
//! Every string goes through `to_wire`, which escapes `{` and `}` inside strings, or is a
//! fragment it rendered. The exception is the request id, echoed raw as the client wrote it.

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::format::to_wire;
use super::{ErrorCode, ProtocolError};

/// A refused request or a failed action: an in-band error code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
}

impl Refusal {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "error {}: {}", self.code, self.message)
    }
}

/// `result` of a response: `error_code`, `message`, then `action` (Call) and/or `data`.
#[derive(Debug, Serialize)]
pub struct Outcome<'a> {
    pub error_code: ErrorCode,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a Value>,
}

impl<'a> Outcome<'a> {
    pub fn ok() -> Self {
        Self {
            error_code: ErrorCode::OK,
            message: "",
            action: None,
            data: None,
        }
    }

    pub fn refused(refusal: &'a Refusal) -> Self {
        Self {
            error_code: refusal.code,
            message: &refusal.message,
            action: None,
            data: None,
        }
    }

    /// An acknowledgement: success with the synchronous data, if any, or the refusal.
    pub fn from_result(result: &'a Result<Option<Value>, Refusal>) -> Self {
        match result {
            Ok(None) => Self::ok(),
            Ok(Some(data)) => Self::ok().with_data(data),
            Err(refusal) => Self::refused(refusal),
        }
    }

    pub fn with_action(self, action: &'a str) -> Self {
        Self {
            action: Some(action),
            ..self
        }
    }

    pub fn with_data(self, data: &'a Value) -> Self {
        Self {
            data: Some(data),
            ..self
        }
    }
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    method: &'a str,
    id: &'a RawValue,
    result: &'a Outcome<'a>,
}

/// A response: top-level keys `jsonrpc`, `method`, `id`, `result`, nothing else.
pub fn reply(method: &str, id: &RawValue, outcome: &Outcome) -> String {
    to_wire(&Reply {
        jsonrpc: "2.0",
        method,
        id,
        result: outcome,
    })
}

/// The successful Query response around a node fragment prepared when the state changed
/// (`{"meeting_info": {...}}`). The hot path: one allocation, no serialization.
pub fn query_ok(id: &RawValue, data_fragment: &str) -> String {
    let id = id.get();
    let mut out = String::with_capacity(query_ok_envelope_len(id) + data_fragment.len());
    for part in [QUERY_HEAD, id, QUERY_MIDDLE, data_fragment, QUERY_TAIL] {
        out.push_str(part);
    }
    out
}

const QUERY_HEAD: &str = r#"{"jsonrpc": "2.0", "method": "Query", "id": "#;
const QUERY_MIDDLE: &str = r#", "result": {"error_code": 0, "message": "", "data": "#;
const QUERY_TAIL: &str = "}}";

/// The length of [`query_ok`]'s reply around its data, without building it (the reply budget
/// needs it on every Query).
pub fn query_ok_envelope(id: &RawValue) -> usize {
    query_ok_envelope_len(id.get())
}

fn query_ok_envelope_len(id: &str) -> usize {
    QUERY_HEAD.len() + id.len() + QUERY_MIDDLE.len() + QUERY_TAIL.len()
}

/// A response whose `result` is a prepared JSON document rather than an outcome: `rpc.discover`,
/// whose result OpenRPC defines as the document itself.
pub fn raw_result(method: &str, id: &RawValue, result: &RawValue) -> String {
    #[derive(Serialize)]
    struct RawReply<'a> {
        jsonrpc: &'static str,
        method: &'a str,
        id: &'a RawValue,
        result: &'a RawValue,
    }
    to_wire(&RawReply {
        jsonrpc: "2.0",
        method,
        id,
        result,
    })
}

#[derive(Serialize)]
struct ErrorReply<'a> {
    jsonrpc: &'static str,
    id: Option<&'a RawValue>,
    error: ErrorObject<'a>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i32,
    message: &'a str,
}

/// The standard JSON-RPC error object, for input that is not a request at all.
pub fn protocol_error(err: &ProtocolError) -> String {
    let id = err
        .id
        .as_deref()
        .and_then(|raw| serde_json::from_str::<&RawValue>(raw).ok());
    to_wire(&ErrorReply {
        jsonrpc: "2.0",
        id,
        error: ErrorObject {
            code: err.code,
            message: err.message,
        },
    })
}

#[derive(Serialize)]
struct EventEnvelope<'a> {
    jsonrpc: &'static str,
    method: &'a str,
    params: EventParams<'a>,
}

#[derive(Serialize)]
struct EventParams<'a> {
    sub_event: &'a str,
    error_code: ErrorCode,
    message: &'a str,
    data: &'a Value,
}

/// An `Event/<Module>` notification.
pub fn event(
    method: &str,
    sub_event: &str,
    code: ErrorCode,
    message: &str,
    data: &Value,
) -> String {
    to_wire(&EventEnvelope {
        jsonrpc: "2.0",
        method,
        params: EventParams {
            sub_event,
            error_code: code,
            message,
            data,
        },
    })
}

/// The reply to a batch: the members' replies as one array, or nothing when every member was a
/// notification.
pub fn batch(replies: &[String]) -> Option<String> {
    if replies.is_empty() {
        return None;
    }
    let len = replies.iter().map(|r| r.len() + 2).sum::<usize>() + 2;
    let mut out = String::with_capacity(len);
    out.push('[');
    for (i, reply) in replies.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(reply);
    }
    out.push(']');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(raw: &str) -> &RawValue {
        serde_json::from_str(raw).unwrap()
    }

    #[test]
    fn call_ack_has_the_vendor_key_order() {
        let out = reply(
            "Call/Meeting",
            id(r#""x1""#),
            &Outcome::ok().with_action("JoinMeeting"),
        );
        assert_eq!(
            out,
            r#"{"jsonrpc": "2.0", "method": "Call/Meeting", "id": "x1", "result": {"error_code": 0, "message": "", "action": "JoinMeeting"}}"#
        );
    }

    #[test]
    fn query_ok_wraps_the_prepared_fragment() {
        let out = query_ok(id("7"), r#"{"meeting_code": ""}"#);
        assert_eq!(
            out,
            r#"{"jsonrpc": "2.0", "method": "Query", "id": 7, "result": {"error_code": 0, "message": "", "data": {"meeting_code": ""}}}"#
        );
    }

    /// The reply budget counts the envelope without building a reply.
    #[test]
    fn query_ok_envelope_is_the_reply_around_the_data() {
        for raw in ["7", r#""Meeting Status""#, "null"] {
            let data = r#"{"meeting_code": ""}"#;
            assert_eq!(
                query_ok_envelope(id(raw)) + data.len(),
                query_ok(id(raw), data).len()
            );
        }
    }

    #[test]
    fn refusal_carries_no_data() {
        let refusal = Refusal::new(ErrorCode::QUERY_PATH, "unknown path");
        let out = reply("Query", id(r#""q""#), &Outcome::refused(&refusal));
        assert_eq!(
            out,
            r#"{"jsonrpc": "2.0", "method": "Query", "id": "q", "result": {"error_code": 6, "message": "unknown path"}}"#
        );
    }

    #[test]
    fn protocol_errors_have_a_null_id_when_unknown() {
        let err = ProtocolError {
            id: None,
            code: -32700,
            message: "Parse error",
        };
        assert_eq!(
            protocol_error(&err),
            r#"{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}"#
        );
    }

    #[test]
    fn event_is_a_plain_notification() {
        let out = event(
            "Event/Meeting",
            "LeaveMeeting",
            ErrorCode::OK,
            "",
            &json!({"reason": "requested"}),
        );
        assert_eq!(
            out,
            r#"{"jsonrpc": "2.0", "method": "Event/Meeting", "params": {"sub_event": "LeaveMeeting", "error_code": 0, "message": "", "data": {"reason": "requested"}}}"#
        );
    }

    #[test]
    fn ids_echo_raw_and_other_strings_escape_braces() {
        let refusal = Refusal::new(ErrorCode::UNSUPPORTED, "unknown method \"X}\"");
        let out = reply("X}", id(r#""{id}""#), &Outcome::refused(&refusal));
        assert_eq!(
            out,
            r#"{"jsonrpc": "2.0", "method": "X\u007d", "id": "{id}", "result": {"error_code": 9, "message": "unknown method \"X\u007d\""}}"#
        );
    }

    #[test]
    fn batch_joins_replies_and_skips_empty() {
        assert_eq!(batch(&[]), None);
        assert_eq!(batch(&["{}".into(), "{}".into()]).unwrap(), "[{}, {}]");
    }
}
