//! Parsing of incoming text frames into requests.
//!
//! Only input that cannot be understood as a request at all becomes a [`ProtocolError`] (a
//! JSON-RPC `error` object on the wire); everything else is a [`Request`] whose problems are
//! answered in-band by the method's handler.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// One request, borrowing from the frame it came in.
#[derive(Debug)]
pub struct Request<'a> {
    /// The id exactly as the client wrote it, echoed byte for byte; `None` for a notification.
    /// Echoed raw, an id string is the one text on the wire whose braces are not escaped
    /// (`wire::to_wire` escapes them everywhere else): the client chose it, and JSON-RPC wants
    /// its own id back.
    pub id: Option<&'a RawValue>,
    pub method: Cow<'a, str>,
    /// Parsed by each method's handler, which knows what it expects.
    pub params: Option<&'a RawValue>,
}

/// Input that is not a request: answered with a standard JSON-RPC error object.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The request's id when it could be read, else `null` on the wire.
    pub id: Option<String>,
    pub code: i32,
    pub message: &'static str,
}

impl ProtocolError {
    pub const PARSE: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    /// roomsd's own, in the range JSON-RPC leaves to servers: a request of a batch that was
    /// not run because the batch's reply had reached its limit.
    pub const NOT_RUN: i32 = -32000;

    /// The answer to a request of a batch that was not run, so the client knows to send it
    /// again.
    pub fn not_run(id: &RawValue) -> Self {
        Self {
            id: Some(id.get().to_owned()),
            code: Self::NOT_RUN,
            message: "Not run: the batch's reply reached its size limit; send fewer requests per batch",
        }
    }

    fn parse_error() -> Self {
        Self {
            id: None,
            code: Self::PARSE,
            message: "Parse error",
        }
    }

    fn invalid(id: Option<&RawValue>) -> Self {
        Self {
            id: id.map(|raw| raw.get().to_owned()),
            code: Self::INVALID_REQUEST,
            message: "Invalid Request",
        }
    }
}

/// What a text frame holds.
#[derive(Debug)]
pub enum Incoming<'a> {
    Single(Result<Request<'a>, ProtocolError>),
    /// A non-empty JSON-RPC batch, answered with an array of the non-notification replies.
    Batch(Vec<Result<Request<'a>, ProtocolError>>),
}

/// Parses one text frame.
pub fn parse(text: &str) -> Incoming<'_> {
    let Ok(raw) = serde_json::from_str::<&RawValue>(text) else {
        return Incoming::Single(Err(ProtocolError::parse_error()));
    };
    let body = raw.get();
    if body.starts_with('[') {
        return match serde_json::from_str::<Vec<&RawValue>>(body) {
            Ok(items) if !items.is_empty() => {
                Incoming::Batch(items.into_iter().map(parse_one).collect())
            }
            _ => Incoming::Single(Err(ProtocolError::invalid(None))),
        };
    }
    Incoming::Single(parse_one(raw))
}

#[derive(Deserialize)]
struct RawRequest<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow)]
    method: Option<&'a RawValue>,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

/// Distinguishes `"id": null` (a request with a null id) from no `id` at all (a notification):
/// a plain `Option` would read both as `None`.
fn present<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<&'a RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

fn parse_one(raw: &RawValue) -> Result<Request<'_>, ProtocolError> {
    let Ok(req) = serde_json::from_str::<RawRequest>(raw.get()) else {
        return Err(ProtocolError::invalid(None));
    };
    let id = req.id.filter(|id| is_valid_id(id.get()));
    if req.id.is_some() && id.is_none() {
        return Err(ProtocolError::invalid(None));
    }
    let version_ok = req.jsonrpc.is_some_and(|v| v.get() == r#""2.0""#);
    let method = req
        .method
        .and_then(|m| serde_json::from_str::<Cow<str>>(m.get()).ok());
    match (version_ok, method) {
        (true, Some(method)) => Ok(Request {
            id,
            method,
            params: req.params,
        }),
        _ => Err(ProtocolError::invalid(id)),
    }
}

/// JSON-RPC ids are strings, numbers or null.
fn is_valid_id(raw: &str) -> bool {
    matches!(
        raw.as_bytes().first(),
        Some(b'"' | b'-' | b'0'..=b'9' | b'n')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(text: &str) -> Result<Request<'_>, ProtocolError> {
        match parse(text) {
            Incoming::Single(r) => r,
            Incoming::Batch(_) => panic!("expected a single request"),
        }
    }

    #[test]
    fn keeps_the_id_exactly_as_written() {
        let req = single(r#"{"id": "Camera Mute", "jsonrpc": "2.0", "method": "Query"}"#).unwrap();
        assert_eq!(req.id.unwrap().get(), r#""Camera Mute""#);
        let req = single(r#"{"jsonrpc":"2.0","id":1.50,"method":"Query"}"#).unwrap();
        assert_eq!(req.id.unwrap().get(), "1.50");
    }

    #[test]
    fn null_id_is_a_request_and_missing_id_a_notification() {
        let req = single(r#"{"jsonrpc": "2.0", "id": null, "method": "Query"}"#).unwrap();
        assert_eq!(req.id.unwrap().get(), "null");
        let req = single(r#"{"jsonrpc": "2.0", "method": "Query"}"#).unwrap();
        assert!(req.id.is_none());
    }

    #[test]
    fn method_with_escapes_is_unescaped() {
        let req = single(r#"{"jsonrpc": "2.0", "id": 1, "method": "Call\/Meeting"}"#).unwrap();
        assert_eq!(req.method, "Call/Meeting");
    }

    #[test]
    fn not_json_is_a_parse_error() {
        assert_eq!(single("{nope").unwrap_err().code, ProtocolError::PARSE);
        assert_eq!(single("").unwrap_err().code, ProtocolError::PARSE);
    }

    #[test]
    fn non_requests_are_invalid_and_keep_a_readable_id() {
        for text in [
            r#"42"#,
            r#"{"jsonrpc": "2.0", "id": 1}"#,
            r#"{"jsonrpc": "1.0", "id": 1, "method": "Query"}"#,
            r#"{"id": 1, "method": "Query"}"#,
            r#"{"jsonrpc": "2.0", "id": 1, "method": 5}"#,
        ] {
            let err = single(text).unwrap_err();
            assert_eq!(err.code, ProtocolError::INVALID_REQUEST, "{text}");
        }
        assert_eq!(
            single(r#"{"jsonrpc": "2.0", "id": 7}"#)
                .unwrap_err()
                .id
                .as_deref(),
            Some("7")
        );
        let err = single(r#"{"jsonrpc": "2.0", "id": {"a": 1}, "method": "Query"}"#).unwrap_err();
        assert_eq!(err.id, None);
    }

    #[test]
    fn batches_parse_each_member() {
        let Incoming::Batch(items) =
            parse(r#"[{"jsonrpc": "2.0", "id": 1, "method": "Query"}, 3]"#)
        else {
            panic!("expected a batch");
        };
        assert!(items[0].is_ok());
        assert_eq!(
            items[1].as_ref().unwrap_err().code,
            ProtocolError::INVALID_REQUEST
        );
    }

    #[test]
    fn empty_batch_is_invalid() {
        assert_eq!(
            single("[]").unwrap_err().code,
            ProtocolError::INVALID_REQUEST
        );
    }
}
